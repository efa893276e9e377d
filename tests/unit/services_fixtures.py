"""Services on fakes: the in-memory store, the recording Twilio and a manual clock. No AWS, no
HTTP: a use case runs in well under a millisecond."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.clock import ManualClock
from chalicelib.config import Settings
from chalicelib.services.deps import Deps
from chalicelib.store.memory import MemoryStore
from chalicelib.telephony.fake import FakeTelephony
from tests.conftest import CLOCK_START


@pytest.fixture
def fake_twilio() -> FakeTelephony:
    return FakeTelephony()


@pytest.fixture
def deps(fake_twilio: FakeTelephony) -> Deps:
    settings = Settings(
        public_base_url="https://api.example.test/api",
        twilio_account_sid="AC00000000000000000000000000000000",
    )
    return Deps(settings, MemoryStore(), ManualClock(CLOCK_START), lambda: fake_twilio)


def store_of(deps: Deps) -> Any:
    return deps.store
