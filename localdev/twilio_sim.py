"""The Twilio simulator: a local stand-in for the parts of Twilio's REST API the app uses, and for
the webhooks Twilio sends back. Never deployed.

Run it alone with ``python -m localdev.twilio_sim --port 8900 --app-base http://127.0.0.1:8000``
(``make dev`` does this when no TWILIO_* credentials are set), or from Python and tests with
``start_simulator(port=0, app_base=..., speed=...)``, which returns a running `Simulator`.

Why a simulator rather than mocks: the app reaches it with the real ``twilio`` SDK (through
``chalicelib.telephony.http.RebasingHttpClient``) and receives real, signed, form-encoded
webhooks over HTTP, so the wire formats, signatures, status orders and error codes are exercised
exactly as in production.

Settings (argument, else environment, else default):
  ``--port`` / SIMULATOR_PORT (8900), ``--auth-token`` / SIMULATOR_AUTH_TOKEN
  (``simulated-auth-token``), ``--app-base`` / SIM_APP_BASE (``http://127.0.0.1:8000``),
  ``--speed`` / SIM_SPEED (10: every simulated duration is divided by it), ``--webhook-timeout`` /
  SIM_WEBHOOK_TIMEOUT (15 s, Twilio's own limit). The account SID is always
  ``AC00000000000000000000000000000000``; it owns ``+15005550006`` and ``+15005550007``.

REST (Basic auth, account SID : auth token; errors in Twilio's JSON shape, so the SDK raises
``TwilioRestException`` with Twilio's ``code`` and ``status``), under
``/2010-04-01/Accounts/{AccountSid}/``: ``IncomingPhoneNumbers.json`` (list; fetch and update
``/{PN}.json``), ``Calls.json`` (create, list; fetch and ``Status=canceled|completed`` on
``/{CA}.json``), ``Messages.json`` (create, list; fetch ``/{SM}.json``), and the account itself.

The call walk (durations in simulated seconds, divided by SIM_SPEED): the member leg (the REST
call's ``To``) is queued, initiated, rings 3 s and answers; its ``Url`` is fetched and the TwiML
is executed: ``<Say>`` (0.4 s a word), ``<Play>``, ``<Pause>``, ``<Gather>``, ``<Dial>``
(``<Number>`` or a bare number), ``<Redirect>``, ``<Hangup>``/``<Reject>``; anything else is
skipped and noted. A ``<Dial>`` starts the lead leg, a child call with its own ``CA`` SID whose
outcome is the lead number's last digit: ``1`` busy (rings 2 s), ``2`` no-answer (rings the
Dial's ``timeout``, default 30 s), ``3`` failed (never rings), otherwise it rings 4 s, answers
and talks 30 s. Then the Dial ``action`` is posted (``DialCallStatus``, ``DialCallSid``,
``DialCallDuration``) and its TwiML followed. When a document runs out, the call hangs up. The
reported durations (``CallDuration``, ``DialCallDuration``, ``duration``) are simulated seconds,
so a lead leg that talked always reports 30 whatever SIM_SPEED is; timestamps are wall-clock.
Status callbacks go to ``StatusCallback`` (member leg) and ``<Number statusCallback>`` (lead leg)
for the requested events (``completed`` always), with ``SequenceNumber``, ``Timestamp``,
``CallbackSource``, ``ParentCallSid`` on the child, ``CallDuration`` when final. Each leg's status
callbacks are delivered in order on a queue of their own, so a slow status webhook never holds
the call up, and the two legs' callbacks, like Twilio's, may interleave; TwiML fetches (the
connect URL, the Gather and Dial actions, redirects) are made by the call itself, which waits for
the answer as Twilio does.

The ``9`` case, "the member does not press 1": when the member is asked to press a key, the lead's
number is not known yet, because the ``<Dial>`` only comes in the answer to the Gather's action.
The simulated member decides the way a person does, by knowing who the call is for: it asks the
Gather's action what pressing 1 would do (a real, signed ``Digits=1`` request, identical to
Twilio's). If that answer dials a number ending in 9, the simulator throws the answer away and
goes on as if no key was pressed: it waits out the Gather's ``timeout``, then continues with the
verbs after the ``<Gather>`` (or posts an empty ``Digits`` to the action when
``actionOnEmptyResult="true"``). Otherwise that very answer is the one followed, so for every
other outcome the app sees exactly Twilio's traffic; only the 9 case has one extra ``Digits=1``
request, which the app must (and does) treat as free of side effects until the lead leg reports.
The discarded request is marked ``"discarded": true`` in the webhook log. The alternatives were
worse: guessing the lead from the call's ``Url`` ties the simulator to the app's routes, and
letting the member press 1 and then hang up would break the contract ("9: no key pressed").

SMS: a send is validated like Twilio (21211, 21212, 21602, 21603, 21604, 21606, 21610, 21617,
21701), answers 201 ``queued`` (``accepted`` with a Messaging Service, whose ``from`` is filled in
once a number of the service, here the account's first, is picked), then posts ``sent`` and
``delivered`` to its ``StatusCallback``; to a number ending in 3 it ends ``failed`` with
``ErrorCode=30003``. Opt-outs are kept per recipient and sender number as Twilio's default
handling does (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; START, YES, UNSTOP re-subscribe; the
whole message, any case, surrounding spaces and punctuation ignored); a send through a Messaging
Service is refused when the recipient opted out of any of the account's numbers (its pool). Like
Twilio, the simulator answers STOP, START and HELP itself (recorded as ``outbound-reply``
messages, never posted to the app).

Webhooks are delivered as Twilio does: form-encoded POST (or GET with the parameters in the query
when asked), signed with ``X-Twilio-Signature`` over the exact URL, ``I-Twilio-Idempotency-Token``,
User-Agent ``TwilioProxy/1.1``; the whole delivery must answer within the webhook timeout; a
connection failure (nothing reached the app) is retried once. Every delivery is logged, with its
kind: ``voice-url``, ``gather``, ``dial-action``, ``redirect``, ``call-status:<event>``,
``sms-status:<status>``, ``sms-incoming``.

Developer endpoints (no auth): ``POST /simulator/inbound-sms`` ``{"from","to","body"}``;
``GET /simulator/calls``, ``/simulator/messages``, ``/simulator/webhooks`` (``?sid=`` filters),
``/simulator/requests`` (the REST requests seen), ``/simulator/health``; ``POST /simulator/reset``;
``GET|POST|DELETE /simulator/faults``. A fault is ``{"op": OP, "mode": MODE, "count": N}``: the
next N requests of OP (``calls.create``, ``calls.fetch``, ``calls.update``, ``calls.list``,
``messages.create``, ``messages.fetch``, ``messages.list``, ``numbers.list``, ``numbers.fetch``,
``numbers.update``, ``accounts.fetch``) fail with MODE: ``500`` (Twilio's 20500, nothing done),
``500-after-create`` (the request IS carried out, a call is placed and walks, then 500: Twilio's
warning that a 5xx on create may have placed the call), ``429`` (20429 with ``Retry-After``,
``retryAfter`` seconds, default 1; never carried out), ``21211`` (400 invalid To), ``timeout``
(no answer: the connection is held ``delaySeconds``, default 30, then closed; nothing done) and
``timeout-after-create`` (done, then held and closed). ``{"webhookDelaySeconds": S}`` makes every
webhook reach the app S real seconds late (not scaled by SIM_SPEED). The delay counts against
the webhook timeout, as network time would: once it is used up the request is still sent, since
the bytes of a slow delivery do arrive, but the simulator no longer waits for the answer; it logs
a timeout (11205) and, for a TwiML fetch, ends the call with an application error, as Twilio does.

Not simulated: inbound calls, ``<Conference>``/``<Client>``/``<Sip>``/``<Queue>`` dialing,
recordings, media, machine detection, ``FallbackUrl``, live call redirects (``Url``/``Twiml`` on
a call update), several ``<Number>`` in one Dial (the first is dialed), redirects in webhook
answers (not followed).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
import urllib3
from twilio.request_validator import RequestValidator

log = logging.getLogger("twilio_sim")

# Its own copy of the SID the app expects (chalicelib.config.SIMULATOR_ACCOUNT_SID): the
# simulator is a test oracle and imports nothing from the app; a unit test keeps the two equal.
ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "simulated-auth-token"
DEFAULT_PORT = 8900
DEFAULT_APP_BASE = "http://127.0.0.1:8000"
DEFAULT_SPEED = 10.0
DEFAULT_WEBHOOK_TIMEOUT = 15.0
API_VERSION = "2010-04-01"
NUMBERS = ("+15005550006", "+15005550007")
USER_AGENT = "TwilioProxy/1.1"
ACCOUNT_PATH = f"/{API_VERSION}/Accounts/{ACCOUNT_SID}"

# Simulated durations, in simulated seconds (each is divided by the speed).
QUEUE_S = 0.5  # queued -> initiated
DIAL_S = 1.0  # initiated -> ringing
MEMBER_RING_S = 3.0  # the member picks up after this
LEAD_RING_S = 4.0  # the lead picks up after this
BUSY_S = 2.0  # a busy line gives up after this
FAILED_S = 1.0  # a failed dial is known after this
TALK_S = 30.0  # the lead talks this long
PRESS_S = 1.0  # the member presses 1 this long after being asked
SAY_WORD_S = 0.4
APP_ERROR_S = 3.0  # "An application error has occurred", then hang up
SMS_SEND_S = 1.0
SMS_DELIVER_S = 2.0
DEFAULT_GATHER_TIMEOUT = 5.0
DEFAULT_DIAL_TIMEOUT = 30.0
DEFAULT_CALL_TIMEOUT = 60
MAX_DOCUMENTS = 25  # TwiML documents one call may fetch (a Redirect loop ends here)

FINAL_CALL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
AUTO_REPLIES = {
    "STOP": "You have successfully been unsubscribed. You will not receive any more messages "
    "from this number. Reply START to resubscribe.",
    "START": "You have successfully been re-subscribed to messages from this number. Reply HELP "
    "for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}

FAULT_OPS = frozenset(
    {
        "accounts.fetch",
        "numbers.list",
        "numbers.fetch",
        "numbers.update",
        "calls.create",
        "calls.list",
        "calls.fetch",
        "calls.update",
        "messages.create",
        "messages.list",
        "messages.fetch",
    }
)
FAULT_MODES = frozenset(
    {"500", "500-after-create", "429", "21211", "timeout", "timeout-after-create"}
)

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_MG_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


# ---------------------------------------------------------------- pure helpers


def is_e164(number: str) -> bool:
    """Twilio accepts E.164 only: a plus, a non-zero digit, 15 digits at most."""
    return bool(_E164.match(number))


LeadOutcome = Literal["busy", "no-answer", "failed", "no-press", "answered"]


def outcome_for(number: str) -> LeadOutcome:
    """The scripted outcome for a lead number, by its last digit (the contract in API.md)."""
    last = number.strip()[-1:]
    scripted: dict[str, LeadOutcome] = {
        "1": "busy",
        "2": "no-answer",
        "3": "failed",
        "9": "no-press",
    }
    return scripted.get(last, "answered")


def opt_keyword(body: str) -> Literal["STOP", "START", "HELP"] | None:
    """Twilio's opt-out keywords: the whole message, any case, edge punctuation ignored."""
    word = _EDGE_PUNCT.sub("", body.strip()).upper()
    if word in STOP_WORDS:
        return "STOP"
    if word in START_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return None


def sms_segments(body: str) -> int:
    """How many SMS segments Twilio bills: GSM-7 160/153 characters, else UCS-2 70/67 units."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units, single, multi = sum(2 if c in _GSM7_EXT else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def number_sid(number: str) -> str:
    """Stable PN SIDs, so a restart of the simulator does not change them."""
    return "PN" + hashlib.md5(number.encode(), usedforsecurity=False).hexdigest()


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's REST dates and callback Timestamps: 'Tue, 31 Aug 2010 20:36:28 +0000'."""
    return format_datetime(moment) if moment else None


def national(number: str) -> str:
    """'(415) 555-0100' for NANP numbers, as Twilio's *_formatted and friendly_name fields."""
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _number(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


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


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class SimConfig:
    """How one simulator runs; `from_env` reads the variables of the module docstring."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    app_base: str = DEFAULT_APP_BASE
    auth_token: str = DEFAULT_AUTH_TOKEN
    speed: float = DEFAULT_SPEED
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("SIM_SPEED must be positive")
        if self.webhook_timeout <= 0:
            raise ValueError("SIM_WEBHOOK_TIMEOUT must be positive")
        if not _is_url(self.app_base):
            raise ValueError(f"the app base must be an http(s) URL, got {self.app_base!r}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SimConfig:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            port=int(get("SIMULATOR_PORT") or DEFAULT_PORT),
            app_base=(get("SIM_APP_BASE") or DEFAULT_APP_BASE).rstrip("/"),
            auth_token=get("SIMULATOR_AUTH_TOKEN") or DEFAULT_AUTH_TOKEN,
            speed=float(get("SIM_SPEED") or DEFAULT_SPEED),
            webhook_timeout=float(get("SIM_WEBHOOK_TIMEOUT") or DEFAULT_WEBHOOK_TIMEOUT),
        )


# ---------------------------------------------------------------- state


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
    date_created: datetime = field(default_factory=_now)
    date_updated: datetime = field(default_factory=_now)
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
            "answered_by": None,
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
            "phone_number_sid": number_sid(self.from_) if self.from_ in NUMBERS else None,
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

    def details(self) -> dict[str, Any]:
        """The resource plus what only the simulator knows, for the developer endpoints."""
        return {
            **self.resource(),
            "simulator": {
                "history": list(self.history),
                "transcript": list(self.transcript),
                "errors": list(self.errors),
                "children": [child.sid for child in self.children],
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


@dataclass(eq=False)
class Delivery:
    """One webhook sent to the app, as the delivery log shows it."""

    id: int
    kind: str
    sid: str | None
    method: str
    url: str
    params: dict[str, str]
    at: datetime
    signature: str = ""
    idempotency_token: str = ""
    status: int | None = None
    content_type: str | None = None
    response_body: str = ""
    elapsed_ms: int = 0
    error: str | None = None
    error_code: int | None = None
    attempts: int = 0
    delay_seconds: float = 0.0
    discarded: bool = False
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "sid": self.sid,
            "method": self.method,
            "url": self.url,
            "params": dict(self.params),
            "at": self.at.isoformat(),
            "signature": self.signature,
            "idempotencyToken": self.idempotency_token,
            "status": self.status,
            "contentType": self.content_type,
            "responseBody": self.response_body[:4000],
            "elapsedMs": self.elapsed_ms,
            "error": self.error,
            "errorCode": self.error_code,
            "attempts": self.attempts,
            "delaySeconds": self.delay_seconds,
            "discarded": self.discarded,
            "note": self.note,
        }


@dataclass
class Fault:
    op: str
    mode: str
    count: int
    retry_after: int = 1
    delay_seconds: float = 30.0

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "mode": self.mode,
            "count": self.count,
            "retryAfter": self.retry_after,
            "delaySeconds": self.delay_seconds,
        }


class _Hangup(Exception):
    """A REST request asked this leg to hang up."""

    def __init__(self, leg: Activity) -> None:
        super().__init__(leg.sid)
        self.leg = leg


class _Aborted(Exception):
    """The simulator was reset or stopped: end quietly, send nothing more."""


@dataclass
class _Doc:
    """A TwiML document and the URL it came from (relative URLs in it resolve against that)."""

    root: ET.Element
    url: str


@dataclass
class _Fetch:
    """The next document is to be fetched from url."""

    url: str
    method: str
    params: dict[str, str]
    kind: str


class _HangUpNow:
    pass


_HANG = _HangUpNow()
_Outcome = _Doc | _Fetch | _HangUpNow | None  # None: go on with the next verb


@dataclass
class _Drop:
    """Answer nothing: hold the connection this long, then close it."""

    seconds: float


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- the engine


class Engine:
    """Twilio's side of the world: numbers, calls, messages, opt-outs, faults, webhooks.

    Thread-safe: REST handlers, call walks and callback queues all go through `_lock`.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.validator = RequestValidator(config.auth_token)
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._ids = 0
        self._numbers: dict[str, PhoneNumber] = {}
        self._calls: dict[str, Call] = {}
        self._messages: dict[str, Message] = {}
        self._deliveries: list[Delivery] = []
        self._requests: list[dict[str, Any]] = []
        self._opt_outs: set[tuple[str, str]] = set()
        self._faults: dict[str, deque[Fault]] = {}
        self._webhook_delay = 0.0
        self._threads: list[threading.Thread] = []
        self._reset_numbers()

    # ------------------------------------------------------------ lifecycle

    def _reset_numbers(self) -> None:
        created = datetime(2024, 1, 1, tzinfo=UTC)
        self._numbers = {
            n: PhoneNumber(n, number_sid(n), national(n), created, created) for n in NUMBERS
        }

    def _abort_all(self) -> list[threading.Thread]:
        with self._lock:
            activities: list[Activity] = [*self._calls.values(), *self._messages.values()]
            threads, self._threads = self._threads, []
        for activity in activities:
            activity.aborted = True
            activity.wake.set()
        return threads

    def reset(self) -> None:
        """Forget every call, message, delivery, opt-out and fault; running calls end quietly."""
        for thread in self._abort_all():
            thread.join(timeout=2)
        with self._lock:
            self._calls.clear()
            self._messages.clear()
            self._deliveries.clear()
            self._requests.clear()
            self._opt_outs.clear()
            self._faults.clear()
            self._webhook_delay = 0.0
            self._reset_numbers()

    def close(self) -> None:
        self._closing.set()
        for thread in self._abort_all():
            thread.join(timeout=2)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    # ------------------------------------------------------------ inspection

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.details() for c in self._calls.values()]

    def call(self, sid: str) -> dict[str, Any]:
        with self._lock:
            return self._calls[sid].details()

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [m.details() for m in self._messages.values()]

    def message(self, sid: str) -> dict[str, Any]:
        with self._lock:
            return self._messages[sid].details()

    def webhooks(self, sid: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                d.to_json()
                for d in self._deliveries
                if sid is None or sid in (d.sid, d.params.get("ParentCallSid"))
            ]

    def requests_seen(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def opt_outs(self) -> list[dict[str, str]]:
        with self._lock:
            return [{"recipient": r, "sender": s} for r, s in sorted(self._opt_outs)]

    def activity_done(self, sid: str) -> threading.Event:
        with self._lock:
            activity: Activity | None = self._calls.get(sid) or self._messages.get(sid)
            if activity is None:
                raise KeyError(sid)
            return activity.done

    def all_done(self) -> list[threading.Event]:
        with self._lock:
            return [a.done for a in [*self._calls.values(), *self._messages.values()]]

    # ------------------------------------------------------------ faults

    def add_fault(self, spec: dict[str, Any]) -> None:
        """Validate and queue a fault (or set the webhook delay); ValueError on nonsense."""
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        known = {"op", "mode", "count", "retryAfter", "delaySeconds", "webhookDelaySeconds"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "webhookDelaySeconds" in spec:
            delay = spec["webhookDelaySeconds"]
            if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
                raise ValueError("webhookDelaySeconds must be a number >= 0")
            with self._lock:
                self._webhook_delay = float(delay)
        if "op" not in spec and "mode" not in spec:
            if "webhookDelaySeconds" not in spec:
                raise ValueError("give op and mode, or webhookDelaySeconds")
            return
        op, mode, count = spec.get("op"), str(spec.get("mode", "")), spec.get("count", 1)
        if op not in FAULT_OPS:
            raise ValueError(f"op must be one of {sorted(FAULT_OPS)}")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be an integer >= 1")
        retry_after = spec.get("retryAfter", 1)
        delay_seconds = spec.get("delaySeconds", 30.0)
        if not isinstance(retry_after, int) or retry_after < 0:
            raise ValueError("retryAfter must be an integer >= 0")
        if not isinstance(delay_seconds, int | float) or delay_seconds < 0:
            raise ValueError("delaySeconds must be a number >= 0")
        fault = Fault(op, mode, count, retry_after, float(delay_seconds))
        with self._lock:
            self._faults.setdefault(op, deque()).append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._webhook_delay = 0.0

    def faults(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": [f.to_json() for queue in self._faults.values() for f in queue],
                "webhookDelaySeconds": self._webhook_delay,
            }

    def _take_fault(self, op: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(op)
            if not queue:
                return None
            fault = queue[0]
            fault.count -= 1
            if fault.count <= 0:
                queue.popleft()
            return Fault(fault.op, fault.mode, 1, fault.retry_after, fault.delay_seconds)

    # ------------------------------------------------------------ REST

    _ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
        ("GET", re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)\.json$"), "accounts.fetch"),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers\.json$"),
            "numbers.list",
        ),
        (
            "GET",
            re.compile(
                r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json$"
            ),
            "numbers.fetch",
        ),
        (
            "POST",
            re.compile(
                r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json$"
            ),
            "numbers.update",
        ),
        ("GET", re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls\.json$"), "calls.list"),
        (
            "POST",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls\.json$"),
            "calls.create",
        ),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)\.json$"),
            "calls.fetch",
        ),
        (
            "POST",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)\.json$"),
            "calls.update",
        ),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$"),
            "messages.list",
        ),
        (
            "POST",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$"),
            "messages.create",
        ),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"),
            "messages.fetch",
        ),
    )

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), ACCOUNT_SID.encode()) & hmac.compare_digest(
            password.encode(), self.config.auth_token.encode()
        )

    def rest(
        self, method: str, path: str, query: str, body: bytes, authorization: str | None
    ) -> _Reply | _Drop:
        """One REST request: auth, route, fault, handler; the answer in Twilio's shape."""
        op = "unknown"
        reply: _Reply | _Drop
        fault: Fault | None = None
        try:
            if not self._authorized(authorization):
                raise TwilioError(
                    401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}
                )
            matched = [(verb, m, name) for verb, r, name in self._ROUTES if (m := r.match(path))]
            route = next(((m, name) for verb, m, name in matched if verb == method), None)
            if route is None:
                if matched:
                    raise TwilioError(405, 20004, "Method not allowed")
                raise TwilioError(404, 20404, f"The requested resource {path} was not found")
            match, op = route
            if match.group("account") != ACCOUNT_SID:
                raise TwilioError(404, 20404, f"The requested resource {path} was not found")
            form = parse_qs(
                body.decode("utf-8", "replace") if method == "POST" else query,
                keep_blank_values=True,
            )
            fault = self._take_fault(op)
            reply = self._with_fault(fault, lambda: self._handle(op, match, form))
        except TwilioError as exc:
            reply = _Reply(exc.status, exc.body(), exc.headers)
        status = reply.status if isinstance(reply, _Reply) else None
        with self._lock:
            self._requests.append(
                {
                    "at": _now().isoformat(),
                    "method": method,
                    "path": path,
                    "op": op,
                    "status": status,
                    "code": reply.body.get("code")
                    if isinstance(reply, _Reply) and status and status >= 400
                    else None,
                    "fault": fault.mode if fault else None,
                }
            )
        return reply

    def _with_fault(self, fault: Fault | None, run: Callable[[], _Reply]) -> _Reply | _Drop:
        if fault is None:
            return run()
        mode = fault.mode
        if mode.endswith("-after-create"):
            run()  # carried out; the client is told otherwise
        if mode in ("500", "500-after-create"):
            return _Reply(500, error_body(20500, "An internal server error has occurred", 500))
        if mode == "429":
            return _Reply(
                429,
                error_body(20429, "Too Many Requests", 429),
                {"Retry-After": str(fault.retry_after)},
            )
        if mode == "21211":
            return _Reply(400, error_body(21211, "Invalid 'To' Phone Number", 400))
        return _Drop(fault.delay_seconds)

    def _handle(self, op: str, match: re.Match[str], form: dict[str, list[str]]) -> _Reply:
        sid = match.groupdict().get("sid") or ""
        if op == "accounts.fetch":
            return _Reply(200, self._account())
        if op == "numbers.list":
            return _Reply(200, self._list_numbers(form))
        if op == "numbers.fetch":
            return _Reply(200, self._number_by_sid(sid).resource())
        if op == "numbers.update":
            return _Reply(200, self._update_number(sid, form))
        if op == "calls.create":
            return _Reply(201, self.create_call(form))
        if op == "calls.list":
            return _Reply(200, self._list_calls(form))
        if op == "calls.fetch":
            with self._lock:
                return _Reply(200, self._get_call(sid).resource())
        if op == "calls.update":
            return _Reply(200, self._update_call(sid, form))
        if op == "messages.create":
            return _Reply(201, self.create_message(form))
        if op == "messages.list":
            return _Reply(200, self._list_messages(form))
        if op == "messages.fetch":
            with self._lock:
                message = self._messages.get(sid)
                if message is None or message.direction == "outbound-reply":
                    raise TwilioError(404, 20404, f"The requested resource {sid} was not found")
                return _Reply(200, message.resource())
        raise TwilioError(404, 20404, "Not found")  # pragma: no cover (routes and ops agree)

    @staticmethod
    def _account() -> dict[str, Any]:
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

    @staticmethod
    def _page(
        key: str, resource: str, items: list[dict[str, Any]], form: dict[str, list[str]]
    ) -> dict[str, Any]:
        """Twilio's paged list: only the record key besides the meta keys (the SDK finds the
        records as the one key that is not a meta key)."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0]

        try:
            size = min(max(int(first("PageSize") or 50), 1), 1000)
            page = max(int(first("Page") or 0), 0)
        except ValueError as exc:
            raise TwilioError(400, 20001, "Invalid paging parameters") from exc
        filters = [
            (k, v)
            for k, values in form.items()
            if k not in ("Page", "PageSize", "PageToken")
            for v in values
        ]
        base = f"{ACCOUNT_PATH}/{resource}.json"

        def uri(number: int) -> str:
            paging: list[tuple[str, str]] = [("PageSize", str(size)), ("Page", str(number))]
            if number > 0:
                paging.append(("PageToken", f"PA{number * size}"))
            return f"{base}?{urlencode(filters + paging)}"

        start = page * size
        chunk = items[start : start + size]
        return {
            key: chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if start + size < len(items) else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": uri(page),
        }

    # ------------------------------------------------------------ numbers

    def _list_numbers(self, form: dict[str, list[str]]) -> dict[str, Any]:
        wanted = (form.get("PhoneNumber") or [""])[0].replace("*", "")
        friendly = (form.get("FriendlyName") or [""])[0]
        with self._lock:
            items = [
                n.resource()
                for n in self._numbers.values()
                if (not wanted or wanted in n.number)
                and (not friendly or friendly == n.friendly_name)
            ]
        return self._page("incoming_phone_numbers", "IncomingPhoneNumbers", items, form)

    def _number_by_sid(self, sid: str) -> PhoneNumber:
        with self._lock:
            for number in self._numbers.values():
                if number.sid == sid:
                    return number
        raise TwilioError(404, 20404, f"The requested resource {sid} was not found")

    def _update_number(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        number = self._number_by_sid(sid)
        fields = {
            "VoiceUrl": "voice_url",
            "VoiceMethod": "voice_method",
            "SmsUrl": "sms_url",
            "SmsMethod": "sms_method",
            "FriendlyName": "friendly_name",
            "StatusCallback": "status_callback",
        }
        with self._lock:
            for param, attr in fields.items():
                if param not in form:
                    continue
                value = form[param][0]
                if param.endswith("Url") and value and not _is_url(value):
                    raise TwilioError(400, 21502, f"{param} is not a valid URL: {value}")
                if param.endswith("Method") and value.upper() not in ("GET", "POST"):
                    raise TwilioError(400, 21503, f"{param} must be GET or POST")
                setattr(number, attr, value.upper() if param.endswith("Method") else value)
            number.date_updated = _now()
            return number.resource()

    # ------------------------------------------------------------ calls

    def create_call(self, form: dict[str, list[str]]) -> dict[str, Any]:
        """Validate like Twilio, store the call `queued`, start its walk, answer the resource."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        to, from_, url, twiml = first("To"), first("From"), first("Url"), first("Twiml")
        if not to:
            raise TwilioError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise TwilioError(400, 21213, "No 'From' number is specified")
        if not url and not twiml:
            raise TwilioError(400, 21205, "Url parameter is required.")
        if url and not _is_url(url):
            raise TwilioError(400, 21205, f"Url is not a valid URL: {url}")
        if not is_e164(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if from_ not in self._numbers:
            raise TwilioError(
                400,
                21210,
                f"The source phone number provided, {from_}, is not yet verified for your "
                "account. You may only make calls from phone numbers that you've verified or "
                "purchased from Twilio.",
            )
        callback = first("StatusCallback")
        if callback and not _is_url(callback):
            raise TwilioError(400, 21609, f"Invalid StatusCallback URL: {callback}")
        method = (first("Method") or "POST").upper()
        callback_method = (first("StatusCallbackMethod") or "POST").upper()
        if method not in ("GET", "POST") or callback_method not in ("GET", "POST"):
            raise TwilioError(400, 21204, "Method must be GET or POST")
        try:
            timeout = int(first("Timeout") or DEFAULT_CALL_TIMEOUT)
        except ValueError as exc:
            raise TwilioError(400, 21216, "Timeout must be an integer") from exc
        twiml_doc = None
        if twiml:
            try:
                twiml_doc = _parse_twiml(twiml.encode())
            except ValueError as exc:
                raise TwilioError(400, 12100, f"Twiml is not valid TwiML: {exc}") from exc
        call = Call(
            sid=new_sid("CA"),
            to=to,
            from_=from_,
            url=url or None,
            method=method,
            twiml=twiml or None,
            status_callback=callback or None,
            status_callback_method=callback_method,
            events=_events(form.get("StatusCallbackEvent", [])),
            timeout=min(max(timeout, 1), 600),
        )
        call.history.append("queued")
        call.callbacks = _callback_queue(call.sid)
        with self._lock:
            self._calls[call.sid] = call
            resource = call.resource()
        self._spawn(f"sim-call-{call.sid[-6:]}", lambda: self._run_call(call, twiml_doc))
        return resource

    def _get_call(self, sid: str) -> Call:
        call = self._calls.get(sid)
        if call is None:
            raise TwilioError(404, 20404, f"The requested resource {sid} was not found")
        return call

    def _list_calls(self, form: dict[str, list[str]]) -> dict[str, Any]:
        filters = {
            "To": "to",
            "From": "from_",
            "Status": "status",
            "ParentCallSid": "parent_sid",
        }
        with self._lock:
            calls = sorted(self._calls.values(), key=lambda c: c.date_created, reverse=True)
            items = [
                c.resource()
                for c in calls
                if all(
                    getattr(c, attr) == form[param][0]
                    for param, attr in filters.items()
                    if form.get(param)
                )
            ]
        return self._page("calls", "Calls", items, form)

    def _update_call(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        if "Url" in form or "Twiml" in form:
            raise TwilioError(
                400, 20001, "The simulator does not redirect live calls (Url/Twiml on update)"
            )
        status = (form.get("Status") or [""])[0]
        if status not in ("canceled", "completed"):
            raise TwilioError(400, 20001, "Status must be canceled or completed")
        with self._lock:
            call = self._get_call(sid)
            ringing = call.status in ("queued", "initiated", "ringing")
            if (status == "completed" or ringing) and call.status not in FINAL_CALL:
                call.hangup_requested = True
                call.wake.set()  # a child leg shares its parent's alarm: this wakes both
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and call.hangup_requested:
            with self._lock:
                if call.status in FINAL_CALL:
                    break
            time.sleep(0.005)
        with self._lock:
            return call.resource()

    # ------------------------------------------------------------ messages

    def create_message(self, form: dict[str, list[str]]) -> dict[str, Any]:
        """Validate like Twilio (opt-outs included), store, start the delivery lifecycle."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0]

        to, from_ = first("To").strip(), first("From").strip()
        service = first("MessagingServiceSid").strip()
        body = first("Body")
        media = [m for m in form.get("MediaUrl", []) if m]
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise TwilioError(
                400,
                21603,
                "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
            )
        if not body and not media:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > 1600:
            raise TwilioError(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if not is_e164(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if from_:
            if not is_e164(from_):
                raise TwilioError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
            if from_ not in self._numbers:
                raise TwilioError(
                    400,
                    21606,
                    f"The 'From' phone number provided ({from_}) is not a valid message-capable "
                    "Twilio phone number for this destination/account.",
                )
            if to == from_:
                raise TwilioError(400, 21266, "'To' and 'From' number cannot be the same")
        elif not _MG_SID.match(service):
            raise TwilioError(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        callback = first("StatusCallback").strip()
        if callback and not _is_url(callback):
            raise TwilioError(400, 21609, f"Invalid StatusCallback URL: {callback}")
        senders = [from_] if from_ else list(NUMBERS)
        with self._lock:
            if any((to, sender) in self._opt_outs for sender in senders):
                raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        message = Message(
            sid=new_sid("SM"),
            to=to,
            from_=from_ or None,
            messaging_service_sid=service or None,
            body=body,
            status="queued" if from_ else "accepted",
            status_callback=callback or None,
            num_media=len(media),
        )
        return self._start_message(message)

    def _start_message(self, message: Message) -> dict[str, Any]:
        message.history.append(message.status)
        with self._lock:
            self._messages[message.sid] = message
            resource = message.resource()
        self._spawn(f"sim-sms-{message.sid[-6:]}", lambda: self._run_message(message))
        return resource

    def _list_messages(self, form: dict[str, list[str]]) -> dict[str, Any]:
        with self._lock:
            messages = sorted(self._messages.values(), key=lambda m: m.date_created, reverse=True)
            items = [
                m.resource()
                for m in messages
                if m.direction != "outbound-reply"
                and (not form.get("To") or m.to == form["To"][0])
                and (not form.get("From") or m.from_ == form["From"][0])
            ]
        return self._page("messages", "Messages", items, form)

    def _run_message(self, message: Message) -> None:
        """queued -> sending -> sent -> delivered (or failed 30003 to a number ending in 3)."""
        try:
            if message.messaging_service_sid and message.from_ is None:
                self._sleep(message, 0.2)
                with self._lock:
                    message.from_ = NUMBERS[0]
                self._message_status(message, "queued")
            self._sleep(message, SMS_SEND_S)
            self._message_status(message, "sending", notify=False)
            if message.to.endswith("3"):
                with self._lock:
                    message.error_code = 30003
                    message.error_message = "Unreachable destination handset"
                self._message_status(message, "failed")
                return
            self._message_status(message, "sent")
            self._sleep(message, SMS_DELIVER_S)
            self._message_status(message, "delivered")
        except _Aborted:
            pass
        except Exception as exc:  # the walk must end and say why, whatever happened
            log.exception("message %s failed in the simulator", message.sid)
            message.errors.append({"code": None, "message": f"simulator error: {exc}"})
        finally:
            message.done.set()

    def _message_status(self, message: Message, status: str, *, notify: bool = True) -> None:
        with self._lock:
            message.status = status
            message.date_updated = _now()
            if status == "sent":
                message.date_sent = message.date_updated
            message.history.append(status)
            params = {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": API_VERSION,
                "From": message.from_ or "",
                "To": message.to,
                "MessageSid": message.sid,
                "SmsSid": message.sid,
                "MessageStatus": status,
                "SmsStatus": status,
            }
            if message.messaging_service_sid:
                params["MessagingServiceSid"] = message.messaging_service_sid
            if message.error_code is not None:
                params["ErrorCode"] = str(message.error_code)
                params["ErrorMessage"] = message.error_message or ""
        if notify and message.status_callback:
            self.deliver(
                message.status_callback, params, kind=f"sms-status:{status}", owner=message
            )

    # ------------------------------------------------------------ inbound SMS

    def inbound_sms(self, from_: str, to: str, body: str) -> dict[str, Any]:
        """What Twilio does when a phone texts one of the account's numbers."""
        if not is_e164(from_):
            raise ValueError(f"from must be an E.164 number, got {from_!r}")
        number = self._numbers.get(to)
        if number is None:
            raise ValueError(f"to must be one of the account's numbers {list(NUMBERS)}, got {to!r}")
        keyword = opt_keyword(body)
        message = Message(
            sid=new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            direction="inbound",
            status="received",
        )
        message.history.append("received")
        message.done.set()
        with self._lock:
            self._messages[message.sid] = message
            if keyword == "STOP":
                self._opt_outs.add((from_, to))
            elif keyword == "START":
                self._opt_outs.discard((from_, to))
        if keyword:
            self._auto_reply(to, from_, AUTO_REPLIES[keyword])
        url = number.sms_url or f"{self.config.app_base}/twilio/sms/incoming"
        params = {
            "ToCountry": "US",
            "ToState": "",
            "SmsMessageSid": message.sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": message.sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US" if from_.startswith("+1") else "",
            "To": to,
            "ToZip": "",
            "NumSegments": str(sms_segments(body)),
            "MessageSid": message.sid,
            "AccountSid": ACCOUNT_SID,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        if keyword:
            params["OptOutType"] = keyword
        delivery = self.deliver(url, params, number.sms_method, kind="sms-incoming")
        replies = self._reply_messages(delivery, to, from_) if delivery.ok else []
        return {
            "messageSid": message.sid,
            "optOutType": keyword,
            "url": url,
            "status": delivery.status,
            "body": delivery.response_body,
            "error": delivery.error,
            "delivery": delivery.to_json(),
            "replies": replies,
        }

    def _auto_reply(self, from_: str, to: str, body: str) -> None:
        """Twilio's own answer to STOP/START/HELP: sent by Twilio, never by the app."""
        reply = Message(
            sid=new_sid("SM"), to=to, from_=from_, body=body, direction="outbound-reply"
        )
        reply.status = "delivered"
        reply.history.extend(["queued", "sent", "delivered"])
        reply.note = "Twilio's automatic opt-out/help reply"
        reply.done.set()
        with self._lock:
            self._messages[reply.sid] = reply

    def _reply_messages(self, delivery: Delivery, from_: str, to: str) -> list[str]:
        """<Message> verbs in the app's answer to an inbound SMS are sent, as by Twilio."""
        try:
            root = _parse_twiml(delivery.response_body.encode())
        except ValueError:
            return []
        sids = []
        for verb in root.iter("Message"):
            text = (verb.findtext("Body") or verb.text or "").strip()
            with self._lock:
                blocked = (to, from_) in self._opt_outs
            message = Message(
                sid=new_sid("SM"),
                to=to,
                from_=from_,
                body=text,
                direction="outbound-reply",
                status_callback=verb.get("action") or None,
            )
            if blocked:
                message.status, message.error_code = "failed", 21610
                message.error_message = "Attempt to send to unsubscribed recipient"
                message.history.append("failed")
                message.done.set()
                with self._lock:
                    self._messages[message.sid] = message
            else:
                self._start_message(message)
            sids.append(message.sid)
        return sids

    # ------------------------------------------------------------ webhooks

    def deliver(
        self,
        url: str,
        params: dict[str, str],
        method: str = "POST",
        *,
        kind: str,
        owner: Activity | None = None,
    ) -> Delivery:
        """Send one webhook as Twilio does, wait for the answer within the timeout, log it."""
        with self._lock:
            self._ids += 1
            delivery = Delivery(
                self._ids,
                kind,
                owner.sid if owner else params.get("MessageSid"),
                method.upper(),
                url,
                dict(params),
                _now(),
            )
        delay = self._webhook_delay
        budget = self.config.webhook_timeout
        target, data = url, dict(params)
        if delivery.method == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(params)
            data = {}
        delivery.signature = self.validator.compute_signature(target, data)
        delivery.idempotency_token = str(uuid.uuid4())
        delivery.delay_seconds = delay
        headers = {
            "X-Twilio-Signature": delivery.signature,
            "I-Twilio-Idempotency-Token": delivery.idempotency_token,
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "Cache-Control": "max-age=259200",
            "X-Home-Region": "us1",
        }
        if delivery.method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        started = time.monotonic()
        if delay > 0:
            self._pause(delay, owner)
        while True:
            delivery.attempts += 1
            remaining = budget - (time.monotonic() - started)
            try:
                response = requests.request(
                    delivery.method,
                    target,
                    data=data or None,
                    headers=headers,
                    timeout=max(remaining, 0.05),
                    allow_redirects=False,
                )
            except requests.exceptions.ConnectionError as exc:
                if _never_connected(exc) and delivery.attempts < 2 and not self._closing.is_set():
                    continue  # nothing reached the app: Twilio tries once more
                delivery.error, delivery.error_code = f"connection failed: {exc}", 11205
                break
            except requests.exceptions.Timeout:
                delivery.error = f"timeout: no answer within {budget:g}s"
                delivery.error_code = 11205
                break
            except requests.exceptions.RequestException as exc:
                delivery.error, delivery.error_code = f"request failed: {exc}", 11200
                break
            delivery.status = response.status_code
            delivery.content_type = response.headers.get("Content-Type")
            delivery.response_body = response.text
            if time.monotonic() - started > budget:
                delivery.error = f"timeout: no answer within {budget:g}s (answer came too late)"
                delivery.error_code = 11205
            break
        delivery.elapsed_ms = round((time.monotonic() - started) * 1000)
        with self._lock:
            if owner is None or not owner.aborted:
                self._deliveries.append(delivery)
        log.info(
            "webhook %s %s %s -> %s%s (%d ms)",
            kind,
            delivery.method,
            url,
            delivery.status,
            f" [{delivery.error}]" if delivery.error else "",
            delivery.elapsed_ms,
        )
        return delivery

    def _pause(self, seconds: float, owner: Activity | None) -> None:
        """Real seconds (webhook delay), cut short by stop or by the owner's abort."""
        deadline = time.monotonic() + seconds
        while not self._closing.is_set() and not (owner and owner.aborted):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._closing.wait(min(remaining, 0.05))

    # ------------------------------------------------------------ simulated time

    def _sleep(self, leg: Activity, seconds: float, also: Activity | None = None) -> None:
        """Let `seconds` of simulated time pass on `leg` (and `also`, a child leg dialed on
        the same thread). A hang-up requested meanwhile raises _Hangup, a reset _Aborted; the
        legs' clocks then only count the part that passed."""
        started = time.monotonic()
        deadline = started + seconds / self.config.speed

        def advance(amount: float) -> None:
            leg.clock += amount
            if also is not None:
                also.clock += amount

        while True:
            for activity in (leg, also):
                if activity is not None and (activity.aborted or self._closing.is_set()):
                    raise _Aborted
            for activity in (leg, also):
                if activity is not None and activity.hangup_requested:
                    advance(min(seconds, (time.monotonic() - started) * self.config.speed))
                    raise _Hangup(activity)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                advance(seconds)
                return
            leg.wake.wait(remaining)
            leg.wake.clear()

    # ------------------------------------------------------------ the call walk

    def _run_call(self, call: Call, twiml: ET.Element | None) -> None:
        try:
            self._member_leg(call, twiml)
        except _Aborted:
            pass
        except Exception as exc:  # the walk must end and say why, whatever happened
            log.exception("call %s failed in the simulator", call.sid)
            call.errors.append({"code": None, "message": f"simulator error: {exc}"})
            if call.status not in FINAL_CALL:
                self._end(call, "failed")
        finally:
            for leg in [*call.children, call]:
                if leg.callbacks is not None:
                    leg.callbacks.shutdown(wait=True)
                leg.done.set()

    def _member_leg(self, call: Call, twiml: ET.Element | None) -> None:
        try:
            self._sleep(call, QUEUE_S)
            self._set_status(call, "initiated", "initiated")
            self._sleep(call, DIAL_S)
            self._set_status(call, "ringing", "ringing")
            if call.timeout < MEMBER_RING_S:
                self._sleep(call, call.timeout)
                self._end(call, "no-answer")
                return
            self._sleep(call, MEMBER_RING_S)
        except _Hangup:
            self._end(call, "canceled")
            return
        call.answered_at_clock = call.clock
        self._set_status(call, "in-progress", "answered")
        with contextlib.suppress(_Hangup):
            self._execute(call, twiml)
        self._end(call, "completed")

    def _set_status(self, call: Call, status: str, event: str) -> None:
        with self._lock:
            call.status = status
            call.date_updated = _now()
            if status == "initiated":
                call.start_time = call.date_updated
            call.history.append(status)
        self._status_callback(call, event)

    def _end(self, call: Call, status: str) -> str:
        with self._lock:
            call.status = status
            call.date_updated = call.end_time = _now()
            if call.start_time is None:
                call.start_time = call.end_time
            answered = call.answered_at_clock
            call.duration = 0 if answered is None else round(call.clock - answered)
            call.history.append(status)
        self._status_callback(call, "completed")
        return status

    def _status_callback(self, call: Call, event: str) -> None:
        """Queue the callback for `event` on the leg's own ordered queue, if it was asked for
        (`completed` always is)."""
        if not call.status_callback or (event not in call.events and event != "completed"):
            return
        with self._lock:
            params = {
                **self._call_params(call),
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(call.sequence),
                "Timestamp": rfc2822(call.date_updated) or "",
            }
            call.sequence += 1
            if event == "completed":
                params["CallDuration"] = str(call.duration or 0)
                params["Duration"] = str(math.ceil((call.duration or 0) / 60))
        queue = call.callbacks
        url, method = call.status_callback, call.status_callback_method
        if queue is None:  # pragma: no cover (every leg gets a queue)
            return

        def send() -> None:
            if not call.aborted:
                self.deliver(url, params, method, kind=f"call-status:{event}", owner=call)

        with contextlib.suppress(RuntimeError):  # the queue is shut down after an abort
            queue.submit(send)

    def _call_params(self, call: Call) -> dict[str, str]:
        params = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
        }
        if call.parent_sid:
            params["ParentCallSid"] = call.parent_sid
        return params

    def _fetch_twiml(self, call: Call, fetch: _Fetch) -> tuple[Delivery, _Doc | None]:
        """Fetch a TwiML document for the call; on any failure, Twilio's application error."""
        with self._lock:
            params = {**self._call_params(call), **fetch.params}
        delivery = self.deliver(fetch.url, params, fetch.method, kind=fetch.kind, owner=call)
        if call.aborted:
            raise _Aborted
        problem: tuple[int, str] | None = None
        doc = None
        if delivery.error:
            problem = (delivery.error_code or 11200, delivery.error)
        elif not delivery.ok:
            problem = (11200, f"HTTP retrieval failure: the app answered {delivery.status}")
        else:
            try:
                doc = _Doc(_parse_twiml(delivery.response_body.encode()), fetch.url)
            except ValueError as exc:
                problem = (12100, f"Document parse failure: {exc}")
        if problem is not None:
            with self._lock:
                call.errors.append({"code": problem[0], "message": problem[1], "url": fetch.url})
                call.transcript.append(f"application error ({problem[0]})")
            self._sleep(call, APP_ERROR_S)
        return delivery, doc

    def _execute(self, call: Call, twiml: ET.Element | None) -> None:
        """Run TwiML documents until one hangs up or runs out."""
        doc: _Doc | None
        if twiml is not None:
            doc = _Doc(twiml, call.url or "")
        else:
            _, doc = self._fetch_twiml(call, _Fetch(call.url or "", call.method, {}, "voice-url"))
        documents = 1
        while doc is not None:
            outcome = self._run_document(call, doc)
            if outcome is None or isinstance(outcome, _HangUpNow):
                return
            documents += 1
            if documents > MAX_DOCUMENTS:
                with self._lock:
                    call.errors.append(
                        {"code": 11215, "message": "Too many TwiML documents for one call"}
                    )
                return
            if isinstance(outcome, _Doc):
                doc = outcome
            else:
                _, doc = self._fetch_twiml(call, outcome)

    def _hear(self, call: Call, line: str) -> None:
        with self._lock:
            call.transcript.append(line)

    def _run_document(self, call: Call, doc: _Doc) -> _Outcome:
        for verb in list(doc.root):
            outcome: _Outcome = None
            if verb.tag in ("Say", "Play", "Pause"):
                self._play(call, verb)
            elif verb.tag == "Gather":
                outcome = self._gather(call, verb, doc)
            elif verb.tag == "Dial":
                outcome = self._dial(call, verb, doc)
            elif verb.tag in ("Hangup", "Reject"):
                self._hear(call, verb.tag.lower())
                return _HANG
            elif verb.tag == "Redirect":
                target = urljoin(doc.url, (verb.text or "").strip())
                self._hear(call, f"redirect {target}")
                return _Fetch(target, (verb.get("method") or "POST").upper(), {}, "redirect")
            else:
                self._hear(call, f"skipped <{verb.tag}> (not simulated)")
            if outcome is not None:
                return outcome
        return _HANG  # the end of a document hangs up

    def _play(self, call: Call, verb: ET.Element) -> None:
        loops = max(1, int(_number(verb.get("loop"), 1)))
        if verb.tag == "Say":
            text = " ".join((verb.text or "").split())
            self._hear(call, f"say: {text}")
            self._sleep(call, loops * max(0.5, SAY_WORD_S * len(text.split())))
        elif verb.tag == "Play":
            self._hear(call, f"play: {(verb.text or '').strip()}")
            self._sleep(call, loops * 2.0)
        else:
            length = _number(verb.get("length"), 1.0)
            self._hear(call, f"pause {length:g}s")
            self._sleep(call, length)

    def _gather(self, call: Call, verb: ET.Element, doc: _Doc) -> _Outcome:
        """The member hears the prompt and presses 1, unless the lead is a ...9 number (see
        the module docstring for how the simulated member knows)."""
        action = urljoin(doc.url, verb.get("action") or doc.url)
        method = (verb.get("method") or "POST").upper()
        timeout = _number(verb.get("timeout"), DEFAULT_GATHER_TIMEOUT)
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._play(call, child)
        if "dtmf" not in (verb.get("input") or "dtmf"):
            self._hear(call, "gather: no key pressed (speech input is not simulated)")
            self._sleep(call, timeout)
            return self._no_input(verb, action, method)
        self._sleep(call, PRESS_S)
        pressed = {"Digits": "1", "FinishedOnKey": "", "msg": "Gather End"}
        delivery, answer = self._fetch_twiml(call, _Fetch(action, method, pressed, "gather"))
        if answer is None:
            self._hear(call, "gather: pressed 1")
            return _HANG
        lead = _dial_number(answer.root)
        if lead is not None and outcome_for(lead) == "no-press":
            with self._lock:
                delivery.discarded = True
                delivery.note = (
                    f"peek: the lead {lead} ends in 9, so the member does not press 1; "
                    "this answer was thrown away"
                )
            self._hear(call, "gather: no key pressed")
            self._sleep(call, max(timeout - PRESS_S, 0))
            return self._no_input(verb, action, method)
        self._hear(call, "gather: pressed 1")
        return answer

    @staticmethod
    def _no_input(verb: ET.Element, action: str, method: str) -> _Outcome:
        if (verb.get("actionOnEmptyResult") or "").lower() == "true":
            return _Fetch(action, method, {"Digits": "", "msg": "Gather End"}, "gather")
        return None

    def _dial(self, call: Call, verb: ET.Element, doc: _Doc) -> _Outcome:
        number_el = verb.find("Number")
        number = ((number_el.text if number_el is not None else verb.text) or "").strip()
        action = verb.get("action")
        action_url = urljoin(doc.url, action) if action else None
        method = (verb.get("method") or "POST").upper()
        timeout = _number(verb.get("timeout"), DEFAULT_DIAL_TIMEOUT)
        caller_id = (verb.get("callerId") or call.from_).strip()
        result: dict[str, str]
        if not number or not is_e164(number):
            what = number or "a target other than <Number>"
            with self._lock:
                call.errors.append({"code": 13223, "message": f"Dial: invalid number: {what}"})
            self._hear(call, f"dial {what}: failed")
            result = {"DialCallStatus": "failed"}
        else:
            attrs = number_el.attrib if number_el is not None else {}
            callback = attrs.get("statusCallback")
            child = Call(
                sid=new_sid("CA"),
                to=number,
                from_=caller_id,
                direction="outbound-dial",
                parent_sid=call.sid,
                status_callback=urljoin(doc.url, callback) if callback else None,
                status_callback_method=(attrs.get("statusCallbackMethod") or "POST").upper(),
                events=_events([attrs.get("statusCallbackEvent") or ""]),
            )
            child.wake = call.wake  # one thread sleeps for both legs: one alarm wakes it
            child.history.append("queued")
            child.callbacks = _callback_queue(child.sid)
            with self._lock:
                self._calls[child.sid] = child
                call.children.append(child)
            try:
                status = self._lead_leg(call, child, timeout)
            except _Hangup:
                # The member leg was hung up (REST) while the lead leg was up: end it too.
                self._end(child, "completed" if child.answered_at_clock is not None else "canceled")
                self._hear(call, f"dial {number}: ended by hang-up")
                raise
            self._hear(call, f"dial {number}: {status} ({child.duration or 0}s)")
            result = {
                "DialCallStatus": status,
                "DialCallSid": child.sid,
                "DialCallDuration": str(child.duration or 0),
            }
            if status == "completed":
                result["DialBridged"] = "true"
        if action_url:
            return _Fetch(action_url, method, result, "dial-action")
        return None

    def _lead_leg(self, call: Call, child: Call, timeout: float) -> str:
        """The lead's phone, scripted by its last digit; returns the DialCallStatus."""
        outcome = outcome_for(child.to)
        try:
            self._sleep(call, 0.2, also=child)
            self._set_status(child, "initiated", "initiated")
            if outcome == "failed":
                self._sleep(call, FAILED_S, also=child)
                return self._end(child, "failed")
            self._sleep(call, DIAL_S, also=child)
            self._set_status(child, "ringing", "ringing")
            if outcome == "busy":
                self._sleep(call, BUSY_S, also=child)
                return self._end(child, "busy")
            if outcome == "no-answer" or timeout <= LEAD_RING_S:
                self._sleep(call, timeout, also=child)
                return self._end(child, "no-answer")
            self._sleep(call, LEAD_RING_S, also=child)
            child.answered_at_clock = child.clock
            self._set_status(child, "in-progress", "answered")
            self._sleep(call, TALK_S, also=child)
            return self._end(child, "completed")
        except _Hangup as hangup:
            if hangup.leg is not child:
                raise
            # The lead leg alone was ended through the REST API.
            child.hangup_requested = False
            answered = child.answered_at_clock is not None
            return self._end(child, "completed" if answered else "canceled")


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection itself failed (refused, unreachable, connect timeout): the app
    never saw the request, so a retry cannot repeat it. A reset after sending is not retried."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )


def _events(values: Iterable[str]) -> frozenset[str]:
    """StatusCallbackEvent may repeat or be space-separated (TwiML); unknown words ignored."""
    words = {word.strip().lower() for value in values for word in value.split()}
    return frozenset(words & set(CALL_EVENTS))


def _callback_queue(sid: str) -> ThreadPoolExecutor:
    """One worker: the leg's status callbacks leave in order and never hold the call up."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sim-cb-{sid[-6:]}")


def _parse_twiml(data: bytes) -> ET.Element:
    """Parse a TwiML answer. The stdlib parser is enough: the documents come from our own app
    and expat (2.4.1+, bundled with Python 3.11) refuses entity-expansion bombs."""
    try:
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError as exc:
        raise ValueError(str(exc)) from exc
    if root.tag != "Response":
        raise ValueError(f"the root element is <{root.tag}>, not <Response>")
    return root


def _dial_number(root: ET.Element) -> str | None:
    """The first number a document dials, if it dials one."""
    for dial in root.iter("Dial"):
        number = dial.find("Number")
        text = (number.text if number is not None else dial.text) or ""
        if text.strip():
            return text.strip()
    return None


# ---------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        super().__init__(address, _Handler)
        self.engine = engine


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "TwilioSimulator/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        engine = self.server.engine
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply: _Reply | _Drop
        try:
            if path == "/simulator" or path.startswith("/simulator/"):
                reply = _developer(engine, method, path, query, body)
            else:
                reply = engine.rest(method, path, query, body, self.headers.get("Authorization"))
        except Exception as exc:
            log.exception("simulator error on %s %s", method, path)
            reply = _Reply(500, error_body(20500, f"simulator error: {exc}", 500))
        if isinstance(reply, _Drop):
            deadline = time.monotonic() + reply.seconds
            while not engine._closing.is_set() and time.monotonic() < deadline:
                engine._closing.wait(min(0.05, max(deadline - time.monotonic(), 0)))
            self.close_connection = True
            return
        if path != "/simulator/health":
            log.info("%s %s -> %d", method, self.path, reply.status)
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", new_sid("RQ"))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _developer(engine: Engine, method: str, path: str, query: str, body: bytes) -> _Reply:
    """The /simulator/* endpoints: inspection, inbound SMS, reset, faults (no auth: never
    deployed, bound to 127.0.0.1)."""
    args = {k: v[0] for k, v in parse_qs(query).items()}

    def payload() -> Any:
        try:
            return json.loads(body or b"{}")
        except ValueError as exc:
            raise ValueError(f"the body must be JSON: {exc}") from exc

    try:
        if method == "GET" and path == "/simulator/health":
            return _Reply(200, {"status": "ok", "accountSid": ACCOUNT_SID})
        if method == "GET" and path == "/simulator/calls":
            return _Reply(200, {"calls": engine.calls()})
        if method == "GET" and path == "/simulator/messages":
            return _Reply(200, {"messages": engine.messages()})
        if method == "GET" and path == "/simulator/webhooks":
            return _Reply(200, {"webhooks": engine.webhooks(args.get("sid"))})
        if method == "GET" and path == "/simulator/requests":
            return _Reply(200, {"requests": engine.requests_seen()})
        if method == "GET" and path == "/simulator/opt-outs":
            return _Reply(200, {"optOuts": engine.opt_outs()})
        if method == "POST" and path == "/simulator/reset":
            engine.reset()
            return _Reply(200, {"ok": True})
        if path == "/simulator/faults":
            if method == "POST":
                engine.add_fault(payload())
            elif method == "DELETE":
                engine.clear_faults()
            return _Reply(200, engine.faults())
        if method == "POST" and path == "/simulator/inbound-sms":
            data = payload()
            if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("from", "to", "body")
            ):
                raise ValueError('give {"from": "+1...", "to": "+1500555000x", "body": "..."}')
            return _Reply(200, engine.inbound_sms(data["from"], data["to"], data["body"]))
    except ValueError as exc:
        return _Reply(400, {"error": str(exc)})
    return _Reply(404, {"error": f"no developer endpoint {method} {path}"})


# ---------------------------------------------------------------- public handle


class Simulator:
    """A running simulator: the HTTP server on its own thread, and the engine behind it.

    Tests use the inspection helpers instead of HTTP where that reads better; both see the
    same state.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.engine = Engine(config)
        self._server = _Server((config.host, config.port), self.engine)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="twilio-sim", daemon=True
        )
        self._stopped = False

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and end every running call quietly; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.engine.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ where it is

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API base for RebasingHttpClient, e.g. http://127.0.0.1:8900."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def account_sid(self) -> str:
        return ACCOUNT_SID

    @property
    def auth_token(self) -> str:
        return self.config.auth_token

    @property
    def numbers(self) -> tuple[str, ...]:
        return NUMBERS

    # ------------------------------------------------------------ inspection

    def calls(self) -> list[dict[str, Any]]:
        return self.engine.calls()

    def call(self, sid: str) -> dict[str, Any]:
        return self.engine.call(sid)

    def messages(self) -> list[dict[str, Any]]:
        return self.engine.messages()

    def message(self, sid: str) -> dict[str, Any]:
        return self.engine.message(sid)

    def webhooks(self, sid: str | None = None) -> list[dict[str, Any]]:
        """The delivery log, oldest first; `sid` keeps one call's (with its lead leg's) or one
        message's deliveries."""
        return self.engine.webhooks(sid)

    def requests(self) -> list[dict[str, Any]]:
        """Every REST request seen, oldest first (op, status, Twilio code, fault applied)."""
        return self.engine.requests_seen()

    def wait_call(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the call's walk, both legs and all their callbacks, is over."""
        if not self.engine.activity_done(sid).wait(timeout):
            raise TimeoutError(f"call {sid} still running after {timeout}s")
        return self.call(sid)

    def wait_message(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        if not self.engine.activity_done(sid).wait(timeout):
            raise TimeoutError(f"message {sid} still running after {timeout}s")
        return self.message(sid)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no call or message is running."""
        deadline = time.monotonic() + timeout
        for done in self.engine.all_done():
            if not done.wait(max(deadline - time.monotonic(), 0)):
                raise TimeoutError(f"the simulator is still busy after {timeout}s")

    # ------------------------------------------------------------ driving

    def reset(self) -> None:
        self.engine.reset()

    def inbound_sms(self, from_: str, to: str, body: str) -> dict[str, Any]:
        """As POST /simulator/inbound-sms: deliver a text to the app, answer the outcome."""
        return self.engine.inbound_sms(from_, to, body)

    def add_fault(
        self,
        op: str,
        mode: str,
        count: int = 1,
        *,
        retry_after: int = 1,
        delay_seconds: float = 30.0,
    ) -> None:
        self.engine.add_fault(
            {
                "op": op,
                "mode": mode,
                "count": count,
                "retryAfter": retry_after,
                "delaySeconds": delay_seconds,
            }
        )

    def set_webhook_delay(self, seconds: float) -> None:
        self.engine.add_fault({"webhookDelaySeconds": seconds})

    def clear_faults(self) -> None:
        self.engine.clear_faults()


def start_simulator(
    port: int = 0,
    *,
    app_base: str | None = None,
    auth_token: str | None = None,
    speed: float | None = None,
    webhook_timeout: float | None = None,
    host: str = "127.0.0.1",
) -> Simulator:
    """Start a simulator on `host:port` (0: a free port); unset arguments come from the
    environment (SIM_APP_BASE, SIMULATOR_AUTH_TOKEN, SIM_SPEED, SIM_WEBHOOK_TIMEOUT), then the
    defaults. The caller stops it (`stop()`, or use it as a context manager)."""
    env = SimConfig.from_env()
    config = SimConfig(
        host=host,
        port=port,
        app_base=(app_base or env.app_base).rstrip("/"),
        auth_token=auth_token or env.auth_token,
        speed=speed if speed is not None else env.speed,
        webhook_timeout=webhook_timeout if webhook_timeout is not None else env.webhook_timeout,
    )
    return Simulator(config).start()


def main(argv: list[str] | None = None) -> int:
    try:
        env = SimConfig.from_env()
    except ValueError as exc:
        print(f"twilio simulator: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(
        prog="python -m localdev.twilio_sim", description="The local Twilio simulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=env.port, help="SIMULATOR_PORT (8900)")
    parser.add_argument("--app-base", default=env.app_base, help="SIM_APP_BASE: where webhooks go")
    parser.add_argument("--auth-token", default=env.auth_token, help="SIMULATOR_AUTH_TOKEN")
    parser.add_argument("--speed", type=float, default=env.speed, help="SIM_SPEED (10)")
    parser.add_argument(
        "--webhook-timeout", type=float, default=env.webhook_timeout, help="SIM_WEBHOOK_TIMEOUT"
    )
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="[twilio-sim] %(message)s",
        stream=sys.stderr,
    )
    try:
        config = SimConfig(
            host=args.host,
            port=args.port,
            app_base=args.app_base.rstrip("/"),
            auth_token=args.auth_token,
            speed=args.speed,
            webhook_timeout=args.webhook_timeout,
        )
        sim = Simulator(config)
    except (ValueError, OSError) as exc:
        print(f"twilio simulator: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    sim.start()
    log.warning(
        "Twilio simulator on %s (account %s, webhooks to %s, speed x%g)",
        sim.url,
        ACCOUNT_SID,
        config.app_base,
        config.speed,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
