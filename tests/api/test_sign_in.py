"""The whole sign-in flow over the API against moto's `cognito-idp` (a user pool with e-mail
usernames and a USER_PASSWORD_AUTH client): the first admin, an invite answered with the
temporary password once, the new-password step, /me, refresh, sign-out and deactivation, and
the audit log of it all. moto signs its tokens with the key of its public JWKS and stamps
`iat` with the real time, so the app's clock follows the real one here."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Api

PASSWORD = "Correct-Horse9Battery"
NEW_PASSWORD = "Another-Horse7Battery"


def _moto_jwks() -> dict[str, Any]:
    import moto

    path = os.path.join(
        os.path.dirname(moto.__file__), "cognitoidp", "resources", "jwks-public.json.gz"
    )
    with gzip.open(path) as f:
        return dict(json.load(f))


@pytest.fixture
def pool(api: Api, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    import boto3
    from moto import mock_aws

    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.identity.tokens import StaticKeys

    with mock_aws():
        from infra.template import AUTH_FLOWS, PASSWORD_POLICY

        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = idp.create_user_pool(  # the stack's settings (infra/template.py)
            PoolName="coldcall-test",
            UsernameAttributes=["email"],
            Policies={"PasswordPolicy": PASSWORD_POLICY},
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        )["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="coldcall-test-api", ExplicitAuthFlows=AUTH_FLOWS
        )["UserPoolClient"]["ClientId"]
        monkeypatch.setenv("COGNITO_USER_POOL_ID", pool_id)
        monkeypatch.setenv("COGNITO_CLIENT_ID", client_id)
        monkeypatch.setenv("INVITE_EMAILS", "0")
        reset_settings()
        providers.override(token_keys=StaticKeys(_moto_jwks()))
        clock.set(datetime.now(UTC))
        try:
            yield {"pool_id": pool_id, "client_id": client_id}
        finally:
            providers.override(token_keys=None)


def _now(clock: Any) -> None:
    clock.set(datetime.now(UTC))


def _admin(api: Api) -> dict[str, Any]:
    from chalicelib import providers
    from chalicelib.services import team

    team.ensure_admin(providers.deps(), "admin@example.com", PASSWORD)
    status, signed, _ = api.post(
        "/auth/login", {"email": "admin@example.com", "password": PASSWORD}, token=None
    )
    assert status == 200, signed
    assert signed["member"]["role"] == "admin" and signed["expiresIn"] > 0
    return dict(signed)


def test_the_whole_sign_in_flow(api: Api, pool: dict[str, str], clock: Any) -> None:
    admin = _admin(api)
    bearer = admin["accessToken"]
    status, me, _ = api.get("/me", token=bearer)
    assert status == 200 and me["email"] == "admin@example.com" and me["role"] == "admin"

    # The admin invites a caller: the temporary password is answered once (no e-mail here).
    status, cal, _ = api.post(
        "/team-members",
        {"name": "Cal Caller", "phone": "+14155550123", "email": "Cal@Example.com"},
        token=bearer,
    )
    assert status == 201, cal
    temporary = cal["invite"]["temporaryPassword"]
    assert cal["email"] == "cal@example.com" and cal["role"] == "caller"
    status, again, _ = api.get(f"/team-members/{cal['id']}", token=bearer)
    assert "invite" not in again and temporary not in json.dumps(again)

    # Wrong password: 401, the same answer as an unknown e-mail.
    wrong = api.post("/auth/login", {"email": "cal@example.com", "password": "Nope-nope123"})
    unknown = api.post("/auth/login", {"email": "who@example.com", "password": "Nope-nope123"})
    assert wrong[0] == unknown[0] == 401 and wrong[1] == unknown[1]

    # First sign-in: the new-password step, the policy checked.
    status, challenge, _ = api.post(
        "/auth/login", {"email": "cal@example.com", "password": temporary}, token=None
    )
    assert status == 200 and challenge["challenge"] == "NEW_PASSWORD_REQUIRED"
    assert "accessToken" not in challenge
    step = {"email": "cal@example.com", "session": challenge["session"]}
    status, weak, _ = api.post("/auth/new-password", {**step, "newPassword": "short"}, token=None)
    assert status == 400 and weak["error"]["details"]["policy"]
    status, signed, _ = api.post(
        "/auth/new-password", {**step, "newPassword": NEW_PASSWORD}, token=None
    )
    assert status == 200, signed
    assert signed["member"]["id"] == cal["id"] and signed["refreshToken"]
    status, me, _ = api.get("/me", token=signed["accessToken"])
    assert status == 200 and me["id"] == cal["id"] and me["role"] == "caller"

    # The caller is a caller: no team management, no export.
    assert api.get("/leads/export", token=signed["accessToken"])[0] == 403
    newcomer = {"name": "X", "phone": "+14155550999"}
    assert api.post("/team-members", newcomer, token=signed["accessToken"])[0] == 403

    # Refresh.
    status, refreshed, _ = api.post(
        "/auth/refresh", {"refreshToken": signed["refreshToken"]}, token=None
    )
    assert status == 200 and refreshed["expiresIn"] > 0
    assert api.get("/me", token=refreshed["accessToken"])[0] == 200
    status, _, _ = api.post("/auth/refresh", {"refreshToken": "not-a-token"}, token=None)
    assert status == 401

    # The admin deactivates the caller: their tokens stop at once here (one container), their
    # refresh and their password are refused.
    _now(clock)
    status, gone, _ = api.delete(f"/team-members/{cal['id']}", token=bearer)
    assert status == 200 and gone["active"] is False
    for token in (signed["accessToken"], refreshed["accessToken"]):
        status, body, _ = api.get("/me", token=token)
        assert status == 401 and body["error"]["code"] == "unauthorized"
    assert api.post("/auth/refresh", {"refreshToken": signed["refreshToken"]})[0] == 401
    assert api.post("/auth/login", {"email": "cal@example.com", "password": NEW_PASSWORD})[0] == 401

    # The admin signs out: their access token and refresh token stop working.
    status, refreshed_admin, _ = api.post(
        "/auth/refresh", {"refreshToken": admin["refreshToken"]}, token=None
    )
    assert status == 200
    status, audit, _ = api.get("/audit?limit=100", token=bearer)
    assert status == 200
    actions = [e["action"] for e in audit["items"]]
    for action in (
        "auth.login",
        "auth.login_failed",
        "auth.password_changed",
        "member.created",
        "member.deactivated",
    ):
        assert action in actions, action
    text = json.dumps(audit)
    for secret in (PASSWORD, NEW_PASSWORD, temporary, signed["accessToken"], bearer):
        assert secret not in text
    _now(clock)
    status, _, _ = api.post("/auth/logout", token=bearer)
    assert status == 204
    for token in (bearer, refreshed_admin["accessToken"]):
        assert api.get("/me", token=token)[0] == 401
    assert api.post("/auth/refresh", {"refreshToken": admin["refreshToken"]})[0] == 401


def test_an_emailed_invite_shows_no_password(
    api: Api, pool: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import reset_settings

    bearer = _admin(api)["accessToken"]
    monkeypatch.setenv("INVITE_EMAILS", "1")
    reset_settings()
    status, member, _ = api.post(
        "/team-members",
        {"name": "Mailed", "phone": "+14155550124", "email": "mailed@example.com"},
        token=bearer,
    )
    assert status == 201 and member["invite"] == {"emailed": True}


def test_an_admin_resets_a_password(api: Api, pool: dict[str, str], clock: Any) -> None:
    bearer = _admin(api)["accessToken"]
    status, cal, _ = api.post(
        "/team-members",
        {"name": "Cal", "phone": "+14155550125", "email": "cal@example.com"},
        token=bearer,
    )
    first = cal["invite"]["temporaryPassword"]
    _now(clock)
    status, reset, _ = api.post(f"/team-members/{cal['id']}/reset-password", token=bearer)
    assert status == 200 and reset["invite"]["temporaryPassword"] not in (None, first)
    status, challenge, _ = api.post(
        "/auth/login",
        {"email": "cal@example.com", "password": reset["invite"]["temporaryPassword"]},
        token=None,
    )
    assert status == 200 and challenge["challenge"] == "NEW_PASSWORD_REQUIRED"
