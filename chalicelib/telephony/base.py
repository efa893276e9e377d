"""The `Telephony` protocol the services talk to, and the values that cross it.

Nothing here imports the Twilio SDK: routes that never talk to Twilio must not pay for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Twilio error codes that mean "this number is not valid or not reachable": the request was
# wrong (400), not Twilio (502).
INVALID_NUMBER_CODES = frozenset(
    {13223, 13224, 21211, 21214, 21215, 21217, 21401, 21407, 21421, 21601, 21612, 21614}
)
UNSUBSCRIBED_CODE = 21610
RATE_LIMITED_CODE = 20429


class TelephonyFailure(Exception):
    """Twilio refused or could not be reached. `code` is Twilio's error code when it gave one;
    `http_status` its HTTP status (0: no answer at all); `maybe_executed` says whether the
    request may have taken effect anyway (a 5xx or a timeout on create)."""

    def __init__(
        self, message: str, code: int | None, http_status: int, maybe_executed: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.maybe_executed = maybe_executed

    @property
    def invalid_number(self) -> bool:
        return self.code in INVALID_NUMBER_CODES


@dataclass(frozen=True)
class PhoneNumber:
    sid: str
    phone_number: str
    friendly_name: str
    voice: bool = True
    sms: bool = True


@dataclass(frozen=True)
class CallState:
    """A call as Twilio reports it when fetched (the reconciler's view)."""

    sid: str
    status: str
    duration_seconds: int | None = None
    answered: bool = False
    children: list[CallState] = field(default_factory=list)


class Telephony(Protocol):
    def list_numbers(self) -> list[PhoneNumber]:
        """The account's phone numbers."""
        ...

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str, timeout_seconds: int
    ) -> str:
        """Start an outbound call; Twilio fetches `url` when it is answered. Returns the SID."""
        ...

    def fetch_call(self, sid: str) -> CallState:
        """The call's current state, with its child (dialled) legs."""
        ...

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        status_callback: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> str:
        """Send an SMS from a number or through a Messaging Service. Returns the SID."""
        ...
