"""The power dialer: /dialer/sessions and its Twilio webhooks under /twilio/dialer/."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import FORM, created, json_body, limit_param, page_body, query, route
from chalicelib.api.serialize import dialer_session_out
from chalicelib.api.twilio_hooks import signed_form, twiml
from chalicelib.domain.actors import Actor
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import dialer, dialer_hooks
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

bp = Blueprint(__name__)


def _optional_body(request: Request) -> dict[str, Any]:
    if not (request.raw_body or b"").strip():
        return {}
    body = json_body(request)
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    return body


@route(bp, "/dialer/sessions", ["POST"])
def start_session(request: Request, actor: Actor) -> Any:
    body = json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("campaignId"), str):
        raise ValidationError("campaignId is required", {"field": "campaignId"})
    member = body.get("teamMemberId")
    if member is not None and not isinstance(member, str):
        raise ValidationError("teamMemberId must be a string", {"field": "teamMemberId"})
    session = dialer.start(deps(), actor, body["campaignId"], member)
    return created(dialer_session_out(session))


@route(bp, "/dialer/sessions", ["GET"])
def list_sessions(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    page = dialer.list_sessions(
        deps(),
        actor,
        params.get("campaignId") or None,
        params.get("teamMemberId") or None,
        limit_param(params),
        params.get("cursor"),
    )
    return page_body([dialer_session_out(s) for s in page.items], page.next_cursor)


@route(bp, "/dialer/sessions/{session_id}", ["GET"])
def get_session(request: Request, session_id: str, actor: Actor) -> dict[str, Any]:
    return dialer_session_out(dialer.get(deps(), actor, session_id))


def _act(request: Request, session_id: str, actor: Actor, action: str) -> dict[str, Any]:
    session = dialer.act(deps(), actor, session_id, action, _optional_body(request))
    return dialer_session_out(session)


@route(bp, "/dialer/sessions/{session_id}/next", ["POST"])
def next_lead(request: Request, session_id: str, actor: Actor) -> dict[str, Any]:
    """Optional body: the call's `disposition`, `notes`, `callbackAt` (and `callbackNote`)."""
    return _act(request, session_id, actor, "next")


@route(bp, "/dialer/sessions/{session_id}/pause", ["POST"])
def pause(request: Request, session_id: str, actor: Actor) -> dict[str, Any]:
    return _act(request, session_id, actor, "pause")


@route(bp, "/dialer/sessions/{session_id}/resume", ["POST"])
def resume(request: Request, session_id: str, actor: Actor) -> dict[str, Any]:
    return _act(request, session_id, actor, "resume")


@route(bp, "/dialer/sessions/{session_id}/end", ["POST"])
def end(request: Request, session_id: str, actor: Actor) -> dict[str, Any]:
    return _act(request, session_id, actor, "end")


@route(bp, "/dialer/sessions/{session_id}/drop-voicemail", ["POST"])
def drop_voicemail(request: Request, session_id: str, actor: Actor) -> dict[str, Any]:
    return _act(request, session_id, actor, "drop-voicemail")


# ---------------------------------------------------------------- Twilio's webhooks


@route(bp, hooks.DIALER_MEMBER, ["POST"], public=True, content_types=[FORM])
def member_answered(request: Request, session_id: str) -> Response:
    signed_form(request, hooks.DIALER_MEMBER, session_id=session_id)
    return twiml(dialer_hooks.member_answered(deps(), session_id))


@route(bp, hooks.DIALER_MEMBER_GATHER, ["POST"], public=True, content_types=[FORM])
def member_gather(request: Request, session_id: str) -> Response:
    form = signed_form(request, hooks.DIALER_MEMBER_GATHER, session_id=session_id)
    event = hooks.GatherResult.parse(form)
    return twiml(dialer_hooks.member_gather(deps(), session_id, event.digits))


@route(bp, hooks.DIALER_MEMBER_STATUS, ["POST"], public=True, content_types=[FORM])
def member_status(request: Request, session_id: str) -> Response:
    form = signed_form(request, hooks.DIALER_MEMBER_STATUS, session_id=session_id)
    dialer_hooks.member_status(deps(), session_id, hooks.CallLegEvent.parse(form).status)
    return twiml(build.empty())


@route(bp, hooks.DIALER_CONFERENCE, ["POST"], public=True, content_types=[FORM])
def conference(request: Request, session_id: str) -> Response:
    form = signed_form(request, hooks.DIALER_CONFERENCE, session_id=session_id)
    dialer_hooks.conference_event(deps(), session_id, hooks.ConferenceEvent.parse(form))
    return twiml(build.empty())


@route(bp, hooks.DIALER_LEAD, ["POST"], public=True, content_types=[FORM])
def lead_answered(request: Request, session_id: str, call_id: str) -> Response:
    form = signed_form(request, hooks.DIALER_LEAD, session_id=session_id, call_id=call_id)
    event = hooks.LeadAnswer.parse(form)
    return twiml(dialer_hooks.lead_answered(deps(), session_id, call_id, event.answered_by))


@route(bp, hooks.DIALER_LEAD_STATUS, ["POST"], public=True, content_types=[FORM])
def lead_status(request: Request, session_id: str, call_id: str) -> Response:
    form = signed_form(request, hooks.DIALER_LEAD_STATUS, session_id=session_id, call_id=call_id)
    event = hooks.CallLegEvent.parse(form)
    dialer_hooks.lead_status(deps(), session_id, call_id, event.status, event.duration)
    return twiml(build.empty())
