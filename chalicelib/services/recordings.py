"""Call audio in the stack's own storage (API.md, "Inbound calls and recordings"): a voicemail
or a recorded conversation is copied out of Twilio into private storage, then deleted from
Twilio, and streamed to whoever may read its call.

Storage is `deps.audio` (chalicelib/storage.py: an S3 bucket in AWS, a directory under
`make dev`). Keys are `recordings/<callId>/<recordingSid>.wav`.

`store_recording` is idempotent per call: the first completed recording of a kind is kept (a
duplicated or late `recordingStatusCallback` stores nothing twice), by a conditional write on
the call's `recording_sid`.
"""

from __future__ import annotations

import contextlib
import re

from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Call
from chalicelib.errors import not_found
from chalicelib.services import transitions
from chalicelib.services.deps import Deps
from chalicelib.services.transitions import Change
from chalicelib.store.base import ABSENT
from chalicelib.telephony.base import TelephonyFailure

_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
MAX_BYTES = 50 * 1024 * 1024  # a 2-hour dual-channel 8 kHz WAV is ~230 MB: calls are shorter


def key_for(call_id: str, recording_sid: str) -> str:
    return f"recordings/{call_id}/{recording_sid}.wav"


def store_recording(
    deps: Deps, call_id: str, recording_sid: str, duration: int | None, kind: str
) -> bool:
    """Copy a completed recording of the call out of Twilio, keep it on the call, then delete
    it from Twilio. False (nothing done) for a malformed SID or when the call already keeps a
    recording (a redelivered callback). Twilio keeps the audio when the copy fails, so a later
    redelivery (or a manual retry) can still take it."""
    if not _SID.match(recording_sid):
        return False
    call = deps.store.calls.get(call_id, consistent=True)
    if call is None or call.recording_sid is not None:
        return False
    audio = deps.telephony.fetch_recording(recording_sid)
    if len(audio) > MAX_BYTES:
        raise ValueError(f"recording {recording_sid} is larger than {MAX_BYTES} bytes")
    key = key_for(call_id, recording_sid)
    deps.audio.put(key, audio)
    fields = {
        "recording_sid": recording_sid,
        "recording_key": key,
        "recording_seconds": max(0, duration or 0),
        "recording_kind": kind,
        "updated_at": deps.clock.now(),
    }

    def decide(current: Call) -> Change | None:
        if current.recording_sid is not None:
            return None
        return Change(fields, {"recording_sid": ABSENT})

    # with the day's counters (a voicemail counts once it is kept)
    _, stored = transitions.apply(deps, Call, call_id, decide)
    if not stored:
        return False  # another delivery stored one first: this copy is an orphan file
    if kind == "voicemail":
        from chalicelib.clock import new_id
        from chalicelib.services import inbox

        seconds = max(0, duration or 0)
        now = deps.clock.now()
        preview = f"Voicemail ({seconds} s)"
        inbox.record_inbound(deps, call.lead_id, "voicemail", now, preview, item_id=new_id())
    with contextlib.suppress(TelephonyFailure):
        deps.telephony.delete_recording(recording_sid)
    return True


def on_completed(deps: Deps, call_id: str, recording_sid: str, duration: int | None) -> bool:
    """A completed recording of the call: an inbound call nobody took left a voicemail; any
    other is the conversation. A machine's is not kept (deleted from Twilio at once)."""
    from chalicelib.domain.statuses import INBOUND, is_machine

    call = deps.store.calls.get(call_id, consistent=True)
    if call is None:
        return False
    if is_machine(call.answered_by):
        with contextlib.suppress(TelephonyFailure):
            deps.telephony.delete_recording(recording_sid)
        return False
    unanswered = call.direction == INBOUND and call.answered_at is None
    kind = "voicemail" if unanswered else "call"
    return store_recording(deps, call_id, recording_sid, duration, kind)


def read_audio(deps: Deps, actor: Actor, call_id: str) -> bytes | str:
    """The call's audio for whoever may read the call (404 otherwise, or when it has none):
    the bytes, or, from a store that links (S3), a short-lived URL of them."""
    from chalicelib.services import calls

    call = calls.get(deps, call_id, actor)
    if not call.recording_key:
        raise not_found("recording of call", call_id)
    link = getattr(deps.audio, "link", None)
    if link is not None:
        return str(link(call.recording_key))
    audio = deps.audio.get(call.recording_key)
    if audio is None:
        raise not_found("recording of call", call_id)
    return audio
