"""Sign-in for API tests: the fake Cognito (`chalicelib.identity.fake`) behind the app's real
verifier, and a small team of members signed in as themselves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Api

PASSWORD = "Correct-Horse9Battery"
CALLER_ID = "+15005550006"


@pytest.fixture
def cognito(api: Api, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake Cognito as the app's identity provider; its tokens verify against its JWKS."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.identity import fake
    from chalicelib.identity.tokens import StaticKeys

    monkeypatch.setenv("COGNITO_USER_POOL_ID", "us-east-1_FAKEPOOL")
    monkeypatch.setenv("COGNITO_CLIENT_ID", fake.CLIENT_ID)
    monkeypatch.setenv("COGNITO_ISSUER", fake.ISSUER)
    monkeypatch.setenv("INVITE_EMAILS", "0")
    reset_settings()
    provider = fake.FakeProvider(clock)
    providers.override(identity=provider, token_keys=StaticKeys(fake.jwks()))
    yield provider
    providers.override(identity=None, token_keys=None)


@dataclass
class Team:
    admin: Any
    manager: Any
    caller: Any
    other: Any  # another caller
    tokens: dict[str, str]  # by actor name: "admin", "manager", "caller", "admin key", ...


@pytest.fixture
def people(cognito: Any) -> Team:
    """An admin, a manager and two callers, each with a sign-in and an access token, plus an
    admin API key and a caller API key (made through the services: fast)."""
    from chalicelib import providers
    from chalicelib.services import api_keys, auth, team

    d = providers.deps()
    made = {}
    for n, (name, role) in enumerate(
        [("admin", "admin"), ("manager", "manager"), ("caller", "caller"), ("other", "caller")]
    ):
        member, _ = team.create(
            d,
            team.NewMember(
                name=name.title(), phone=f"+1415555{n:04d}", email=f"{name}@example.com", role=role
            ),
        )
        cognito.set_permanent_password(f"{name}@example.com", PASSWORD)
        made[name] = member
    tokens = {name: cognito.access_token(f"{name}@example.com") for name in made}
    for role in ("admin", "caller"):
        _, key = api_keys.create(d, auth.ENV_KEY_ACTOR, f"{role} key", role)
        tokens[f"{role} key"] = key
    return Team(made["admin"], made["manager"], made["caller"], made["other"], tokens)
