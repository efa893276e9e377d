"""The composition root: builds the app's dependencies (`Deps`) once per container from the
settings: the DynamoDB store, the system clock, the Twilio adapter (created on first use; the
SDK is imported only then). Nothing is created at import time (moto must be active first, and
cold start must stay small). Tests replace parts with `override`."""

from __future__ import annotations

from typing import Any

from chalicelib import config
from chalicelib.clock import Clock, SystemClock
from chalicelib.config import Settings, get_settings
from chalicelib.errors import TelephonyError
from chalicelib.services.deps import Deps
from chalicelib.store.base import Store
from chalicelib.telephony.base import Telephony

_deps: Deps | None = None
_overrides: dict[str, Any] = {}


def _twilio(settings: Settings) -> Telephony:
    token = config.twilio_auth_token()
    if not settings.twilio_account_sid or not token:
        raise TelephonyError(
            "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
    from chalicelib.telephony.twilio_client import TwilioTelephony

    return TwilioTelephony(settings.twilio_account_sid, token, settings.twilio_api_base)


def _identity(settings: Settings) -> Any:
    if not settings.cognito_user_pool_id or not settings.cognito_client_id:
        from chalicelib.services.deps import _no_identity

        return _no_identity()
    from chalicelib.identity.provider import CognitoProvider

    return CognitoProvider(
        settings.region,
        settings.cognito_user_pool_id,
        settings.cognito_client_id,
        settings.cognito_endpoint,
    )


def _verifier(settings: Settings) -> Any:
    issuer = settings.cognito_issuer
    if not issuer or not settings.cognito_client_id:
        from chalicelib.services.deps import _no_identity

        return _no_identity()
    from chalicelib.identity.tokens import JwksKeys, TokenVerifier

    keys = _overrides.get("token_keys") or JwksKeys(f"{issuer}/.well-known/jwks.json")
    return TokenVerifier(issuer, settings.cognito_client_id, keys)


def _build(settings: Settings) -> Deps:
    store: Store
    if "store" in _overrides:
        store = _overrides["store"]
    else:
        from chalicelib.store.dynamo import DynamoStore

        store = DynamoStore(settings)
    clock: Clock = _overrides.get("clock") or SystemClock()
    telephony: Telephony | None = _overrides.get("telephony")
    deps = Deps(
        settings,
        store,
        clock,
        lambda: _twilio(settings),
        make_identity=lambda: _identity(settings),
        make_verifier=lambda: _verifier(settings),
        rules_clock=_overrides.get("rules_clock"),
    )
    if telephony is not None:
        deps._telephony = telephony
    if "identity" in _overrides:
        deps._identity = _overrides["identity"]
    return deps


def deps() -> Deps:
    """The dependencies for the current settings (rebuilt when tests change the settings)."""
    global _deps
    current = get_settings()
    if _deps is None or _deps.settings is not current:
        _deps = _build(current)
    return _deps


def settings() -> Settings:
    return get_settings()


def override(**parts: Any) -> None:
    """Install replacements (`store`, `clock`, `rules_clock`, `telephony`, `identity`,
    `token_keys`); a value
    of None removes one."""
    global _deps
    for name, value in parts.items():
        if name not in ("store", "clock", "rules_clock", "telephony", "identity", "token_keys"):
            raise TypeError(f"unknown dependency {name!r}")
        if value is None:
            _overrides.pop(name, None)
        else:
            _overrides[name] = value
    _deps = None
