"""Recordings: the resource Twilio keeps for each one, its status callbacks, and the audio it
serves.

Where they come from (``source``, as Twilio names it): ``RecordVerb`` (``<Record>``, mono, the
caller's voice), ``DialVerb`` (``<Dial record="record-from-answer|-ringing[-dual]">``: the
bridged conversation, two channels with ``-dual``), ``OutboundAPI`` (``Calls`` create with
``Record=true``, ``RecordingChannels`` ``mono`` (default) or ``dual``: from the answer to the
hang-up) and ``Conference`` (``<Conference record="record-from-start">``: from the conference's
start to its end, mono). ``call_sid`` is always the parent leg's, as Twilio's is.

A recording is ``in-progress`` while it runs, then ``completed`` with its duration in whole
seconds, or ``absent`` when nothing was recorded (``duration`` 0, ``error_code`` 16101: too
short). Its ``recordingStatusCallback`` gets the events asked for (``in-progress``,
``completed``, ``absent``; ``completed`` only by default) with ``AccountSid``, ``CallSid``,
``RecordingSid``, ``RecordingUrl``, ``RecordingStatus``, ``RecordingDuration`` (not on
``in-progress``), ``RecordingChannels``, ``RecordingStartTime``, ``RecordingSource``,
``RecordingTrack``, ``ErrorCode`` (``absent``), ``ConferenceSid`` (conferences), signed like
every webhook and sent on the call's own ordered callback queue.

``RecordingUrl`` is, as Twilio gives it, the media URL without an extension, here on the
simulator's own base (``http://127.0.0.1:8900/2010-04-01/Accounts/AC…/Recordings/RE…``), so
the app fetches it as it would from api.twilio.com. The REST side, under the account:
``Recordings.json`` (list, newest first; ``CallSid``, ``ConferenceSid``, ``DateCreated``
filters), ``Calls/{CA}/Recordings.json`` (one call's), ``Recordings/{RE}.json`` (fetch;
``DELETE`` answers 204, and then everything about it is Twilio's 404 20404), and the media:
``Recordings/{RE}``, ``.wav`` (a real RIFF/WAVE file, 8 kHz 16-bit PCM, of the recording's
duration, one channel or two; a quiet tone on each channel, a different pitch per channel, so a
player shows and plays something) and ``.mp3`` (answered 415: the simulator has no MP3 encoder;
Twilio would serve ``audio/mpeg``). ``RequestedChannels=1`` on the media URL downmixes a dual
recording to one channel, as Twilio's does. The media is behind HTTP Basic auth (the account
SID and auth token; 401 otherwise), as on an account that enforces auth on media URLs.
"""

from __future__ import annotations

import io
import math
import struct
import threading
import wave
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localdev.twilio_sim.resources import Call, Reply, TwilioError, page
from localdev.twilio_sim.rules import (
    ACCOUNT_PATH,
    ACCOUNT_SID,
    API_VERSION,
    is_url,
    new_sid,
    now,
    rfc2822,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.webhooks import WebhookSender

RECORDING_EVENTS = ("in-progress", "completed", "absent")
SOURCES = ("RecordVerb", "DialVerb", "OutboundAPI", "Conference")
SAMPLE_RATE = 8000
TOO_SHORT = 16101  # Twilio's error code on an `absent` recording: too short to be processed
# <Dial record> values and what they mean: (from the ringing?, channels)
DIAL_RECORD = {
    "record-from-answer": (False, 1),
    "record-from-answer-dual": (False, 2),
    "record-from-ringing": (True, 1),
    "record-from-ringing-dual": (True, 2),
    "true": (False, 1),  # the legacy value
}


def recording_events(values: list[str] | tuple[str, ...]) -> frozenset[str]:
    """recordingStatusCallbackEvent: space-separated or repeated words; unknown ones ignored;
    none given is Twilio's default, `completed`."""
    words = {word.strip().lower() for value in values for word in value.split()}
    chosen = frozenset(words & set(RECORDING_EVENTS))
    return chosen or frozenset({"completed"})


def dial_recording(value: str | None) -> tuple[bool, int] | None:
    """`<Dial record>`: (from the ringing, channels), or None when the Dial is not recorded
    (`do-not-record`, `false`, absent, or a value Twilio does not know)."""
    return DIAL_RECORD.get((value or "").strip().lower())


def wav_bytes(duration_s: int, channels: int) -> bytes:
    """A real WAV file: 8 kHz, 16-bit PCM, `channels` channels, `duration_s` seconds; a quiet
    400 Hz tone on the first channel and 500 Hz on the second (whole periods per second, so
    one second of frames is built once and repeated)."""
    if channels not in (1, 2):
        raise ValueError("a recording has one or two channels")
    pitches = (400, 500)[:channels]
    second = bytearray()
    for n in range(SAMPLE_RATE):
        for pitch in pitches:
            sample = round(3000 * math.sin(2 * math.pi * pitch * n / SAMPLE_RATE))
            second += struct.pack("<h", sample)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(second) * max(duration_s, 0))
    return buffer.getvalue()


@dataclass(frozen=True)
class RecordRequest:
    """How to record (a REST create's `Record=true`, or a `<Dial record>`)."""

    channels: int = 1
    callback: str | None = None
    callback_method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})
    from_ringing: bool = False


def rest_record_request(form: dict[str, list[str]]) -> RecordRequest | None:
    """`Calls` create's recording parameters, checked like Twilio's; None when `Record` is not
    true."""

    def first(name: str) -> str:
        return (form.get(name) or [""])[0].strip()

    if first("Record").lower() != "true":
        return None
    channels = first("RecordingChannels").lower() or "mono"
    if channels not in ("mono", "dual"):
        raise TwilioError(400, 20001, "RecordingChannels must be mono or dual")
    callback = first("RecordingStatusCallback")
    if callback and not is_url(callback):
        raise TwilioError(400, 21609, f"Invalid RecordingStatusCallback URL: {callback}")
    method = (first("RecordingStatusCallbackMethod") or "POST").upper()
    if method not in ("GET", "POST"):
        raise TwilioError(400, 21204, "RecordingStatusCallbackMethod must be GET or POST")
    return RecordRequest(
        channels=2 if channels == "dual" else 1,
        callback=callback or None,
        callback_method=method,
        events=recording_events(form.get("RecordingStatusCallbackEvent", [])),
    )


@dataclass(eq=False)
class Recording:
    sid: str
    call_sid: str | None
    source: str
    channels: int
    callback: str | None = None
    callback_method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})
    conference_sid: str | None = None
    track: str = "both"
    status: str = "in-progress"
    duration: int | None = None
    error_code: int | None = None
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)
    start_time: datetime = field(default_factory=now)
    deleted: bool = False

    def path(self) -> str:
        return f"{ACCOUNT_PATH}/Recordings/{self.sid}"

    def resource(self, api_base: str) -> dict[str, Any]:
        """Field for field as Twilio's Recording (api.v2010.account.recording)."""
        return {
            "account_sid": ACCOUNT_SID,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "channels": self.channels,
            "conference_sid": self.conference_sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "duration": None if self.duration is None else str(self.duration),
            "encryption_details": None,
            "error_code": self.error_code,
            "media_url": api_base + self.path(),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "source": self.source,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "add_on_results": f"{self.path()}/AddOnResults.json",
                "transcriptions": f"{self.path()}/Transcriptions.json",
            },
            "track": self.track,
            "uri": f"{self.path()}.json",
        }


class RecordingStore:
    """The account's recordings (kept in the registry, so a reset forgets them), their
    callbacks, and the REST handlers."""

    def __init__(self, registry: Registry, sender: WebhookSender) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._sender = sender
        # Where the simulator answers (RecordingUrl, media_url); the server sets it once bound.
        self.api_base = "http://127.0.0.1"
        self._media_cache: dict[tuple[int, int], bytes] = {}
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(
        self,
        owner: Call,
        source: str,
        channels: int,
        *,
        callback: str | None,
        callback_method: str = "POST",
        events: frozenset[str] = frozenset({"completed"}),
        conference_sid: str | None = None,
    ) -> Recording:
        """A recording begins (`in-progress`), on `owner`'s call (its parent leg's SID; none
        for a conference's)."""
        recording = Recording(
            sid=new_sid("RE"),
            call_sid=None if conference_sid else (owner.parent_sid or owner.sid),
            source=source,
            channels=channels,
            callback=callback,
            callback_method=callback_method.upper(),
            events=events,
            conference_sid=conference_sid,
        )
        with self._lock:
            self._registry.recordings[recording.sid] = recording
            owner.transcript.append(f"recording {recording.sid} started ({source})")
        self._notify(recording, "in-progress", owner)
        return recording

    def finish(self, recording: Recording, duration: float, owner: Call) -> Recording:
        """The recording stops: `completed` with its length, or `absent` when empty."""
        seconds = max(round(duration), 0)
        with self._lock:
            if recording.status != "in-progress":
                return recording
            recording.duration = seconds
            recording.status = "completed" if seconds > 0 else "absent"
            recording.error_code = None if seconds > 0 else TOO_SHORT
            recording.date_updated = now()
            owner.transcript.append(f"recording {recording.sid} {recording.status} ({seconds}s)")
        self._notify(recording, recording.status, owner)
        return recording

    def call_answered(self, call: Call) -> None:
        """A REST call created with `Record=true` was answered: its recording starts."""
        request = call.record
        if not isinstance(request, RecordRequest) or call.recording is not None:
            return
        recording = self.start(
            call,
            "OutboundAPI",
            request.channels,
            callback=request.callback,
            callback_method=request.callback_method,
            events=request.events,
        )
        with self._lock:
            call.recording = (recording, call.clock)

    def call_over(self, call: Call) -> None:
        """The call ended: its REST recording, if one runs, stops (from the answer on)."""
        with self._lock:
            running, call.recording = call.recording, None
        if running is not None:
            recording, started = running
            self.finish(recording, call.clock - started, call)

    def url(self, recording: Recording) -> str:
        """RecordingUrl: the media URL without an extension, as Twilio gives it."""
        return self.api_base + recording.path()

    def action_params(self, recording: Recording) -> dict[str, str]:
        """What an action request (after <Record>, or a recorded <Dial>) adds."""
        return {
            "RecordingUrl": self.url(recording),
            "RecordingSid": recording.sid,
            "RecordingDuration": str(recording.duration or 0),
        }

    def _notify(self, recording: Recording, event: str, owner: Call) -> None:
        if not recording.callback or event not in recording.events:
            return
        with self._lock:
            params = {
                "AccountSid": ACCOUNT_SID,
                "RecordingSid": recording.sid,
                "RecordingUrl": self.url(recording),
                "RecordingStatus": event,
                "RecordingChannels": str(recording.channels),
                "RecordingStartTime": rfc2822(recording.start_time) or "",
                "RecordingSource": recording.source,
                "RecordingTrack": recording.track,
            }
            if recording.call_sid:
                params["CallSid"] = recording.call_sid
            if event != "in-progress":
                params["RecordingDuration"] = str(recording.duration or 0)
            if event == "absent":
                params["ErrorCode"] = str(recording.error_code or TOO_SHORT)
            if recording.conference_sid:
                params["ConferenceSid"] = recording.conference_sid
        url, method = recording.callback, recording.callback_method
        queue = owner.callbacks

        def send() -> None:
            if not owner.aborted:
                self._sender.deliver(
                    url, params, method, kind=f"recording-status:{event}", owner=owner
                )

        if queue is None:  # pragma: no cover (every call gets a queue)
            send()
            return
        try:
            queue.submit(send)
        except RuntimeError:  # the call's queue is closed (it is over): send on a thread
            self._registry.spawn(f"sim-rec-{recording.sid[-6:]}", send)

    # ------------------------------------------------------------ REST

    def _get(self, sid: str) -> Recording:
        with self._lock:
            recording = self._registry.recordings.get(sid)
            if recording is None or recording.deleted:
                raise TwilioError(404, 20404, f"The requested resource {sid} was not found")
            return recording

    def fetch(self, sid: str) -> dict[str, Any]:
        recording = self._get(sid)
        with self._lock:
            return recording.resource(self.api_base)

    def delete(self, sid: str) -> None:
        recording = self._get(sid)
        with self._lock:
            if recording.status == "in-progress":
                raise TwilioError(
                    400, 20001, f"Recording {sid} is in progress and cannot be deleted"
                )
            recording.deleted = True

    def list_recordings(
        self, form: dict[str, list[str]], call_sid: str | None = None
    ) -> dict[str, Any]:
        """Newest first; `CallSid`, `ConferenceSid` and `DateCreated` (a GMT day; `<`/`>` on or
        before/after) filter, as Twilio's list does."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0]

        wanted_call = call_sid or first("CallSid")
        wanted_conference = first("ConferenceSid")
        days: list[tuple[str, str]] = []
        for key, values in form.items():
            op = key.removeprefix("DateCreated")
            if key.startswith("DateCreated") and op in ("", "<", ">"):
                days += [(op, value[:10]) for value in values]
        with self._lock:
            found = sorted(
                (r for r in self._registry.recordings.values() if not r.deleted),
                key=lambda r: r.date_created,
                reverse=True,
            )
            items = [
                r.resource(self.api_base)
                for r in found
                if (not wanted_call or r.call_sid == wanted_call)
                and (not wanted_conference or r.conference_sid == wanted_conference)
                and all(_day_matches(r.date_created, op, day) for op, day in days)
            ]
        resource = f"Calls/{call_sid}/Recordings" if call_sid else "Recordings"
        return page("recordings", resource, items, form)

    def media(self, sid: str, extension: str, form: dict[str, list[str]]) -> Reply:
        """The audio: a WAV (no extension or `.wav`); `.mp3` is 415 here (no encoder)."""
        recording = self._get(sid)
        if extension == ".mp3":
            raise TwilioError(
                415, 20001, "The simulator serves recordings as WAV only (use .wav or no extension)"
            )
        with self._lock:
            if recording.status != "completed":
                raise TwilioError(404, 20404, f"The requested resource {sid} has no media")
            duration, channels = recording.duration or 0, recording.channels
        requested = (form.get("RequestedChannels") or [""])[0]
        if requested in ("1", "2"):
            channels = min(channels, int(requested))
        key = (duration, channels)
        with self._cache_lock:
            data = self._media_cache.get(key)
            if data is None:
                data = wav_bytes(duration, channels)
                if len(self._media_cache) > 16:
                    self._media_cache.clear()
                self._media_cache[key] = data
        return Reply(
            200,
            data,
            {"Content-Type": "audio/x-wav", "Content-Disposition": f'inline; filename="{sid}.wav"'},
        )


def _day_matches(created: datetime, op: str, day: str) -> bool:
    try:
        bound = datetime.fromisoformat(day).date()
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid DateCreated: {day}") from None
    if op == "":
        return created.date() == bound
    if op == ">":
        return created.date() >= bound
    return created.date() <= bound
