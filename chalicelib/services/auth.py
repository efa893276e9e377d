"""Who is asking, and sign-in: the app-side session rules of DESIGN.md ("Identity").

- `authenticate` turns a bearer token into an `Actor`: the API_TOKEN (an admin API key), an
  API key (`ck_...`, its record read on every request so revoking bites at once), or a
  member's Cognito access token (verified here: signature, issuer, client, expiry).
- A member's token is refused once the member is deactivated or their sessions were ended
  (sign-out, deactivation, password reset) after it was issued. The member is read at most
  once per ACTIVE_CHECK_SECONDS per container, so a deactivation bites within that time
  everywhere, and at once in the container that made it.
- Every refresh token handed out has a session record (its hash); a refresh is refused when
  the record is unknown, or the member's sessions ended after it began, or the member is
  deactivated: the emulator's missing global sign-out and disable are covered here.
- Failed sign-ins are limited per account and per address (API.md: 10 and 30 in 15 minutes).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib import config
from chalicelib.domain.actors import ADMIN, Actor
from chalicelib.domain.records import Session, TeamMember
from chalicelib.errors import RateLimited, Unauthorized, ValidationError
from chalicelib.identity import secrets, sessions
from chalicelib.identity.provider import (
    BadCredentials,
    Challenge,
    PasswordRejected,
    ProviderBusy,
    Tokens,
)
from chalicelib.identity.sessions import login_key, normalize_email, sub_key
from chalicelib.services import audit
from chalicelib.services.deps import Deps
from chalicelib.store.base import Put, Update

log = logging.getLogger("coldcall")

ACTIVE_CHECK_SECONDS = 30
SESSION_DAYS = 30  # the app client's refresh-token validity
TEMPORARY_PASSWORD_DAYS = 7  # the pool's TemporaryPasswordValidityDays
CHALLENGE_SECONDS = 180  # how long Cognito keeps a challenge's session (its default)
ENV_KEY_ACTOR = Actor("apiKey", "env", "API_TOKEN", ADMIN)
_DENIED = "wrong email or password"


# ---------------------------------------------------------------- every request


def authenticate(deps: Deps, header: str | None, request_id: str | None = None) -> Actor:
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing bearer token: send Authorization: Bearer <token>")
    actor = _actor(deps, token)
    if request_id:
        actor = Actor(actor.kind, actor.id, actor.name, actor.role, request_id)
    return actor


def _actor(deps: Deps, token: str) -> Actor:
    env_key = config.api_token()
    if env_key and hmac.compare_digest(token.encode(), env_key.encode()):
        return ENV_KEY_ACTOR
    key_id = secrets.parse_api_key(token)
    if key_id is not None:
        key = deps.store.api_keys.get(key_id)
        if key is None or not secrets.same_hash(key.secret_hash, secrets.sha256(token)):
            raise Unauthorized("invalid token")
        if key.revoked_at is not None:
            raise Unauthorized("this API key was revoked")
        return Actor("apiKey", key.id, key.name, key.role)
    if token.count(".") != 2:
        raise Unauthorized("invalid token")
    claims = deps.verifier.verify(token, deps.clock.now().timestamp())
    member = _member_of_sub(deps, claims.sub)
    refusal = sessions.token_refusal(member, claims.issued_at)
    if refusal is not None or member is None:
        raise Unauthorized(refusal or "this sign-in belongs to no team member")
    return Actor("member", member.id, member.name, member.role)


def _member_of_sub(deps: Deps, sub: str) -> TeamMember | None:
    now = deps.clock.now().timestamp()
    seen = deps.members_seen.get(sub)
    if seen is not None and now - seen[0] < ACTIVE_CHECK_SECONDS:
        member: TeamMember | None = seen[1]
        return member
    member_id = deps.store.logins.member_id(sub_key(sub))
    member = deps.store.members.get(member_id) if member_id else None
    deps.members_seen[sub] = (now, member)
    return member


def forget_member(deps: Deps, member_id: str) -> None:
    """Drop the container's cached view of a member (after deactivating or signing out)."""
    for sub, (_, member) in list(deps.members_seen.items()):
        if member is not None and member.id == member_id:
            deps.members_seen.pop(sub, None)


# ---------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str | None
    expires_in: int
    member: TeamMember


def _check_failures(deps: Deps, email: str, address: str | None) -> None:
    """Refuse while the failures of this window and the previous one reach the limit: any 15
    minutes span at most two fixed windows, so no span sees more than the limit."""
    window, left = sessions.failure_window(deps.clock.now())
    current = sessions.failure_counters(email, address, window)
    previous = sessions.failure_counters(email, address, window - 1)
    for (key, limit), (prev_key, _) in zip(current, previous, strict=True):
        if deps.store.throttles.count(key) + deps.store.throttles.count(prev_key) >= limit:
            raise RateLimited("too many failed sign-ins; wait and try again", left)


def _note_failure(deps: Deps, email: str, address: str | None, reason: str) -> None:
    now = deps.clock.now()
    window, _ = sessions.failure_window(now)
    expires = now + timedelta(seconds=3 * sessions.LOGIN_WINDOW_SECONDS)
    for key, _limit in sessions.failure_counters(email, address, window):
        deps.store.throttles.hit(key, expires)
    audit.record(
        deps,
        Actor("system", "auth", "sign-in", ADMIN),
        "auth.login_failed",
        ("email", normalize_email(email)[:200]),
        {"reason": reason, "address": address},
    )


def login(deps: Deps, email: str, password: str, address: str | None) -> SignedIn | Challenge:
    email = normalize_email(email)
    _check_failures(deps, email, address)

    def sign_in() -> Tokens | Challenge:
        try:
            return deps.identity.sign_in(email, password)
        except BadCredentials:
            _note_failure(deps, email, address, "bad_credentials")
            raise Unauthorized(_DENIED) from None
        except ProviderBusy:
            raise RateLimited("the sign-in service is busy; try again in a moment", 5) from None

    answer = sign_in()
    member = _member_by_email(deps, email)
    if member is None or not member.active:
        _note_failure(deps, email, address, "no_active_member")
        raise Unauthorized(_DENIED if member is None else "this team member is deactivated")
    if isinstance(answer, Challenge):
        # The new-password step only for the temporary password the app set, and only with a
        # session the app handed out: the local emulator challenges whatever password is given
        # and takes any session (DESIGN.md, "Identity"); Cognito checks both itself.
        if not _noted(deps, _temporary_key(member.id, password), member.id):
            _note_failure(deps, email, address, "bad_credentials")
            raise Unauthorized(_DENIED)
        _note(deps, _challenge_key(member.id, answer.session), member.id, CHALLENGE_SECONDS)
        return answer
    answer = _past_sessions_end(deps, member, answer, sign_in)
    return _start_session(deps, member, answer, "auth.login")


def _past_sessions_end(
    deps: Deps, member: TeamMember, tokens: Tokens, again: Callable[[], Tokens | Challenge]
) -> Tokens:
    """A sign-in in the very second its member's sessions ended (a sign-out just before):
    `iat` has whole seconds, so its token would be refused as one of the ended sessions'. It
    waits into the next second and signs in again (once; rare: only automation is that quick)."""
    ended = member.sessions_ended_at
    if ended is None:
        return tokens
    claims = deps.verifier.verify(tokens.access_token, deps.clock.now().timestamp())
    if sessions.token_refusal(member, claims.issued_at) != sessions.SESSION_ENDED:
        return tokens
    deps.clock.sleep(max(0.0, int(ended.timestamp()) + 1 - deps.clock.now().timestamp()) + 0.05)
    answer = again()
    if isinstance(answer, Challenge):  # cannot be: the first answer was tokens
        raise Unauthorized(sessions.SESSION_ENDED)
    return answer


def _temporary_key(member_id: str, password: str) -> str:
    return secrets.sha256(f"temporary\n{member_id}\n{password}")


def _challenge_key(member_id: str, session: str) -> str:
    return secrets.sha256(f"challenge\n{member_id}\n{session}")


def _note(deps: Deps, key: str, member_id: str, seconds: int) -> None:
    """Remember a hash the app handed out (a session record: DynamoDB's TTL removes it)."""
    now = deps.clock.now()
    deps.store.write(
        Put(
            "note",
            Session(key, member_id, created_at=now, expires_at=now + timedelta(seconds=seconds)),
        )
    )


def _noted(deps: Deps, key: str, member_id: str) -> bool:
    record = deps.store.sessions.get(key)
    return (
        record is not None
        and record.member_id == member_id
        and record.expires_at > deps.clock.now()
    )


def note_temporary_password(deps: Deps, member: TeamMember, password: str) -> None:
    """The temporary password the app just gave the member's sign-in (its hash), which their
    first sign-in must present."""
    _note(deps, _temporary_key(member.id, password), member.id, TEMPORARY_PASSWORD_DAYS * 86400)


def new_password(deps: Deps, email: str, session: str, password: str) -> SignedIn | Challenge:
    email = normalize_email(email)
    problem = secrets.password_problem(password)
    if problem:
        raise ValidationError(problem, {"field": "newPassword", "policy": secrets.PASSWORD_POLICY})
    waiting = _member_by_email(deps, email)
    if waiting is None or not _noted(deps, _challenge_key(waiting.id, session), waiting.id):
        raise Unauthorized("the sign-in session expired; sign in again")
    try:
        answer = deps.identity.answer_new_password(email, session, password)
    except PasswordRejected as exc:
        raise ValidationError(
            f"the password was refused: {exc}",
            {"field": "newPassword", "policy": secrets.PASSWORD_POLICY},
        ) from None
    except BadCredentials:
        raise Unauthorized("the sign-in session expired; sign in again") from None
    if isinstance(answer, Challenge):
        return answer
    member = _member_by_email(deps, email)
    if member is None or not member.active:
        raise Unauthorized(_DENIED)
    # Sign in once more with the new password: a refresh token from the challenge's answer is
    # refused by the local emulator's refresh (DESIGN.md); one from a password sign-in works
    # in both, so the dashboard's silent refresh works after a first sign-in too.
    try:
        again = deps.identity.sign_in(email, password)
    except BadCredentials:
        again = answer
    if isinstance(again, Challenge):
        again = answer
    return _start_session(deps, member, again, "auth.password_changed")


def _member_by_email(deps: Deps, email: str) -> TeamMember | None:
    member_id = deps.store.logins.member_id(login_key(email))
    return deps.store.members.get(member_id) if member_id else None


def _start_session(deps: Deps, member: TeamMember, tokens: Tokens, action: str) -> SignedIn:
    now = deps.clock.now()
    claims = deps.verifier.verify(tokens.access_token, now.timestamp())
    # The token names its user by `sub`: make sure it leads to this member.
    if deps.store.logins.member_id(sub_key(claims.sub)) != member.id:
        from chalicelib.domain.records import Login

        deps.store.write(Put("sub", Login(sub_key(claims.sub), member.id)))
        deps.members_seen.pop(claims.sub, None)
    if tokens.refresh_token:
        deps.store.write(
            Put(
                "session",
                Session(
                    token_hash=secrets.sha256(tokens.refresh_token),
                    member_id=member.id,
                    created_at=now,
                    expires_at=now + timedelta(days=SESSION_DAYS),
                ),
            )
        )
    audit.record(deps, _as(member), action, ("member", member.id))
    expires_in = tokens.expires_in or max(0, claims.expires_at - int(now.timestamp()))
    return SignedIn(tokens.access_token, tokens.refresh_token, expires_in, member)


def _as(member: TeamMember) -> Actor:
    return Actor("member", member.id, member.name, member.role)


def refresh(deps: Deps, refresh_token: str) -> Tokens:
    session = deps.store.sessions.get(secrets.sha256(refresh_token))
    member = deps.store.members.get(session.member_id) if session is not None else None
    refusal = sessions.refresh_refusal(session, member, deps.clock.now())
    if refusal is not None:
        raise Unauthorized(refusal)
    try:
        tokens = deps.identity.refresh(refresh_token)
    except BadCredentials:
        raise Unauthorized("this session is unknown or has expired; sign in again") from None
    except ProviderBusy:
        raise RateLimited("the sign-in service is busy; try again in a moment", 5) from None
    expires_in = tokens.expires_in
    if not expires_in:
        claims = deps.verifier.verify(tokens.access_token, deps.clock.now().timestamp())
        expires_in = max(0, claims.expires_at - int(deps.clock.now().timestamp()))
    return Tokens(tokens.access_token, expires_in)


def end_sessions(deps: Deps, member: TeamMember, saved: bool = False) -> None:
    """Every session of the member begun until now ends: their access tokens and refresh
    tokens are refused from here on (at once in this container, within ACTIVE_CHECK_SECONDS
    in others), and the provider revokes its refresh tokens where it can. `saved`: the caller
    already saved `sessions_ended_at` with its own write."""
    if not saved:
        moment = deps.clock.now()
        deps.store.write(
            Update("end-sessions", TeamMember, member.id, {"sessions_ended_at": moment})
        )
        member.sessions_ended_at = moment
    forget_member(deps, member.id)
    if member.email and identity_configured(deps):
        deps.identity.sign_out_everywhere(member.email)


def logout(deps: Deps, actor: Actor) -> None:
    if actor.member_id is None:
        raise ValidationError("an API key does not sign out; revoke it instead (DELETE /api-keys)")
    member = deps.store.members.get(actor.member_id)
    if member is None:
        raise Unauthorized("this sign-in belongs to no team member")
    end_sessions(deps, member)
    audit.record(deps, actor, "auth.logout", ("member", member.id))


def identity_configured(deps: Deps) -> bool:
    s = deps.settings
    return deps._identity is not None or bool(s.cognito_user_pool_id and s.cognito_client_id)


def me(deps: Deps, actor: Actor) -> dict[str, Any]:
    """The signed-in member, or what an API key is."""
    if actor.member_id is not None:
        member = deps.store.members.get(actor.member_id)
        if member is None:
            raise Unauthorized("this sign-in belongs to no team member")
        return {"member": member}
    return {"apiKey": {"id": actor.id, "name": actor.name, "role": actor.role}}
