"""Helpers for the simulator's own tests (test_twilio_simulator.py, test_twilio_sim_*.py): the
real twilio SDK pointed at a simulator, polling for what it does next, and checking that the
fake app saw it sign every request. Their fixtures (`fake_app`, `module_sim`, `sim`, `client`)
are in conftest.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from twilio.request_validator import RequestValidator
from twilio.rest import Client

from chalicelib.config import SIMULATOR_ACCOUNT_SID
from chalicelib.telephony.http import RebasingHttpClient
from localdev.twilio_sim import Simulator
from tests.integration.fake_app import FakeApp, Received


def client_for(sim: Simulator, token: str, **kwargs: Any) -> Client:
    """The real SDK against `sim` with `token` (keywords go to RebasingHttpClient)."""
    return Client(SIMULATOR_ACCOUNT_SID, token, http_client=RebasingHttpClient(sim.url, **kwargs))


def wait_for(what: Callable[[], Any], timeout: float = 5.0) -> Any:
    """The first truthy result of `what`, polled every 10 ms for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError(f"not within {timeout}s: {what}")


def assert_signed(app: FakeApp, received: list[Received]) -> None:
    """`received` is not empty and each request carried a valid X-Twilio-Signature for the
    URL it was posted to, under the fake app's auth token."""
    validator = RequestValidator(app.auth_token)
    assert received
    for r in received:
        assert r.signature_ok, r.path
        assert validator.validate(app.base + r.path, r.params, r.headers["X-Twilio-Signature"])
