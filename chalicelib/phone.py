"""Phone numbers: parse any common form (default region US) into E.164, and the time zones a
number belongs to, with `phonenumbers`.

`phonenumbers` (~15 ms of imports) is imported on first use, not with this module: the logs
import `mask`, so every `import app` would otherwise pay for it (tests/unit/test_cold_start.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.errors import ValidationError

if TYPE_CHECKING:
    import phonenumbers

DEFAULT_REGION = "US"
_UNKNOWN_TZ = "Etc/Unknown"


def normalize(raw: str, field: str = "phone") -> str:
    """Return `raw` as E.164, or raise a 400 naming the field."""
    import phonenumbers

    return phonenumbers.format_number(_parse(raw, field), phonenumbers.PhoneNumberFormat.E164)


def normalize_with_zone(raw: str, field: str = "phone") -> tuple[str, str | None]:
    """E.164 and `primary_timezone` from one parse (bulk imports parse 10,000 numbers)."""
    import phonenumbers

    number = _parse(raw, field)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, _primary(_zones(number))


def _parse(raw: str, field: str) -> phonenumbers.PhoneNumber:
    import phonenumbers

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
    return number


def _zones(number: phonenumbers.PhoneNumber) -> list[str]:
    from phonenumbers import timezone as pn_timezone

    return sorted(z for z in pn_timezone.time_zones_for_number(number) if z != _UNKNOWN_TZ)


def _primary(zones: list[str]) -> str | None:
    return zones[0] if len(zones) == 1 else None


def timezones(e164: str) -> list[str]:
    """Every IANA time zone the number may be in (several for some mobile or toll-free ranges)."""
    import phonenumbers

    return _zones(phonenumbers.parse(e164, None))


def primary_timezone(e164: str) -> str | None:
    """The number's time zone when it has exactly one; None when it spans several (toll-free,
    many mobile ranges), where calling-hours checks use every zone in `timezones`."""
    return _primary(timezones(e164))


def mask(e164: str | None) -> str:
    """For logs: keep the country code and the last two digits only."""
    if not e164:
        return ""
    if len(e164) <= 5:
        return "*" * len(e164)
    return e164[:2] + "*" * (len(e164) - 4) + e164[-2:]
