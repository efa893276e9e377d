"""The far end at ``<Record>`` and at an inbound caller's ``<Gather>``, and the walker's hook
(`VerbExtensions`) that sends those verbs, and the Dials `ringing` handles, here.

An inbound caller behaves as ``POST /simulator/inbound-call`` said (`CallerBehaviour`):
``wait`` (the default: stays on the line, silent, until the TwiML ends, or hangs up after
CALLER_PATIENCE_S), ``message`` (at the first ``<Record>``, speaks ``messageSeconds`` (default
5), then hangs up), ``hangup`` (hangs up ``hangupAfter`` seconds after the call began, wherever
the TwiML is; ``hangupAfter`` also caps the other two). ``digits`` is what the caller keys at
their first ``<Gather>`` (none: the Gather times out). Any other far end (a member, a lead, a
machine) is silent at a ``<Record>``.

``<Record>`` as Twilio runs it: the beep (``playBeep``, default true; noted in the transcript),
then the recording (``source`` ``RecordVerb``, mono) until the caller hangs up, ``maxLength``
(default 3600 s) is reached, or ``timeout`` seconds (default 5; 0: no limit) of silence pass.
Silence is trimmed (``trim``, default ``trim-silence``; ``do-not-trim`` keeps it), so a caller
who says nothing leaves an empty recording: it is ``absent``, the ``action`` is not requested,
and the call goes on with the next verb, as Twilio does. Otherwise the ``action`` (default: the
document's URL) gets ``RecordingUrl``, ``RecordingSid``, ``RecordingDuration`` and, when the
caller hung up, ``Digits=hangup`` (and ``CallStatus=completed``): Twilio requests it and ignores
the TwiML answered, since nobody is left. ``finishOnKey`` is accepted, never used: the
simulated caller presses no key while recording.
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from localdev.twilio_sim.clock import Hangup, SimClock
from localdev.twilio_sim.conference import Conference
from localdev.twilio_sim.recordings import RecordingStore, recording_events
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.ringing import GroupDial
from localdev.twilio_sim.rules import DEFAULT_GATHER_TIMEOUT, PRESS_S, float_or, is_e164, truthy
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.twiml import HANG, Doc, Fetch, Outcome, TwimlWalker

CALLER_PATIENCE_S = 600.0  # a waiting caller hangs up after this long, at the latest
DEFAULT_MESSAGE_S = 5.0
DEFAULT_RECORD_TIMEOUT = 5.0
DEFAULT_MAX_LENGTH = 3600.0
BEHAVIOURS = ("wait", "message", "hangup")
_KEYS = set("0123456789*#")


@dataclass(frozen=True)
class CallerBehaviour:
    mode: str = "wait"
    message_seconds: float = DEFAULT_MESSAGE_S
    hangup_after: float | None = None
    digits: str = ""

    @property
    def patience(self) -> float:
        """Simulated seconds after which the caller hangs up, wherever the call is."""
        return self.hangup_after if self.hangup_after is not None else CALLER_PATIENCE_S

    def to_json(self) -> dict[str, Any]:
        return {
            "behaviour": self.mode,
            "messageSeconds": self.message_seconds,
            "hangupAfter": self.hangup_after,
            "digits": self.digits,
        }


def _seconds(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 14400:
        raise ValueError(f"{key} must be a number of seconds, more than 0 and at most 14400")
    return float(value)


def parse_inbound(data: Any) -> tuple[str, str, CallerBehaviour]:
    """`POST /simulator/inbound-call`'s body: (from, to, behaviour); ValueError on nonsense.
    Whether `to` is one of the account's numbers is the caller's to check."""
    if not isinstance(data, dict):
        raise ValueError('give {"from": "+1...", "to": "+1500555000x", "behaviour"?: ...}')
    known = {"from", "to", "behaviour", "behavior", "messageSeconds", "hangupAfter", "digits"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    from_, to = data.get("from"), data.get("to")
    if not isinstance(from_, str) or not is_e164(from_.strip()):
        raise ValueError(f"from must be an E.164 number, got {from_!r}")
    if not isinstance(to, str) or not to.strip():
        raise ValueError("to must be one of the account's numbers")
    mode = data.get("behaviour", data.get("behavior", "wait"))
    if mode not in BEHAVIOURS:
        raise ValueError(f"behaviour must be one of {list(BEHAVIOURS)}, got {mode!r}")
    message = _seconds(data, "messageSeconds")
    hangup_after = _seconds(data, "hangupAfter")
    if mode == "hangup" and hangup_after is None:
        raise ValueError('behaviour "hangup" needs hangupAfter (seconds)')
    digits = data.get("digits", "")
    if not isinstance(digits, str) or not set(digits) <= _KEYS or len(digits) > 20:
        raise ValueError("digits must be keys 0-9, * and # (at most 20)")
    behaviour = CallerBehaviour(
        mode=mode,
        message_seconds=message if message is not None else DEFAULT_MESSAGE_S,
        hangup_after=hangup_after,
        digits=digits,
    )
    return from_.strip(), to.strip(), behaviour


@dataclass
class Script:
    """What an inbound caller still has to do (each is done once)."""

    behaviour: CallerBehaviour
    message_left: bool = False
    digits_keyed: bool = False


class VerbExtensions:
    """The walker's `VerbHook`: ``<Record>``, the inbound caller's ``<Gather>``, and the Dials
    `GroupDial` rings."""

    def __init__(
        self,
        registry: Registry,
        clock: SimClock,
        walker: TwimlWalker,
        recordings: RecordingStore,
        group: GroupDial,
    ) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self._walker = walker
        self._recordings = recordings
        self._group = group
        self.scripts: dict[str, Script] = {}  # inbound call SID -> the caller's script
        self._recorded_rooms: set[str] = set()  # conference SIDs being recorded

    def handles(self, call: Call, verb: ET.Element) -> bool:
        if verb.tag == "Record":
            return True
        if verb.tag == "Gather":
            return call.direction == "inbound"
        return verb.tag == "Dial" and GroupDial.wanted(call, verb)

    def run(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        if verb.tag == "Record":
            return self.record(call, verb, doc)
        if verb.tag == "Gather":
            return self.gather(call, verb, doc)
        return self._group.dial(call, verb, doc)

    def dial_recorded(self, call: Call, child: Call, verb: ET.Element, doc: Doc) -> dict[str, str]:
        return self._group.record_single(call, child, verb, doc)

    def conference_joined(
        self, call: Call, element: ET.Element, room: Conference, doc: Doc
    ) -> None:
        """`<Conference record="record-from-start">`: the room is recorded from its start to its
        end (mono, `source` `Conference`, `conference_sid` set, no `call_sid`); the first
        participant asking for it sets the recordingStatusCallback."""
        if (element.get("record") or "").strip().lower() != "record-from-start":
            return
        with self._lock:
            if room.sid in self._recorded_rooms:
                return
            self._recorded_rooms.add(room.sid)
        callback = element.get("recordingStatusCallback")
        settings = {
            "callback": urljoin(doc.url, callback) if callback else None,
            "callback_method": element.get("recordingStatusCallbackMethod") or "POST",
            "events": recording_events([element.get("recordingStatusCallbackEvent") or ""]),
        }
        self._registry.spawn(
            f"sim-cfrec-{room.sid[-6:]}", lambda: self._record_room(call, room, settings)
        )

    def _record_room(self, call: Call, room: Conference, settings: dict[str, Any]) -> None:
        def over() -> bool:
            return room.aborted or call.aborted or self._registry.closing.is_set()

        while room.status == "init" and not room.done.is_set():
            if over():
                return
            room.done.wait(0.01)
        if room.status != "in-progress" and not room.done.is_set():
            return
        recording = self._recordings.start(
            call, "Conference", 1, conference_sid=room.sid, **settings
        )
        started = time.monotonic()
        try:
            while not room.done.wait(0.01):
                if over():
                    return
            elapsed = (time.monotonic() - started) * self._clock.speed
            self._recordings.finish(recording, elapsed, call)
        finally:
            with self._lock:
                self._recorded_rooms.discard(room.sid)

    def forget(self, sid: str) -> None:
        with self._lock:
            self.scripts.pop(sid, None)

    # ------------------------------------------------------------ the caller's side

    def _message(self, call: Call) -> float:
        """Seconds the far end speaks at this <Record> (0: silent); a message is left once."""
        with self._lock:
            script = self.scripts.get(call.sid)
            if script is None or script.behaviour.mode != "message" or script.message_left:
                return 0.0
            script.message_left = True
            return script.behaviour.message_seconds

    def _digits(self, call: Call) -> str:
        with self._lock:
            script = self.scripts.get(call.sid)
            if script is None or script.digits_keyed or not script.behaviour.digits:
                return ""
            script.digits_keyed = True
            return script.behaviour.digits

    def gather(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        """The inbound caller at a <Gather>: keys `digits` once, else lets it time out."""
        action = urljoin(doc.url, verb.get("action") or doc.url)
        method = (verb.get("method") or "POST").upper()
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._walker._play(call, child)
        digits = self._digits(call) if "dtmf" in (verb.get("input") or "dtmf") else ""
        if digits:
            self._clock.sleep(call, PRESS_S)
            self._walker._hear(call, f"gather: the caller pressed {digits}")
            pressed = {"Digits": digits, "FinishedOnKey": "", "msg": "Gather End"}
            return Fetch(action, method, pressed, "gather")
        self._walker._hear(call, "gather: no key pressed")
        self._clock.sleep(call, float_or(verb.get("timeout"), DEFAULT_GATHER_TIMEOUT))
        if (verb.get("actionOnEmptyResult") or "").lower() == "true":
            return Fetch(action, method, {"Digits": "", "msg": "Gather End"}, "gather")
        return None

    def record(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        """<Record>: see the module docstring."""
        action = urljoin(doc.url, verb.get("action") or doc.url)
        method = (verb.get("method") or "POST").upper()
        timeout = float_or(verb.get("timeout"), DEFAULT_RECORD_TIMEOUT)
        max_length = float_or(verb.get("maxLength"), DEFAULT_MAX_LENGTH)
        if max_length <= 0:
            max_length = DEFAULT_MAX_LENGTH
        trim = (verb.get("trim") or "trim-silence").strip().lower() != "do-not-trim"
        callback = verb.get("recordingStatusCallback")
        if truthy(verb.get("playBeep"), True):
            self._walker._hear(call, "record: beep")
        recording = self._recordings.start(
            call,
            "RecordVerb",
            1,
            callback=urljoin(doc.url, callback) if callback else None,
            callback_method=verb.get("recordingStatusCallbackMethod") or "POST",
            events=recording_events([verb.get("recordingStatusCallbackEvent") or ""]),
        )
        speaks = self._message(call)
        started = call.clock
        hung_up = False
        try:
            if speaks > 0:
                self._walker._hear(call, f"the caller speaks for {speaks:g}s")
                self._clock.sleep(call, min(speaks, max_length))
                recorded = min(speaks, max_length)
                if speaks <= max_length:
                    with self._lock:
                        call.transcript.append("the caller hung up after the message")
                        call.hangup_requested = True
                    hung_up = True
            else:
                silence = min(timeout if timeout > 0 else max_length, max_length)
                self._clock.sleep(call, silence)
                recorded = 0.0 if trim else silence
        except Hangup:
            hung_up = True
            elapsed = call.clock - started
            recorded = elapsed if speaks > 0 or not trim else 0.0
        finished = self._recordings.finish(recording, recorded, call)
        if finished.status != "completed":
            self._walker._hear(call, "record: nothing recorded (no action requested)")
            return HANG if hung_up else None
        params = self._recordings.action_params(finished)
        if not hung_up:
            return Fetch(action, method, params, "record-action")
        params["Digits"] = "hangup"
        with self._lock:
            call.status = "completed"  # as the action request says: the caller is gone
        with contextlib.suppress(Hangup):
            self._walker.fetch(call, Fetch(action, method, params, "record-action"))
        self._walker._hear(call, "record: the action's answer is ignored (the caller hung up)")
        return HANG
