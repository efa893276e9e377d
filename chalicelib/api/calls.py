"""Calls: place, history, wrap-up; and the account's phone numbers."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.patch import patch_of
from chalicelib.api.serialize import call_out, callback_out
from chalicelib.domain.actors import Actor
from chalicelib.providers import deps
from chalicelib.services import calls, numbers

bp = Blueprint(__name__)


@route(bp, "/calls", ["POST"])
def place_call(request: Request, actor: Actor) -> Any:
    from chalicelib.api.schemas import CallCreate, parse

    body = parse(CallCreate, json_body(request))
    call = calls.place(deps(), calls.PlaceCall(**body.model_dump()), actor)
    return created(call_out(call))


@route(bp, "/calls", ["GET"])
def list_calls(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    if any(params.get(k) for k in _LOG_PARAMS):
        return _call_log(params, actor)
    page = calls.list_calls(
        deps(),
        params.get("leadId") or None,
        params.get("teamMemberId") or None,
        limit_param(params),
        params.get("cursor"),
        actor,
    )
    return page_body([call_out(c) for c in page.items], page.next_cursor)


_LOG_PARAMS = ("from", "to", "outcome", "disposition")


def _call_log(params: dict[str, str], actor: Actor) -> dict[str, Any]:
    """The team's call log: `from`/`to` (business days, default the last 7), `teamMemberId`,
    `outcome`, `disposition` (services/call_log.py)."""
    from chalicelib.errors import ValidationError
    from chalicelib.services import call_log

    if params.get("leadId"):
        raise ValidationError(
            "leadId lists a lead's calls; it does not combine with from, to, outcome or "
            "disposition",
            {"field": "leadId"},
        )
    page = call_log.call_log(
        deps(),
        actor,
        params.get("from") or None,
        params.get("to") or None,
        params.get("teamMemberId") or None,
        params.get("outcome") or None,
        params.get("disposition") or None,
        limit_param(params),
        params.get("cursor"),
    )
    return page_body([call_out(c) for c in page.items], page.next_cursor)


@route(bp, "/calls/{call_id}", ["GET"])
def get_call(request: Request, call_id: str, actor: Actor) -> dict[str, Any]:
    return call_out(calls.get(deps(), call_id, actor))


@route(bp, "/calls/{call_id}", ["PATCH"])
def wrap_up(request: Request, call_id: str, actor: Actor) -> dict[str, Any]:
    from chalicelib.api.schemas import CallUpdate, parse

    body = parse(CallUpdate, json_body(request))
    values = dict(patch_of(body).values)
    raw_at = values.pop("callback_at", None)
    d = deps()
    if raw_at is None:
        return call_out(calls.wrap_up(d, call_id, calls.WrapUp(values), actor))
    from chalicelib.api.callbacks import parse_moment
    from chalicelib.services import callbacks

    at = parse_moment(raw_at, "callbackAt")
    call = calls.get(d, call_id, actor)
    # checked before anything is written: a refused callback leaves the call as it was
    callbacks.check(d, actor, call.team_member_id, at, "callbackAt")
    wrapped = calls.wrap_up(d, call_id, calls.WrapUp(values), actor) if values else call
    made = callbacks.create(d, actor, call.lead_id, at, values.get("notes"), call.team_member_id)
    return {**call_out(wrapped), "callback": callback_out(made)}


@route(bp, "/calls/{call_id}/release", ["POST"])
def release_call(request: Request, call_id: str, actor: Actor) -> dict[str, Any]:
    """Managers: free the member and the lead a stuck call holds."""
    return call_out(calls.release(deps(), call_id, actor))


@route(bp, "/twilio/phone-numbers", ["GET"])
def phone_numbers(request: Request) -> dict[str, Any]:
    items = [
        {
            "sid": n.sid,
            "phoneNumber": n.phone_number,
            "friendlyName": n.friendly_name,
            "capabilities": {"voice": n.voice, "sms": n.sms},
        }
        for n in numbers.account_numbers(deps())
    ]
    return {"items": items, "nextCursor": None}
