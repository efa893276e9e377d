"""Twilio voice webhooks: the connect TwiML and both legs' status callbacks."""

from __future__ import annotations

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, route
from chalicelib.api.twilio_hooks import int_param, signed_form, twiml
from chalicelib.services import calls
from chalicelib.telephony import twiml as build

bp = Blueprint(__name__)


@route(bp, "/twilio/voice/connect/{call_id}", ["POST"], public=True, content_types=[FORM])
def connect(request: Request, call_id: str) -> Response:
    """First fetch (member answered): whisper + gather. With Digits=1: dial the lead (no state
    change, so a repeat is harmless). Any other answer, or none: goodbye, not connected.

    A call already final here is one we reported as failed although Twilio placed it (a 5xx or
    a timeout on create, `mayHaveBeenPlaced`): it is never bridged. The user was told it failed
    and may well have placed it again, so the lead must not be rung twice, and a call shown as
    failed must not carry a conversation."""
    params = signed_form(request, f"/twilio/voice/connect/{call_id}")
    call = calls.get(call_id)
    if call.status in calls.FINAL:
        calls.advance_lead_leg(call_id, calls.NOT_CONNECTED)
        return twiml(build.cancelled())
    if "Digits" not in params:
        return twiml(build.whisper(call.lead_name or "unknown", calls.connect_url(call_id)))
    if params["Digits"] == "1" and call.lead_phone:
        return twiml(build.dial(call.lead_phone, call.caller_id, calls.lead_status_url(call_id)))
    calls.advance_lead_leg(call_id, calls.NOT_CONNECTED)
    return twiml(build.goodbye())


@route(bp, "/twilio/voice/status/{call_id}", ["POST"], public=True, content_types=[FORM])
def member_status(request: Request, call_id: str) -> Response:
    params = signed_form(request, f"/twilio/voice/status/{call_id}")
    status = params.get("CallStatus", "")
    if calls.is_known_status(status):
        calls.advance_member_leg(call_id, status, duration=int_param(params, "CallDuration"))
    else:
        calls.get(call_id)  # a status we do not track changes nothing; an unknown call is 404
    return twiml(build.empty())


@route(bp, "/twilio/voice/lead-status/{call_id}", ["POST"], public=True, content_types=[FORM])
def lead_status(request: Request, call_id: str) -> Response:
    """Both the `<Number statusCallback>` (CallStatus) and the `<Dial action>` (DialCallStatus)
    land here; the first to report a final status wins, the other changes nothing."""
    params = signed_form(request, f"/twilio/voice/lead-status/{call_id}")
    if "DialCallStatus" in params:
        status, duration = params["DialCallStatus"], int_param(params, "DialCallDuration")
    else:
        status, duration = params.get("CallStatus", ""), int_param(params, "CallDuration")
    if status == "answered":
        status = "in-progress"
    if calls.is_known_status(status):
        calls.advance_lead_leg(call_id, status, duration=duration)
    else:
        calls.get(call_id)
    return twiml(build.empty())
