"""The inbox: each lead's latest inbound text, missed call or voicemail, newest first, with
the unread count; mark a thread read."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import json_body, limit_param, query, route
from chalicelib.clock import iso
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import InboxItem
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import inbox

bp = Blueprint(__name__)


def thread_out(item: InboxItem, lead_name: str | None) -> dict[str, Any]:
    return {
        "leadId": item.lead_id,
        "leadName": lead_name,
        "kind": item.kind,
        "at": iso(item.at),
        "preview": item.preview,
        "unread": item.unread,
        "itemId": item.item_id,
        "readAt": iso(item.read_at),
    }


def _flag(params: dict[str, str], name: str) -> bool:
    raw = params.get(name)
    if raw in (None, "", "false"):
        return False
    if raw == "true":
        return True
    raise ValidationError(f"{name} must be true or false", {"field": name})


@route(bp, "/inbox", ["GET"])
def list_inbox(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    page = inbox.list_threads(
        deps(), actor, _flag(params, "unread"), limit_param(params), params.get("cursor")
    )
    return {
        "items": [thread_out(t.item, t.lead.name) for t in page.threads],
        "nextCursor": page.next_cursor,
        "unreadCount": page.unread_count,
    }


@route(bp, "/inbox/{lead_id}/read", ["POST"])
def mark_read(request: Request, lead_id: str, actor: Actor) -> dict[str, Any]:
    """Body optional: `{"itemId"}` marks it read only if the thread still holds that item."""
    item_id = None
    if (request.raw_body or b"").strip():
        body = json_body(request)
        if not isinstance(body, dict) or set(body) - {"itemId"}:
            raise ValidationError("the body may only hold itemId", {"field": "itemId"})
        item_id = body.get("itemId")
        if item_id is not None and not isinstance(item_id, str):
            raise ValidationError("itemId must be a string", {"field": "itemId"})
    d = deps()
    lead, item = inbox.mark_read(d, actor, lead_id, item_id)
    count = inbox.unread_count(d, actor)
    if item is None:
        return {"leadId": lead_id, "leadName": lead.name, "unread": False, "unreadCount": count}
    return {**thread_out(item, lead.name), "unreadCount": count}
