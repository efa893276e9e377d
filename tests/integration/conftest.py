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

# The live stack's machinery lives in localdev/stack.py (the benchmarks use it too); re-exported
# here for the tests that import it from this module.
from localdev.stack import LIVE_TOKEN, LiveStack, free_port, live_stack_running

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
