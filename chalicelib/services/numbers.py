"""The account's phone numbers (caller IDs and SMS senders): checks against Twilio's list,
which `Deps.account_numbers` caches in the container for a few minutes."""

from __future__ import annotations

from chalicelib.errors import ValidationError
from chalicelib.services.deps import Deps
from chalicelib.telephony.base import PhoneNumber


def account_numbers(deps: Deps) -> list[PhoneNumber]:
    return deps.account_numbers()


def require_own_number(
    deps: Deps, e164: str, field: str, *, voice: bool = False, sms: bool = False
) -> None:
    """400 unless `e164` is one of the account's numbers (with the capability needed)."""
    for number in deps.account_numbers():
        if number.phone_number == e164:
            if voice and not number.voice:
                raise ValidationError(f"{e164} cannot make calls", {"field": field})
            if sms and not number.sms:
                raise ValidationError(f"{e164} cannot send SMS", {"field": field})
            return
    raise ValidationError(f"{e164} is not one of this Twilio account's numbers", {"field": field})
