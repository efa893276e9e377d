"""The `Telephony` protocol the services talk to, and the values that cross it.

Nothing here imports the Twilio SDK: routes that never talk to Twilio must not pay for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Twilio error codes that mean "this number is not valid or not reachable": the request was
# wrong (400), not Twilio (502).
INVALID_NUMBER_CODES = frozenset(
    {13223, 13224, 21211, 21214, 21215, 21217, 21401, 21407, 21421, 21601, 21612, 21614}
)
UNSUBSCRIBED_CODE = 21610
RATE_LIMITED_CODE = 20429
NOT_FOUND_CODE = 20404  # "The requested resource ... was not found" (HTTP 404)


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

    @property
    def not_found(self) -> bool:
        """Twilio does not know the resource asked for (an unknown SID): asking again will not
        change that."""
        return self.http_status == 404 or self.code == NOT_FOUND_CODE


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


@dataclass(frozen=True)
class MessageState:
    """An outbound message as Twilio reports it when fetched (the reconciler's view): Twilio's
    own status name (`accepted`, `sent`, `delivered`, ...), its error code as text, and its
    sender (filled in by a Messaging Service)."""

    sid: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    from_number: str | None = None


@dataclass(frozen=True)
class ReceivedMessage:
    """An inbound message as Twilio lists it: `sent_at` is when Twilio received it and posted
    it to the webhook (its `date_sent`)."""

    sid: str
    from_number: str
    to: str
    body: str
    sent_at: datetime


class Telephony(Protocol):
    def list_numbers(self) -> list[PhoneNumber]:
        """The account's phone numbers."""
        ...

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        timeout_seconds: int,
        machine_detection: str | None = None,
    ) -> str:
        """Start an outbound call; Twilio fetches `url` when it is answered. Returns the SID.
        `machine_detection` (`DetectMessageEnd`): answering-machine detection before `url` is
        fetched, which then carries `AnsweredBy` (for a machine, after its greeting)."""
        ...

    def update_call(self, sid: str, *, twiml: str | None = None, hang_up: bool = False) -> None:
        """Redirect a live call to new TwiML (out of any conference it is in), or hang it up
        (`Status=completed`). A call that already ended is not an error."""
        ...

    def fetch_recording(self, sid: str) -> bytes:
        """A recording's audio (WAV), fetched with the account's credentials."""
        ...

    def delete_recording(self, sid: str) -> None:
        """Delete a recording from Twilio (one already gone is not an error)."""
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

    def fetch_message(self, sid: str) -> MessageState:
        """The message's current state (TelephonyFailure with `not_found` for an unknown SID)."""
        ...

    def list_inbound_messages(self, to: str, since: datetime) -> Iterable[ReceivedMessage]:
        """The texts received on our number `to` at or after `since`, every page of them."""
        ...
