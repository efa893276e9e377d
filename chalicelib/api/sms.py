"""Twilio SMS webhooks: delivery status callbacks and inbound texts."""

from __future__ import annotations

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, route
from chalicelib.api.twilio_hooks import signed_form, twiml
from chalicelib.providers import deps
from chalicelib.services import messages
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

bp = Blueprint(__name__)


@route(bp, hooks.SMS_STATUS, ["POST"], public=True, content_types=[FORM])
def status(request: Request, message_id: str) -> Response:
    """Forward-only: a late, repeated or untracked status changes nothing (an unknown message
    is a 404)."""
    form = signed_form(request, hooks.SMS_STATUS, message_id=message_id)
    messages.advance(deps(), message_id, hooks.SmsStatusEvent.parse(form))
    return twiml(build.empty())


@route(bp, hooks.SMS_INCOMING, ["POST"], public=True, content_types=[FORM])
def incoming(request: Request) -> Response:
    """Store the text; never answer it ourselves (Twilio answers STOP, START and HELP)."""
    form = signed_form(request, hooks.SMS_INCOMING)
    messages.receive(deps(), hooks.InboundSms.parse(form))
    return twiml(build.empty())
