"""Twilio's rules as the simulator keeps them: constants, scripted outcomes, keyword and segment
rules, formats. Pure functions only, so the unit tests can pin each rule without a server.

This is the simulator's own copy of Twilio's behaviour, deliberately not shared with
``chalicelib``: the simulator is the oracle the app is tested against, and an oracle that
imported the app's rules would agree with the app's mistakes.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import urlsplit

# Its own copy of the SID the app expects (chalicelib.config.SIMULATOR_ACCOUNT_SID): the
# simulator is a test oracle and imports nothing from the app; a unit test keeps the two equal.
ACCOUNT_SID = "AC00000000000000000000000000000000"
API_VERSION = "2010-04-01"
NUMBERS = ("+15005550006", "+15005550007")
ACCOUNT_PATH = f"/{API_VERSION}/Accounts/{ACCOUNT_SID}"

# Simulated durations, in simulated seconds (each is divided by the speed).
QUEUE_S = 0.5  # queued -> initiated
DIAL_S = 1.0  # initiated -> ringing
MEMBER_RING_S = 3.0  # the member picks up after this
LEAD_RING_S = 4.0  # the lead picks up after this
BUSY_S = 2.0  # a busy line gives up after this
FAILED_S = 1.0  # a failed dial is known after this
TALK_S = 30.0  # the lead talks this long
GREETING_S = 6.0  # an answering machine's greeting, up to the beep
AMD_HUMAN_S = 2.0  # answering-machine detection tells a person within this
VOICEMAIL_S = 8.0  # the short message left after the beep, then the machine hangs up
MACHINE_START_S = 3.0  # `Enable` detection recognises a machine's greeting after this
MACHINE_MAX_MESSAGE_S = 60.0  # a machine records this long after its beep, then hangs up
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
# <Conference statusCallbackEvent> words, and the StatusCallbackEvent values they stand for.
CONFERENCE_EVENT_WORDS = ("start", "end", "join", "leave", "mute", "hold", "modify", "speaker")
CONFERENCE_END_REASONS = (
    "conference-ended-via-api",
    "participant-with-end-conference-on-exit-left",
    "participant-with-end-conference-on-exit-kicked",
    "last-participant-kicked",
    "last-participant-left",
)
AMD_VERDICTS = (
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
)

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

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MG_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


def is_e164(number: str) -> bool:
    """Twilio accepts E.164 only: a plus, a non-zero digit, 15 digits at most."""
    return bool(_E164.match(number))


LeadOutcome = Literal["busy", "no-answer", "failed", "machine", "no-press", "answered"]


def outcome_for(number: str) -> LeadOutcome:
    """The scripted outcome for a lead number, by its last digit (the contract in API.md)."""
    last = number.strip()[-1:]
    scripted: dict[str, LeadOutcome] = {
        "1": "busy",
        "2": "no-answer",
        "3": "failed",
        "4": "machine",
        "9": "no-press",
    }
    return scripted.get(last, "answered")


AMD_MODES = frozenset({"Enable", "DetectMessageEnd"})


def answered_by(machine_detection: str | None, outcome: LeadOutcome) -> str | None:
    """Twilio's `AnsweredBy` for an answered leg with `machineDetection` set (None: detection
    off). `Enable` reports a machine as soon as it is recognised (`machine_start`);
    `DetectMessageEnd` waits for the end of the greeting (`machine_end_beep` for our
    machine, which beeps). A person is `human` either way."""
    if (machine_detection or "").strip() not in AMD_MODES:
        return None
    if outcome != "machine":
        return "human"
    return "machine_end_beep" if machine_detection == "DetectMessageEnd" else "machine_start"


def amd_verdict(machine_detection: str | None, outcome: LeadOutcome) -> tuple[str, float] | None:
    """Detection's verdict for an answered leg and how long (simulated seconds) after the answer
    it comes: a person is told within AMD_HUMAN_S; `Enable` names a machine once its greeting is
    recognised (MACHINE_START_S), `DetectMessageEnd` after the beep (GREETING_S). None: off."""
    verdict = answered_by(machine_detection, outcome)
    if verdict is None:
        return None
    if verdict == "machine_start":
        return verdict, MACHINE_START_S
    if verdict == "machine_end_beep":
        return verdict, GREETING_S
    return verdict, AMD_HUMAN_S


def amd_result(
    machine_detection: str | None, outcome: LeadOutcome, timeout: float
) -> tuple[str, float] | None:
    """`amd_verdict` within `MachineDetectionTimeout`: a verdict that would come later is
    `unknown`, at the timeout."""
    found = amd_verdict(machine_detection, outcome)
    if found is not None and found[1] > timeout:
        return "unknown", timeout
    return found


# The app's dialer lead calls answer at this path (API.md: dialer webhooks live under
# /twilio/dialer/): a campaign with machine detection off places them without it.
DIALER_LEAD_PATH = "/twilio/dialer/lead/"


def is_lead_call(
    machine_detection: str | None, via_participants: bool, url: str | None = None
) -> bool:
    """Whose phone a REST-created call rings. Real Twilio cannot tell; the simulator goes by
    what only the app's lead calls do: answering-machine detection, the Participants API, or
    the dialer's lead URL. Those are a lead's (scripted by `outcome_for`); any other REST call
    rings a member (`member_outcome_for`), as a click-to-call's and a dialer session's first
    leg do."""
    return (
        via_participants
        or (machine_detection or "").strip() in AMD_MODES
        or DIALER_LEAD_PATH in (url or "")
    )


def conference_events(values: Iterable[str]) -> frozenset[str]:
    """<Conference statusCallbackEvent> / ConferenceStatusCallbackEvent: space-separated or
    repeated words; unknown ones ignored."""
    words = {word.strip().lower() for value in values for word in value.split()}
    return frozenset(words & set(CONFERENCE_EVENT_WORDS))


def truthy(value: str | None, default: bool) -> bool:
    """A TwiML/REST boolean: `true`/`false` in any case; anything else is the default."""
    text = (value or "").strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return default


MemberOutcome = Literal["busy", "no-answer", "no-press", "answered"]


def member_outcome_for(number: str) -> MemberOutcome:
    """The scripted outcome for a member number (the first leg: the call created through the
    REST API), by its last digit (API.md, "Simulator additions"): `1` busy, `2` does not
    answer; anything else answers and, asked to press a key, presses 1 unless it ends in `9`."""
    last = number.strip()[-1:]
    scripted: dict[str, MemberOutcome] = {"1": "busy", "2": "no-answer", "9": "no-press"}
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


def now() -> datetime:
    """Whole seconds, because Twilio's RFC 2822 dates carry no fraction."""
    return datetime.now(UTC).replace(microsecond=0)


def is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def float_or(value: str | None, default: float) -> float:
    """A TwiML number attribute; Twilio falls back to the default on nonsense, so do we."""
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def callback_events(values: Iterable[str]) -> frozenset[str]:
    """StatusCallbackEvent may repeat or be space-separated (TwiML); unknown words ignored."""
    words = {word.strip().lower() for value in values for word in value.split()}
    return frozenset(words & set(CALL_EVENTS))


def parse_twiml(data: bytes) -> ET.Element:
    """Parse a TwiML answer. The stdlib parser is enough: the documents come from our own app
    and expat (2.4.1+, bundled with Python 3.11) refuses entity-expansion bombs."""
    try:
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError as exc:
        raise ValueError(str(exc)) from exc
    if root.tag != "Response":
        raise ValueError(f"the root element is <{root.tag}>, not <Response>")
    return root


def dial_number(root: ET.Element) -> str | None:
    """The first number a document dials, if it dials one."""
    for dial in root.iter("Dial"):
        number = dial.find("Number")
        text = (number.text if number is not None else dial.text) or ""
        if text.strip():
            return text.strip()
    return None
