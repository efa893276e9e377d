"""What the REST API answers: the resources (numbers, calls, messages, the account) in Twilio's
exact JSON shape, Twilio's paged lists and error bodies.

The shapes are copied field for field, nulls included, because the app reads them through the
real ``twilio`` SDK: a missing or mistyped key would pass here and fail against Twilio.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from localdev.twilio_sim.rules import (
    ACCOUNT_PATH,
    ACCOUNT_SID,
    API_VERSION,
    DEFAULT_CALL_TIMEOUT,
    NUMBERS,
    national,
    now,
    number_sid,
    rfc2822,
    sms_segments,
)


def error_body(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioError(Exception):
    """A REST error, answered in Twilio's JSON shape."""

    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.status)


@dataclass(eq=False)
class PhoneNumber:
    number: str
    sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime
    voice_url: str = ""
    voice_method: str = "POST"
    sms_url: str = ""
    sms_method: str = "POST"
    status_callback: str = ""

    def resource(self) -> dict[str, Any]:
        uri = f"{ACCOUNT_PATH}/IncomingPhoneNumbers/{self.sid}.json"
        return {
            "account_sid": ACCOUNT_SID,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": API_VERSION,
            "beta": False,
            "bundle_sid": None,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "emergency_status": "Inactive",
            "friendly_name": self.friendly_name,
            "identity_sid": None,
            "origin": "twilio",
            "phone_number": self.number,
            "sid": self.sid,
            "sms_application_sid": "",
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": self.sms_method,
            "sms_url": self.sms_url,
            "status": "in-use",
            "status_callback": self.status_callback,
            "status_callback_method": "POST",
            "subresource_uris": {
                "assigned_add_ons": uri.replace(".json", "/AssignedAddOns.json"),
            },
            "trunk_sid": None,
            "uri": uri,
            "voice_application_sid": "",
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": "",
            "voice_method": self.voice_method,
            "voice_receive_mode": "voice",
            "voice_url": self.voice_url,
        }


@dataclass(eq=False)
class Activity:
    """What calls and messages share: a thread that sleeps in simulated time and can be
    stopped (hang-up on request, or abort on reset/stop)."""

    sid: str
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    history: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    clock: float = 0.0
    aborted: bool = False
    hangup_requested: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class Call(Activity):
    to: str = ""
    from_: str = ""
    direction: str = "outbound-api"
    parent_sid: str | None = None
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    events: frozenset[str] = frozenset()
    # Answering-machine detection (a <Number machineDetection> leg): the mode, its callback
    # and, once known, the verdict (AnsweredBy).
    machine_detection: str | None = None
    amd_status_callback: str | None = None
    amd_status_callback_method: str = "POST"
    answered_by: str | None = None
    # A REST call's far end: a lead's phone (True: scripted by `outcome_for`) or a member's.
    lead: bool = False
    async_amd: bool = False
    amd_timeout: float = 30.0  # MachineDetectionTimeout: no verdict by then is `unknown`
    outcome: str | None = None  # what the far end turned out to be (human, machine, busy, ...)
    # A redirect asked for through the REST API (a Doc or Fetch of the TwiML walk), taken up by
    # the walk at its next step; `walking` once the TwiML walk has begun.
    redirect_to: Any = None
    walking: bool = False
    # What the far end heard, with the monotonic time each line began, and when an answering
    # machine beeped: what it hears after the beep is the voicemail left.
    heard: list[tuple[float, str]] = field(default_factory=list)
    beep_at: float | None = None
    # Conferences: the participant this leg is (or is about to be), the one a Participants
    # create asked it to join once answered, and the legs it was bridged with.
    participant: Any = None
    join: Any = None
    bridged_with: list[str] = field(default_factory=list)
    # Recording asked for on a REST create (`Record=true`: a recordings.RecordRequest) and the
    # recording it runs once answered.
    record: Any = None
    recording: Any = None
    timeout: int = DEFAULT_CALL_TIMEOUT
    status: str = "queued"
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_at_clock: float | None = None
    duration: int | None = None
    sequence: int = 0
    transcript: list[str] = field(default_factory=list)
    children: list[Call] = field(default_factory=list)
    callbacks: ThreadPoolExecutor | None = None

    def resource(self) -> dict[str, Any]:
        uri = f"{ACCOUNT_PATH}/Calls/{self.sid}.json"
        sub = uri[: -len(".json")]
        return {
            "account_sid": ACCOUNT_SID,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": national(self.from_),
            "group_sid": None,
            "parent_call_sid": self.parent_sid,
            # The account's number involved: the one called (inbound) or calling (outbound).
            "phone_number_sid": number_sid(ours) if (ours := self.our_number) in NUMBERS else None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                name: f"{sub}/{name.title().replace('_', '')}.json"
                for name in ("notifications", "recordings", "payments", "events")
            },
            "to": self.to,
            "to_formatted": national(self.to),
            "trunk_sid": None,
            "uri": uri,
        }

    @property
    def our_number(self) -> str:
        return self.to if self.direction == "inbound" else self.from_

    def hear(self, line: str, at: float) -> None:
        """A line of the call's transcript, which the far end heard (the caller holds the lock)."""
        self.transcript.append(line)
        self.heard.append((at, line))

    def voicemail(self) -> dict[str, Any] | None:
        """For an answering machine: what it recorded after its beep (`left` once something was
        said or played to it then)."""
        if self.outcome != "machine":
            return None
        message = [
            line
            for at, line in self.heard
            if self.beep_at is not None
            and at >= self.beep_at
            and line.startswith(("say:", "play:"))
        ]
        return {"beeped": self.beep_at is not None, "left": bool(message), "message": message}

    def details(self) -> dict[str, Any]:
        """The resource plus what only the simulator knows, for the developer endpoints."""
        return {
            **self.resource(),
            "simulator": {
                "role": "caller"
                if self.direction == "inbound"
                else ("lead" if self.lead or self.parent_sid else "member"),
                "outcome": self.outcome,
                "history": list(self.history),
                "transcript": list(self.transcript),
                "errors": list(self.errors),
                "children": [child.sid for child in self.children],
                "bridgedWith": list(self.bridged_with),
                "voicemail": self.voicemail(),
                "done": self.done.is_set(),
            },
        }


@dataclass(eq=False)
class Message(Activity):
    to: str = ""
    from_: str | None = None
    messaging_service_sid: str | None = None
    body: str = ""
    direction: str = "outbound-api"
    status: str = "queued"
    status_callback: str | None = None
    num_media: int = 0
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    note: str | None = None

    def resource(self) -> dict[str, Any]:
        uri = f"{ACCOUNT_PATH}/Messages/{self.sid}.json"
        return {
            "account_sid": ACCOUNT_SID,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(self.num_media),
            "num_segments": str(sms_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": uri,
        }

    def details(self) -> dict[str, Any]:
        return {
            **self.resource(),
            "simulator": {
                "history": list(self.history),
                "errors": list(self.errors),
                "note": self.note,
                "done": self.done.is_set(),
            },
        }


@dataclass
class Drop:
    """Answer nothing: hold the connection this long, then close it."""

    seconds: float


@dataclass
class Reply:
    """An answer to send: status, JSON body, extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def account() -> dict[str, Any]:
    return {
        "auth_token": "[redacted]",
        "date_created": rfc2822(datetime(2024, 1, 1, tzinfo=UTC)),
        "date_updated": rfc2822(datetime(2024, 1, 1, tzinfo=UTC)),
        "friendly_name": "Twilio simulator",
        "owner_account_sid": ACCOUNT_SID,
        "sid": ACCOUNT_SID,
        "status": "active",
        "subresource_uris": {},
        "type": "Full",
        "uri": f"{ACCOUNT_PATH}.json",
    }


def page(
    key: str, resource: str, items: list[dict[str, Any]], form: dict[str, list[str]]
) -> dict[str, Any]:
    """Twilio's paged list: only the record key besides the meta keys (the SDK finds the
    records as the one key that is not a meta key)."""

    def first(name: str) -> str:
        return (form.get(name) or [""])[0]

    try:
        size = min(max(int(first("PageSize") or 50), 1), 1000)
        number = max(int(first("Page") or 0), 0)
    except ValueError as exc:
        raise TwilioError(400, 20001, "Invalid paging parameters") from exc
    filters = [
        (k, v)
        for k, values in form.items()
        if k not in ("Page", "PageSize", "PageToken")
        for v in values
    ]
    base = f"{ACCOUNT_PATH}/{resource}.json"

    def uri(n: int) -> str:
        paging: list[tuple[str, str]] = [("PageSize", str(size)), ("Page", str(n))]
        if n > 0:
            paging.append(("PageToken", f"PA{n * size}"))
        return f"{base}?{urlencode(filters + paging)}"

    start = number * size
    chunk = items[start : start + size]
    return {
        key: chunk,
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(number + 1) if start + size < len(items) else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1) if number > 0 else None,
        "start": start,
        "uri": uri(number),
    }
