"""Twilio's side of the seam on the way in: its callback paths, and its forms as typed events.

One table of callback paths serves both the routes (api/voice.py, api/sms.py register these
paths) and the URL builders (what we hand Twilio), so the two cannot drift apart. Twilio's names
for the same thing (`DialCallStatus`/`CallStatus`, `answered`, `MessageStatus`/`SmsStatus`,
`accepted`, `scheduled`, `read`, ...) are mapped here and nowhere else: services see events,
never a raw form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib import phone as phones
from chalicelib.domain.sms import OptKeyword
from chalicelib.domain.statuses import CALL_FINAL, CALL_PROGRESS, SMS_FINAL, SMS_PROGRESS
from chalicelib.errors import ValidationError

# ---------------------------------------------------------------- callback paths

VOICE_CONNECT = "/twilio/voice/connect/{call_id}"
VOICE_GATHER = "/twilio/voice/gather/{call_id}"
VOICE_STATUS = "/twilio/voice/status/{call_id}"
VOICE_LEAD_STATUS = "/twilio/voice/lead-status/{call_id}"
VOICE_AMD = "/twilio/voice/amd/{call_id}"
# Calls to our number (the number's "A call comes in" and status callback URLs), the stages
# that ring members, a member's whisper and key press, the voicemail, and recordings.
VOICE_INCOMING = "/twilio/voice/incoming"
VOICE_INCOMING_STATUS = "/twilio/voice/incoming-status"
VOICE_INCOMING_NEXT = "/twilio/voice/incoming-next/{call_id}/{stage}"
VOICE_INCOMING_WHISPER = "/twilio/voice/incoming-whisper/{call_id}/{member_id}"
VOICE_INCOMING_ACCEPT = "/twilio/voice/incoming-accept/{call_id}/{member_id}"
VOICE_VOICEMAIL = "/twilio/voice/voicemail/{call_id}"
VOICE_RECORDING = "/twilio/voice/recording/{call_id}"
VOICE_NOTICE = "/twilio/voice/notice"
# The power dialer: the session's member leg, its conference, and each lead call.
DIALER_MEMBER = "/twilio/dialer/member/{session_id}"
DIALER_MEMBER_GATHER = "/twilio/dialer/member-gather/{session_id}"
DIALER_MEMBER_STATUS = "/twilio/dialer/member-status/{session_id}"
DIALER_CONFERENCE = "/twilio/dialer/conference/{session_id}"
DIALER_LEAD = "/twilio/dialer/lead/{session_id}/{call_id}"
DIALER_LEAD_STATUS = "/twilio/dialer/lead-status/{session_id}/{call_id}"
SMS_STATUS = "/twilio/sms/status/{message_id}"
SMS_INCOMING = "/twilio/sms/incoming"


def url(base: str, path: str, **ids: str) -> str:
    """The public URL Twilio is given for `path` (and signs when it calls back)."""
    return base + path.format(**ids)


# ---------------------------------------------------------------- status names

# Twilio's call statuses we track, as they are; `answered` (a <Number> event) is in-progress.
_CALL_ALIASES = {"answered": "in-progress"}
# A send through a Messaging Service starts `accepted` (a scheduled one `scheduled`), both
# before `queued`; `read` (channels with read receipts) comes after delivery.
# `partially_delivered` is final for a message sent in several parts (an MMS, say): some parts
# reached the handset, so the lead got the text and it is `delivered` for us (a contact).
# `canceled` (a scheduled send cancelled) is not tracked: it changes nothing.
_SMS_ALIASES: dict[str, str | None] = {
    "accepted": "queued",
    "scheduled": "queued",
    "read": "delivered",
    "partially_delivered": "delivered",
    "canceled": None,
}


def call_status(raw: str) -> str | None:
    """Our name for a call status Twilio reports; None for one we do not track."""
    status = raw.strip().lower()
    status = _CALL_ALIASES.get(status, status)
    return status if status in CALL_FINAL or status in CALL_PROGRESS else None


def sms_status(raw: str) -> str | None:
    """Our status for one Twilio reports (`accepted` is `queued`); None for one we do not
    track (`receiving`, `canceled`, anything new)."""
    status = raw.strip().lower()
    if status in _SMS_ALIASES:
        return _SMS_ALIASES[status]
    return status if status in SMS_FINAL or status in SMS_PROGRESS else None


def _int(form: Mapping[str, str], name: str) -> int | None:
    value = form.get(name, "")
    try:
        return max(0, int(value)) if value != "" else None
    except ValueError:
        return None


def _text(form: Mapping[str, str], name: str) -> str | None:
    return form.get(name) or None


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class ConnectFetch:
    """The connect TwiML fetch: the member answered. A form with a `Digits` key is a Gather
    result posted to the connect URL (a whisper served before the Gather had its own URL)."""

    legacy_digits: str | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> ConnectFetch:
        return cls(form.get("Digits"))


@dataclass(frozen=True)
class GatherResult:
    """The whisper's `<Gather>` action: the keys pressed, `""` for none (`actionOnEmptyResult`
    may post `Digits=""` or no `Digits` at all)."""

    digits: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> GatherResult:
        return cls(form.get("Digits", "").strip())


@dataclass(frozen=True)
class CallLegEvent:
    """A status callback of the member leg (the call we placed)."""

    status: str | None  # None: a status we do not track
    duration: int | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> CallLegEvent:
        return cls(call_status(form.get("CallStatus", "")), _int(form, "CallDuration"))


@dataclass(frozen=True)
class DialResult:
    """The lead leg: the `<Number statusCallback>` (CallStatus) and the `<Dial action>`
    (DialCallStatus) both report it; the first to report a final status wins."""

    status: str | None
    duration: int | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> DialResult:
        if "DialCallStatus" in form:
            return cls(call_status(form["DialCallStatus"]), _int(form, "DialCallDuration"))
        return cls(call_status(form.get("CallStatus", "")), _int(form, "CallDuration"))


@dataclass(frozen=True)
class AmdResult:
    """The lead leg's `<Number amdStatusCallback>`: who answered (`AnsweredBy`: `human`,
    `machine_start`, `machine_end_beep`, ..., `fax`, `unknown`); None when absent."""

    answered_by: str | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> AmdResult:
        value = form.get("AnsweredBy", "").strip().lower()
        return cls(value[:40] or None)


@dataclass(frozen=True)
class LeadAnswer:
    """A dialer lead call answered (after machine detection): who answered, and the call."""

    answered_by: str | None
    call_sid: str | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> LeadAnswer:
        value = form.get("AnsweredBy", "").strip().lower()
        return cls(value[:40] or None, _text(form, "CallSid"))


@dataclass(frozen=True)
class ConferenceEvent:
    """A conference status callback: `StatusCallbackEvent` (`conference-start`,
    `participant-join`, `participant-leave`, `conference-end`, ...) and whose call it was."""

    event: str
    call_sid: str | None
    conference_sid: str | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> ConferenceEvent:
        return cls(
            form.get("StatusCallbackEvent", "").strip().lower(),
            _text(form, "CallSid"),
            _text(form, "ConferenceSid"),
        )


@dataclass(frozen=True)
class IncomingCall:
    """A call to our number: Twilio's CallSid, the caller (E.164) and our number."""

    sid: str
    sender: str
    to: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> IncomingCall:
        sid = (form.get("CallSid") or "").strip()
        if not _SID.match(sid):
            raise ValidationError("CallSid is missing or malformed", {"field": "CallSid"})
        return cls(
            sid, phones.normalize(form.get("From", ""), "From"), _our_number(form.get("To", ""))
        )


@dataclass(frozen=True)
class RecordingEvent:
    """A `recordingStatusCallback`: the recording's SID, status and length."""

    sid: str | None
    status: str
    duration: int | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> RecordingEvent:
        return cls(
            _text(form, "RecordingSid"),
            form.get("RecordingStatus", "").strip().lower(),
            _int(form, "RecordingDuration"),
        )


@dataclass(frozen=True)
class SmsStatusEvent:
    status: str | None
    error_code: str | None
    error_message: str | None
    from_number: str | None  # the sender a Messaging Service picked

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> SmsStatusEvent:
        return cls(
            sms_status(form.get("MessageStatus") or form.get("SmsStatus") or ""),
            _text(form, "ErrorCode"),
            _text(form, "ErrorMessage"),
            _text(form, "From"),
        )


_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$", re.IGNORECASE)


@dataclass(frozen=True)
class InboundSms:
    sid: str
    sender: str  # E.164
    to: str  # ours: E.164, or a short code as Twilio gave it
    body: str
    opt_out_type: OptKeyword | None  # Twilio's own verdict (Advanced Opt-Out), if it sent one

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> InboundSms:
        sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
        if not _SID.match(sid):
            raise ValidationError("MessageSid is missing or malformed", {"field": "MessageSid"})
        kind = form.get("OptOutType", "").strip().upper()
        opt: OptKeyword | None = "stop" if kind == "STOP" else "start" if kind == "START" else None
        return cls(
            sid,
            phones.normalize(form.get("From", ""), "From"),
            _our_number(form.get("To", "")),
            form.get("Body", ""),
            opt,
        )


def _our_number(raw: str) -> str:
    """The number the text was sent to (ours): E.164 when it is a phone number, else as Twilio
    gave it (a short code)."""
    text = raw.strip()
    if not text or len(text) > 40:
        raise ValidationError("To is missing or malformed", {"field": "To"})
    try:
        return phones.normalize(text, "To")
    except ValidationError:
        return text
