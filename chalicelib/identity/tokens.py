"""Access-token verification: RS256 signature against the pool's published keys (JWKS,
fetched once and cached per container), issuer, expiry, `token_use` and the app client.

PyJWT is imported on first use: API-key requests and webhooks never pay for it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.errors import Unauthorized

JWKS_CACHE_SECONDS = 3600
LEEWAY_SECONDS = 5  # clock skew between Cognito and Lambda


@dataclass(frozen=True)
class Claims:
    sub: str
    issued_at: int  # `iat`, epoch seconds
    expires_at: int  # `exp`


class KeySource(Protocol):
    def key_for(self, token: str) -> Any:
        """The public key the token's `kid` names (raises Unauthorized when there is none)."""
        ...


class JwksKeys:
    """The pool's keys from `<issuer>/.well-known/jwks.json` (PyJWT's JWKS client, its keys
    cached for an hour; an unknown `kid` refetches once, as after a key rotation)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def key_for(self, token: str) -> Any:
        import jwt

        with self._lock:
            if self._client is None:
                self._client = jwt.PyJWKClient(
                    self.url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=self.timeout
                )
            client = self._client
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            raise Unauthorized("the sign-in keys could not be fetched; try again") from None
        except jwt.PyJWKClientError:
            raise Unauthorized("invalid token: signed with an unknown key") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None


class StaticKeys:
    """Keys given as a JWKS document (tests, and a pool whose keys are pinned)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self._keys: dict[str, Any] | None = None

    def key_for(self, token: str) -> Any:
        import jwt

        if self._keys is None:
            self._keys = {str(k.key_id): k.key for k in jwt.PyJWKSet.from_dict(self.jwks).keys}
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        key = self._keys.get(str(kid))
        if key is None:
            raise Unauthorized("invalid token: signed with an unknown key")
        return key


class TokenVerifier:
    def __init__(self, issuer: str, client_id: str, keys: KeySource) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.keys = keys

    def verify(self, token: str, now: float) -> Claims:
        """The token's claims if it is a valid access token of our app client, issued by our
        pool and not expired at `now` (epoch seconds); else Unauthorized."""
        import jwt

        key = self.keys.key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],  # never `none`, never an HMAC keyed with the public key
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "iat", "iss", "sub", "token_use"],
                    "verify_aud": False,  # access tokens name the client in `client_id`
                    "verify_exp": False,  # checked below against the app's clock
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {_reason(exc)}") from None
        if claims.get("token_use") != "access":
            raise Unauthorized("invalid token: not an access token")
        if claims.get("client_id") != self.client_id:
            raise Unauthorized("invalid token: issued to another app client")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise Unauthorized("invalid token: bad exp or iat")
        if now > exp + LEEWAY_SECONDS:
            raise Unauthorized("the token has expired; refresh it or sign in again")
        if iat > now + LEEWAY_SECONDS:
            raise Unauthorized("invalid token: issued in the future")
        return Claims(sub=str(claims["sub"]), issued_at=iat, expires_at=exp)


def _reason(exc: Exception) -> str:
    import jwt

    if isinstance(exc, jwt.InvalidIssuerError):
        return "issued by another user pool"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "bad signature"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "algorithm not allowed"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing claim {exc.claim}"
    return "malformed"
