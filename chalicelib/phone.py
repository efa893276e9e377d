"""Phone numbers: parse any common form (default region US) into E.164, and the time zones a
number belongs to, with `phonenumbers`."""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as pn_timezone

from chalicelib.errors import ValidationError

DEFAULT_REGION = "US"
_UNKNOWN_TZ = "Etc/Unknown"


def normalize(raw: str, field: str = "phone") -> str:
    """Return `raw` as E.164, or raise a 400 naming the field."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(f"{field} is required", {"field": field})
    if len(text) > 40:
        raise ValidationError(f"{field} is not a valid phone number", {"field": field})
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{field} is not a valid phone number", {"field": field}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"{field} is not a valid phone number", {"field": field})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def timezones(e164: str) -> list[str]:
    """Every IANA time zone the number may be in (several for some mobile or toll-free ranges)."""
    number = phonenumbers.parse(e164, None)
    zones = [z for z in pn_timezone.time_zones_for_number(number) if z != _UNKNOWN_TZ]
    return sorted(zones)


def primary_timezone(e164: str) -> str | None:
    """The number's time zone when it has exactly one; None when it spans several (toll-free,
    many mobile ranges), where calling-hours checks use every zone in `timezones`."""
    zones = timezones(e164)
    return zones[0] if len(zones) == 1 else None


def mask(e164: str | None) -> str:
    """For logs: keep the country code and the last two digits only."""
    if not e164:
        return ""
    if len(e164) <= 5:
        return "*" * len(e164)
    return e164[:2] + "*" * (len(e164) - 4) + e164[-2:]
