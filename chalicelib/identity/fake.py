"""A fake of the `IdentityProvider` protocol for unit tests: it keeps users in memory and hands
out RS256 access tokens as Cognito does (`iss`, `sub`, `client_id`, `token_use: access`,
`iat`/`exp` from the test's clock, a `kid`), signed with a test RSA key generated once per
process, plus refresh tokens and the NEW_PASSWORD_REQUIRED challenge for a temporary password.

`supports_sign_out`, `honours_disable` and `checks_challenges` turn off what the local
emulator lacks (global sign-out, refusing a disabled user, checking the temporary password
and the challenge's session), so tests can show the app's own rules cover it.

`cryptography` and PyJWT are imported on first use; nothing here runs in the app."""

from __future__ import annotations

import functools
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalicelib.clock import Clock
from chalicelib.identity.provider import (
    BadCredentials,
    Challenge,
    PasswordRejected,
    Tokens,
    UserExists,
)
from chalicelib.identity.secrets import password_problem

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FAKEPOOL"
CLIENT_ID = "fakeclient0123456789"
KID = "fake-key-1"
ACCESS_SECONDS = 3600
NEW_PASSWORD_REQUIRED = "NEW_PASSWORD_REQUIRED"


@functools.cache
def private_key(name: str = KID) -> Any:
    """A 2048-bit RSA key per name, generated once per process (a few tens of ms)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(name: str = KID) -> dict[str, Any]:
    import json

    import jwt

    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key(name).public_key()))
    jwk.update({"kid": name, "alg": "RS256", "use": "sig"})
    return dict(jwk)


def jwks(*names: str) -> dict[str, Any]:
    """A JWKS document with the public keys of `names` (default: the fake's one key)."""
    return {"keys": [public_jwk(n) for n in (names or (KID,))]}


def sign(claims: dict[str, Any], *, key: str = KID, kid: str | None = None) -> str:
    """An RS256 token over `claims` with the key `key`, its header naming `kid` (default: the
    key's own name)."""
    import jwt

    return jwt.encode(claims, private_key(key), algorithm="RS256", headers={"kid": kid or key})


def access_claims(
    sub: str, now: int, *, issuer: str = ISSUER, client_id: str = CLIENT_ID, **extra: Any
) -> dict[str, Any]:
    """The claims of a Cognito access token issued at `now` (epoch seconds)."""
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": issuer,
        "client_id": client_id,
        "origin_jti": uuid.uuid4().hex,
        "event_id": uuid.uuid4().hex,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + ACCESS_SECONDS,
        "jti": uuid.uuid4().hex,
        "username": sub,
    }
    claims.update(extra)
    return claims


def verifier(issuer: str = ISSUER, client_id: str = CLIENT_ID) -> Any:
    from chalicelib.identity.tokens import StaticKeys, TokenVerifier

    return TokenVerifier(issuer, client_id, StaticKeys(jwks()))


@dataclass
class FakeUser:
    email: str
    sub: str
    password: str
    temporary: bool = True
    enabled: bool = True


@dataclass
class FakeProvider:
    clock: Clock
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    supports_sign_out: bool = True
    honours_disable: bool = True
    checks_challenges: bool = True
    users: dict[str, FakeUser] = field(default_factory=dict)  # by e-mail
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> e-mail
    challenges: dict[str, str] = field(default_factory=dict)  # session -> e-mail
    emailed: list[tuple[str, str]] = field(default_factory=list)  # (e-mail, temporary password)
    calls: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ tokens

    def access_token(self, email: str) -> str:
        user = self.users[email]
        now = int(self.clock.now().timestamp())
        return sign(access_claims(user.sub, now, issuer=self.issuer, client_id=self.client_id))

    def _tokens(self, user: FakeUser, with_refresh: bool = True) -> Tokens:
        refresh = None
        if with_refresh:
            refresh = "fake-refresh-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = user.email
        return Tokens(self.access_token(user.email), ACCESS_SECONDS, refresh)

    def _user(self, email: str) -> FakeUser:
        user = self.users.get(email)
        if user is None:
            raise BadCredentials("User does not exist.")
        return user

    # ------------------------------------------------------------ IdentityProvider

    def sign_in(self, email: str, password: str) -> Tokens | Challenge:
        self.calls.append("sign_in")
        user = self.users.get(email)
        if user is None:
            raise BadCredentials("Incorrect username or password.")
        unchecked = user.temporary and not self.checks_challenges  # the emulator's gap
        if not unchecked and not secrets.compare_digest(user.password, password):
            raise BadCredentials("Incorrect username or password.")
        if not user.enabled and self.honours_disable:
            raise BadCredentials("User is disabled.")
        if user.temporary:
            session = "fake-session-" + secrets.token_urlsafe(16)
            self.challenges[session] = email
            return Challenge(NEW_PASSWORD_REQUIRED, session)
        return self._tokens(user)

    def answer_new_password(
        self, email: str, session: str, new_password: str
    ) -> Tokens | Challenge:
        self.calls.append("answer_new_password")
        if self.checks_challenges and self.challenges.get(session) != email:
            raise BadCredentials("Invalid session for the user.")
        problem = password_problem(new_password)
        if problem:
            raise PasswordRejected(problem)
        self.challenges.pop(session, None)
        user = self._user(email)
        user.password, user.temporary = new_password, False
        return self._tokens(user)

    def refresh(self, refresh_token: str) -> Tokens:
        self.calls.append("refresh")
        email = self.refresh_tokens.get(refresh_token)
        if email is None:
            raise BadCredentials("Invalid Refresh Token")
        user = self._user(email)
        if not user.enabled and self.honours_disable:
            raise BadCredentials("User is disabled.")
        return self._tokens(user, with_refresh=False)

    def create_user(self, email: str, temporary_password: str, send_email: bool) -> str:
        self.calls.append("create_user")
        if email in self.users:
            raise UserExists("An account with the given email already exists.")
        user = FakeUser(email, str(uuid.uuid4()), temporary_password)
        self.users[email] = user
        if send_email:
            self.emailed.append((email, temporary_password))
        return user.sub

    def user_sub(self, email: str) -> str | None:
        user = self.users.get(email)
        return user.sub if user else None

    def reset_password(self, email: str, temporary_password: str, send_email: bool) -> None:
        self.calls.append("reset_password")
        user = self._user(email)
        user.password, user.temporary = temporary_password, True
        if send_email:
            self.emailed.append((email, temporary_password))

    def set_permanent_password(self, email: str, password: str) -> None:
        self.calls.append("set_permanent_password")
        user = self._user(email)
        user.password, user.temporary = password, False

    def change_email(self, old: str, new: str) -> None:
        self.calls.append("change_email")
        user = self.users.pop(old)
        user.email = new
        self.users[new] = user
        for token, owner in self.refresh_tokens.items():
            if owner == old:
                self.refresh_tokens[token] = new

    def set_enabled(self, email: str, enabled: bool) -> None:
        self.calls.append("set_enabled")
        if email in self.users:
            self.users[email].enabled = enabled

    def sign_out_everywhere(self, email: str) -> None:
        self.calls.append("sign_out_everywhere")
        if not self.supports_sign_out:
            return
        for token, owner in list(self.refresh_tokens.items()):
            if owner == email:
                del self.refresh_tokens[token]
