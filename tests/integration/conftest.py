"""Integration tier: the repository code against DynamoDB Local over HTTP (and, for the
telephony tests, the Twilio simulator over HTTP with the real SDK).

DynamoDB Local runs once per session, in memory, on a free port. Each test gets its own stage
name, hence its own tables. Where Java is missing the tier is skipped with a clear message,
except in CI, where a missing Java is a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from twilio.rest import Client

from localdev.stack import LIVE_TOKEN, LiveStack, free_port, live_stack_running
from localdev.twilio_sim import Simulator, start_simulator
from tests.integration.fake_app import FakeApp
from tests.integration.sim_helpers import client_for

# The live stack's machinery lives in localdev/stack.py (the benchmarks use it too); re-exported
# here for the tests that import it from this module.
__all__ = ["LIVE_TOKEN", "LiveStack", "free_port", "live_stack_running"]


@pytest.fixture(scope="session")
def ddb_local_endpoint() -> Iterator[str]:
    import signal

    from localdev import ddb_local

    if not ddb_local.java_available():
        if os.environ.get("CI"):
            pytest.fail("Java is required in CI for the DynamoDB Local integration tier")
        pytest.skip("Java is missing: DynamoDB Local integration tests skipped")
    port = free_port()
    proc = ddb_local.start(None, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture
def ddb_local(ddb_local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fresh tables on DynamoDB Local for this test (a stage of its own)."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.store.tables import ensure_tables

    monkeypatch.setenv("DYNAMODB_ENDPOINT", ddb_local_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("STAGE", "it" + uuid.uuid4().hex[:8])
    # These tests run on the real clock whenever CI runs: the compliance rules' default window
    # (calls and texts) opened to (almost) the whole day.
    monkeypatch.setenv("CALLING_HOURS", "00:00-23:59")
    reset_settings()
    ensure_tables(providers.settings())
    return ddb_local_endpoint


# ---------------------------------------------------------------- the live stack over HTTP


@pytest.fixture(scope="session")
def live_stack(
    ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveStack]:
    """One live stack for the session (DynamoDB Local + `chalice local` + the simulator). Tests
    share it: use `new_phone()` for leads, and do not reset the simulator's state under others.
    """
    # Calls are made whenever CI runs: open the calling window to (almost) the whole day.
    with live_stack_running(
        ddb_local_endpoint, tmp_path_factory.mktemp("live"), CALLING_HOURS="00:00-23:59"
    ) as stack:
        yield stack


# ---------------------------------------------------------------- the simulator and a fake app
# For the simulator's own tests (test_twilio_simulator.py, test_twilio_sim_*.py). The test module
# names the auth token the simulator and the fake app share (TOKEN) and the simulator's speed
# (SPEED).


@pytest.fixture(scope="module")
def fake_app(request: pytest.FixtureRequest) -> Iterator[FakeApp]:
    """The app's webhook routes as far as the simulator can tell (fake_app.py), checking
    signatures with the module's TOKEN; one for the module."""
    app = FakeApp(request.module.TOKEN)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def module_sim(request: pytest.FixtureRequest, fake_app: FakeApp) -> Iterator[Simulator]:
    """One simulator for the module, calling back `fake_app`, at the module's SPEED."""
    sim = start_simulator(
        0, app_base=fake_app.base, auth_token=fake_app.auth_token, speed=request.module.SPEED
    )
    yield sim
    sim.stop()


@pytest.fixture
def sim(module_sim: Simulator, fake_app: FakeApp) -> Iterator[Simulator]:
    """The module's simulator; afterwards it forgets every call, message and fault (`reset`
    clears the faults too) and the fake app its requests and routes."""
    yield module_sim
    module_sim.reset()
    fake_app.clear()


@pytest.fixture
def client(sim: Simulator, fake_app: FakeApp) -> Client:
    """The real twilio SDK against `sim`, with the module's TOKEN."""
    return client_for(sim, fake_app.auth_token)
