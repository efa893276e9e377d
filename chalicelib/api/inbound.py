"""Calls to our number (API.md, "Inbound calls and recordings"): the number's webhooks, the
members' whisper and key press, the voicemail, recordings, and GET /calls/{id}/recording."""

from __future__ import annotations

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, route
from chalicelib.api.twilio_hooks import signed_form, twiml
from chalicelib.domain.actors import Actor
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import inbound, recordings
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

bp = Blueprint(__name__)


@route(bp, hooks.VOICE_INCOMING, ["POST"], public=True, content_types=[FORM])
def incoming(request: Request) -> Response:
    """The number's "A call comes in" webhook."""
    event = hooks.IncomingCall.parse(signed_form(request, hooks.VOICE_INCOMING))
    return twiml(inbound.incoming(deps(), event.sid, event.sender, event.to))


@route(bp, hooks.VOICE_INCOMING_STATUS, ["POST"], public=True, content_types=[FORM])
def incoming_status(request: Request) -> Response:
    """The number's call status callback: the caller's leg."""
    form = signed_form(request, hooks.VOICE_INCOMING_STATUS)
    event = hooks.CallLegEvent.parse(form)
    sid = (form.get("CallSid") or "").strip()
    if sid and event.status in ("completed", "busy", "failed", "no-answer", "canceled"):
        inbound.caller_hung_up(deps(), sid, event.duration)
    return twiml(build.empty())


def _stage(raw: str) -> int:
    if not raw.isdigit() or int(raw) >= inbound.VOICEMAIL_STAGE:
        raise ValidationError("unknown routing stage", {"field": "stage"})
    return int(raw)


@route(bp, hooks.VOICE_INCOMING_NEXT, ["POST"], public=True, content_types=[FORM])
def incoming_next(request: Request, call_id: str, stage: str) -> Response:
    form = signed_form(request, hooks.VOICE_INCOMING_NEXT, call_id=call_id, stage=stage)
    event = hooks.DialResult.parse(form)
    return twiml(inbound.dial_result(deps(), call_id, _stage(stage), event.status, event.duration))


@route(bp, hooks.VOICE_INCOMING_WHISPER, ["POST"], public=True, content_types=[FORM])
def incoming_whisper(request: Request, call_id: str, member_id: str) -> Response:
    signed_form(request, hooks.VOICE_INCOMING_WHISPER, call_id=call_id, member_id=member_id)
    return twiml(inbound.whisper(deps(), call_id, member_id))


@route(bp, hooks.VOICE_INCOMING_ACCEPT, ["POST"], public=True, content_types=[FORM])
def incoming_accept(request: Request, call_id: str, member_id: str) -> Response:
    form = signed_form(request, hooks.VOICE_INCOMING_ACCEPT, call_id=call_id, member_id=member_id)
    digits = hooks.GatherResult.parse(form).digits
    return twiml(inbound.accept(deps(), call_id, member_id, digits))


@route(bp, hooks.VOICE_VOICEMAIL, ["POST"], public=True, content_types=[FORM])
def voicemail(request: Request, call_id: str) -> Response:
    form = signed_form(request, hooks.VOICE_VOICEMAIL, call_id=call_id)
    duration = hooks.RecordingEvent.parse(form).duration
    return twiml(inbound.voicemail_done(deps(), call_id, duration))


@route(bp, hooks.VOICE_RECORDING, ["POST"], public=True, content_types=[FORM])
def recording(request: Request, call_id: str) -> Response:
    """A recording of the call is complete: copied into our storage, deleted from Twilio."""
    form = signed_form(request, hooks.VOICE_RECORDING, call_id=call_id)
    event = hooks.RecordingEvent.parse(form)
    if event.sid and event.status == "completed":
        recordings.on_completed(deps(), call_id, event.sid, event.duration)
    return twiml(build.empty())


@route(bp, hooks.VOICE_NOTICE, ["POST"], public=True, content_types=[FORM])
def notice(request: Request) -> Response:
    """The recording notice a lead hears before a recorded call is bridged."""
    signed_form(request, hooks.VOICE_NOTICE)
    return twiml(build.notice())


@route(bp, "/calls/{call_id}/recording", ["GET"])
def call_recording(request: Request, call_id: str, actor: Actor) -> Response:
    audio = recordings.read_audio(deps(), actor, call_id)
    if isinstance(audio, str):  # in AWS: 303 to a presigned URL of the private object
        return Response(body="", status_code=303, headers={"Location": audio})
    return Response(
        body=audio,
        status_code=200,
        headers={
            "Content-Type": "audio/wav",
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="call-{call_id}.wav"',
        },
    )
