"""Twilio voice webhooks: the connect TwiML, both legs' status callbacks and the lead leg's
answering-machine detection."""

from __future__ import annotations

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, route
from chalicelib.api.twilio_hooks import signed_form, twiml
from chalicelib.domain.statuses import CALL_FINAL, NOT_CONNECTED
from chalicelib.errors import Blocked
from chalicelib.providers import deps
from chalicelib.services import calls
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

bp = Blueprint(__name__)

# What the member hears when compliance refuses to dial after their key press.
SPOKEN_REFUSALS = {
    "do_not_call": "This lead asked not to be called. The call will not be connected.",
    "suppressed": "This number is on the suppression list. The call will not be connected.",
    "opted_out": "This number opted out. The call will not be connected.",
}
SPOKEN_DEFAULT = "This call is not allowed right now. The call will not be connected."


@route(bp, hooks.VOICE_CONNECT, ["POST"], public=True, content_types=[FORM])
def connect(request: Request, call_id: str) -> Response:
    """The member answered: the whisper, whose `<Gather>` posts to its own URL (the gather
    route), so a Gather result, empty or not, can never replay the whisper here.

    A call already final here is one we reported as failed although Twilio placed it (a 5xx or
    a timeout on create, `mayHaveBeenPlaced`): it is never bridged. The user was told it failed
    and may well have placed it again, so the lead must not be rung twice, and a call shown as
    failed must not carry a conversation.

    A form with a `Digits` key is a Gather result from a whisper served before the Gather had
    its own URL (a call in flight during a deploy): answered as the gather route does."""
    event = hooks.ConnectFetch.parse(signed_form(request, hooks.VOICE_CONNECT, call_id=call_id))
    if event.legacy_digits is not None:
        return _gather_result(call_id, event.legacy_digits.strip())
    d = deps()
    call = calls.get(d, call_id)
    if call.status in CALL_FINAL:
        calls.advance_lead_leg(d, call_id, NOT_CONNECTED)
        return twiml(build.cancelled())
    return twiml(build.whisper(call.lead_name or "unknown", calls.gather_url(d, call_id)))


@route(bp, hooks.VOICE_GATHER, ["POST"], public=True, content_types=[FORM])
def gather(request: Request, call_id: str) -> Response:
    """The whisper's Gather result: `1` dials the lead; anything else (no key, an empty or
    absent `Digits`, another key) says goodbye and settles the lead leg `not-connected`."""
    event = hooks.GatherResult.parse(signed_form(request, hooks.VOICE_GATHER, call_id=call_id))
    return _gather_result(call_id, event.digits)


def _gather_result(call_id: str, digits: str) -> Response:
    d = deps()
    if digits == "1":
        try:
            call = calls.start_dialling(d, call_id)
        except Blocked as refused:
            # Suppressed since the call was placed: not dialled. The member hears why.
            reason = (refused.details or {}).get("reason")
            return twiml(build.refused(SPOKEN_REFUSALS.get(str(reason), SPOKEN_DEFAULT)))
        if call is None:
            calls.advance_lead_leg(d, call_id, NOT_CONNECTED)
            return twiml(build.cancelled())
        if call.lead_phone:
            status_url = calls.lead_status_url(d, call_id)
            amd_url = calls.amd_url(d, call_id)
            recorded = d.settings.record_calls
            return twiml(
                build.dial(
                    call.lead_phone,
                    call.caller_id,
                    status_url,
                    amd_url,
                    recording_url=calls.recording_url(d, call_id) if recorded else None,
                    notice_url=calls.notice_url(d) if recorded else None,
                )
            )
    calls.advance_lead_leg(d, call_id, NOT_CONNECTED)
    return twiml(build.goodbye())


@route(bp, hooks.VOICE_STATUS, ["POST"], public=True, content_types=[FORM])
def member_status(request: Request, call_id: str) -> Response:
    event = hooks.CallLegEvent.parse(signed_form(request, hooks.VOICE_STATUS, call_id=call_id))
    d = deps()
    if event.status is not None:
        calls.advance_member_leg(d, call_id, event.status, duration=event.duration)
    else:
        calls.get(d, call_id)  # a status we do not track changes nothing; an unknown call is 404
    return twiml(build.empty())


@route(bp, hooks.VOICE_LEAD_STATUS, ["POST"], public=True, content_types=[FORM])
def lead_status(request: Request, call_id: str) -> Response:
    """Both the `<Number statusCallback>` (CallStatus) and the `<Dial action>` (DialCallStatus)
    land here; the first to report a final status wins, the other changes nothing."""
    form = signed_form(request, hooks.VOICE_LEAD_STATUS, call_id=call_id)
    event = hooks.DialResult.parse(form)
    d = deps()
    if event.status is not None:
        calls.advance_lead_leg(d, call_id, event.status, duration=event.duration)
    else:
        calls.get(d, call_id)
    return twiml(build.empty())


@route(bp, hooks.VOICE_AMD, ["POST"], public=True, content_types=[FORM])
def lead_amd(request: Request, call_id: str) -> Response:
    """The lead leg's answering-machine detection: who answered (`AnsweredBy`)."""
    event = hooks.AmdResult.parse(signed_form(request, hooks.VOICE_AMD, call_id=call_id))
    d = deps()
    if event.answered_by is not None:
        calls.record_answered_by(d, call_id, event.answered_by)
    else:
        calls.get(d, call_id)
    return twiml(build.empty())
