"""Click-to-call end to end over real HTTP: `chalice local` on DynamoDB Local places calls with
the real twilio SDK through the simulator, which walks both legs and posts signed callbacks
back. Outcomes by the lead number's last digit, Twilio's faults, and the stats and rollup
agreeing with what happened."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.conftest import LiveStack

pytestmark = pytest.mark.integration

OURS = "+15005550006"


@pytest.fixture(scope="module")
def member(live_stack: LiveStack) -> dict[str, Any]:
    status, m = live_stack.post(
        "/team-members", {"name": "Live Caller", "phone": live_stack.new_phone("5")}
    )
    assert status == 201, m
    return m


def new_lead(stack: LiveStack, last_digit: str) -> dict[str, Any]:
    status, lead = stack.post("/leads", {"name": "Live Lead", "phone": stack.new_phone(last_digit)})
    assert status == 201, lead
    return lead


def place(stack: LiveStack, member: dict[str, Any], lead: dict[str, Any]) -> tuple[int, Any]:
    return stack.post(
        "/calls", {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": OURS}
    )


def finished(stack: LiveStack, call: dict[str, Any]) -> dict[str, Any]:
    """The call once the simulator is done with it and every callback has landed."""
    stack.sim.wait_call(call["twilioSid"], timeout=30)
    status, got = stack.get(f"/calls/{call['id']}")
    assert status == 200, got
    return dict(got)


def test_a_connected_call_walks_both_legs(live_stack: LiveStack, member: dict[str, Any]) -> None:
    lead = new_lead(live_stack, "0")
    status, call = place(live_stack, member, lead)
    assert status == 201, call
    assert call["twilioSid"].startswith("CA")
    got = finished(live_stack, call)
    assert got["status"] == "completed" and got["leadLegStatus"] == "completed"
    assert got["talkSeconds"] == 30 and got["durationSeconds"] >= 30
    assert got["answeredAt"] and got["endedAt"]
    assert got["answeredBy"] == "human"  # answering-machine detection is on
    hooks = live_stack.sim.webhooks(call["twilioSid"])
    assert hooks and all(h["status"] == 200 for h in hooks), hooks  # every signature accepted
    _, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["status"] == "contacted" and after["lastContactedAt"]
    sim_call = live_stack.sim.call(call["twilioSid"])
    assert sim_call["to"] == member["phone"] and sim_call["from"] == OURS  # member rung first


@pytest.mark.parametrize(
    "digit, lead_leg", [("1", "busy"), ("2", "no-answer"), ("3", "failed"), ("9", "not-connected")]
)
def test_unconnected_outcomes(
    live_stack: LiveStack, member: dict[str, Any], digit: str, lead_leg: str
) -> None:
    lead = new_lead(live_stack, digit)
    status, call = place(live_stack, member, lead)
    assert status == 201, call
    got = finished(live_stack, call)
    assert got["status"] == "completed"  # the member leg itself ended normally
    assert got["leadLegStatus"] == lead_leg
    assert got["talkSeconds"] is None
    _, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["status"] == "new"


def test_invalid_number_error_from_twilio_is_400_and_the_call_failed(
    live_stack: LiveStack, member: dict[str, Any]
) -> None:
    lead = new_lead(live_stack, "0")
    live_stack.sim.add_fault("calls.create", "21211")
    status, err = place(live_stack, member, lead)
    assert status == 400, err
    _, got = live_stack.get(f"/calls/{err['error']['details']['callId']}")
    assert got["status"] == "failed" and got["errorCode"] == "21211"


def test_twilio_500_is_502_and_never_left_queued(
    live_stack: LiveStack, member: dict[str, Any]
) -> None:
    lead = new_lead(live_stack, "0")
    live_stack.sim.add_fault("calls.create", "500")
    status, err = place(live_stack, member, lead)
    assert status == 502 and err["error"]["code"] == "telephony_error"
    _, got = live_stack.get(f"/calls/{err['error']['details']['callId']}")
    assert got["status"] == "failed" and got["errorMessage"]


def test_rate_limited_create_is_retried_because_twilio_never_ran_it(
    live_stack: LiveStack, member: dict[str, Any]
) -> None:
    lead = new_lead(live_stack, "0")
    before = sum(1 for r in live_stack.sim.requests() if r.get("op") == "calls.create")
    live_stack.sim.add_fault("calls.create", "429", retry_after=0)
    status, call = place(live_stack, member, lead)
    assert status == 201, call
    creates = [r for r in live_stack.sim.requests() if r.get("op") == "calls.create"][before:]
    assert [r["status"] for r in creates] == [429, 201]
    assert finished(live_stack, call)["status"] == "completed"


def test_a_voicemail_completes_but_is_not_connected(live_stack: LiveStack) -> None:
    """A `4` lead is an answering machine: the lead leg completes after the greeting and a
    short message, detection posts `machine_end_beep`, and nothing counts it connected."""
    status, caller = live_stack.post(
        "/team-members", {"name": "Voicemail Caller", "phone": live_stack.new_phone("5")}
    )
    assert status == 201, caller
    lead = new_lead(live_stack, "4")
    status, call = place(live_stack, caller, lead)
    assert status == 201, call
    got = finished(live_stack, call)
    assert got["status"] == "completed" and got["leadLegStatus"] == "completed"
    assert got["answeredBy"] == "machine_end_beep"
    amd = [h for h in live_stack.sim.webhooks(call["twilioSid"]) if h["kind"] == "call-amd"]
    assert len(amd) == 1 and amd[0]["status"] == 200, amd
    assert amd[0]["params"]["AnsweredBy"] == "machine_end_beep"
    # Not asserted here: the lead left `new`. At the simulator's speed the Dial action can land
    # before the verdict, and a late machine verdict corrects the counters but not the lead
    # (services.calls.record_answered_by; the API tests pin the usual order).
    live_stack.sim.wait_idle(timeout=30)  # every callback delivered, the verdict included
    status, stats = live_stack.get("/dashboard/stats")
    assert status == 200, stats
    row = next(r for r in stats["leaderboard"] if r["teamMemberId"] == caller["id"])
    assert row["calls"] == 1 and row["connected"] == 0 and row["talkSeconds"] == 0


def test_stats_match_what_happened_and_the_rollup_changes_nothing(
    live_stack: LiveStack, member: dict[str, Any]
) -> None:
    """After real traffic (the tests above, plus a call and a text here), the counters written
    live by the webhooks are exactly what the rollup derives from the records."""
    lead = new_lead(live_stack, "0")
    _, call = place(live_stack, member, lead)
    _, msg = live_stack.post("/messages", {"leadId": lead["id"], "body": "hi", "from": OURS})
    finished(live_stack, call)
    live_stack.sim.wait_message(msg["twilioSid"], timeout=30)
    live_stack.sim.wait_idle(timeout=30)
    status, stats = live_stack.get("/dashboard/stats")
    assert status == 200, stats
    assert stats["calls"]["placed"] >= 1 and stats["calls"]["connected"] >= 1
    assert stats["messages"]["sent"] >= 1
    board = {row["teamMemberId"]: row for row in stats["leaderboard"]}
    assert board[member["id"]]["calls"] >= 1

    from chalicelib import providers
    from chalicelib.services import stats as stats_service

    # The stack's tables and its simulator as Twilio: the rollup also asks Twilio for the
    # texts it received (the inbound recovery), and finds none missing.
    with live_stack.in_process():
        time.sleep(0.5)  # let DynamoDB Local's indexes settle
        report = stats_service.rollup(providers.deps())
    assert not report.changed and not report.errors, report.to_dict()


@pytest.mark.parametrize(
    "member_digit, member_leg", [("1", "busy"), ("2", "no-answer"), ("9", "completed")]
)
def test_a_member_who_never_connects_settles_the_lead_leg_at_once(
    live_stack: LiveStack, member_digit: str, member_leg: str
) -> None:
    """The member's own outcome by their number's last digit (API.md, "Simulator additions"):
    busy, no answer, or answering without pressing 1. The lead leg is `not-connected` as soon
    as the member leg's last callback has landed, not 15 minutes later by the reconciler."""
    status, busy_member = live_stack.post(
        "/team-members", {"name": "Unreachable", "phone": live_stack.new_phone(member_digit)}
    )
    assert status == 201, busy_member
    lead = new_lead(live_stack, "0")
    status, call = place(live_stack, busy_member, lead)
    assert status == 201, call
    got = finished(live_stack, call)  # no rollup, no reconciler: the webhooks alone
    assert got["status"] == member_leg
    assert got["leadLegStatus"] == "not-connected"
    assert live_stack.sim.call(call["twilioSid"])["simulator"]["children"] == []  # never dialled
    hooks = live_stack.sim.webhooks(call["twilioSid"])
    assert hooks and all(h["status"] == 200 for h in hooks), hooks
    _, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["status"] == "new"
