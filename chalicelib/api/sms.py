"""Twilio SMS webhooks: delivery status callbacks and inbound texts."""

from __future__ import annotations

import logging

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, route
from chalicelib.api.twilio_hooks import signed_form, twiml
from chalicelib.providers import deps
from chalicelib.services import messages
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

bp = Blueprint(__name__)
log = logging.getLogger("coldcall")


@route(bp, hooks.SMS_STATUS, ["POST"], public=True, content_types=[FORM])
def status(request: Request, message_id: str) -> Response:
    """Forward-only: a late, repeated or untracked status changes nothing (an unknown message
    is a 404)."""
    form = signed_form(request, hooks.SMS_STATUS, message_id=message_id)
    messages.advance(deps(), message_id, hooks.SmsStatusEvent.parse(form))
    return twiml(build.empty())


@route(bp, hooks.SMS_INCOMING, ["POST"], public=True, content_types=[FORM])
def incoming(request: Request) -> Response:
    """Store the text; never answer it ourselves (Twilio answers STOP, START and HELP).

    A text that cannot be stored after the retries is answered 200 with empty TwiML, and
    logged: Twilio never redelivers a webhook that answered 5xx, so a 5xx would bring it back
    no sooner; it would only raise an error in Twilio's console for a text that is not lost,
    since the scheduled recovery (`messages.recover_inbound`) lists it from Twilio and
    ingests it at its next run."""
    form = signed_form(request, hooks.SMS_INCOMING)
    sms = hooks.InboundSms.parse(form)
    try:
        messages.receive(deps(), sms)
    except messages.InboundNotStored:
        log.warning(
            "inbound %s not stored now; the scheduled recovery will ingest it from Twilio",
            sms.sid,
        )
    return twiml(build.empty())
