"""Callbacks: POST /leads/{id}/callbacks, GET /callbacks, DELETE /callbacks/{id}."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.serialize import callback_out
from chalicelib.domain.actors import Actor
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import callbacks

bp = Blueprint(__name__)


def parse_moment(raw: str, field: str = "at") -> datetime:
    """ISO 8601 with a UTC offset (`Z` or `+02:00`); anything else is a 400 on `field`."""
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # years 1 and 9999 may not fit in UTC
    except (ValueError, OverflowError):
        raise ValidationError(
            f"{field} must be an ISO 8601 time with an offset, e.g. 2026-11-24T15:00:00Z",
            {"field": field},
        ) from None
    if moment.tzinfo is None:
        raise ValidationError(f"{field} needs a UTC offset (Z or +hh:mm)", {"field": field})
    return moment


@route(bp, "/leads/{lead_id}/callbacks", ["POST"])
def create_callback(request: Request, lead_id: str, actor: Actor) -> Response:
    from chalicelib.api.schemas import CallbackCreate, parse

    body = parse(CallbackCreate, json_body(request))
    made = callbacks.create(
        deps(), actor, lead_id, parse_moment(body.at), body.note, body.team_member_id
    )
    return created(callback_out(made))


@route(bp, "/callbacks", ["GET"])
def list_callbacks(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    due_raw = (params.get("due") or "").lower()
    if due_raw not in ("", "true", "false"):
        raise ValidationError("due must be true or false", {"field": "due"})
    member = params.get("teamMemberId") or None
    if member is not None and len(member) > 64:
        raise ValidationError("teamMemberId is too long", {"field": "teamMemberId"})
    page = callbacks.page(
        deps(), actor, member, due_raw == "true", limit_param(params), params.get("cursor")
    )
    return page_body([callback_out(c) for c in page.items], page.next_cursor)


@route(bp, "/callbacks/{callback_id}", ["DELETE"])
def delete_callback(request: Request, callback_id: str, actor: Actor) -> Response:
    callbacks.delete(deps(), actor, callback_id)
    return Response(body="", status_code=204)
