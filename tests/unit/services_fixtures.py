"""Services on fakes: the in-memory store, the recording Twilio and a manual clock. No AWS, no
HTTP: a use case runs in well under a millisecond."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chalicelib.clock import ManualClock
from chalicelib.config import Settings
from chalicelib.identity import fake as fake_identity
from chalicelib.identity.fake import FakeProvider
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


def attach_identity(deps: Deps, provider: FakeProvider) -> Deps:
    """Give `deps` the fake identity provider and a verifier of its tokens (sign-in on, invites
    answered with the temporary password as under `make dev`)."""
    deps.settings = replace(
        deps.settings,
        cognito_user_pool_id="us-east-1_FAKEPOOL",
        cognito_client_id=fake_identity.CLIENT_ID,
        cognito_issuer_url=fake_identity.ISSUER,
        invite_emails=False,
    )
    deps.make_identity = lambda: provider
    deps.make_verifier = fake_identity.verifier
    return deps


def other_container(deps: Deps) -> Deps:
    """A second container of the same app: the same store, clock and provider, its own caches."""
    return Deps(
        deps.settings,
        deps.store,
        deps.clock,
        deps.make_telephony,
        make_identity=deps.make_identity,
        make_verifier=deps.make_verifier,
    )


@pytest.fixture
def idp(deps: Deps) -> FakeProvider:
    """The fake Cognito, attached to `deps`."""
    provider = FakeProvider(deps.clock)
    attach_identity(deps, provider)
    return provider
