"""The suppression ledger (API.md, "Compliance"): /suppressions."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from chalice import Blueprint
from chalice.app import Request

from chalicelib import phone as phones
from chalicelib.api.csv_upload import from_row_param
from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.serialize import suppression_out
from chalicelib.domain.actors import Actor
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import suppressions

bp = Blueprint(__name__)

TEXT_TYPES = ["text/csv", "text/plain", "application/csv", "application/vnd.ms-excel"]


def _phone(raw: str, field: str = "phone") -> str:
    """A number from the path or the query, URL-encoded or not (`%2B1212...`, `+1212...`)."""
    return phones.normalize(unquote(raw), field)


@route(bp, "/suppressions", ["GET"])
def list_suppressions(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    phone = _phone(params["phone"]) if params.get("phone") else None
    page = suppressions.page(deps(), actor, phone, limit_param(params), params.get("cursor"))
    return page_body([suppression_out(s) for s in page.items], page.next_cursor)


@route(bp, "/suppressions", ["POST"])
def add_suppression(request: Request, actor: Actor) -> Any:
    from chalicelib.api.schemas import SuppressionCreate, parse

    body = parse(SuppressionCreate, json_body(request))
    phone = _phone(body.phone)
    channels = suppressions.channels_from(body.channels)
    item, _ = suppressions.add(
        deps(), actor, phone, channels, source="manual", reason=body.reason or None
    )
    assert item is not None
    return created(suppression_out(item))


@route(bp, "/suppressions/import", ["POST"], content_types=TEXT_TYPES)
def import_suppressions(request: Request, actor: Actor) -> dict[str, Any]:
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    params = query(request)
    channels = suppressions.parse_channels(params.get("channels"))
    # a big file takes several requests: the same file again from the last answer's nextRow
    from_row = from_row_param(params.get("fromRow") or None)
    return suppressions.import_numbers(deps(), actor, raw, channels, from_row=from_row).to_body()


@route(bp, "/suppressions/{phone}", ["GET"])
def get_suppression(request: Request, phone: str, actor: Actor) -> dict[str, Any]:
    return suppression_out(suppressions.get(deps(), actor, _phone(phone)))


@route(bp, "/suppressions/{phone}", ["DELETE"])
def remove_suppression(request: Request, phone: str, actor: Actor) -> dict[str, Any]:
    channel = query(request).get("channel")
    if channel not in (None, "", "voice", "sms"):
        raise ValidationError("channel must be voice or sms", {"field": "channel"})
    channels = suppressions.channels_from([channel] if channel else None)
    return suppression_out(suppressions.remove(deps(), actor, _phone(phone), channels))
