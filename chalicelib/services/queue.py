"""The dialer's queue (DESIGN.md, "The dialer"): taking the next lead of a campaign for a
session, giving it back, and recording an attempt.

The queue is an index, not a scan: campaign leads that are not done sit in a sparse GSI keyed
by campaign and `<when due>#<leadId>`. Taking the next lead:

1. the member's due callbacks first (one Query of their callbacks due now, at most
   MAX_CANDIDATES), for leads in this campaign (a callback on a lead of no campaign, or of
   another, stays on the member's list and dashboard);
2. then ONE Query of the queue for leads due now (at most MAX_CANDIDATES, soonest first).

Each candidate is reserved by a conditional update: on the condition that its queue key is
still the one read (GSI reads are eventually consistent: the condition is the guard) and that
no reservation is live. The reservation moves the queue key to the reservation's expiry
(RESERVATION_MINUTES), so a reserved lead leaves the due range for everyone else, and a crashed
session's lead is due again once the reservation lapses, with nothing to clean up. Two
sessions never hold the same lead: the second update's condition fails and it tries the next
candidate.

A candidate is skipped and rescheduled, never returned, when: its attempts reached the
campaign's `maxAttempts` (done), it was called less than `retryAfterMinutes` ago (due then;
neither applies to a due callback: the person asked to be called),
its lead is archived or gone (done), or the compliance check refuses it now: a suppressed,
do-not-call, opted-out or restricted number is done; outside its calling window it is due at
`opensAt`; over its attempt cap (24 h) it waits ATTEMPT_LIMIT_WAIT. A take examines at most
2 x MAX_CANDIDATES candidates: its cost is bounded whatever the campaign's size; when every
candidate was skipped it answers None ("try again shortly": the skipped ones left the due
range, so the next take sees new ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain import campaigns as rules
from chalicelib.domain.records import Callback, Campaign, CampaignLead, Lead
from chalicelib.services import campaigns as campaign_service
from chalicelib.services import compliance
from chalicelib.services.deps import Deps
from chalicelib.store.base import (
    Before,
    ConditionFailed,
    Eq,
    Op,
    TransactionFailed,
    Update,
    When,
)


@dataclass
class Taken:
    """A reserved lead: the lead as read now, its campaign lead item after the reservation,
    and the due callback it was taken for (None: from the queue)."""

    lead: Lead
    entry: CampaignLead
    callback: Callback | None = None


def _reservation(entry: CampaignLead, session_id: str, until: str) -> dict[str, object]:
    return {
        "reserved_by": session_id,
        "reserved_until": until,
        "queue_sk": rules.queue_key(until, entry.lead_id),
    }


def take_next(
    deps: Deps,
    campaign: Campaign,
    session_id: str,
    member_id: str,
    now: datetime | None = None,
) -> Taken | None:
    """Reserve the next lead of `campaign` for `session_id` (see the module's docstring).
    None when the campaign is not active or nothing callable is due now."""
    if campaign.status != rules.ACTIVE:
        return None
    moment = now or deps.clock.now()
    bound = rules.due_bound(moment)
    due_callbacks = deps.store.callbacks.page(member_id, bound, rules.MAX_CANDIDATES, None)
    for callback in due_callbacks.items:
        entry = deps.store.campaign_leads.get(
            rules.entry_id(campaign.id, callback.lead_id), consistent=True
        )
        if entry is None or entry.state == rules.DONE:
            continue
        taken = _try(deps, campaign, entry, session_id, moment, callback)
        if taken is not None:
            return taken
    for entry in deps.store.campaign_leads.due(campaign.id, bound, rules.MAX_CANDIDATES):
        taken = _try(deps, campaign, entry, session_id, moment, None)
        if taken is not None:
            return taken
    return None


def _try(
    deps: Deps,
    campaign: Campaign,
    entry: CampaignLead,
    session_id: str,
    now: datetime,
    callback: Callback | None,
) -> Taken | None:
    as_read: When = {"queue_sk": Eq(entry.queue_sk)}
    # A due callback is the person's own request: neither maxAttempts nor retryAfterMinutes
    # holds it back (the compliance check below still does).
    if callback is None and entry.attempts >= campaign.max_attempts:
        _move(deps, entry, as_read, rules.DONE, rules.stamp(now), rules.REASON_MAX_ATTEMPTS)
        return None
    if callback is None and entry.last_attempt_at is not None:
        again = rules.parse_stamp(entry.last_attempt_at) + timedelta(
            minutes=campaign.retry_after_minutes
        )
        if again > now:
            _move(deps, entry, as_read, rules.SCHEDULED, rules.stamp(again), None)
            return None
    until = rules.stamp(now + timedelta(minutes=rules.RESERVATION_MINUTES))
    try:
        reserved = deps.store.write(
            Update(
                "reserve",
                CampaignLead,
                entry.id,
                _reservation(entry, session_id, until),
                when={**as_read, "reserved_until": Before(rules.stamp(now))},
            )
        )
    except ConditionFailed:
        return None  # taken, moved or reserved meanwhile: the next candidate
    assert isinstance(reserved, CampaignLead)
    held: When = {"reserved_by": Eq(session_id), "queue_sk": Eq(reserved.queue_sk)}
    lead = deps.store.leads.get(entry.lead_id, consistent=True)
    if lead is None or lead.archived_at is not None:
        _move(deps, reserved, held, rules.DONE, rules.stamp(now), rules.REASON_ARCHIVED)
        return None
    refused = compliance.refusal(deps, phone=lead.phone, channel="voice", lead=lead)
    if refused is not None:
        reason, _, details = refused
        if reason in rules.NEVER_CALLABLE:
            _move(deps, reserved, held, rules.DONE, rules.stamp(now), reason)
        elif reason == "calling_hours":
            opens = details.get("opensAt")
            due = rules.parse_stamp(opens) if opens else now + rules.CLOSED_WAIT
            _move(deps, reserved, held, rules.SCHEDULED, rules.stamp(due), None)
        else:  # attempt_limit: the rules' cap over 24 hours
            due = now + rules.ATTEMPT_LIMIT_WAIT
            _move(deps, reserved, held, rules.SCHEDULED, rules.stamp(due), None)
        return None
    return Taken(lead, reserved, callback)


def _move_ops(
    entry: CampaignLead,
    when: When,
    state: str,
    due: str,
    reason: str | None,
    extra: dict[str, object] | None = None,
) -> list[Op]:
    """The campaign lead to `state`, due at `due`, its reservation cleared; the campaign's
    counters in the same transaction when the state changes."""
    changes: dict[str, object] = {
        **rules.index_keys(entry.campaign_id, entry.lead_id, state, due),
        "next_attempt_at": due,
        "reserved_by": None,
        "reserved_until": None,
        "done_reason": reason,
        **(extra or {}),
    }
    ops: list[Op] = [Update("entry", CampaignLead, entry.id, changes, when=when)]
    delta = rules.counts_delta(entry.state, state)
    if delta:
        ops.append(Update("campaign", Campaign, entry.campaign_id, {}, add=delta))
    return ops


def _move(
    deps: Deps, entry: CampaignLead, when: When, state: str, due: str, reason: str | None
) -> bool:
    """Apply `_move_ops`; False when the entry moved meanwhile (someone else decided)."""
    ops = _move_ops(entry, when, state, due, reason)
    try:
        campaign_service.retrying(lambda: deps.store.transact(ops))
    except TransactionFailed as exc:
        if "entry" in exc.failed:
            return False
        raise
    return True


def release(deps: Deps, campaign_id: str, lead_id: str, session_id: str) -> bool:
    """Give back a reservation without an attempt (the session ended or paused before dialling):
    the lead is due again at once at its own time. Only the holder's reservation is cleared;
    False when `session_id` does not hold it (lapsed and taken, or never held)."""
    entry = deps.store.campaign_leads.get(rules.entry_id(campaign_id, lead_id), consistent=True)
    if entry is None or entry.reserved_by != session_id or entry.state == rules.DONE:
        return False
    try:
        deps.store.write(
            Update(
                "release",
                CampaignLead,
                entry.id,
                {
                    "reserved_by": None,
                    "reserved_until": None,
                    "queue_sk": rules.queue_key(entry.next_attempt_at, lead_id),
                },
                when={"reserved_by": Eq(session_id), "queue_sk": Eq(entry.queue_sk)},
            )
        )
    except ConditionFailed:
        return False
    return True


def finish_attempt(
    deps: Deps,
    campaign_id: str,
    lead_id: str,
    session_id: str,
    outcome: str,
    now: datetime | None = None,
    *,
    disposition: str | None = None,
    callback_at: datetime | None = None,
) -> CampaignLead | None:
    """Record one attempt by the session holding the lead: attempts + 1, `lastAttemptAt`, and
    the lead done (a person reached with a final disposition, `do_not_call`, or `maxAttempts`
    reached) or scheduled `retryAfterMinutes` later (at `callback_at` when the member set a
    callback). The reservation is cleared. None (nothing written) when the session does not
    hold the lead: a duplicate or late finish changes nothing."""
    if outcome not in rules.OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    moment = now or deps.clock.now()
    campaign = deps.store.campaigns.get(campaign_id, consistent=True)
    if campaign is None:
        return None
    for _ in range(3):
        entry = deps.store.campaign_leads.get(rules.entry_id(campaign_id, lead_id), consistent=True)
        if entry is None or entry.reserved_by != session_id:
            return None
        attempts = entry.attempts + 1
        state, due, reason = rules.after_attempt(
            outcome=outcome,
            disposition=disposition,
            attempts=attempts,
            max_attempts=campaign.max_attempts,
            now=moment,
            retry_after_minutes=campaign.retry_after_minutes,
            callback_at=callback_at,
        )
        when: When = {"reserved_by": Eq(session_id), "attempts": Eq(entry.attempts)}
        extra: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": rules.stamp(moment),
            "last_outcome": outcome,
        }
        ops = _move_ops(entry, when, state, due, reason, extra)
        try:
            campaign_service.retrying(lambda ops=ops: deps.store.transact(ops))  # type: ignore[misc]
        except TransactionFailed as exc:
            if "entry" in exc.failed:
                continue
            raise
        return deps.store.campaign_leads.get(entry.id, consistent=True)
    return None
