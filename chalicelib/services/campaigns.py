"""Campaigns: create, read, edit (optimistic, by `Update`s of the changed fields only, so the
counters others add to are never overwritten), archive; their leads (added by ids or by a
filter of the lead list, removed, listed by state) and their stats.

A lead is in at most one campaign that is not archived (the "one active campaign" guard):
the lead record's `campaign_id` is set by a conditional update in the same transaction as the
campaign lead item and the campaign's counters. Archiving a campaign releases its leads
without touching them: a lead whose `campaign_id` names an archived campaign counts as free,
and the next campaign takes it on the condition that it still names that one (O(1) archive,
whatever the campaign's size).

The campaign's `counts` are counters on the campaign item, moved in the same transaction as
every lead's state move (add, remove, the queue's moves): exact, and one GetItem to read."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from chalicelib import phone as phones
from chalicelib.clock import new_id
from chalicelib.domain import campaigns as rules
from chalicelib.domain import compliance_rules as rules_domain
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Campaign, CampaignLead, Lead
from chalicelib.errors import Conflict, ValidationError, not_found
from chalicelib.services import access, audit, compliance_rules, numbers
from chalicelib.services.deps import Deps
from chalicelib.services.team import Patch
from chalicelib.store.base import (
    ABSENT,
    ConditionFailed,
    Count,
    Delete,
    Eq,
    Ne,
    Op,
    Page,
    Put,
    TransactionFailed,
    Update,
    When,
)

_STALE = "campaign was changed by someone else; reload and try again"
_ATTEMPTS = 5
T = TypeVar("T")

# Fields a client sets (API names -> record fields), create and PATCH alike.
EDITABLE = (
    "name",
    "status",
    "caller_id",
    "script",
    "member_ids",
    "max_attempts",
    "retry_after_minutes",
    "amd",
    "voicemail_message",
    "auto_advance_seconds",
    "record",
)


# What a PATCH may not clear with a null (the others: callerId, script, voicemailMessage,
# memberIds, which becomes []).
NOT_NULL = (
    "name",
    "status",
    "max_attempts",
    "retry_after_minutes",
    "amd",
    "auto_advance_seconds",
    "record",
)


def retrying(fn: Callable[[], T]) -> T:
    """Run a transaction, again after a `TransactionConflict` (another transaction was writing
    the same campaign's counters at that moment: safe to retry)."""
    for attempt in range(_ATTEMPTS):
        try:
            return fn()
        except TransactionFailed as exc:
            if not exc.conflict or exc.failed or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (2**attempt))
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- reading


def get(deps: Deps, campaign_id: str, actor: Actor = SYSTEM) -> Campaign:
    """The campaign if the actor may read it: managers and admins any, a caller (or a caller's
    key) those whose members include them; otherwise a 404, as if it did not exist."""
    campaign = deps.store.campaigns.get(campaign_id)
    if campaign is None or not _may_read(actor, campaign):
        raise not_found("campaign", campaign_id)
    return campaign


def _may_read(actor: Actor, campaign: Campaign) -> bool:
    if actor.may("campaigns.write"):
        return True
    return actor.member_id is not None and actor.member_id in (campaign.member_ids or [])


def list_campaigns(deps: Deps, actor: Actor, limit: int, cursor: str | None) -> Page[Campaign]:
    """Newest first; a caller's list holds the campaigns they are a member of (a caller key,
    acting for no member, has none)."""
    if actor.may("campaigns.write"):
        return deps.store.campaigns.page(limit, cursor)
    if actor.member_id is None:
        return Page([], None)
    return deps.store.campaigns.page(limit, cursor, member_id=actor.member_id)


# ---------------------------------------------------------------- writing


def _check_values(deps: Deps, values: dict[str, Any], merged: Mapping[str, Any]) -> None:
    """Checks of the values being set (`values`, normalised in place) against the campaign as
    it will be (`merged`)."""
    if "caller_id" in values and values["caller_id"] is not None:
        caller_id = phones.normalize(values["caller_id"], "callerId")
        rules_now = compliance_rules.get_rules(deps)
        restricted = rules_domain.restricted(rules_now, caller_id)
        if restricted is not None:
            raise ValidationError(
                f"callerId: {restricted.message}",
                {"field": "callerId", "reason": restricted.reason, **restricted.details},
            )
        numbers.require_own_number(deps, caller_id, "callerId", voice=True)
        values["caller_id"] = caller_id
    if "member_ids" in values:
        ids = list(dict.fromkeys(values["member_ids"] or []))
        for member_id in ids:
            member = deps.store.members.get(member_id)
            if member is None or not member.active:
                why = "does not exist" if member is None else "is deactivated"
                raise ValidationError(
                    f"team member {member_id} {why}", {"field": "memberIds", "id": member_id}
                )
        values["member_ids"] = ids
    if merged.get("amd") == "voicemail" and not merged.get("voicemail_message"):
        raise ValidationError(
            'amd "voicemail" needs a voicemailMessage', {"field": "voicemailMessage"}
        )
    if merged.get("status") == rules.ARCHIVED and "status" in values:
        raise ValidationError(
            "a campaign is archived with DELETE /campaigns/{id}", {"field": "status"}
        )


def create(deps: Deps, actor: Actor, values: Mapping[str, Any]) -> Campaign:
    access.require(actor, "campaigns.write", "create campaigns")
    given = {k: v for k, v in values.items() if k in EDITABLE}
    defaults = {f: getattr(Campaign, f) for f in EDITABLE if hasattr(Campaign, f)}
    merged = {**defaults, **given}
    _check_values(deps, given, merged)
    now = deps.clock.now()
    campaign = Campaign(
        id=new_id(), created_at=now, updated_at=now, created_by=actor.id, **{**merged, **given}
    )
    deps.store.write(Put("campaign", campaign, if_absent=True))
    audit.record(
        deps, actor, "campaign.created", ("campaign", campaign.id), {"name": campaign.name}
    )
    return campaign


def update(deps: Deps, actor: Actor, campaign_id: str, patch: Patch) -> Campaign:
    access.require(actor, "campaigns.write", "edit campaigns")
    campaign = get(deps, campaign_id, actor)
    if campaign.status == rules.ARCHIVED:
        raise Conflict("campaign is archived and cannot be edited", {"id": campaign_id})
    if patch.version is not None and patch.version != campaign.version:
        raise Conflict(_STALE, {"currentVersion": campaign.version})
    values = {k: v for k, v in patch.values.items() if k in EDITABLE}
    for name in NOT_NULL:
        if name in values and values[name] is None:
            raise ValidationError(f"{name} cannot be null", {"field": _wire(name)})
    merged = {f: getattr(campaign, f) for f in EDITABLE} | values
    _check_values(deps, values, merged)
    values["updated_at"] = deps.clock.now()
    when: When = {"version": Eq(campaign.version), "status": Ne(rules.ARCHIVED)}
    try:
        saved = deps.store.write(
            Update("campaign", Campaign, campaign_id, values, when=when, bump_version=True)
        )
    except ConditionFailed:
        raise Conflict(_STALE) from None
    assert isinstance(saved, Campaign)
    audit.record(
        deps,
        actor,
        "campaign.updated",
        ("campaign", campaign_id),
        {"fields": sorted(_wire(k) for k in values if k != "updated_at")},
    )
    return saved


def archive(deps: Deps, actor: Actor, campaign_id: str) -> Campaign:
    """Archive (DELETE): the campaign stops, keeps its history, and releases its leads (see the
    module's docstring). Archiving an archived campaign changes nothing."""
    access.require(actor, "campaigns.write", "archive campaigns")
    campaign = get(deps, campaign_id, actor)
    if campaign.status == rules.ARCHIVED:
        return campaign
    changes = {"status": rules.ARCHIVED, "updated_at": deps.clock.now()}
    try:
        saved = deps.store.write(
            Update(
                "campaign",
                Campaign,
                campaign_id,
                changes,
                when={"status": Ne(rules.ARCHIVED)},
                bump_version=True,
            )
        )
    except ConditionFailed:
        return get(deps, campaign_id, actor)
    assert isinstance(saved, Campaign)
    audit.record(deps, actor, "campaign.archived", ("campaign", campaign_id))
    return saved


def _wire(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# ---------------------------------------------------------------- leads


@dataclass
class AddResult:
    added: int = 0
    skipped: int = 0
    # a few of the skipped leads with why (`archived`, `in_another_campaign`, ...)
    examples: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None  # a filter walked its cap: go on from here
    examined: int = 0

    def skip(self, lead_id: str, reason: str, **details: Any) -> None:
        self.skipped += 1
        if len(self.examples) < 20:
            self.examples.append({"leadId": lead_id, "reason": reason, **details})


class _Holders:
    """Whether a lead's `campaign_id` still holds it: the campaign it names is not archived
    (each campaign read once per request)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.seen: dict[str, bool] = {}

    def holds(self, campaign_id: str) -> bool:
        if campaign_id not in self.seen:
            other = self.deps.store.campaigns.get(campaign_id)
            self.seen[campaign_id] = other is not None and other.status != rules.ARCHIVED
        return self.seen[campaign_id]


def _entry(campaign_id: str, lead_id: str, now: datetime) -> CampaignLead:
    due = rules.stamp(now)
    keys = rules.index_keys(campaign_id, lead_id, rules.READY, due)
    return CampaignLead(
        id=rules.entry_id(campaign_id, lead_id),
        campaign_id=campaign_id,
        lead_id=lead_id,
        added_at=now,
        next_attempt_at=due,
        state=rules.READY,
        state_pk=str(keys["state_pk"]),
        queue_pk=keys["queue_pk"],
        queue_sk=keys["queue_sk"],
    )


def _add_group(
    deps: Deps, campaign: Campaign, group: Sequence[Lead], holders: _Holders, result: AddResult
) -> None:
    """Add a group of leads in one transaction (each lead: its campaign lead item and the
    guard on the lead; once: the campaign's counter), dropping the leads whose conditions fail
    and trying again with the rest."""
    todo: list[tuple[Lead, str | None]] = []
    for lead in group:
        if lead.archived_at is not None:
            result.skip(lead.id, "archived")
        elif lead.campaign_id == campaign.id:
            result.skip(lead.id, "already_in_campaign")
        elif lead.campaign_id is not None and holders.holds(lead.campaign_id):
            result.skip(lead.id, "in_another_campaign", campaignId=lead.campaign_id)
        else:
            todo.append((lead, lead.campaign_id))
    now = deps.clock.now()
    for _ in range(_ATTEMPTS):
        if not todo:
            return
        ops: list[Op] = []
        for n, (lead, held_by) in enumerate(todo):
            ops.append(Put(f"entry{n}", _entry(campaign.id, lead.id, now), if_absent=True))
            ops.append(
                Update(
                    f"lead{n}",
                    Lead,
                    lead.id,
                    {"campaign_id": campaign.id},
                    when={
                        "campaign_id": ABSENT if held_by is None else Eq(held_by),
                        "archived_at": ABSENT,
                    },
                )
            )
        ops.append(
            Update(
                "campaign",
                Campaign,
                campaign.id,
                {},
                when={"status": Ne(rules.ARCHIVED)},
                add={"count_ready": len(todo)},
            )
        )
        try:
            retrying(lambda ops=ops: deps.store.transact(ops))  # type: ignore[misc]
        except TransactionFailed as exc:
            if "campaign" in exc.failed:
                raise Conflict("campaign is archived", {"id": campaign.id}) from None
            failed = {n for n in range(len(todo)) if {f"entry{n}", f"lead{n}"} & set(exc.failed)}
            if not failed:
                raise
            for n in sorted(failed):
                lead, _ = todo[n]
                now_lead = deps.store.leads.get(lead.id, consistent=True)
                if now_lead is None or now_lead.archived_at is not None:
                    result.skip(lead.id, "archived")
                elif now_lead.campaign_id == campaign.id:
                    result.skip(lead.id, "already_in_campaign")
                else:
                    result.skip(lead.id, "in_another_campaign", campaignId=now_lead.campaign_id)
            todo = [pair for n, pair in enumerate(todo) if n not in failed]
            continue
        result.added += len(todo)
        return
    raise Conflict(_STALE)


def _writable(deps: Deps, actor: Actor, campaign_id: str) -> Campaign:
    access.require(actor, "campaigns.write", "change a campaign's leads")
    campaign = get(deps, campaign_id, actor)
    if campaign.status == rules.ARCHIVED:
        raise Conflict("campaign is archived", {"id": campaign_id})
    return campaign


def add_leads_by_id(
    deps: Deps, actor: Actor, campaign_id: str, lead_ids: Sequence[str]
) -> AddResult:
    """Add leads by id (at most MAX_LEAD_IDS). One lead that another active campaign holds is
    a 409 `conflict` naming that campaign (`details.campaignId`); in a list of several it is
    skipped and counted, like archived leads and unknown ids."""
    campaign = _writable(deps, actor, campaign_id)
    ids = list(dict.fromkeys(lead_ids))
    if not 1 <= len(ids) <= rules.MAX_LEAD_IDS:
        raise ValidationError(
            f"leadIds must hold 1 to {rules.MAX_LEAD_IDS} ids", {"field": "leadIds"}
        )
    found = deps.store.leads.get_many(ids)
    result = AddResult(examined=len(ids))
    holders = _Holders(deps)
    present = []
    for lead_id in ids:
        if lead_id in found:
            present.append(found[lead_id])
        else:
            result.skip(lead_id, "not_found")
    for start in range(0, len(present), rules.ADD_GROUP):
        _add_group(deps, campaign, present[start : start + rules.ADD_GROUP], holders, result)
    if len(ids) == 1 and result.skipped:
        why = result.examples[0]
        if why["reason"] == "in_another_campaign":
            raise Conflict(
                "lead is in another active campaign",
                {"leadId": ids[0], "campaignId": why["campaignId"]},
            )
        if why["reason"] == "not_found":
            raise ValidationError(f"lead {ids[0]} does not exist", {"field": "leadIds"})
    _audit_added(deps, actor, campaign_id, result)
    return result


def add_leads_by_filter(
    deps: Deps,
    actor: Actor,
    campaign_id: str,
    status: str | None,
    assigned_to_id: str | None,
    cursor: str | None,
    cap: int | None = None,
) -> AddResult:
    """Add the live leads of a filter of the lead list (status, assignee, or both; none: all),
    walking its index page by page, at most `cap` leads per request; when more remain the
    answer's `next_cursor` goes on from there (send it back as `filter.cursor`)."""
    campaign = _writable(deps, actor, campaign_id)
    cap = rules.MAX_FILTER_LEADS if cap is None else cap
    repo = deps.store.leads
    result = AddResult()
    holders = _Holders(deps)
    position = cursor
    while result.examined < cap:
        want = min(100, cap - result.examined)
        if assigned_to_id:
            page = repo.page("assignee", assigned_to_id, want, position, status=status)
        elif status:
            page = repo.page("status", status, want, position)
        else:
            page = repo.page("all", None, want, position)
        result.examined += len(page.items)
        for start in range(0, len(page.items), rules.ADD_GROUP):
            _add_group(deps, campaign, page.items[start : start + rules.ADD_GROUP], holders, result)
        position = page.next_cursor
        if position is None:
            break
    result.next_cursor = position
    _audit_added(deps, actor, campaign_id, result)
    return result


def _audit_added(deps: Deps, actor: Actor, campaign_id: str, result: AddResult) -> None:
    audit.record(
        deps,
        actor,
        "campaign.leads_added",
        ("campaign", campaign_id),
        {"added": result.added, "skipped": result.skipped},
    )


def remove_lead(deps: Deps, actor: Actor, campaign_id: str, lead_id: str) -> None:
    """Take a lead out of a campaign (its counter moves; the lead is free for another). A
    session holding it finds it gone (its finish changes nothing)."""
    campaign = _writable(deps, actor, campaign_id)
    for _ in range(_ATTEMPTS):
        entry = deps.store.campaign_leads.get(rules.entry_id(campaign.id, lead_id), consistent=True)
        if entry is None:
            raise not_found("campaign lead", lead_id)
        lead = deps.store.leads.get(lead_id, consistent=True)
        ops: list[Op] = [
            Delete("entry", CampaignLead, entry.id, when={"state": Eq(entry.state)}),
            Update(
                "campaign",
                Campaign,
                campaign.id,
                {},
                add=rules.counts_delta(entry.state, None),
            ),
        ]
        if lead is not None and lead.campaign_id == campaign.id:
            ops.append(
                Update(
                    "lead",
                    Lead,
                    lead_id,
                    {"campaign_id": None},
                    when={"campaign_id": Eq(campaign.id)},
                )
            )
        try:
            retrying(lambda ops=ops: deps.store.transact(ops))  # type: ignore[misc]
        except TransactionFailed:
            continue  # its state or its lead moved meanwhile: read again
        audit.record(
            deps, actor, "campaign.lead_removed", ("campaign", campaign.id), {"leadId": lead_id}
        )
        return
    raise Conflict(_STALE)


def page_leads(
    deps: Deps, actor: Actor, campaign_id: str, state: str, limit: int, cursor: str | None
) -> tuple[Page[CampaignLead], dict[str, Lead]]:
    """A campaign's leads in one state (newest lead first) and the leads themselves (one
    BatchGetItem for the page: names and phones as they are now)."""
    campaign = get(deps, campaign_id, actor)
    page = deps.store.campaign_leads.page_by_state(campaign.id, state, limit, cursor)
    found = deps.store.leads.get_many([e.lead_id for e in page.items]) if page.items else {}
    return page, found


# ---------------------------------------------------------------- stats


ABANDON_WINDOW_DAYS = 30
ABANDON_LIMIT = 0.03  # 47 CFR 64.1200(a)(7)(i), FTC TSR 16 CFR 310.4(b)(4)(i)


def _day_scope(campaign_id: str) -> str:
    return f"campaign#{campaign_id}"


def answered_day_op(campaign_id: str, day: str, abandoned: bool) -> Count:
    """A call answered by a person, on its business day (abandoned or not): the counts the
    abandonment rate over the last 30 days is read from, in the call's final transaction."""
    deltas = {"answered": 1, "abandoned": 1 if abandoned else 0}
    return Count(
        "campaign-day", _day_scope(campaign_id), day, {k: v for k, v in deltas.items() if v}
    )


def stats(deps: Deps, actor: Actor, campaign_id: str) -> dict[str, Any]:
    """The campaign's counters, and the abandonment rate over the rule's 30 days (one Query of
    the campaign's day items) beside the all-time one."""
    from chalicelib.clock import business_day

    campaign = get(deps, campaign_id, actor)
    today = date.fromisoformat(business_day(deps.clock.now(), deps.settings.stats_timezone))
    start = (today - timedelta(days=ABANDON_WINDOW_DAYS - 1)).isoformat()
    days = deps.store.stats.range(_day_scope(campaign.id), start, today.isoformat())
    answered = sum(d.get("answered", 0) for d in days.values())
    abandoned = sum(d.get("abandoned", 0) for d in days.values())
    rate = round(abandoned / answered, 4) if answered else 0.0
    return {
        **stats_of(campaign),
        "abandonment": {
            "windowDays": ABANDON_WINDOW_DAYS,
            "answered": answered,
            "abandoned": abandoned,
            "rate": rate,
            "limit": ABANDON_LIMIT,
            "overLimit": rate > ABANDON_LIMIT,
        },
    }


def stats_of(c: Campaign) -> dict[str, Any]:
    answered = c.humans + c.machines
    return {
        "campaignId": c.id,
        "dials": c.dials,
        "humans": c.humans,
        "machines": c.machines,
        "voicemails": c.voicemails,
        "noAnswer": c.no_answer,
        "abandoned": c.abandoned,
        "abandonRate": round(c.abandoned / c.humans, 4) if c.humans else 0.0,
        "connectRate": round(c.humans / c.dials, 4) if c.dials else 0.0,
        "answered": answered,
        "talkSeconds": c.talk_seconds,
        "avgTalkSeconds": round(c.talk_seconds / c.humans, 1) if c.humans else 0.0,
        "conversions": c.conversions,
        "remaining": c.count_ready + c.count_scheduled,
        "leads": counts_of(c),
    }


def counts_of(c: Campaign) -> dict[str, int]:
    return {
        "leads": c.count_ready + c.count_scheduled + c.count_done,
        "ready": c.count_ready,
        "scheduled": c.count_scheduled,
        "done": c.count_done,
    }


def dial_outcome_op(
    campaign_id: str,
    outcome: str,
    *,
    talk_seconds: int = 0,
    voicemail_dropped: bool = False,
    abandoned: bool = False,
    converted: bool = False,
    name: str = "campaign-stats",
) -> Update:
    """The campaign's dial counters for one dial's outcome, as an operation the dialer puts in
    the same transaction as the call's final transition (so a duplicate webhook, refused by
    that transition's condition, never counts twice). `outcome`: `human`, `machine`,
    `no_answer`, `busy`, `failed` or `canceled` (AMD `unknown` is a person: `human`)."""
    if outcome not in rules.OUTCOMES:
        raise ValueError(f"unknown dial outcome {outcome!r}")
    add = {"dials": 1}
    if outcome == "human":
        add["humans"] = 1
        add["talk_seconds"] = max(0, int(talk_seconds))
    elif outcome in ("machine", "voicemail"):
        add["machines"] = 1
    elif outcome == "no_answer":
        add["no_answer"] = 1
    if voicemail_dropped or outcome == "voicemail":
        add["voicemails"] = 1
    if abandoned:
        add["abandoned"] = 1
    if converted:
        add["conversions"] = 1
    return Update(name, Campaign, campaign_id, {}, add=add)


def record_dial_outcome(deps: Deps, campaign_id: str, outcome: str, **details: Any) -> Campaign:
    """Add one dial's outcome to the campaign's counters on its own (see `dial_outcome_op`)."""
    saved = deps.store.write(dial_outcome_op(campaign_id, outcome, **details))
    assert isinstance(saved, Campaign)
    return saved


def record_conversion(deps: Deps, campaign_id: str) -> None:
    deps.store.write(Update("conversion", Campaign, campaign_id, {}, add={"conversions": 1}))
