"""Messages: send an SMS to a lead, and the lead's conversation (both directions)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.serialize import message_out
from chalicelib.domain.actors import Actor
from chalicelib.providers import deps
from chalicelib.services import messages

bp = Blueprint(__name__)


@route(bp, "/messages", ["POST"])
def send_message(request: Request, actor: Actor) -> Any:
    from chalicelib.api.schemas import MessageCreate, parse

    body = parse(MessageCreate, json_body(request))
    message = messages.send(deps(), messages.SendSms(**body.model_dump()), actor)
    return created(message_out(message))


@route(bp, "/messages", ["GET"])
def conversation(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    page = messages.conversation(
        deps(), params.get("leadId") or None, limit_param(params), params.get("cursor"), actor
    )
    return page_body([message_out(m) for m in page.items], page.next_cursor)
