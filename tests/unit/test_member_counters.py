"""Member counters live in items of their own, so no stats item grows with the team (DynamoDB
refuses an item over 400 KB; the in-memory store refuses it too); the rollup repairs member
items under the day item's revision; the funnel is recounted by the rollup, at most hourly."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.clock import new_id
from chalicelib.domain import counters
from chalicelib.domain.records import Call
from chalicelib.services import calls, lead_csv, leads, limits, stats, team, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.leads import NewLead
from chalicelib.store.memory import MemoryStore, item_size
from tests.helpers import merged_day

DAY = "2026-11-23"  # the clock fixture's day
CALLER_ID = "+15005550006"


def day_item(deps: Deps) -> dict[str, int]:
    item = deps.store.stats.item(counters.ALL_SCOPE, DAY)
    return {k: v for k, v in (item.counters if item else {}).items() if v}


def funnel(deps: Deps) -> dict[str, int]:
    item = deps.store.stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY, consistent=True)
    return {k: v for k, v in (item.counters if item else {}).items() if v}


def connected_call(deps: Deps, member_id: str, talk: int = 61) -> Call:
    stamp = deps.clock.now()
    return Call(
        id=new_id(),
        lead_id="L1",
        team_member_id=member_id,
        caller_id=CALLER_ID,
        status="completed",
        lead_leg_status="completed",
        talk_seconds=talk,
        day=DAY,
        created_at=stamp,
        updated_at=stamp,
    )


# ---------------------------------------------------------------- the split


def test_split_sorts_a_contribution_into_the_day_and_each_member():
    contribution = counters.of_call(connected_call_stub())
    day, members = counters.split(contribution)
    assert day == {
        "calls": 1,
        "call#completed": 1,
        "lead#completed": 1,
        "connected": 1,
        "talk": 42,
    }
    assert members == {"M1": {"calls": 1, "connected": 1, "talk": 42}}
    assert counters.split({"m#M2#converted": 1, "converted": 1, "zero": 0}) == (
        {"converted": 1},
        {"M2": {"converted": 1}},
    )


def connected_call_stub() -> Call:
    from tests.conftest import CLOCK_START

    return Call(
        id="C",
        lead_id="L",
        team_member_id="M1",
        caller_id=CALLER_ID,
        status="completed",
        lead_leg_status="completed",
        talk_seconds=42,
        day=DAY,
        created_at=CLOCK_START,
        updated_at=CLOCK_START,
    )


def test_day_counts_bump_the_day_revision_with_every_member_move():
    ops = transitions.day_counts(DAY, {"m#M1#converted": 1, "converted": 1})
    assert [(op.scope, op.day, dict(op.deltas), op.revise) for op in ops] == [  # type: ignore[union-attr]
        ("all", DAY, {"converted": 1}, True),
        ("members", f"{DAY}#M1", {"converted": 1}, False),
    ]


# ---------------------------------------------------------------- at the limit


def test_the_memory_store_measures_items_as_dynamodb_does():
    # names + values; a number is 1 byte per two significant digits, plus 1
    assert item_size({"scope": "all", "day": DAY}) == 5 + 3 + 3 + 10
    assert item_size({"talk": 12345}) == 4 + 4
    assert item_size({"calls": 100}) == 5 + 2  # trailing zeros are not significant


def test_five_thousand_members_calling_on_one_day_keep_every_item_small(deps):
    """At a few thousand members a day item holding every member's counters passed 400 KB and
    every call of the rest of the day failed (run on the code before member items: the
    transaction of member 3,689 raised ItemTooLarge). Each member's connected call here is
    counted by the live path's own operations; then a real placement goes through."""
    assert isinstance(deps.store, MemoryStore)
    for _ in range(5000):
        call = connected_call(deps, new_id())
        deps.store.transact(transitions.day_counts(DAY, counters.of_call(call)))
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    lead = leads.create(deps, NewLead(name="Jane Doe", phone="212 555 0142"))
    placed = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    assert placed.twilio_sid
    raw = deps.store.counters[(counters.ALL_SCOPE, DAY)]
    assert item_size({"scope": counters.ALL_SCOPE, "day": DAY, **raw}) < 300  # bytes
    assert (
        max(item_size({"scope": sc, "day": d, **c}) for (sc, d), c in deps.store.counters.items())
        < 300
    )
    assert day_item(deps)["calls"] == 5001 and day_item(deps)["talk"] == 5000 * 61
    body = stats.dashboard(deps, DAY, DAY)
    assert body["calls"]["placed"] == 5001
    assert len(body["leaderboard"]) == 5001
    assert body["leaderboard"][0]["calls"] == 1
    assert sum(r["talkSeconds"] for r in body["leaderboard"]) == 5000 * 61


# ---------------------------------------------------------------- the rollup and member items


def test_the_rollup_repairs_a_drifted_member_item_and_keeps_its_conversions(deps):
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    lead = leads.create(
        deps, NewLead(name="Jane Doe", phone="212 555 0142", assigned_to_id=member.id)
    )
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    calls.advance_lead_leg(deps, call.id, "completed", duration=30)
    leads.update(deps, lead.id, team.Patch({"status": "converted"}))
    right = merged_day(deps.store, DAY)
    assert right[f"m#{member.id}#converted"] == 1
    key = counters.member_day(DAY, member.id)
    deps.store.counters[(counters.MEMBERS_SCOPE, key)] = {"calls": 7, "converted": 1, "sms": 2}
    ghost = counters.member_day(DAY, "GHOST")
    deps.store.counters[(counters.MEMBERS_SCOPE, ghost)] = {"calls": 3}
    report = stats.rollup(deps, settle_seconds=0)
    today = next(d for d in report.days if d.day == DAY)
    assert today.changed and today.fixed == {
        f"m#{member.id}#calls": [7, 1],
        f"m#{member.id}#connected": [0, 1],
        f"m#{member.id}#sms": [2, 0],
        f"m#{member.id}#talk": [0, 30],
        "m#GHOST#calls": [3, 0],
    }
    assert merged_day(deps.store, DAY) == right
    assert not stats.rollup(deps, settle_seconds=0).changed


def test_a_day_item_from_before_member_items_reads_and_rolls_up_right(deps):
    """Old day items hold `m#<id>#<name>` counters: the dashboard adds them to the member
    items', and the rollup leaves them in place and repairs the member item to the rest."""
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    lead = leads.create(deps, NewLead(name="Jane Doe", phone="212 555 0142"))
    first = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    calls.advance_lead_leg(deps, first.id, "completed", duration=30)
    # the first call as counted before this change: its member counters on the day item
    memory = deps.store
    assert isinstance(memory, MemoryStore)
    memory.counters.pop((counters.MEMBERS_SCOPE, counters.member_day(DAY, member.id)))
    old = memory.counters[(counters.ALL_SCOPE, DAY)]
    old.update({f"m#{member.id}#calls": 1, f"m#{member.id}#connected": 1})
    old.update({f"m#{member.id}#talk": 30, f"m#{member.id}#converted": 2})
    # a second call after the deploy: counted into the member item
    limits.release(deps, first)  # one live call per member: the first one's guards freed
    second = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    calls.advance_lead_leg(deps, second.id, "busy")

    def board() -> dict[str, int]:
        row = stats.dashboard(deps, DAY, DAY)["leaderboard"][0]
        return {k: row[k] for k in ("calls", "connected", "talkSeconds", "converted")}

    expected = {"calls": 2, "connected": 1, "talkSeconds": 30, "converted": 2}
    assert board() == expected
    assert not stats.rollup(deps, settle_seconds=0).changed  # nothing drifted
    # drift in the member item: repaired to the records minus what the old day item holds
    key = (counters.MEMBERS_SCOPE, counters.member_day(DAY, member.id))
    memory.counters[key] = {"calls": 5}
    assert stats.rollup(deps, settle_seconds=0).changed
    assert memory.counters[key] == {"calls": 1}
    assert board() == expected
    assert memory.counters[(counters.ALL_SCOPE, DAY)][f"m#{member.id}#talk"] == 30  # kept


def test_a_member_repair_losing_the_race_writes_nothing_and_starts_again(deps, monkeypatch):
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    lead = leads.create(deps, NewLead(name="Jane Doe", phone="212 555 0142"))
    first = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    limits.release(deps, first)  # one live call per member: the first one's guards freed
    live = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    calls.advance_lead_leg(deps, first.id, "completed", duration=10)
    memory = deps.store
    assert isinstance(memory, MemoryStore)
    key = (counters.MEMBERS_SCOPE, counters.member_day(DAY, member.id))
    memory.counters[key] = {"calls": 9}
    real = stats.derive_day
    seen: list[int] = []

    def webhook_before_the_write(d: Deps, day: str) -> dict[str, int]:
        result = real(d, day)
        seen.append(1)
        if day == DAY and len(seen) == 2:  # after the settle wait, before the write
            calls.advance_lead_leg(deps, live.id, "completed", duration=20)
        return result

    monkeypatch.setattr(stats, "derive_day", webhook_before_the_write)
    report = stats.rollup_day(deps, DAY, settle_seconds=0)
    assert report.changed and report.attempts == 2
    assert memory.counters[key] == {"calls": 2, "connected": 2, "talk": 30}


# ---------------------------------------------------------------- the funnel's recount


def _parse(row: dict[str, str]) -> NewLead:
    return NewLead(name=row["name"], phone=row["phone"], status=row.get("status", "new"))


CSV = b"name,phone,status\nA,2125550101,new\nB,2125550102,contacted\nC,2125550103,new\n"


def test_a_funnel_that_drifted_is_repaired_by_the_next_rollup(deps):
    """The import now counts each group of leads in the group's own transaction; the recount
    is the net under anything else (an old import that died between its writes and its count,
    a hand edit of the table)."""
    leads.create(deps, NewLead(name="Early", phone="212 555 0100"))
    archived = leads.create(deps, NewLead(name="Gone", phone="212 555 0199"))
    leads.archive(deps, archived.id)
    lead_csv.import_csv(deps, CSV, 1 << 20, _parse)
    memory = deps.store
    assert isinstance(memory, MemoryStore)
    # as an import that died before counting left it (the code before this change)
    item = memory.counters[(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)]
    item.update({"status#new": 1, "status#contacted": 0, "total": 1})
    assert funnel(deps) == {"status#new": 1, "total": 1}  # wrong: 3 more leads exist

    report = stats.rollup(deps, settle_seconds=0)
    repaired = next(d for d in report.days if d.day == counters.FUNNEL_SCOPE)
    assert report.changed and repaired.fixed == {
        "status#contacted": [0, 1],
        "status#new": [1, 3],
        "total": [1, 4],
    }
    assert funnel(deps) == {"status#new": 3, "status#contacted": 1, "total": 4}
    again = stats.rollup(deps, settle_seconds=0)
    assert not again.changed and all(d.day != counters.FUNNEL_SCOPE for d in again.days)
    assert funnel(deps) == {"status#new": 3, "status#contacted": 1, "total": 4}


def test_the_funnel_is_recounted_at_most_hourly(deps):
    memory = deps.store
    assert isinstance(memory, MemoryStore)
    leads.create(deps, NewLead(name="Early", phone="212 555 0100"))
    stats.rollup(deps, settle_seconds=0)  # claims this hour's recount
    memory.counters[(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)] = {"total": 5, "rev": 3}
    before = memory.requests
    assert stats.rollup_funnel(deps, deps.clock.now(), settle_seconds=0) is None
    assert memory.requests == before + 1  # one GetItem: not due, nothing counted
    assert funnel(deps) == {"total": 5}
    later = deps.clock.now() + timedelta(seconds=stats.FUNNEL_RECOUNT_SECONDS)
    repaired = stats.rollup_funnel(deps, later, settle_seconds=0)
    assert repaired is not None and repaired.changed
    assert funnel(deps) == {"status#new": 1, "total": 1}


def test_a_funnel_recount_never_loses_a_lead_write_landing_in_between(deps, monkeypatch):
    leads.create(deps, NewLead(name="Early", phone="212 555 0100"))
    memory = deps.store
    assert isinstance(memory, MemoryStore)
    item = memory.counters[(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)]
    item["total"] = 9  # drift
    real = stats.count_funnel
    seen: list[int] = []

    def lead_created_before_the_write(d: Deps) -> dict[str, int]:
        result = real(d)
        seen.append(1)
        if len(seen) == 2:  # after the settle wait, before the write
            leads.create(deps, NewLead(name="Late", phone="212 555 0111"))
        return result

    monkeypatch.setattr(stats, "count_funnel", lead_created_before_the_write)
    repaired = stats.rollup_funnel(deps, deps.clock.now(), settle_seconds=0)
    assert repaired is not None and repaired.changed and repaired.attempts == 2
    assert funnel(deps) == {"status#new": 2, "total": 2}
