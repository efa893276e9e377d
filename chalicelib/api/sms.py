"""Twilio SMS webhooks: delivery status callbacks and inbound texts."""

from __future__ import annotations

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, route
from chalicelib.api.twilio_hooks import signed_form, twiml
from chalicelib.services import messages
from chalicelib.telephony import twiml as build

bp = Blueprint(__name__)


@route(bp, "/twilio/sms/status/{message_id}", ["POST"], public=True, content_types=[FORM])
def status(request: Request, message_id: str) -> Response:
    """Forward-only: a late, repeated or unknown status changes nothing."""
    params = signed_form(request, f"/twilio/sms/status/{message_id}")
    state = messages.twilio_status(params.get("MessageStatus") or params.get("SmsStatus") or "")
    if state is not None:
        messages.advance(
            message_id,
            state,
            error_code=params.get("ErrorCode") or None,
            error_message=params.get("ErrorMessage") or None,
            from_number=params.get("From") or None,
        )
    else:
        messages.get(message_id)  # a status we do not track changes nothing; unknown id: 404
    return twiml(build.empty())


@route(bp, "/twilio/sms/incoming", ["POST"], public=True, content_types=[FORM])
def incoming(request: Request) -> Response:
    """Store the text; never answer it ourselves (Twilio answers STOP, START and HELP)."""
    messages.receive(signed_form(request, "/twilio/sms/incoming"))
    return twiml(build.empty())
