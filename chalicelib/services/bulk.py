"""Bulk actions on leads (`POST /leads/bulk`): assign, status, archive, restore, suppress, on at
most 500 leads, permissions applied per lead, one audit entry per request.

Cost: the leads in one BatchGetItem per 100 (eventually consistent: each write is conditioned
on the version read), then the changes in transactions of up to `_GROUP` leads, each lead's
whole-item Put on its version (and on the fields others stamp without a version, as
services/leads.py saves a lead) with the group's funnel and conversion counters summed (one
Count per counter item: parallel transactions would all touch the funnel item and cancel each
other). A lead whose condition fails (edited since the read) leaves its group, which is sent
again without it; that lead then goes the single-lead way (`leads.update`, `archive`,
`restore`: a consistent read, its own transaction), so a concurrent edit is never overwritten
and never fails the others. Suppress: `suppressions.add_many` (a BatchGetItem of the ledger,
BatchWriteItems), the same as POST /suppressions per number (voice and SMS).

The answer: `updated` (changed), `skipped` (already so: nothing to do), `errors` (`leadId`,
`message`: not found or not the caller's, archived, changed meanwhile and refused). A lead a
caller may not read is "not found", as everywhere (ids cannot be probed)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.clock import business_day
from chalicelib.domain import counters
from chalicelib.domain.actors import Actor
from chalicelib.domain.constants import LEAD_STATUSES
from chalicelib.domain.records import Lead
from chalicelib.domain.suppressions import Channel
from chalicelib.errors import AppError, ValidationError
from chalicelib.services import access, audit, leads, suppressions, team, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.team import Patch
from chalicelib.store.base import Op, Put, TransactionFailed

MAX_LEADS = 500
ACTIONS = ("assign", "status", "archive", "restore", "suppress")
_GROUP = 40  # leads per transaction: 40 Puts + funnel + day + up to 40 member items < 100
_ATTEMPTS = 3


@dataclass
class BulkResult:
    updated: int = 0
    skipped: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)

    def error(self, lead_id: str, message: str) -> None:
        self.errors.append({"leadId": lead_id, "message": message})

    def to_body(self) -> dict[str, Any]:
        return {"updated": self.updated, "skipped": self.skipped, "errors": self.errors}


@dataclass(frozen=True)
class BulkAction:
    lead_ids: list[str]
    action: str
    value: str | None


def parse(body: Any) -> BulkAction:
    """The request body, checked: 400 with the field for anything wrong."""
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    unknown = sorted(set(body) - {"leadIds", "action", "value"})
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]}", {"field": unknown[0]})
    ids = body.get("leadIds")
    if not isinstance(ids, list) or not ids:
        raise ValidationError("leadIds must be a non-empty list of lead ids", {"field": "leadIds"})
    if len(ids) > MAX_LEADS:
        raise ValidationError(
            f"at most {MAX_LEADS} leads at a time, got {len(ids)}",
            {"field": "leadIds", "max": MAX_LEADS},
        )
    if not all(isinstance(i, str) and 0 < len(i) <= 64 for i in ids):
        raise ValidationError("every lead id must be a short string", {"field": "leadIds"})
    action = body.get("action")
    if action not in ACTIONS:
        raise ValidationError(f"action must be one of {', '.join(ACTIONS)}", {"field": "action"})
    value = body.get("value")
    if action == "assign":
        # `"value": null` unassigns; leaving it out is a mistake
        if "value" not in body or (value is not None and not isinstance(value, str)):
            raise ValidationError(
                "assign needs value: a team member's id (null unassigns)", {"field": "value"}
            )
    elif action == "status":
        if value not in LEAD_STATUSES:
            raise ValidationError(
                f"status needs value: one of {', '.join(LEAD_STATUSES)}", {"field": "value"}
            )
    elif value is not None:
        raise ValidationError(f"{action} takes no value", {"field": "value"})
    return BulkAction(list(dict.fromkeys(ids)), str(action), value)


def run(deps: Deps, actor: Actor, cmd: BulkAction) -> BulkResult:
    # What the role may not do at all is refused before anything is read (as for one lead).
    if cmd.action == "archive":
        access.require(actor, "leads.archive", "archive leads")
    elif cmd.action == "restore":
        access.require(actor, "leads.restore", "restore leads")
    elif cmd.action == "assign":
        access.check_assignment(actor, cmd.value)
        if cmd.value:
            team.require_active(deps, cmd.value, "value")
    result = BulkResult()
    found = deps.store.leads.get_many(cmd.lead_ids)
    wanted: list[Lead] = []
    for lead_id in cmd.lead_ids:
        lead = found.get(lead_id)
        if lead is None or not actor.sees_lead(lead.assigned_to_id):
            result.error(lead_id, f"lead {lead_id} not found")
            continue
        problem = _refused(lead, cmd)
        if problem is not None:
            result.error(lead_id, problem)
        elif _already(lead, cmd):
            result.skipped += 1
        else:
            wanted.append(lead)
    if cmd.action == "suppress":
        _suppress(deps, actor, wanted, result)
    else:
        _change(deps, actor, wanted, cmd, result)
    audit.record(
        deps,
        actor,
        "leads.bulk",
        None,
        {
            "action": cmd.action,
            "value": cmd.value,
            "requested": len(cmd.lead_ids),
            "updated": result.updated,
            "skipped": result.skipped,
            "errors": len(result.errors),
            "leadIds": result.updated_ids,
        },
    )
    return result


def _refused(lead: Lead, cmd: BulkAction) -> str | None:
    if cmd.action in ("assign", "status") and lead.archived_at is not None:
        return f"lead {lead.id} is archived and cannot be edited"
    return None


def _already(lead: Lead, cmd: BulkAction) -> bool:
    if cmd.action == "assign":
        return lead.assigned_to_id == cmd.value
    if cmd.action == "status":
        return lead.status == cmd.value
    if cmd.action == "archive":
        return lead.archived_at is not None
    if cmd.action == "restore":
        return lead.archived_at is None
    return False  # suppress: the ledger says (add_many counts those already suppressed)


def _suppress(deps: Deps, actor: Actor, wanted: Sequence[Lead], result: BulkResult) -> None:
    both: list[Channel] = ["voice", "sms"]
    entries = [(lead.phone, both) for lead in wanted]
    changed, already = suppressions.add_many(
        deps, actor, entries, source="manual", reason="bulk action on leads"
    )
    result.updated += changed
    result.skipped += already
    result.updated_ids += [lead.id for lead in wanted]  # acted on: suppressed now, or already


def _edited(deps: Deps, lead: Lead, cmd: BulkAction) -> Lead:
    after = copy.deepcopy(lead)
    now = deps.clock.now()
    if cmd.action == "assign":
        after.assigned_to_id = cmd.value
    elif cmd.action == "status":
        after.status = str(cmd.value)
    else:
        after.archived_at = now if cmd.action == "archive" else None
    after.updated_at = now
    return after


def _ops_of(deps: Deps, group: Sequence[tuple[Lead, Lead]]) -> list[Op]:
    """One transaction: each lead's Put (named `lead:<id>`), the group's funnel and day
    counters summed."""
    ops: list[Op] = []
    funnel: Counter[str] = Counter()
    days: dict[str, Counter[str]] = {}
    tz = deps.settings.stats_timezone
    for before, after in group:
        ops.append(Put(f"lead:{after.id}", after, when=leads._as_read(before)))
        funnel.update(
            counters.lead_status_deltas(
                before.status if before.archived_at is None else None,
                after.status if after.archived_at is None else None,
            )
        )
        if after.archived_at is None:
            conversion = leads.conversion_deltas(after, before.status)
            if conversion:
                days.setdefault(business_day(after.updated_at, tz), Counter()).update(conversion)
    deltas = {k: v for k, v in funnel.items() if v}
    if deltas:
        ops.append(leads.funnel("funnel", deltas))
    for day, part in sorted(days.items()):
        for op in transitions.day_counts(day, part):
            ops.append(_renamed(op, day))
    return ops


def _renamed(op: Op, day: str) -> Op:
    return replace(op, name=f"{op.name}@{day}")


def _change(
    deps: Deps, actor: Actor, wanted: Sequence[Lead], cmd: BulkAction, result: BulkResult
) -> None:
    alone: list[Lead] = []
    for start in range(0, len(wanted), _GROUP):
        group = [(lead, _edited(deps, lead, cmd)) for lead in wanted[start : start + _GROUP]]
        for _ in range(_ATTEMPTS):
            if not group:
                break
            try:
                deps.store.transact(_ops_of(deps, group))
            except TransactionFailed as exc:
                failed = {name.partition(":")[2] for name in exc.failed if name.startswith("lead:")}
                alone += [before for before, _ in group if before.id in failed]
                group = [(b, a) for b, a in group if b.id not in failed]
                continue
            result.updated += len(group)
            result.updated_ids += [after.id for _, after in group]
            group = []
        alone += [before for before, _ in group]  # still conflicting: one at a time
    for lead in alone:
        _one(deps, actor, lead.id, cmd, result)


def _one(deps: Deps, actor: Actor, lead_id: str, cmd: BulkAction, result: BulkResult) -> None:
    """A lead changed since the batch read: the single-lead way, which reads it again."""
    try:
        now = leads.get(deps, lead_id, actor)
        if _already(now, cmd):
            result.skipped += 1
            return
        if cmd.action == "assign":
            leads.update(deps, lead_id, Patch({"assigned_to_id": cmd.value}), actor)
        elif cmd.action == "status":
            leads.update(deps, lead_id, Patch({"status": cmd.value}), actor)
        else:
            _archive(deps, lead_id, cmd.action == "archive")
    except AppError as err:
        result.error(lead_id, err.message)
        return
    result.updated += 1
    result.updated_ids.append(lead_id)


def _archive(deps: Deps, lead_id: str, archived: bool) -> None:
    """Archive or restore as the system (the role was checked for the request; the bulk entry
    is the audit)."""
    from chalicelib.domain.actors import SYSTEM

    if archived:
        leads.archive(deps, lead_id, SYSTEM)
    else:
        leads.restore(deps, lead_id, SYSTEM)
