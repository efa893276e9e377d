"""The audit log: who did what to what, when, in which request. Append-only: entries are
written once (a Put on a fresh ULID) and no code path updates or deletes one. Details never
carry secrets or message bodies, and phone numbers in them are masked as in the logs."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.clock import new_id
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import AuditEntry
from chalicelib.errors import Forbidden
from chalicelib.logs import mask_phones
from chalicelib.services.deps import Deps
from chalicelib.store.base import Page, Put

log = logging.getLogger("coldcall")

# API.md, "Identity and roles": what the log records at least.
ACTIONS = (
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.password_changed",
    "member.created",
    "member.updated",
    "member.deactivated",
    "member.password_reset",
    "apikey.created",
    "apikey.revoked",
    "leads.imported",
    "leads.exported",
    "lead.archived",
    "lead.restored",
    "lead.status_changed",
    "call.released",
    "suppression.added",
    "suppression.removed",
    "compliance.rules_changed",
    "compliance.blocked",
    "campaign.created",
    "campaign.updated",
    "campaign.archived",
    "campaign.leads_added",
    "campaign.lead_removed",
    "callback.deleted",
)


def record(
    deps: Deps,
    actor: Actor,
    action: str,
    target: tuple[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. A failure to write it is logged and raised: an action whose audit
    entry cannot be written is reported as failed to its caller, never silently unaudited."""
    entry = AuditEntry(
        id=new_id(),
        at=deps.clock.now(),
        action=action,
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_name=mask_phones(actor.name)[:200],
        target_type=target[0] if target else None,
        target_id=target[1] if target else None,
        details=mask_phones(json.dumps(details, separators=(",", ":"), sort_keys=True))
        if details
        else None,
        request_id=actor.request_id,
    )
    deps.store.write(Put("audit", entry, if_absent=True))
    return entry


def page(
    deps: Deps, actor: Actor, action: str | None, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    if not actor.may("audit.read"):
        raise Forbidden("only admins can read the audit log")
    return deps.store.audit.page(action or None, limit, cursor)
