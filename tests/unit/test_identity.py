"""Identity on fakes (issue 13, item 8): access-token verification against a JWKS, sign-in with
the first-sign-in challenge, refresh, sign-out, deactivation biting within the active-check,
failed-sign-in limits, API keys, the audit log and the team's sign-in rules. The fake Cognito
(`chalicelib.identity.fake`) signs RS256 tokens with a key generated once per process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from typing import Any

import pytest

from chalicelib.domain.actors import ADMIN, CALLER, MANAGER, Actor
from chalicelib.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationError,
)
from chalicelib.identity import fake, sessions
from chalicelib.identity.fake import FakeProvider
from chalicelib.identity.provider import Challenge
from chalicelib.identity.tokens import StaticKeys, TokenVerifier
from chalicelib.services import api_keys, auth, team
from chalicelib.services.deps import Deps
from chalicelib.services.team import NewMember, Patch
from tests.conftest import TOKEN
from tests.unit.services_fixtures import other_container

PASSWORD = "Correct-Horse9Battery"
NOW = 1_795_453_200  # epoch seconds: any instant will do for the verifier alone


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _now(deps: Deps) -> int:
    return int(deps.clock.now().timestamp())


# ---------------------------------------------------------------- token verification


def _verifier() -> TokenVerifier:
    return TokenVerifier(fake.ISSUER, fake.CLIENT_ID, StaticKeys(fake.jwks()))


def _valid(**extra: Any) -> dict[str, Any]:
    return {**fake.access_claims("sub-1", NOW), **extra}


def _alg_none() -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": fake.KID}).encode())
    return f"{header}.{_b64(json.dumps(_valid()).encode())}."


def _hs256_with_public_key() -> str:
    """The classic confusion: an HMAC keyed with the (public) RSA key's PEM."""
    from cryptography.hazmat.primitives import serialization

    pem = (
        fake.private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": fake.KID}).encode())
    payload = _b64(json.dumps(_valid()).encode())
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def _tampered() -> str:
    header, _payload, signature = fake.sign(_valid()).split(".")
    forged = _b64(json.dumps(_valid(sub="someone-else")).encode())
    return f"{header}.{forged}.{signature}"


def _id_token() -> str:
    claims = _valid(token_use="id", aud=fake.CLIENT_ID)
    del claims["client_id"]
    return fake.sign(claims)


BAD_TOKENS = {
    "expired": lambda: fake.sign(_valid(iat=NOW - 7200, exp=NOW - 3600)),
    "wrong client": lambda: fake.sign(_valid(client_id="another-client")),
    "wrong issuer": lambda: fake.sign(_valid(iss="https://cognito-idp.example/other")),
    "alg none": _alg_none,
    "HS256 keyed with the public key": _hs256_with_public_key,
    "wrong key": lambda: fake.sign(_valid(), key="another-key", kid=fake.KID),
    "unknown kid": lambda: fake.sign(_valid(), key="another-key"),
    "tampered payload": _tampered,
    "id token": _id_token,
    "issued in the future": lambda: fake.sign(_valid(iat=NOW + 600, exp=NOW + 4200)),
    "no token_use": lambda: fake.sign({k: v for k, v in _valid().items() if k != "token_use"}),
    "not a JWT": lambda: "a.b.c",
}


def test_a_valid_access_token_verifies() -> None:
    claims = _verifier().verify(fake.sign(_valid()), NOW + 10)
    assert (claims.sub, claims.issued_at, claims.expires_at) == ("sub-1", NOW, NOW + 3600)


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_token_is_unauthorized(case: str) -> None:
    with pytest.raises(Unauthorized):
        _verifier().verify(BAD_TOKENS[case](), NOW + 10)


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_token_is_refused_by_authenticate(deps: Deps, idp: FakeProvider, case: str) -> None:
    deps.clock.set(deps.clock.now().fromtimestamp(NOW + 10, deps.clock.now().tzinfo))
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, f"Bearer {BAD_TOKENS[case]()}")


def test_a_token_expires_after_exp_and_the_leeway() -> None:
    token = fake.sign(_valid())
    _verifier().verify(token, NOW + 3600 + 5)
    with pytest.raises(Unauthorized, match="expired"):
        _verifier().verify(token, NOW + 3600 + 6)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer  ", "Basic abc", "token abc"])
def test_a_missing_or_malformed_authorization_header_is_unauthorized(
    deps: Deps, header: str | None
) -> None:
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, header)


def test_the_jwks_over_http_verifies_and_an_unknown_kid_is_refused() -> None:
    """JwksKeys (PyJWT's JWKS client) against a JWKS served on 127.0.0.1."""
    import http.server

    from chalicelib.identity.tokens import JwksKeys

    body = json.dumps(fake.jwks()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
        verifier = TokenVerifier(fake.ISSUER, fake.CLIENT_ID, JwksKeys(url))
        assert verifier.verify(fake.sign(_valid()), NOW).sub == "sub-1"
        with pytest.raises(Unauthorized):
            verifier.verify(fake.sign(_valid(), key="another-key"), NOW)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- sign-in


def _member(
    deps: Deps, idp: FakeProvider, email: str, role: str = CALLER, phone: str = "+14155550100"
) -> team.TeamMember:
    """A member whose sign-in has PASSWORD set (no challenge)."""
    member, invite = team.create(deps, NewMember(name=email, phone=phone, email=email, role=role))
    assert invite is not None and invite.temporary_password
    idp.set_permanent_password(email, PASSWORD)
    return member


def _signed_in(deps: Deps, idp: FakeProvider, email: str, role: str = CALLER) -> auth.SignedIn:
    _member(deps, idp, email, role)
    answer = auth.login(deps, email, PASSWORD, "203.0.113.7")
    assert isinstance(answer, auth.SignedIn)
    return answer


def test_login_hands_out_tokens_that_authenticate_as_the_member(
    deps: Deps, idp: FakeProvider
) -> None:
    signed = _signed_in(deps, idp, "ann@example.com", MANAGER)
    assert signed.refresh_token and signed.expires_in == fake.ACCESS_SECONDS
    actor = auth.authenticate(deps, f"Bearer {signed.access_token}", "req-1")
    assert (actor.kind, actor.id, actor.role, actor.request_id) == (
        "member",
        signed.member.id,
        MANAGER,
        "req-1",
    )
    # The e-mail is matched however it is typed.
    again = auth.login(deps, "  ANN@Example.com ", PASSWORD, None)
    assert isinstance(again, auth.SignedIn) and again.member.id == signed.member.id


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    deps: Deps, idp: FakeProvider
) -> None:
    _member(deps, idp, "ann@example.com")
    with pytest.raises(Unauthorized) as wrong:
        auth.login(deps, "ann@example.com", "Wrong-password1", None)
    with pytest.raises(Unauthorized) as unknown:
        auth.login(deps, "nobody@example.com", PASSWORD, None)
    assert wrong.value.message == unknown.value.message


def test_a_sign_in_without_a_member_is_refused(deps: Deps, idp: FakeProvider) -> None:
    idp.create_user("stray@example.com", PASSWORD, send_email=False)
    idp.set_permanent_password("stray@example.com", PASSWORD)
    with pytest.raises(Unauthorized):
        auth.login(deps, "stray@example.com", PASSWORD, None)
    # And a token of a user who is no member is refused too.
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, f"Bearer {idp.access_token('stray@example.com')}")


def test_first_sign_in_challenge_then_a_policy_checked_new_password(
    deps: Deps, idp: FakeProvider
) -> None:
    member, invite = team.create(
        deps, NewMember(name="Cal", phone="+14155550100", email="cal@example.com")
    )
    assert invite is not None and invite.temporary_password
    answer = auth.login(deps, "cal@example.com", invite.temporary_password, None)
    assert isinstance(answer, Challenge) and answer.name == "NEW_PASSWORD_REQUIRED"
    for weak in ("short1A", "alllowercase123", "ALLUPPERCASE123", "NoDigitsAtAllHere"):
        with pytest.raises(ValidationError) as err:
            auth.new_password(deps, "cal@example.com", answer.session, weak)
        assert err.value.status == 400 and "12 characters" in err.value.message
        assert err.value.details["policy"]
    assert "answer_new_password" not in idp.calls  # refused before Cognito is asked
    with pytest.raises(Unauthorized):
        auth.new_password(deps, "cal@example.com", "not-the-session", PASSWORD)
    signed = auth.new_password(deps, "cal@example.com", answer.session, PASSWORD)
    assert isinstance(signed, auth.SignedIn) and signed.member.id == member.id
    assert auth.authenticate(deps, f"Bearer {signed.access_token}").id == member.id
    # The refresh token is from a password sign-in (the emulator refuses the challenge's).
    assert signed.refresh_token is not None
    assert auth.refresh(deps, signed.refresh_token).access_token
    # The temporary password is spent: the new one signs in directly.
    assert isinstance(auth.login(deps, "cal@example.com", PASSWORD, None), auth.SignedIn)
    with pytest.raises(Unauthorized):
        auth.login(deps, "cal@example.com", invite.temporary_password, None)


def test_the_new_password_step_needs_the_temporary_password_and_the_apps_session(
    deps: Deps, idp: FakeProvider
) -> None:
    """Where the provider checks neither (the local emulator), the app does."""
    idp.checks_challenges = False
    root = _member(deps, idp, "root@example.com", ADMIN)
    _, invite = team.create(
        deps, NewMember(name="Cal", phone="+14155550101", email="cal@example.com")
    )
    assert invite is not None and invite.temporary_password
    with pytest.raises(Unauthorized):  # any password would get the emulator's challenge
        auth.login(deps, "cal@example.com", "Guessed-password1", None)
    # A session the app never handed out cannot set anyone's password, the admin's included.
    for email in ("root@example.com", "cal@example.com"):
        with pytest.raises(Unauthorized, match="session"):
            auth.new_password(deps, email, "made-up-session", "Taken-over-Password1")
    assert idp.users["root@example.com"].password == PASSWORD
    # Nor one handed out to another e-mail.
    answer = auth.login(deps, "cal@example.com", invite.temporary_password, None)
    assert isinstance(answer, Challenge)
    with pytest.raises(Unauthorized):
        auth.new_password(deps, "root@example.com", answer.session, "Taken-over-Password1")
    # The session expires with Cognito's.
    deps.clock.advance(seconds=auth.CHALLENGE_SECONDS)
    with pytest.raises(Unauthorized):
        auth.new_password(deps, "cal@example.com", answer.session, PASSWORD)
    answer = auth.login(deps, "cal@example.com", invite.temporary_password, None)
    assert isinstance(answer, Challenge)
    signed = auth.new_password(deps, "cal@example.com", answer.session, PASSWORD)
    assert isinstance(signed, auth.SignedIn) and signed.member.id != root.id
    failed = deps.store.audit.page("auth.login_failed", 10, None).items
    assert [e.target_id for e in failed] == ["cal@example.com"]


def test_refresh_hands_out_a_new_access_token(deps: Deps, idp: FakeProvider) -> None:
    signed = _signed_in(deps, idp, "ann@example.com")
    deps.clock.advance(minutes=50)
    assert signed.refresh_token is not None
    tokens = auth.refresh(deps, signed.refresh_token)
    assert tokens.refresh_token is None and tokens.expires_in == fake.ACCESS_SECONDS
    deps.clock.advance(minutes=20)  # the first access token has expired, the new one not
    with pytest.raises(Unauthorized, match="expired"):
        auth.authenticate(deps, f"Bearer {signed.access_token}")
    assert auth.authenticate(deps, f"Bearer {tokens.access_token}").id == signed.member.id
    with pytest.raises(Unauthorized):
        auth.refresh(deps, "fake-refresh-never-handed-out")


@pytest.mark.parametrize("provider_signs_out", [True, False], ids=["cognito", "emulator"])
def test_logout_ends_access_and_refresh_tokens(
    deps: Deps, idp: FakeProvider, provider_signs_out: bool
) -> None:
    """Also in the same second as the sign-in: `iat` has whole seconds."""
    idp.supports_sign_out = provider_signs_out
    signed = _signed_in(deps, idp, "ann@example.com")
    refreshed = auth.refresh(deps, signed.refresh_token or "")
    actor = auth.authenticate(deps, f"Bearer {signed.access_token}")
    auth.logout(deps, actor)
    for token in (signed.access_token, refreshed.access_token):
        with pytest.raises(Unauthorized):
            auth.authenticate(deps, f"Bearer {token}")
    with pytest.raises(Unauthorized):
        auth.refresh(deps, signed.refresh_token or "")
    # Another container (its cache of the member still warm) refuses them too: the ended
    # sessions are read with the member within the active-check.
    deps.clock.advance(seconds=1)
    again = auth.login(deps, "ann@example.com", PASSWORD, None)
    assert isinstance(again, auth.SignedIn)
    assert auth.authenticate(deps, f"Bearer {again.access_token}").id == signed.member.id
    assert auth.refresh(deps, again.refresh_token or "").access_token


def test_a_sign_in_in_the_second_of_a_sign_out_waits_into_the_next_one(
    deps: Deps, idp: FakeProvider
) -> None:
    """`iat` has whole seconds: a token issued in the second the sessions ended is refused. A
    sign-in in that second (right after a sign-out) waits into the next second and signs in
    again, so its token works; the ended session's token stays refused."""
    signed = _signed_in(deps, idp, "ann@example.com")
    auth.logout(deps, auth.authenticate(deps, f"Bearer {signed.access_token}"))
    ended = deps.clock.now()
    again = auth.login(deps, "ann@example.com", PASSWORD, None)  # the same (manual) second
    assert isinstance(again, auth.SignedIn)
    assert auth.authenticate(deps, f"Bearer {again.access_token}").id == signed.member.id
    assert int(ended.timestamp()) + 1 <= deps.clock.now().timestamp() < ended.timestamp() + 1.1
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, f"Bearer {signed.access_token}")
    # a sign-in in a later second signs in once, without waiting
    deps.clock.advance(seconds=5)
    before = deps.clock.now()
    assert isinstance(auth.login(deps, "ann@example.com", PASSWORD, None), auth.SignedIn)
    assert deps.clock.now() == before


def test_an_api_key_does_not_log_out(deps: Deps) -> None:
    with pytest.raises(ValidationError):
        auth.logout(deps, auth.ENV_KEY_ACTOR)


# ---------------------------------------------------------------- deactivation


def test_deactivation_bites_at_once_here_and_within_the_active_check_elsewhere(
    deps: Deps, idp: FakeProvider
) -> None:
    assert auth.ACTIVE_CHECK_SECONDS <= 60  # API.md: within 60 seconds
    signed = _signed_in(deps, idp, "ann@example.com")
    bearer = f"Bearer {signed.access_token}"
    elsewhere = other_container(deps)
    assert auth.authenticate(elsewhere, bearer).id == signed.member.id  # cached there now
    deps.clock.advance(seconds=5)
    team.deactivate(deps, signed.member.id)
    with pytest.raises(Unauthorized):  # the container that deactivated: at once
        auth.authenticate(deps, bearer)
    deps.clock.advance(seconds=auth.ACTIVE_CHECK_SECONDS - 6)
    auth.authenticate(elsewhere, bearer)  # still in that container's active-check window
    deps.clock.advance(seconds=1)
    with pytest.raises(Unauthorized):
        auth.authenticate(elsewhere, bearer)
    with pytest.raises(Unauthorized):
        auth.refresh(deps, signed.refresh_token or "")
    assert idp.users["ann@example.com"].enabled is False


def test_a_deactivated_member_cannot_sign_in_even_where_the_provider_lets_them(
    deps: Deps, idp: FakeProvider
) -> None:
    idp.honours_disable = False  # the emulator: a disabled user still signs in
    member = _member(deps, idp, "ann@example.com")
    team.deactivate(deps, member.id)
    with pytest.raises(Unauthorized, match="deactivated"):
        auth.login(deps, "ann@example.com", PASSWORD, None)
    # Reactivated: signs in again.
    deps.clock.advance(seconds=1)
    team.update(deps, member.id, Patch({"active": True}))
    assert isinstance(auth.login(deps, "ann@example.com", PASSWORD, None), auth.SignedIn)
    assert idp.users["ann@example.com"].enabled is True


# ---------------------------------------------------------------- failed sign-ins


def _fail(deps: Deps, email: str, address: str | None = "198.51.100.1") -> None:
    with pytest.raises(Unauthorized):
        auth.login(deps, email, "Wrong-password1", address)


def test_ten_failures_per_account_then_429_even_with_the_right_password(
    deps: Deps, idp: FakeProvider
) -> None:
    _member(deps, idp, "ann@example.com")
    start = (_now(deps) // sessions.LOGIN_WINDOW_SECONDS + 1) * sessions.LOGIN_WINDOW_SECONDS
    deps.clock.set(deps.clock.now().fromtimestamp(start + 60, deps.clock.now().tzinfo))
    for i in range(sessions.MAX_FAILURES_PER_ACCOUNT):
        _fail(deps, "ann@example.com", f"198.51.100.{i}")  # from many addresses
    with pytest.raises(RateLimited) as err:
        auth.login(deps, "ann@example.com", PASSWORD, "198.51.100.99")
    assert err.value.status == 429
    assert err.value.retry_after == sessions.LOGIN_WINDOW_SECONDS - 60
    assert err.value.details["retryAfterSeconds"] == err.value.retry_after
    # Another account from the same addresses is not affected.
    _member(deps, idp, "bob@example.com", phone="+14155550101")
    assert isinstance(auth.login(deps, "bob@example.com", PASSWORD, "198.51.100.1"), auth.SignedIn)
    # The window slides: the next fixed window still counts the previous one's failures...
    deps.clock.advance(seconds=sessions.LOGIN_WINDOW_SECONDS)
    with pytest.raises(RateLimited):
        auth.login(deps, "ann@example.com", PASSWORD, None)
    # ...and once both have passed, the account signs in again.
    deps.clock.advance(seconds=sessions.LOGIN_WINDOW_SECONDS)
    assert isinstance(auth.login(deps, "ann@example.com", PASSWORD, None), auth.SignedIn)


def test_failures_straddling_two_windows_count_together(deps: Deps, idp: FakeProvider) -> None:
    _member(deps, idp, "ann@example.com")
    start = (_now(deps) // sessions.LOGIN_WINDOW_SECONDS + 1) * sessions.LOGIN_WINDOW_SECONDS
    tz = deps.clock.now().tzinfo
    deps.clock.set(deps.clock.now().fromtimestamp(start - 30, tz))
    for _ in range(6):
        _fail(deps, "ann@example.com")
    deps.clock.set(deps.clock.now().fromtimestamp(start + 30, tz))
    for _ in range(4):
        _fail(deps, "ann@example.com")
    with pytest.raises(RateLimited):
        auth.login(deps, "ann@example.com", PASSWORD, None)


def test_thirty_failures_per_address_then_429_for_any_account(
    deps: Deps, idp: FakeProvider
) -> None:
    _member(deps, idp, "ann@example.com")
    start = (_now(deps) // sessions.LOGIN_WINDOW_SECONDS + 1) * sessions.LOGIN_WINDOW_SECONDS
    deps.clock.set(deps.clock.now().fromtimestamp(start, deps.clock.now().tzinfo))
    for i in range(sessions.MAX_FAILURES_PER_ADDRESS):
        _fail(deps, f"guess{i}@example.com", "192.0.2.66")  # 1 per account: no account limit
    with pytest.raises(RateLimited):
        auth.login(deps, "ann@example.com", PASSWORD, "192.0.2.66")
    # From another address the account signs in.
    assert isinstance(auth.login(deps, "ann@example.com", PASSWORD, "192.0.2.67"), auth.SignedIn)


# ---------------------------------------------------------------- API keys


def test_api_keys_act_with_their_role_and_revoking_bites_at_once(deps: Deps) -> None:
    record, key = api_keys.create(deps, auth.ENV_KEY_ACTOR, "CRM sync", CALLER)
    assert key.startswith("ck_") and record.secret_hash != key and key not in repr(record)
    actor = auth.authenticate(deps, f"Bearer {key}")
    assert (actor.kind, actor.id, actor.name, actor.role) == (
        "apiKey",
        record.id,
        "CRM sync",
        CALLER,
    )
    assert [k.id for k in api_keys.list_keys(deps, auth.ENV_KEY_ACTOR)] == [record.id]
    # The same id with another secret is not the key.
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, f"Bearer {forged}")
    api_keys.revoke(deps, auth.ENV_KEY_ACTOR, record.id)
    with pytest.raises(Unauthorized, match="revoked"):
        auth.authenticate(deps, f"Bearer {key}")
    # Revoking again changes nothing; an unknown key is a 404.
    assert api_keys.revoke(deps, auth.ENV_KEY_ACTOR, record.id).revoked_at is not None
    with pytest.raises(NotFound):
        api_keys.revoke(deps, auth.ENV_KEY_ACTOR, "0123456789abcdef")


def test_api_keys_are_listed_newest_first(deps: Deps) -> None:
    made = []
    for n in range(5):
        made.append(api_keys.create(deps, auth.ENV_KEY_ACTOR, f"key {n}", ADMIN)[0].id)
        deps.clock.advance(seconds=1)
    assert [k.id for k in api_keys.list_keys(deps, auth.ENV_KEY_ACTOR)] == made[::-1]


def test_a_new_role_bites_at_once_in_the_container_that_set_it(
    deps: Deps, idp: FakeProvider
) -> None:
    signed = _signed_in(deps, idp, "ann@example.com", MANAGER)
    bearer = f"Bearer {signed.access_token}"
    elsewhere = other_container(deps)
    assert auth.authenticate(deps, bearer).role == MANAGER
    assert auth.authenticate(elsewhere, bearer).role == MANAGER
    team.update(deps, signed.member.id, Patch({"role": CALLER}))
    assert auth.authenticate(deps, bearer).role == CALLER
    deps.clock.advance(seconds=auth.ACTIVE_CHECK_SECONDS)
    assert auth.authenticate(elsewhere, bearer).role == CALLER


@pytest.mark.parametrize("role", [MANAGER, CALLER])
def test_only_admins_manage_api_keys(deps: Deps, role: str) -> None:
    actor = Actor("member", "m1", "Someone", role)
    with pytest.raises(Forbidden):
        api_keys.create(deps, actor, "mine", ADMIN)
    with pytest.raises(Forbidden):
        api_keys.list_keys(deps, actor)
    with pytest.raises(Forbidden):
        api_keys.revoke(deps, actor, "0123456789abcdef")


def test_the_api_token_is_an_admin_api_key(deps: Deps) -> None:
    actor = auth.authenticate(deps, f"Bearer {TOKEN}")
    assert (actor.kind, actor.role) == ("apiKey", ADMIN)
    assert auth.me(deps, actor) == {"apiKey": {"id": "env", "name": "API_TOKEN", "role": ADMIN}}
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, f"Bearer {TOKEN}x")


# ---------------------------------------------------------------- the audit log


def test_the_audit_log_records_the_actions_and_no_secret(deps: Deps, idp: FakeProvider) -> None:
    admin = _signed_in(deps, idp, "root@example.com", ADMIN)
    admin_actor = auth.authenticate(deps, f"Bearer {admin.access_token}", "req-42")
    _fail(deps, "root@example.com")
    caller, invite = team.create(
        deps,
        NewMember(name="Cal", phone="+14155550109", email="cal@example.com"),
        admin_actor,
    )
    assert invite is not None and invite.temporary_password
    challenge = auth.login(deps, "cal@example.com", invite.temporary_password, None)
    assert isinstance(challenge, Challenge)
    cal = auth.new_password(deps, "cal@example.com", challenge.session, PASSWORD)
    assert isinstance(cal, auth.SignedIn)
    team.update(deps, caller.id, Patch({"name": "Cal Caller"}), admin_actor)
    _, reset = team.reset_password(deps, caller.id, admin_actor)
    record, key = api_keys.create(deps, admin_actor, "script", ADMIN)
    api_keys.revoke(deps, admin_actor, record.id)
    team.deactivate(deps, caller.id, admin_actor)
    auth.logout(deps, admin_actor)

    entries = deps.store.audit.page(None, 100, None).items
    actions = [e.action for e in entries]
    for action in (
        "auth.login",
        "auth.login_failed",
        "auth.password_changed",
        "auth.logout",
        "member.created",
        "member.updated",
        "member.password_reset",
        "member.deactivated",
        "apikey.created",
        "apikey.revoked",
    ):
        assert action in actions, action
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)  # newest first
    by_admin = next(e for e in entries if e.action == "member.deactivated")
    assert (by_admin.actor_type, by_admin.actor_id, by_admin.request_id) == (
        "member",
        admin.member.id,
        "req-42",
    )
    assert (by_admin.target_type, by_admin.target_id) == ("member", caller.id)
    created = deps.store.audit.page("apikey.created", 10, None).items
    assert [e.target_id for e in created] == [record.id]
    secrets_seen = [
        PASSWORD,
        "Wrong-password1",
        invite.temporary_password,
        reset.temporary_password,
        admin.access_token,
        admin.refresh_token,
        cal.access_token,
        cal.refresh_token,
        challenge.session,
        key,
        TOKEN,
    ]
    for entry in entries:
        text = repr(entry)
        for secret in secrets_seen:
            assert secret and secret not in text, (entry.action, "leaks a secret")


# ---------------------------------------------------------------- the team's sign-ins


def test_emails_are_unique_whatever_their_case(deps: Deps, idp: FakeProvider) -> None:
    first = _member(deps, idp, "ann@example.com")
    with pytest.raises(Conflict) as err:
        team.create(deps, NewMember(name="Ann 2", phone="+14155550101", email="ANN@example.com"))
    assert err.value.status == 409 and err.value.details == {"field": "email"}
    other = _member(deps, idp, "bob@example.com", phone="+14155550102")
    with pytest.raises(Conflict):
        team.update(deps, other.id, Patch({"email": "Ann@Example.com"}))
    assert [m.id for m in deps.store.members.all() if m.email == "ann@example.com"] == [first.id]


def test_concurrent_creation_with_one_email_has_one_winner(deps: Deps) -> None:
    barrier = threading.Barrier(2)
    results: list[str] = []

    def create(n: int) -> None:
        barrier.wait()
        try:
            team.create(
                deps, NewMember(name=f"Twin {n}", phone=f"+1415555010{n}", email="twin@example.com")
            )
            results.append("created")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "created"]
    assert [m.email for m in deps.store.members.all()] == ["twin@example.com"]


def test_a_member_cannot_deactivate_themselves(deps: Deps, idp: FakeProvider) -> None:
    first = _member(deps, idp, "root@example.com", ADMIN)
    _member(deps, idp, "root2@example.com", ADMIN, phone="+14155550101")
    me = Actor("member", first.id, first.name, ADMIN)
    with pytest.raises(Conflict, match="yourself"):
        team.deactivate(deps, first.id, me)
    with pytest.raises(Conflict, match="yourself"):
        team.update(deps, first.id, Patch({"active": False}), me)
    assert team.get(deps, first.id).active


def test_the_last_admin_cannot_be_demoted_or_deactivated(deps: Deps, idp: FakeProvider) -> None:
    root = _member(deps, idp, "root@example.com", ADMIN)
    _member(deps, idp, "former@example.com", ADMIN, phone="+14155550103")
    former = next(m for m in deps.store.members.all() if m.email == "former@example.com")
    team.deactivate(deps, former.id)  # two admins: one may go
    with pytest.raises(Conflict, match="last active admin"):
        team.update(deps, root.id, Patch({"role": MANAGER}))
    with pytest.raises(Conflict, match="last active admin"):
        team.deactivate(deps, root.id)
    # With a second admin, the first may be demoted.
    second = _member(deps, idp, "second@example.com", CALLER, phone="+14155550104")
    team.update(deps, second.id, Patch({"role": ADMIN}))
    team.update(deps, root.id, Patch({"role": MANAGER}))
    assert team.get(deps, root.id).role == MANAGER


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    deps: Deps, idp: FakeProvider
) -> None:
    """Each edit reads the other as an active admin; the edit's transaction checks that the
    other still is one, so the second to commit is refused (the check was read-then-act)."""
    a = _member(deps, idp, "a@example.com", ADMIN)
    b = _member(deps, idp, "b@example.com", ADMIN, phone="+14155550105")
    real_all = deps.store.members.all
    barrier = threading.Barrier(2)

    def all_then_wait() -> Any:
        members = real_all()
        barrier.wait(timeout=5)  # both have read two admins before either writes
        return members

    deps.store.members.all = all_then_wait  # type: ignore[method-assign]
    outcomes: list[str] = []

    def demote(target: Any) -> None:
        try:
            team.update(deps, target.id, Patch({"role": CALLER}))
            outcomes.append("demoted")
        except Conflict as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=demote, args=(m,)) for m in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (
        sorted(outcomes)[0] == "cannot remove the last active admin; make someone else admin first"
    )
    assert outcomes.count("demoted") == 1
    assert [m.role for m in real_all()].count(ADMIN) == 1


def test_a_member_without_email_gets_a_sign_in_when_one_is_added(
    deps: Deps, idp: FakeProvider
) -> None:
    member, invite = team.create(deps, NewMember(name="No Mail", phone="+14155550100"))
    assert invite is None and idp.users == {}
    with pytest.raises(ValidationError):
        team.reset_password(deps, member.id)
    updated, invite = team.update(deps, member.id, Patch({"email": "Late@Example.com"}))
    assert updated.email == "late@example.com"
    assert invite is not None and invite.temporary_password
    answer = auth.login(deps, "late@example.com", invite.temporary_password, None)
    assert isinstance(answer, Challenge)
    signed = auth.new_password(deps, "late@example.com", answer.session, PASSWORD)
    assert isinstance(signed, auth.SignedIn) and signed.member.id == member.id


def test_an_email_change_moves_the_sign_in(deps: Deps, idp: FakeProvider) -> None:
    member = _member(deps, idp, "old@example.com")
    team.update(deps, member.id, Patch({"email": "new@example.com"}))
    signed = auth.login(deps, "new@example.com", PASSWORD, None)
    assert isinstance(signed, auth.SignedIn) and signed.member.id == member.id
    with pytest.raises(Unauthorized):
        auth.login(deps, "old@example.com", PASSWORD, None)
    # The old e-mail is free for someone else.
    team.create(deps, NewMember(name="Other", phone="+14155550109", email="old@example.com"))


def test_an_invited_member_whose_email_changed_signs_in_with_the_new_one(
    deps: Deps, idp: FakeProvider
) -> None:
    member, invite = team.create(
        deps, NewMember(name="Cal", phone="+14155550101", email="typo@example.com")
    )
    assert invite is not None and invite.temporary_password
    team.update(deps, member.id, Patch({"email": "cal@example.com"}))
    answer = auth.login(deps, "cal@example.com", invite.temporary_password, None)
    assert isinstance(answer, Challenge)
    signed = auth.new_password(deps, "cal@example.com", answer.session, PASSWORD)
    assert isinstance(signed, auth.SignedIn) and signed.member.id == member.id


def test_a_password_reset_ends_sessions_and_asks_for_a_new_password(
    deps: Deps, idp: FakeProvider
) -> None:
    signed = _signed_in(deps, idp, "ann@example.com")
    _, invite = team.reset_password(deps, signed.member.id)
    assert invite.temporary_password and invite.temporary_password != PASSWORD
    with pytest.raises(Unauthorized):
        auth.authenticate(deps, f"Bearer {signed.access_token}")
    with pytest.raises(Unauthorized):
        auth.refresh(deps, signed.refresh_token or "")
    with pytest.raises(Unauthorized):
        auth.login(deps, "ann@example.com", PASSWORD, None)
    deps.clock.advance(seconds=1)
    answer = auth.login(deps, "ann@example.com", invite.temporary_password, None)
    assert isinstance(answer, Challenge)


def test_invites_are_emailed_where_the_settings_say_so(deps: Deps, idp: FakeProvider) -> None:
    from dataclasses import replace

    deps.settings = replace(deps.settings, invite_emails=True)
    _, invite = team.create(
        deps, NewMember(name="Mailed", phone="+14155550100", email="m@example.com")
    )
    assert invite is not None and invite.temporary_password is None
    assert [e for e, _ in idp.emailed] == ["m@example.com"]


def test_ensure_admin_is_idempotent_and_signs_in_directly(deps: Deps, idp: FakeProvider) -> None:
    first, _ = team.ensure_admin(deps, "Root@Example.com", PASSWORD)
    again, invite = team.ensure_admin(deps, "root@example.com", PASSWORD)
    assert again.id == first.id and invite is None
    assert [m.id for m in deps.store.members.all()] == [first.id]
    signed = auth.login(deps, "root@example.com", PASSWORD, None)
    assert isinstance(signed, auth.SignedIn) and signed.member.role == ADMIN
    # Demoted and deactivated (a second admin did it): the next start makes them admin again.
    other = _member(deps, idp, "other@example.com", ADMIN, phone="+14155550101")
    actor = Actor("member", other.id, other.name, ADMIN)
    team.update(deps, first.id, Patch({"role": CALLER}), actor)
    team.deactivate(deps, first.id, actor)
    member, _ = team.ensure_admin(deps, "root@example.com", PASSWORD)
    assert (member.role, member.active) == (ADMIN, True)
    deps.clock.advance(seconds=1)
    assert isinstance(auth.login(deps, "root@example.com", PASSWORD, None), auth.SignedIn)
    with pytest.raises(ValidationError):
        team.ensure_admin(deps, "root@example.com", "weak")
