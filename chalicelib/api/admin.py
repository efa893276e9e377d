"""Admin only: API keys (/api-keys) and the audit log (/audit)."""

from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.clock import iso
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import ApiKey, AuditEntry
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import api_keys, audit

bp = Blueprint(__name__)


def api_key_out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "createdAt": iso(key.created_at),
        "createdBy": key.created_by,
        "revokedAt": iso(key.revoked_at),
        "active": key.revoked_at is None,
    }


def audit_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": {"type": entry.actor_type, "id": entry.actor_id, "name": entry.actor_name},
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id} if entry.target_type else None,
        "details": json.loads(entry.details) if entry.details else {},
        "requestId": entry.request_id,
    }


@route(bp, "/api-keys", ["GET"])
def list_keys(request: Request, actor: Actor) -> dict[str, Any]:
    return page_body([api_key_out(k) for k in api_keys.list_keys(deps(), actor)], None)


@route(bp, "/api-keys", ["POST"])
def create_key(request: Request, actor: Actor) -> Any:
    from chalicelib.api.schemas import ApiKeyCreate, parse

    body = parse(ApiKeyCreate, json_body(request))
    record, key = api_keys.create(deps(), actor, body.name, body.role)
    return created({**api_key_out(record), "key": key})


@route(bp, "/api-keys/{key_id}", ["DELETE"])
def revoke_key(request: Request, key_id: str, actor: Actor) -> dict[str, Any]:
    return api_key_out(api_keys.revoke(deps(), actor, key_id))


@route(bp, "/audit", ["GET"])
def audit_log(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    action = params.get("action") or None
    if action is not None and len(action) > 64:
        raise ValidationError("action is too long", {"field": "action"})
    page = audit.page(deps(), actor, action, limit_param(params), params.get("cursor"))
    return page_body([audit_out(e) for e in page.items], page.next_cursor)
