"""Leads: create with a unique phone (guard item in the same transaction), list by index
(never a Scan), edit with optimistic locking, archive (history and phone guard kept). The lead
funnel counters move in the same transaction as every status change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.constants import KEY
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import phone as phones
from chalicelib import providers
from chalicelib.api.patch import explicit_nulls, provided
from chalicelib.clock import business_day, new_id, now
from chalicelib.db import counters
from chalicelib.db import cursor as cursors
from chalicelib.db.models import LEAD_LIST_KEY, Lead, LeadPhone
from chalicelib.db.pagination import Page, query_page
from chalicelib.domain.constants import NULLABLE_LEAD_FIELDS
from chalicelib.errors import Conflict, NotFound, ValidationError, not_found
from chalicelib.services import team
from chalicelib.services.transitions import cancel_reasons

if TYPE_CHECKING:
    from chalicelib.api.schemas import LeadCreate, LeadUpdate

_STALE = "lead was changed by someone else; reload and try again"


_reasons = cancel_reasons


def _duplicate(phone: str) -> Conflict:
    existing = find_by_phone(phone)
    details: dict[str, Any] = {"field": "phone", "phone": phone}
    if existing is not None:
        details["existingLeadId"] = existing.id
    return Conflict(f"a lead with phone {phone} already exists", details)


def new_lead(
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
) -> Lead:
    """A lead record (not saved); `phone` must already be E.164 (`timezone`, when given, is
    its primary time zone, else it is looked up)."""
    stamp = now()
    lead = Lead(
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
        created_at=stamp,
        updated_at=stamp,
    )
    lead.sync_index_keys()
    return lead


def insert_in(tx: TransactWrite, lead: Lead) -> None:
    """Add a new lead, its phone guard and its funnel counts to `tx` (puts: the lead, then the
    guard, which fails its condition when the phone is taken; one update: the funnel)."""
    tx.save(lead, condition=Lead.id.does_not_exist())
    tx.save(
        LeadPhone(phone=lead.phone, lead_id=lead.id),
        condition=LeadPhone.phone.does_not_exist(),
    )
    tx.update(
        counters.funnel_item(),
        counters.add_actions(counters.lead_status_deltas(None, lead.status)),
    )


def insert(lead: Lead) -> Lead:
    """Write a new lead, its phone guard and its funnel counts in one transaction."""
    providers.settings()
    try:
        with providers.transaction() as tx:
            insert_in(tx, lead)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in _reasons(exc):
            raise _duplicate(lead.phone) from None
        raise
    return lead


def create(body: LeadCreate, source: str = "manual") -> Lead:
    providers.settings()
    if body.assigned_to_id:
        team.require_active(body.assigned_to_id, "assignedToId")
    lead = new_lead(
        name=body.name,
        phone=phones.normalize(body.phone),
        source=body.source or source,
        status=body.status,
        email=body.email,
        company=body.company,
        notes=body.notes,
        assigned_to_id=body.assigned_to_id,
        do_not_call=body.do_not_call,
        sms_opt_out=body.sms_opt_out,
    )
    return insert(lead)


def get(lead_id: str) -> Lead:
    providers.settings()
    try:
        return Lead.get(lead_id)
    except DoesNotExist:
        raise not_found("lead", lead_id) from None


def find_by_phone(phone: str) -> Lead | None:
    """The lead holding this E.164 number (archived or not), or None."""
    providers.settings()
    try:
        guard = LeadPhone.get(phone)
    except DoesNotExist:
        return None
    try:
        return Lead.get(guard.lead_id)
    except DoesNotExist:
        return None


def list_leads(
    status: str | None, assigned_to_id: str | None, limit: int, cursor: str | None
) -> Page[Lead]:
    """Newest first, always a Query on a sparse index (archived leads are not listed)."""
    providers.settings()
    if assigned_to_id:
        index: Any = Lead.by_assignee
        hash_key: str = assigned_to_id
        key_names = {"id", "gsi_assignee"}
        filter_condition = (Lead.status == status) if status else None
    elif status:
        index, hash_key, key_names, filter_condition = (
            Lead.by_status,
            status,
            {"id", "gsi_status"},
            None,
        )
    else:
        index, hash_key, key_names = Lead.all_leads, LEAD_LIST_KEY, {"id", "gsi_all"}
        filter_condition = None
    start = cursors.decode(cursor, key_names)
    return query_page(index, hash_key, key_names, limit, start, filter_condition)


def iter_all() -> Iterator[Lead]:
    """Every live lead, newest first, page by page (export)."""
    providers.settings()
    yield from Lead.all_leads.query(LEAD_LIST_KEY, scan_index_forward=False, page_size=500)


def update(lead_id: str, body: LeadUpdate) -> Lead:
    lead = get(lead_id)
    if lead.archived_at is not None:
        raise Conflict("lead is archived and cannot be edited", {"id": lead_id})
    if body.version is not None and body.version != lead.version:
        raise Conflict(_STALE, {"currentVersion": lead.version})
    bad_nulls = (
        {f for f in body.model_fields_set if getattr(body, f) is None}
        - NULLABLE_LEAD_FIELDS
        - {"version"}
    )
    if bad_nulls:
        field = sorted(bad_nulls)[0]
        raise ValidationError(f"{field} cannot be null", {"field": field})
    changes = provided(body)
    changes.pop("version", None)
    if changes.get("assigned_to_id"):
        team.require_active(changes["assigned_to_id"], "assignedToId")
    old_status, old_phone = lead.status, lead.phone
    if "phone" in changes:
        changes["phone"] = phones.normalize(changes["phone"])
        lead.timezone = phones.primary_timezone(changes["phone"])
    for field, value in changes.items():
        setattr(lead, field, value)
    for field in explicit_nulls(body, NULLABLE_LEAD_FIELDS):
        setattr(lead, field, None)
    lead.updated_at = now()
    lead.sync_index_keys()
    _save(lead, old_status=old_status, old_phone=old_phone)
    return lead


def archive(lead_id: str) -> Lead:
    """Archive: out of every list and the funnel; calls, messages and the phone guard stay."""
    lead = get(lead_id)
    if lead.archived_at is not None:
        return lead
    lead.archived_at = now()
    lead.updated_at = lead.archived_at
    lead.sync_index_keys()
    _save(lead, old_status=lead.status, old_phone=lead.phone, counted_after=False)
    return lead


def _save(lead: Lead, *, old_status: str, old_phone: str, counted_after: bool = True) -> None:
    """Save an edited lead with its version condition; move the phone guard, the funnel
    counters and the day's conversion counters in the same transaction when they change."""
    deltas = counters.lead_status_deltas(old_status, lead.status if counted_after else None)
    conversion = conversion_deltas(lead, old_status) if counted_after else {}
    phone_moved = lead.phone != old_phone
    try:
        with providers.transaction() as tx:
            tx.save(lead)
            if phone_moved:
                tx.delete(
                    LeadPhone(phone=old_phone, lead_id=lead.id),
                    condition=LeadPhone.lead_id == lead.id,
                )
                tx.save(
                    LeadPhone(phone=lead.phone, lead_id=lead.id),
                    condition=LeadPhone.phone.does_not_exist(),
                )
            if deltas:
                tx.update(counters.funnel_item(), counters.add_actions(deltas))
            if conversion:
                day = business_day(lead.updated_at, providers.settings().stats_timezone)
                tx.update(counters.day_item(day), counters.day_actions(conversion))
    except TransactWriteError as exc:
        reasons = _reasons(exc)
        if phone_moved and _guard_failed(reasons):
            raise _duplicate(lead.phone) from None
        if "ConditionalCheckFailed" in reasons:
            raise Conflict(_STALE) from None
        raise


def _guard_failed(reasons: list[str | None]) -> bool:
    # TransactItems order (PynamoDB): condition checks, deletes, puts, updates.
    # Here: [delete old guard, put lead, put new guard, (update funnel), (update day item)]:
    # the counter updates carry no condition and always come after the puts.
    return len(reasons) >= 3 and reasons[2] == "ConditionalCheckFailed"


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


def require_live(lead_id: str, field: str = "leadId") -> Lead:
    """The lead, which must exist and not be archived (calls, messages); else a 400 on `field`."""
    try:
        lead = get(lead_id)
    except NotFound:
        raise ValidationError(f"lead {lead_id} does not exist", {"field": field}) from None
    if lead.archived_at is not None:
        raise ValidationError(f"lead {lead_id} is archived", {"field": field})
    return lead


def mark_contacted(lead_id: str, at: datetime) -> None:
    """A call connected or an SMS went out: record the contact, and move a `new` lead to
    `contacted` (with its funnel counters, in one transaction). Never fails the caller's work:
    the webhook that triggers it has already been recorded."""
    providers.settings()
    for _ in range(3):
        try:
            lead = Lead.get(lead_id, consistent_read=True)
        except DoesNotExist:
            return
        if lead.status != "new" or lead.archived_at is not None:
            # Only the timestamp: no version bump, so nobody's open edit turns stale.
            Lead._get_connection().update_item(
                lead_id, actions=[Lead.last_contacted_at.set(at)], condition=Lead.id.exists()
            )
            return
        lead.status = "contacted"
        lead.last_contacted_at = at
        lead.updated_at = at
        lead.sync_index_keys()
        try:
            _save(lead, old_status="new", old_phone=lead.phone)
            return
        except Conflict:
            continue  # edited meanwhile: read again and decide again


def contact_in(tx: TransactWrite, lead: Lead, at: datetime) -> None:
    """Add to `tx` what an outbound contact does to `lead` as it was read: a live `new` lead
    moves to `contacted` (on the condition that its version is still the one read, with its
    funnel counters); any other lead only gets `lastContactedAt` (no version bump, so nobody's
    open edit turns stale). If the lead changed since it was read, the transaction fails and
    the caller falls back on `mark_contacted`, which reads again."""
    if lead.status == "new" and lead.archived_at is None:
        tx.update(
            Lead(id=lead.id, version=lead.version),  # version condition and increment
            [
                Lead.status.set("contacted"),
                Lead.gsi_status.set("contacted"),
                Lead.last_contacted_at.set(at),
                Lead.updated_at.set(at),
            ],
        )
        tx.update(
            counters.funnel_item(),
            counters.add_actions(counters.lead_status_deltas("new", "contacted")),
        )
        return
    # TransactWrite.update always versions a versioned model; this one update must not.
    operation = Lead._get_connection().get_operation_kwargs(
        lead.id, key=KEY, actions=[Lead.last_contacted_at.set(at)], condition=Lead.id.exists()
    )
    tx._update_items.append(operation)


def set_sms_opt_out(lead_id: str, opted_out: bool, at: datetime) -> bool:
    """Set or clear the lead's SMS opt-out without reading it: one conditional UpdateItem that
    changes (and bumps the version of) the lead only when the flag really changes, so a repeated
    STOP is free and an edit racing with it gets its 409. True if the flag changed."""
    providers.settings()
    actions = [
        Lead.sms_opt_out.set(opted_out),
        Lead.updated_at.set(at),
        Lead.version.add(1),
    ]
    differs = Lead.sms_opt_out.does_not_exist() | (Lead.sms_opt_out != opted_out)
    try:
        Lead._get_connection().update_item(
            lead_id, actions=actions, condition=Lead.id.exists() & differs
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False  # already so (or no such lead)
        raise
    return True
