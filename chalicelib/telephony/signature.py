"""Webhook authenticity: `X-Twilio-Signature` checked with the SDK's RequestValidator over the
public URL (configured base + path, never the Host header) and the form parameters."""

from __future__ import annotations

from collections.abc import Mapping


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    if not signature or not auth_token:
        return False
    from twilio.request_validator import RequestValidator

    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send (tests and the simulator)."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))
