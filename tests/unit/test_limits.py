"""One live call per member and per lead, and calls and texts per member per minute
(services/limits.py): enforced by conditional writes, so concurrent attempts cannot both win."""

from __future__ import annotations

import threading

import pytest

from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Call
from chalicelib.errors import Conflict, Forbidden, RateLimited
from chalicelib.services import calls, leads, messages, team
from chalicelib.services.deps import Deps
from chalicelib.services.limits import LEASE
from chalicelib.store.base import Update

CALLER_ID = "+15005550006"


@pytest.fixture
def people(deps: Deps):
    ann, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    bob, _ = team.create(deps, team.NewMember(name="Bob", phone="(415) 555-0101"))
    jane = leads.create(deps, leads.NewLead(name="Jane Doe", phone="212 555 0142"))
    joe = leads.create(deps, leads.NewLead(name="Joe Roe", phone="212 555 0143"))
    return ann, bob, jane, joe


def place(deps: Deps, member, lead):
    return calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))


def test_a_member_on_a_live_call_cannot_place_another_until_it_ends(deps, people):
    ann, _, jane, joe = people
    first = place(deps, ann, jane)
    with pytest.raises(Conflict) as info:
        place(deps, ann, joe)
    assert info.value.details == {"reason": "member_busy", "callId": first.id}
    calls.advance_member_leg(deps, first.id, "completed")
    assert place(deps, ann, joe).lead_id == joe.id


def test_a_lead_on_a_live_call_cannot_be_called_by_someone_else(deps, people):
    ann, bob, jane, _ = people
    first = place(deps, ann, jane)
    with pytest.raises(Conflict) as info:
        place(deps, bob, jane)
    assert info.value.details == {"reason": "lead_busy", "callId": first.id}
    calls.advance_member_leg(deps, first.id, "busy")  # ended at the member leg: released
    assert place(deps, bob, jane).team_member_id == bob.id


def test_a_call_twilio_refuses_releases_the_member_and_the_lead(deps, people, fake_twilio):
    from chalicelib.telephony.base import TelephonyFailure

    ann, _, jane, _ = people
    fake_twilio.fail_next(TelephonyFailure("boom", 20500, 500), "place_call")
    with pytest.raises(Exception):  # noqa: B017 (a TelephonyError, 502)
        place(deps, ann, jane)
    assert place(deps, ann, jane).status == "queued"


def test_concurrent_calls_for_one_member_exactly_one_wins(deps, people):
    ann, _, _, _ = people
    targets = [
        leads.create(deps, leads.NewLead(name=f"L{i}", phone=f"212555{i:04d}")) for i in range(8)
    ]
    results: list[object] = []
    barrier = threading.Barrier(len(targets))

    def attempt(lead) -> None:
        barrier.wait()
        try:
            results.append(place(deps, ann, lead))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if not isinstance(r, Conflict)]
    assert len(won) == 1 and len(results) == len(targets)


def test_concurrent_calls_for_one_lead_exactly_one_wins(deps, people):
    _, _, jane, _ = people
    members = [
        team.create(deps, team.NewMember(name=f"M{i}", phone=f"415555{i:04d}"))[0] for i in range(8)
    ]
    results: list[object] = []
    barrier = threading.Barrier(len(members))

    def attempt(member) -> None:
        barrier.wait()
        try:
            results.append(place(deps, member, jane))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(not isinstance(r, Conflict) for r in results) == 1


def test_a_guard_whose_release_was_lost_is_taken_over(deps, people):
    ann, _, jane, joe = people
    first = place(deps, ann, jane)
    # the call ended but its guards were never released (the process died in between)
    deps.store.write(Update("end", Call, first.id, {"status": "completed"}))
    assert place(deps, ann, joe).lead_id == joe.id


def test_a_guard_whose_lease_ran_out_is_taken_over(deps, people):
    ann, _, jane, joe = people
    place(deps, ann, jane)
    deps.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert place(deps, ann, joe).lead_id == joe.id


def test_a_manager_releases_a_stuck_call_and_a_caller_cannot(deps, people):
    ann, bob, jane, joe = people
    stuck = place(deps, ann, jane)
    caller = Actor("member", bob.id, bob.name, "caller")
    with pytest.raises(Forbidden):
        calls.release(deps, stuck.id, caller)
    manager = Actor("member", "m-1", "Meg", "manager")
    calls.release(deps, stuck.id, manager)
    assert place(deps, ann, joe).lead_id == joe.id
    entries = deps.store.audit.page("call.released", 10, None).items
    assert [e.target_id for e in entries] == [stuck.id]


def test_calls_and_texts_are_limited_per_member_per_minute(deps, people):
    ann, _, jane, _ = people
    deps.settings = type(deps.settings)(**{**vars(deps.settings), "rate_limit_per_minute": 3})
    deps.clock.set(deps.clock.now().replace(second=10))
    for _ in range(3):
        messages.send(deps, messages.SendSms(jane.id, "hi", ann.id, CALLER_ID))
    with pytest.raises(RateLimited) as info:
        place(deps, ann, jane)
    assert info.value.retry_after == 50  # the next minute starts in 50 s
    deps.clock.advance(minutes=1)
    assert place(deps, ann, jane).status == "queued"


def test_a_refused_call_does_not_count_against_the_rate(deps, people):
    from chalicelib.errors import ValidationError

    ann, _, jane, _ = people
    deps.settings = type(deps.settings)(**{**vars(deps.settings), "rate_limit_per_minute": 1})
    for _ in range(3):
        with pytest.raises(ValidationError):
            calls.place(deps, calls.PlaceCall(jane.id, ann.id, "+15550000000"))  # not ours
    assert place(deps, ann, jane).status == "queued"
