"""The dialer's queue on the in-memory store with a frozen clock (services.queue): the order
leads come in, reservations and their expiry, what is skipped and rescheduled (never
returned), due callbacks first, attempts, bounded cost, and concurrent takers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain import campaigns as rules
from chalicelib.domain.actors import SYSTEM
from chalicelib.domain.records import Campaign
from chalicelib.services import callbacks, campaigns, leads, queue, suppressions, team
from chalicelib.services.deps import Deps
from chalicelib.services.team import Patch

# CLOCK_START: Monday 2026-11-23 17:00 UTC, 12:00 in New York, 09:00 in Los Angeles.
NY = "+1212555{:04d}"
LA = "+1213555{:04d}"


@pytest.fixture
def member(deps: Deps) -> Any:
    made, _ = team.create(deps, team.NewMember(name="Ann", phone="+14155550100"))
    return made


def make_leads(deps: Deps, n: int, pattern: str = NY, start: int = 0) -> list[Any]:
    made = []
    for i in range(start, start + n):
        made.append(leads.create(deps, leads.NewLead(name=f"Lead {i}", phone=pattern.format(i))))
        deps.clock.advance(milliseconds=1)  # type: ignore[attr-defined]
    return made


def make_campaign(deps: Deps, lead_list: list[Any], **values: Any) -> Campaign:
    made = campaigns.create(deps, SYSTEM, {"name": "Spring", **values})
    if lead_list:
        result = campaigns.add_leads_by_id(deps, SYSTEM, made.id, [x.id for x in lead_list])
        assert result.added == len(lead_list)
    return current(deps, made.id)


def current(deps: Deps, campaign_id: str) -> Campaign:
    found = deps.store.campaigns.get(campaign_id, consistent=True)
    assert found is not None
    return found


def counts(deps: Deps, campaign_id: str) -> dict[str, int]:
    return campaigns.counts_of(current(deps, campaign_id))


def entry(deps: Deps, campaign_id: str, lead_id: str) -> Any:
    return deps.store.campaign_leads.get(rules.entry_id(campaign_id, lead_id), consistent=True)


def test_leads_come_in_the_order_they_were_added_each_reserved_once(deps, member):
    made = make_leads(deps, 3)
    c = make_campaign(deps, made)
    first = queue.take_next(deps, c, "S1", member.id)
    second = queue.take_next(deps, c, "S2", member.id)
    assert first is not None and second is not None
    assert [first.lead.id, second.lead.id] == [made[0].id, made[1].id]
    held = entry(deps, c.id, made[0].id)
    assert held.reserved_by == "S1"
    until = deps.clock.now() + timedelta(minutes=rules.RESERVATION_MINUTES)
    assert held.reserved_until == rules.stamp(until)
    # a reservation takes the lead out of the due range: the third comes next, then nothing
    third = queue.take_next(deps, c, "S3", member.id)
    assert third is not None and third.lead.id == made[2].id
    assert queue.take_next(deps, c, "S4", member.id) is None
    assert counts(deps, c.id) == {"leads": 3, "ready": 3, "scheduled": 0, "done": 0}


def test_a_crashed_sessions_reservation_lapses_and_another_takes_the_lead(deps, member):
    made = make_leads(deps, 1)
    c = make_campaign(deps, made)
    assert queue.take_next(deps, c, "S1", member.id) is not None
    deps.clock.advance(minutes=rules.RESERVATION_MINUTES - 1)
    assert queue.take_next(deps, c, "S2", member.id) is None
    deps.clock.advance(minutes=2)
    again = queue.take_next(deps, c, "S2", member.id)
    assert again is not None and again.entry.reserved_by == "S2"
    # the first session's late finish changes nothing
    assert queue.finish_attempt(deps, c.id, made[0].id, "S1", "human") is None
    assert entry(deps, c.id, made[0].id).attempts == 0


def test_release_gives_the_lead_back_at_its_own_time(deps, member):
    made = make_leads(deps, 2)
    c = make_campaign(deps, made)
    taken = queue.take_next(deps, c, "S1", member.id)
    assert taken is not None and taken.lead.id == made[0].id
    assert queue.release(deps, c.id, made[0].id, "S2") is False  # not theirs
    assert queue.release(deps, c.id, made[0].id, "S1") is True
    assert queue.release(deps, c.id, made[0].id, "S1") is False  # already released
    again = queue.take_next(deps, c, "S2", member.id)
    assert again is not None and again.lead.id == made[0].id


@pytest.mark.parametrize(
    ("outcome", "disposition", "state", "reason"),
    [
        ("human", "meeting_booked", "done", "reached"),
        ("human", "not_interested", "done", "reached"),
        ("human", "do_not_call", "done", "do_not_call"),
        ("human", "callback_requested", "scheduled", None),
        ("human", None, "scheduled", None),
        ("no_answer", None, "scheduled", None),
        ("machine", "left_voicemail", "scheduled", None),
        ("busy", None, "scheduled", None),
    ],
)
def test_an_attempts_outcome_decides_where_the_lead_goes(
    deps, member, outcome, disposition, state, reason
):
    made = make_leads(deps, 1)
    c = make_campaign(deps, made, retry_after_minutes=90)
    assert queue.take_next(deps, c, "S1", member.id) is not None
    deps.clock.advance(minutes=3)
    after = queue.finish_attempt(deps, c.id, made[0].id, "S1", outcome, disposition=disposition)
    assert after is not None
    assert (after.state, after.done_reason, after.attempts) == (state, reason, 1)
    assert after.last_attempt_at == rules.stamp(deps.clock.now())
    assert after.reserved_by is None and after.last_outcome == outcome
    if state == "scheduled":
        assert after.next_attempt_at == rules.stamp(deps.clock.now() + timedelta(minutes=90))
        assert after.queue_sk == rules.queue_key(after.next_attempt_at, made[0].id)
    else:
        assert after.queue_sk is None and after.queue_pk is None  # out of the queue
    want = {"leads": 1, "ready": 0, "scheduled": int(state == "scheduled")}
    want["done"] = int(state == "done")
    assert counts(deps, c.id) == want
    # a duplicate finish changes nothing
    assert queue.finish_attempt(deps, c.id, made[0].id, "S1", outcome) is None


def test_attempts_stop_at_max_attempts_and_retry_waits_retry_after_minutes(deps, member):
    made = make_leads(deps, 1)
    c = make_campaign(deps, made, max_attempts=2, retry_after_minutes=60)
    assert queue.take_next(deps, c, "S1", member.id) is not None
    queue.finish_attempt(deps, c.id, made[0].id, "S1", "no_answer")
    deps.clock.advance(minutes=59)
    assert queue.take_next(deps, c, "S1", member.id) is None  # not due yet
    deps.clock.advance(minutes=1)
    second = queue.take_next(deps, c, "S1", member.id)
    assert second is not None and second.entry.attempts == 1
    after = queue.finish_attempt(deps, c.id, made[0].id, "S1", "busy")
    assert after is not None and (after.state, after.done_reason) == ("done", "max_attempts")
    deps.clock.advance(days=2)
    assert queue.take_next(deps, c, "S1", member.id) is None
    assert counts(deps, c.id)["done"] == 1


def test_a_lead_called_less_than_retry_after_ago_is_rescheduled_not_returned(deps, member):
    made = make_leads(deps, 1)
    c = make_campaign(deps, made, retry_after_minutes=30)
    queue.take_next(deps, c, "S1", member.id)
    attempt_at = deps.clock.now()
    queue.finish_attempt(deps, c.id, made[0].id, "S1", "no_answer")
    # the manager lengthens the wait: a lead due by the old one is pushed to the new one
    campaigns.update(deps, SYSTEM, c.id, Patch({"retry_after_minutes": 240}))
    c = current(deps, c.id)
    deps.clock.advance(minutes=31)
    assert queue.take_next(deps, c, "S1", member.id) is None
    moved = entry(deps, c.id, made[0].id)
    assert moved.next_attempt_at == rules.stamp(attempt_at + timedelta(minutes=240))
    assert moved.reserved_by is None and moved.state == "scheduled"


def test_lowering_max_attempts_finishes_leads_past_it(deps, member):
    made = make_leads(deps, 1)
    c = make_campaign(deps, made, retry_after_minutes=5)
    queue.take_next(deps, c, "S1", member.id)
    queue.finish_attempt(deps, c.id, made[0].id, "S1", "no_answer")
    campaigns.update(deps, SYSTEM, c.id, Patch({"max_attempts": 1}))
    deps.clock.advance(minutes=6)
    assert queue.take_next(deps, current(deps, c.id), "S1", member.id) is None
    done = entry(deps, c.id, made[0].id)
    assert (done.state, done.done_reason) == ("done", "max_attempts")


def test_suppressed_and_archived_leads_are_done_never_returned(deps, member):
    made = make_leads(deps, 3)
    c = make_campaign(deps, made)
    suppressions.add(deps, SYSTEM, made[0].phone, ["voice"], source="manual")
    leads.archive(deps, made[1].id)
    taken = queue.take_next(deps, c, "S1", member.id)
    assert taken is not None and taken.lead.id == made[2].id
    first, second = entry(deps, c.id, made[0].id), entry(deps, c.id, made[1].id)
    assert (first.state, first.done_reason) == ("done", "suppressed")
    assert (second.state, second.done_reason) == ("done", "lead_archived")
    assert counts(deps, c.id) == {"leads": 3, "ready": 1, "scheduled": 0, "done": 2}


def test_a_lead_outside_its_calling_window_waits_for_it_to_open(deps, member):
    deps.clock.set(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 09:30 NY, 06:30 LA
    west = make_leads(deps, 1, LA)
    east = make_leads(deps, 1, NY, start=50)
    c = make_campaign(deps, [*west, *east])
    taken = queue.take_next(deps, c, "S1", member.id)
    assert taken is not None and taken.lead.id == east[0].id
    waiting = entry(deps, c.id, west[0].id)
    assert waiting.state == "scheduled" and waiting.reserved_by is None
    assert waiting.next_attempt_at == "2026-11-23T16:00:00.000Z"  # 08:00 in Los Angeles
    assert queue.take_next(deps, c, "S2", member.id) is None
    queue.finish_attempt(deps, c.id, east[0].id, "S1", "human", disposition="meeting_booked")
    deps.clock.set(datetime(2026, 11, 23, 16, 0, 1, tzinfo=UTC))
    later = queue.take_next(deps, c, "S2", member.id)
    assert later is not None and later.lead.id == west[0].id


def test_due_callbacks_of_the_member_come_first(deps, member):
    other, _ = team.create(deps, team.NewMember(name="Bo", phone="+14155550101"))
    made = make_leads(deps, 4)
    outside = make_leads(deps, 1, start=60)
    c = make_campaign(deps, made)
    soon = deps.clock.now() + timedelta(minutes=5)
    mine = callbacks.create(deps, SYSTEM, made[3].id, soon, "asked for 5 past", member.id)
    callbacks.create(deps, SYSTEM, made[2].id, soon, None, other.id)  # someone else's
    callbacks.create(deps, SYSTEM, outside[0].id, soon, None, member.id)  # no campaign's
    first = queue.take_next(deps, c, "S1", member.id)
    assert first is not None and first.lead.id == made[0].id  # not due yet: the queue
    deps.clock.advance(minutes=6)
    second = queue.take_next(deps, c, "S1", member.id)
    assert second is not None and second.lead.id == made[3].id
    assert second.callback is not None and second.callback.id == mine.id
    # the callback is done once the owner's call completes
    assert callbacks.complete_callbacks(deps, made[3].id, member.id) == 1
    third = queue.take_next(deps, c, "S1", member.id)
    assert third is not None and third.lead.id == made[1].id and third.callback is None


def test_a_paused_or_archived_campaign_gives_nothing(deps, member):
    made = make_leads(deps, 1)
    c = make_campaign(deps, made)
    campaigns.update(deps, SYSTEM, c.id, Patch({"status": "paused"}))
    assert queue.take_next(deps, current(deps, c.id), "S1", member.id) is None
    campaigns.update(deps, SYSTEM, c.id, Patch({"status": "active"}))
    campaigns.archive(deps, SYSTEM, c.id)
    assert queue.take_next(deps, current(deps, c.id), "S1", member.id) is None


@pytest.mark.parametrize("size", [10, 300])
def test_a_take_costs_a_bounded_number_of_requests_whatever_the_size(deps, member, size):
    """Every lead suppressed: each take examines at most MAX_CANDIDATES queue items (and as
    many callbacks) and gives up; the skipped ones left the due range, so the next take sees
    others. The cost per take is the same for 10 leads and 300."""
    made = make_leads(deps, size)
    suppressions.add_many(deps, SYSTEM, [(x.phone, ["voice"]) for x in made], source="manual")
    c = make_campaign(deps, made)
    store = deps.store
    costs = []
    for _ in range(2):
        before = store.requests  # type: ignore[attr-defined]
        assert queue.take_next(deps, c, "S1", member.id) is None
        costs.append(store.requests - before)  # type: ignore[attr-defined]
    # 2 Queries + per candidate: reserve, lead, compliance, the move
    per_take = 2 + rules.MAX_CANDIDATES * 4
    assert costs == [per_take, per_take]
    assert counts(deps, c.id)["done"] == min(size, 2 * rules.MAX_CANDIDATES)


def test_concurrent_takers_never_get_the_same_lead(deps, member):
    made = make_leads(deps, 30)
    c = make_campaign(deps, made)
    got: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def taker(n: int) -> None:
        start.wait()
        while True:
            taken = queue.take_next(deps, c, f"S{n}", member.id)
            if taken is None:
                return
            with lock:
                got.append(taken.lead.id)

    threads = [threading.Thread(target=taker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(got) == sorted(x.id for x in made)  # every lead once, none twice


def test_dial_outcomes_add_to_the_campaigns_stats(deps, member):
    made = make_leads(deps, 2)
    c = make_campaign(deps, made)
    campaigns.record_dial_outcome(deps, c.id, "human", talk_seconds=42, converted=True)
    campaigns.record_dial_outcome(deps, c.id, "human", talk_seconds=18, abandoned=True)
    campaigns.record_dial_outcome(deps, c.id, "machine", voicemail_dropped=True)
    campaigns.record_dial_outcome(deps, c.id, "no_answer")
    campaigns.record_dial_outcome(deps, c.id, "busy")
    stats = campaigns.stats_of(current(deps, c.id))
    assert {k: stats[k] for k in ("dials", "humans", "machines", "voicemails", "noAnswer")} == {
        "dials": 5,
        "humans": 2,
        "machines": 1,
        "voicemails": 1,
        "noAnswer": 1,
    }
    assert (stats["talkSeconds"], stats["conversions"], stats["abandoned"]) == (60, 1, 1)
    assert (stats["abandonRate"], stats["remaining"]) == (0.5, 2)
    with pytest.raises(ValueError):
        campaigns.record_dial_outcome(deps, c.id, "exploded")


def test_an_archived_campaign_releases_its_leads_to_another(deps, member):
    made = make_leads(deps, 2)
    first = make_campaign(deps, made)
    second = make_campaign(deps, [])
    blocked = campaigns.add_leads_by_id(deps, SYSTEM, second.id, [x.id for x in made])
    assert (blocked.added, blocked.skipped) == (0, 2)
    assert blocked.examples[0] == {
        "leadId": made[0].id,
        "reason": "in_another_campaign",
        "campaignId": first.id,
    }
    campaigns.archive(deps, SYSTEM, first.id)
    moved = campaigns.add_leads_by_id(deps, SYSTEM, second.id, [x.id for x in made])
    assert (moved.added, moved.skipped) == (2, 0)
    lead = deps.store.leads.get(made[0].id)
    assert lead is not None and lead.campaign_id == second.id


def test_a_lead_with_a_callback_waits_for_its_owners_session_first(deps, member):
    other, _ = team.create(deps, team.NewMember(name="Bo", phone="+14155550101"))
    made = make_leads(deps, 1)
    c = make_campaign(deps, made, max_attempts=1)
    assert queue.take_next(deps, c, "S1", member.id) is not None
    at = deps.clock.now() + timedelta(hours=2)
    callbacks.create(deps, SYSTEM, made[0].id, at, "Tuesday", member.id)
    after = queue.finish_attempt(
        deps, c.id, made[0].id, "S1", "human", disposition="callback_requested", callback_at=at
    )
    # a callback outlives maxAttempts: the person asked for it
    assert after is not None and after.state == "scheduled"
    assert after.next_attempt_at == rules.stamp(at + rules.CALLBACK_GRACE)
    deps.clock.set(at)
    assert queue.take_next(deps, c, "S2", other.id) is None  # not someone else's yet
    mine = queue.take_next(deps, c, "S3", member.id)
    assert mine is not None and mine.callback is not None
