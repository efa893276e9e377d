"""Leads: create with a unique phone (guard item in the same transaction), list by index
(never a Scan), edit with optimistic locking, archive (history and phone guard kept) and
restore. The lead funnel counters move in the same transaction as every status change."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import phone as phones
from chalicelib.clock import business_day, new_id
from chalicelib.domain import counters
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.constants import NULLABLE_LEAD_FIELDS
from chalicelib.domain.records import Lead, LeadPhone
from chalicelib.domain.suppressions import Channel
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationError
from chalicelib.services import access, audit, search, suppressions, team, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.team import Patch
from chalicelib.store.base import (
    ABSENT,
    ConditionFailed,
    Count,
    Delete,
    Eq,
    LeadFilter,
    LeadSort,
    Op,
    Page,
    Put,
    TransactionFailed,
    Update,
    When,
)

_STALE = "lead was changed by someone else; reload and try again"
CONVERTED = "converted"
_CONTACT_ATTEMPTS = 3


@dataclass(frozen=True)
class NewLead:
    name: str
    phone: str
    email: str | None = None
    company: str | None = None
    notes: str | None = None
    status: str = "new"
    assigned_to_id: str | None = None
    source: str | None = None
    do_not_call: bool = False
    sms_opt_out: bool = False
    state: str | None = None


def _duplicate(deps: Deps, phone: str) -> Conflict:
    details: dict[str, Any] = {"field": "phone", "phone": phone}
    existing = deps.store.leads.id_by_phone(phone)
    lead = deps.store.leads.get(existing) if existing is not None else None
    if lead is not None:
        details["existingLeadId"] = existing
        if lead.archived_at is not None:
            details["existingLeadArchived"] = True
    return Conflict(f"a lead with phone {phone} already exists", details)


def new_lead(
    deps: Deps,
    *,
    name: str,
    phone: str,
    source: str,
    status: str = "new",
    email: str | None = None,
    company: str | None = None,
    notes: str | None = None,
    assigned_to_id: str | None = None,
    do_not_call: bool = False,
    sms_opt_out: bool = False,
    timezone: str | None = None,
    state: str | None = None,
) -> Lead:
    """A lead record (not saved); `phone` must already be E.164 (`timezone`, when given, is
    its primary time zone, else it is looked up)."""
    stamp = deps.clock.now()
    return Lead(
        id=new_id(),
        name=name,
        phone=phone,
        email=email,
        company=company or None,
        notes=notes or None,
        status=status,
        assigned_to_id=assigned_to_id,
        source=source,
        sms_opt_out=sms_opt_out,
        do_not_call=do_not_call,
        timezone=timezone if timezone is not None else phones.primary_timezone(phone),
        state=state,
        created_at=stamp,
        updated_at=stamp,
    )


def funnel(name: str, deltas: Mapping[str, int]) -> Count:
    """Move the funnel; every move bumps its revision, so the rollup's recount
    (services.stats.rollup_funnel) never overwrites a move it did not see."""
    return Count(name, counters.FUNNEL_SCOPE, counters.FUNNEL_DAY, deltas, revise=True)


def insert_ops(lead: Lead) -> list[Op]:
    """A new lead, its phone guard (`phone` fails when the number is taken), its funnel count,
    its search tokens."""
    tokens = search.all_token_ops(lead)  # stamps the lead's search_version: before its Put
    return [
        Put("lead", lead, if_absent=True),
        Put("phone", LeadPhone(lead.phone, lead.id), if_absent=True),
        funnel("funnel", counters.lead_status_deltas(None, lead.status)),
        *tokens,
    ]


def insert(deps: Deps, lead: Lead) -> Lead:
    """Write a new lead, its phone guard and its funnel counts in one transaction."""
    try:
        deps.store.transact(insert_ops(lead))
    except TransactionFailed as exc:
        if "phone" in exc.failed:
            raise _duplicate(deps, lead.phone) from None
        raise
    return lead


def create(deps: Deps, cmd: NewLead, source: str = "manual", actor: Actor = SYSTEM) -> Lead:
    access.check_assignment(actor, cmd.assigned_to_id)
    if cmd.assigned_to_id:
        team.require_active(deps, cmd.assigned_to_id, "assignedToId")
    lead = new_lead(
        deps,
        name=cmd.name,
        phone=phones.normalize(cmd.phone),
        source=cmd.source or source,
        status=cmd.status,
        email=cmd.email,
        company=cmd.company,
        notes=cmd.notes,
        assigned_to_id=cmd.assigned_to_id,
        state=cmd.state,
    )
    insert(deps, lead)
    # The flags are the number's suppressions (the ledger), not fields of the lead.
    suppressions.set_lead_flags(
        deps,
        actor,
        lead.phone,
        do_not_call=cmd.do_not_call or None,
        sms_opt_out=cmd.sms_opt_out or None,
    )
    return lead


def get(deps: Deps, lead_id: str, actor: Actor = SYSTEM) -> Lead:
    return access.check_lead(actor, deps.store.leads.get(lead_id), lead_id)


@dataclass(frozen=True)
class ListOptions:
    """Search, order and the filters past status and assignee (`GET /leads`)."""

    q: str | None = None
    sort: LeadSort = "createdAt"
    descending: bool = True
    source: str | None = None
    never_called: bool = False
    opted_out: bool = False
    campaign_id: str | None = None

    @property
    def plain(self) -> bool:
        return self == ListOptions()


_OPTED_OUT_ROUNDS = 4


def list_leads(
    deps: Deps,
    status: str | None,
    assigned_to_id: str | None,
    limit: int,
    cursor: str | None,
    actor: Actor = SYSTEM,
    options: ListOptions | None = None,
) -> Page[Lead]:
    """Newest first, always a Query on a sparse index (archived leads are not listed). A
    caller's list is the merge of two Queries, their leads and the unassigned ones: nothing
    they may not see is read, counted or paged over. `options`: a search (the token index,
    services/search.py), another order or more filters (store.leads.listing), or the opted-out
    list (the suppression ledger's list, services below)."""
    repo = deps.store.leads
    options = options or ListOptions()
    me: str | None = None
    if not actor.sees_all_leads:
        me = actor.member_id
        if assigned_to_id and assigned_to_id != me:
            raise Forbidden(
                "a caller sees only their own leads and unassigned ones",
                {"field": "assignedToId"},
            )
        if me is None:
            raise Forbidden("this API key's role cannot list leads")
    if not options.plain:
        spec = LeadFilter(
            status=status,
            assignee=assigned_to_id,
            visible_to=me,
            source=options.source,
            never_called=options.never_called,
            campaign_id=options.campaign_id,
            sort=options.sort,
            descending=options.descending,
        )
        if options.q is not None:
            query = search.parse(options.q)
            return search.find(deps, query, spec, limit, cursor, options.opted_out)
        if options.opted_out:
            return _opted_out(deps, spec, limit, cursor)
        return repo.listing(spec, limit, cursor)
    if me is not None:
        if assigned_to_id:
            return repo.page("assignee", me, limit, cursor, status=status)
        return repo.page_visible(me, limit, cursor, status=status)
    if assigned_to_id:
        return repo.page("assignee", assigned_to_id, limit, cursor, status=status)
    if status:
        return repo.page("status", status, limit, cursor)
    return repo.page("all", None, limit, cursor)


def total(
    deps: Deps,
    status: str | None,
    assigned_to_id: str | None,
    actor: Actor,
    options: ListOptions,
) -> int | None:
    """How many leads the list holds, where the funnel counters know it (one GetItem): the
    whole list or one status, for those who see every lead. Else None (counting would read
    the whole index)."""
    narrowed = ListOptions(sort=options.sort, descending=options.descending)
    if not actor.sees_all_leads or assigned_to_id or options != narrowed:
        return None
    item = deps.store.stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)
    values = item.counters if item is not None else {}
    name = counters.lead_status(status) if status else "total"
    return max(0, values.get(name, 0))


def _opted_out(deps: Deps, spec: LeadFilter, limit: int, cursor: str | None) -> Page[Lead]:
    """Leads whose number is suppressed (either channel), in the ledger's order (newest
    suppression first; `sort` does not apply): a page of the ledger's sparse by-listed index,
    the numbers' guards and leads (a BatchGetItem each), kept by the filter. A number holds
    at most one lead, so a ledger page of the places left never overfills the page; up to
    _OPTED_OUT_ROUNDS rounds fill it (then a shorter page with a cursor)."""
    found: list[Lead] = []
    position = cursor
    for _ in range(_OPTED_OUT_ROUNDS):
        listed = deps.store.suppressions.page(limit - len(found), position)
        position = listed.next_cursor
        ids = deps.store.leads.ids_by_phones([s.phone for s in listed.items])
        got = deps.store.leads.get_many(list(ids.values())) if ids else {}
        for item in listed.items:
            lead = got.get(ids.get(item.phone, ""))
            if lead is not None and spec.keeps(lead):
                found.append(lead)
        if position is None or len(found) >= limit:
            break
    return Page(found, position)


def iter_all(deps: Deps) -> Iterator[Lead]:
    """Every live lead, newest first, page by page (export)."""
    return deps.store.leads.iter_live()


# Fields written without a version bump (a contact's time; `sms_opt_out_by`, from before the
# ledger; the campaign holding the lead), so nobody's open edit turns stale: a whole-lead Put
# must find them as it read them.
_UNVERSIONED = ("last_contacted_at", "sms_opt_out_by", "campaign_id")


class _Stamped(Exception):
    """Only an unversioned field changed since the lead was read: apply the edit again."""


def update(deps: Deps, lead_id: str, patch: Patch, actor: Actor = SYSTEM) -> Lead:
    if "assigned_to_id" in patch.values:
        access.check_assignment(actor, patch.values["assigned_to_id"])
    for _ in range(_CONTACT_ATTEMPTS):
        lead = get(deps, lead_id, actor)
        if lead.archived_at is not None:
            raise Conflict("lead is archived and cannot be edited", {"id": lead_id})
        if patch.version is not None and patch.version != lead.version:
            raise Conflict(_STALE, {"currentVersion": lead.version})
        bad_nulls = {f for f, v in patch.values.items() if v is None} - NULLABLE_LEAD_FIELDS
        if bad_nulls:
            field = sorted(bad_nulls)[0]
            raise ValidationError(f"{field} cannot be null", {"field": field})
        changes = dict(patch.values)
        flags = {f: changes.pop(f) for f in ("do_not_call", "sms_opt_out") if f in changes}
        new_phone = phones.normalize(changes["phone"]) if "phone" in changes else lead.phone
        _migrate_flags(deps, lead)  # a flag stored before the ledger: into it first
        # Refused (403/409) before the lead is written.
        suppressions.set_lead_flags(
            deps,
            actor,
            new_phone,
            do_not_call=flags.get("do_not_call"),
            sms_opt_out=flags.get("sms_opt_out"),
            check_only=True,
        )
        if changes.get("assigned_to_id"):
            team.require_active(deps, changes["assigned_to_id"], "assignedToId")
        read = _as_read(lead)
        before = dataclasses.replace(lead)
        old_status, old_phone = lead.status, lead.phone
        if "phone" in changes:
            changes["phone"] = phones.normalize(changes["phone"])
            lead.timezone = phones.primary_timezone(changes["phone"])
        for field, value in changes.items():
            setattr(lead, field, value)
        lead.updated_at = deps.clock.now()
        try:
            _save(deps, lead, read, before, old_status=old_status, old_phone=old_phone)
        except _Stamped:
            continue
        suppressions.set_lead_flags(
            deps,
            actor,
            lead.phone,
            do_not_call=flags.get("do_not_call"),
            sms_opt_out=flags.get("sms_opt_out"),
        )
        if lead.status != old_status and CONVERTED in (lead.status, old_status):
            # Every move into or out of `converted` is on record (it counts once: a conversion
            # is an event), with who made it.
            audit.record(
                deps,
                actor,
                "lead.status_changed",
                ("lead", lead.id),
                {"from": old_status, "to": lead.status},
            )
        return lead
    raise Conflict(_STALE)


def archive(deps: Deps, lead_id: str, actor: Actor = SYSTEM) -> Lead:
    """Archive: out of every list and the funnel; calls, messages and the phone guard stay."""
    # The role first: a caller is refused whatever the id (nothing to probe), at no read.
    access.require(actor, "leads.archive", "archive leads")
    return _set_archived(deps, lead_id, True, actor)


def restore(deps: Deps, lead_id: str, actor: Actor = SYSTEM) -> Lead:
    """Bring an archived lead back: into its lists and the funnel again, in one transaction
    (its calls, messages and phone guard never left). A live lead is returned unchanged."""
    access.require(actor, "leads.restore", "restore leads")
    return _set_archived(deps, lead_id, False, actor)


def _set_archived(deps: Deps, lead_id: str, archived: bool, actor: Actor) -> Lead:
    """Archive or restore in one transaction with the funnel (out of it, or back in); a lead
    already so is returned unchanged. Audited for people and keys (not for the system)."""
    for _ in range(_CONTACT_ATTEMPTS):
        lead = get(deps, lead_id)
        if (lead.archived_at is not None) == archived:
            return lead
        read = _as_read(lead)
        before = dataclasses.replace(lead)
        moment = deps.clock.now()
        lead.archived_at = moment if archived else None
        lead.updated_at = moment
        try:
            _save(
                deps,
                lead,
                read,
                before,  # archived: its tokens go; restored: they come back
                old_status=lead.status,
                old_phone=lead.phone,
                counted_before=archived,  # a live lead is in the funnel, an archived one not
                counted_after=not archived,
            )
        except _Stamped:
            continue
        if actor is not SYSTEM:
            action = "lead.archived" if archived else "lead.restored"
            audit.record(deps, actor, action, ("lead", lead.id))
        return lead
    raise Conflict(_STALE)


def _as_read(lead: Lead) -> When:
    values = {name: getattr(lead, name) for name in _UNVERSIONED}
    return {name: ABSENT if value is None else Eq(value) for name, value in values.items()}


def _save(
    deps: Deps,
    lead: Lead,
    read: When,
    before: Lead | None = None,
    *,
    old_status: str,
    old_phone: str,
    counted_before: bool = True,
    counted_after: bool = True,
) -> None:
    """Save an edited lead with its version condition (and its unversioned fields as `read`);
    move the phone guard, the funnel counters and the day's conversion counters in the same
    transaction when they change (`counted_before`/`counted_after`: whether the lead is in the
    funnel before and after, i.e. not archived). Raises `_Stamped` when only an unversioned
    field moved meanwhile (a call connected, a keyword arrived): the caller applies its edit
    again."""
    deltas = counters.lead_status_deltas(
        old_status if counted_before else None, lead.status if counted_after else None
    )
    conversion = conversion_deltas(lead, old_status) if counted_after else {}
    # the search tokens it loses and gains (`before` unknown: every token put again); stamps
    # the lead's search_version, before its Put
    tokens = search.token_ops(before, lead)
    ops: list[Op] = [Put("lead", lead, when=read), *tokens]
    if lead.phone != old_phone:
        ops.append(Delete("old-phone", LeadPhone, old_phone, when={"lead_id": Eq(lead.id)}))
        ops.append(Put("phone", LeadPhone(lead.phone, lead.id), if_absent=True))
    if deltas:
        ops.append(funnel("funnel", deltas))
    if conversion:
        day = business_day(lead.updated_at, deps.settings.stats_timezone)
        ops += transitions.day_counts(day, conversion)
    try:
        deps.store.transact(ops)
    except TransactionFailed as exc:
        if "phone" in exc.failed:
            raise _duplicate(deps, lead.phone) from None
        if "lead" in exc.failed:
            now = deps.store.leads.get(lead.id, consistent=True)
            if now is not None and now.version == lead.version:
                raise _Stamped from None
        if exc.failed or exc.conflict:
            raise Conflict(_STALE) from None
        raise


def conversion_deltas(lead: Lead, old_status: str) -> dict[str, int]:
    """Day counters for a lead whose status changes to `converted`: the day's total and, when
    the lead is assigned, its assignee's. A conversion is an event of the day it happens: moving
    the lead back out of `converted` takes nothing away (the funnel shows where leads are now;
    these counters say what the team did), and converting it again counts again."""
    if lead.status != "converted" or old_status == "converted":
        return {}
    deltas = {counters.CONVERTED: 1}
    if lead.assigned_to_id:
        deltas[counters.member(lead.assigned_to_id, "converted")] = 1
    return deltas


def require_live(deps: Deps, lead_id: str, field: str = "leadId", actor: Actor = SYSTEM) -> Lead:
    """The lead, which must exist (for this actor) and not be archived (calls, messages); else
    a 400 on `field`."""
    try:
        lead = get(deps, lead_id, actor)
    except NotFound:
        raise ValidationError(f"lead {lead_id} does not exist", {"field": field}) from None
    if lead.archived_at is not None:
        raise ValidationError(f"lead {lead_id} is archived", {"field": field})
    return lead


def contact_ops(lead: Lead, at: datetime) -> list[Op]:
    """What an outbound contact does to `lead` as it was read: a live `new` lead moves to
    `contacted` (on the condition that its version is still the one read, with its funnel
    counters); any other lead only gets `lastContactedAt` (no version bump, so nobody's open
    edit turns stale). If the lead changed since it was read, the transaction fails (`lead`)
    and the caller falls back on `mark_contacted`, which reads again."""
    if lead.status == "new" and lead.archived_at is None:
        read = _as_read(lead)
        lead.status = "contacted"
        lead.last_contacted_at = at
        lead.updated_at = at
        return [
            Put("lead", lead, when=read),
            funnel("funnel", counters.lead_status_deltas("new", "contacted")),
        ]
    return [Update("lead", Lead, lead.id, {"last_contacted_at": at})]


def mark_contacted(deps: Deps, lead_id: str, at: datetime) -> None:
    """A call connected or an SMS went out: record the contact, and move a `new` lead to
    `contacted` (with its funnel counters, in one transaction). Never fails the caller's work:
    the webhook that triggers it has already been recorded."""
    for _ in range(_CONTACT_ATTEMPTS):
        lead = deps.store.leads.get(lead_id, consistent=True)
        if lead is None:
            return
        if lead.status != "new" or lead.archived_at is not None:
            # One field, no transaction needed; a lead gone meanwhile needs nothing.
            with contextlib.suppress(ConditionFailed):
                deps.store.write(Update("lead", Lead, lead.id, {"last_contacted_at": at}))
            return
        try:
            deps.store.transact(contact_ops(lead, at))
            return
        except TransactionFailed:
            continue  # edited meanwhile: read again and decide again


def _migrate_flags(deps: Deps, lead: Lead) -> None:
    """A lead saved before the ledger may still hold `do_not_call`/`sms_opt_out`: they become
    its number's suppressions (source `lead_flag`) before the lead is saved without them, so an
    edit never frees a number (the backfill, `store.tables.backfill_suppressions`, does the
    same for every lead at deploy)."""
    channels: list[Channel] = []
    if lead.do_not_call:
        channels.append("voice")
    if lead.sms_opt_out:
        channels.append("sms")
    if channels:
        suppressions.add(
            deps, SYSTEM, lead.phone, channels, source="lead_flag", reason="flag on the lead"
        )
        lead.do_not_call = False
        lead.sms_opt_out = False
