"""The account's phone numbers (caller IDs and SMS senders), cached in the container for a few
minutes: every call checks its caller ID against them, and Twilio's list is slow."""

from __future__ import annotations

import threading
import time

from chalicelib import providers
from chalicelib.errors import TelephonyError, ValidationError
from chalicelib.telephony.base import PhoneNumber, TelephonyFailure

CACHE_SECONDS = 300

_lock = threading.Lock()
_cache: tuple[float, list[PhoneNumber]] | None = None


def clear_cache() -> None:
    global _cache
    with _lock:
        _cache = None


def account_numbers() -> list[PhoneNumber]:
    global _cache
    with _lock:
        if _cache is not None and time.monotonic() - _cache[0] < CACHE_SECONDS:
            return _cache[1]
    try:
        numbers = providers.telephony().list_numbers()
    except TelephonyFailure as exc:
        raise TelephonyError(
            f"could not list the Twilio account's numbers: {exc.message}",
            {"twilioCode": exc.code},
        ) from None
    with _lock:
        _cache = (time.monotonic(), numbers)
    return numbers


def require_own_number(e164: str, field: str, *, voice: bool = False, sms: bool = False) -> None:
    """400 unless `e164` is one of the account's numbers (with the capability needed)."""
    for number in account_numbers():
        if number.phone_number == e164:
            if voice and not number.voice:
                raise ValidationError(f"{e164} cannot make calls", {"field": field})
            if sms and not number.sms:
                raise ValidationError(f"{e164} cannot send SMS", {"field": field})
            return
    raise ValidationError(f"{e164} is not one of this Twilio account's numbers", {"field": field})
