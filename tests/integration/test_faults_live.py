"""Twilio's faults end to end over HTTP (the API under `chalice local` on DynamoDB Local, the
real SDK against the simulator's fault switch): every case ends in a clear, final state, a
request is retried only where Twilio says it is safe (429), nothing is left in flight, and the
day's counters move exactly once per fact.

The calls.create faults 21211, 500 and 429 are in test_calls_live.py; here: the SMS faults, the
call Twilio placed although it answered 500, and webhooks delivered past Twilio's timeout (the
simulator's timeout shortened to 1 s, the deliveries delayed 1.5 s), settled in the end by the
reconciler."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import LiveStack, live_stack_running

pytestmark = pytest.mark.integration

OURS = "+15005550006"


@pytest.fixture(scope="module")
def stack(ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """A stack of this module's own, so its counters hold only what these tests did. Speed 10
    (make dev's): a member answers in 0.45 s, not in the 22 ms of speed 200, which is less time
    than the API takes to record a refused create."""
    with live_stack_running(
        ddb_local_endpoint,
        tmp_path_factory.mktemp("faults"),
        speed=10,
        CALLING_HOURS="00:00-23:59",
    ) as s:
        yield s


@pytest.fixture(autouse=True)
def no_faults_left(stack: LiveStack) -> Iterator[None]:
    yield
    stack.sim.clear_faults()


def day_counters(stack: LiveStack) -> Counter[str]:
    """Today's and yesterday's counters (a test may straddle midnight UTC), read from the
    stack's stats table."""
    from chalicelib import providers
    from tests.helpers import merged_day

    total: Counter[str] = Counter()
    today = datetime.now(UTC).date()
    with stack.in_process():
        store = providers.deps().store
        for day in (today, today - timedelta(days=1)):
            # the day item and its member items (`m#<id>#<name>`); the revision kept apart
            total.update(merged_day(store, day.isoformat()))
    return total


def moved(before: Counter[str], after: Counter[str]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def member(stack: LiveStack) -> dict[str, Any]:
    status, m = stack.post("/team-members", {"name": "Fault Caller", "phone": stack.new_phone("5")})
    assert status == 201, m
    return dict(m)


def lead(stack: LiveStack, last_digit: str = "0") -> dict[str, Any]:
    status, got = stack.post("/leads", {"name": "Fault Lead", "phone": stack.new_phone(last_digit)})
    assert status == 201, got
    return dict(got)


def ops(stack: LiveStack, op: str) -> list[dict[str, Any]]:
    return [r for r in stack.sim.requests() if r.get("op") == op]


def thread(stack: LiveStack, lead_id: str) -> list[dict[str, Any]]:
    status, body = stack.get(f"/messages?leadId={lead_id}&limit=100")
    assert status == 200, body
    return list(body["items"])


def settled(stack: LiveStack, path: str, done: Any, attempts: int = 100) -> dict[str, Any]:
    """GET `path` until `done(record)` (a late webhook may still be on its way); the record."""
    got: dict[str, Any] = {}
    for _ in range(attempts):
        status, got = stack.get(path)
        assert status == 200, got
        if done(got):
            return got
        time.sleep(0.1)
    return got


# ---------------------------------------------------------------- SMS


@pytest.mark.parametrize(
    "mode, http_status, code, maybe_sent",
    [
        ("500", 502, "20500", True),  # Twilio may have sent it: never retried
        ("21211", 400, "21211", False),  # the number: the request was wrong
        ("timeout", 502, "http_0", True),  # no answer at all: may have been sent
    ],
)
def test_sms_refused_by_twilio_is_failed_with_its_code_and_not_retried(
    stack: LiveStack, mode: str, http_status: int, code: str, maybe_sent: bool
) -> None:
    to = lead(stack)
    before, creates = day_counters(stack), len(ops(stack, "messages.create"))
    stack.sim.add_fault("messages.create", mode, delay_seconds=1)
    status, err = stack.post("/messages", {"leadId": to["id"], "body": "Hi", "from": OURS})
    assert status == http_status, err
    details = err["error"]["details"]
    assert details.get("mayHaveBeenSent", False) is maybe_sent
    assert len(ops(stack, "messages.create")) == creates + 1  # asked once, never again
    (msg,) = thread(stack, to["id"])
    assert msg["id"] == details["messageId"]
    assert msg["status"] == "failed" and msg["errorCode"] == code and msg["errorMessage"]
    assert moved(before, day_counters(stack)) == {"sms#sent": 1, "sms#failed": 1}
    _, after = stack.get(f"/leads/{to['id']}")
    assert after["status"] == "new"  # nothing was known to reach the lead


def test_sms_rate_limited_is_retried_and_delivered_once(stack: LiveStack) -> None:
    to = lead(stack)
    before, creates = day_counters(stack), len(ops(stack, "messages.create"))
    stack.sim.add_fault("messages.create", "429", count=2, retry_after=0)
    status, msg = stack.post("/messages", {"leadId": to["id"], "body": "Hi", "from": OURS})
    assert status == 201, msg
    assert [r["status"] for r in ops(stack, "messages.create")[creates:]] == [429, 429, 201]
    stack.sim.wait_message(msg["twilioSid"])
    (got,) = thread(stack, to["id"])
    assert got["status"] == "delivered" and got["id"] == msg["id"]
    assert len([m for m in stack.sim.messages() if m["to"] == to["phone"]]) == 1  # one text
    assert moved(before, day_counters(stack)) == {"sms#sent": 1, "sms#delivered": 1}


def test_sms_sent_although_twilio_answered_500_stays_failed(stack: LiveStack) -> None:
    """Twilio carried the send out, then answered 500: we say failed (`mayHaveBeenSent`), and
    its status callbacks (sent, delivered) neither revive the message nor count twice."""
    to = lead(stack)
    before = day_counters(stack)
    stack.sim.add_fault("messages.create", "500-after-create")
    status, err = stack.post("/messages", {"leadId": to["id"], "body": "Hi", "from": OURS})
    assert status == 502 and err["error"]["details"]["mayHaveBeenSent"] is True
    (sent,) = [m for m in stack.sim.messages() if m["to"] == to["phone"]]
    stack.sim.wait_message(sent["sid"])
    hooks = stack.sim.webhooks(sent["sid"])
    assert [h["kind"] for h in hooks] == ["sms-status:sent", "sms-status:delivered"]
    assert all(h["status"] == 200 for h in hooks), hooks  # accepted, and ignored
    (msg,) = thread(stack, to["id"])
    assert msg["status"] == "failed" and msg["errorCode"] == "20500"
    assert moved(before, day_counters(stack)) == {"sms#sent": 1, "sms#failed": 1}


# ---------------------------------------------------------------- calls


def test_call_placed_although_twilio_answered_500_is_never_bridged(stack: LiveStack) -> None:
    """Twilio placed the call, then answered 500. We answer 502 with `mayHaveBeenPlaced` and
    record the call failed. The member's phone does ring: the connect webhook hangs up without
    dialling the lead (the user was told the call failed and may place it again), the
    callbacks never change the final status, and each fact is counted once.

    The window left: a member who answers and presses 1 before Twilio's 500 reaches us (a
    create that hangs for seconds) is bridged; the call then stays failed, its lead leg as
    reported, each fact still counted once."""
    caller, callee = member(stack), lead(stack)
    before, creates = day_counters(stack), len(ops(stack, "calls.create"))
    stack.sim.add_fault("calls.create", "500-after-create")
    status, err = stack.post(
        "/calls", {"leadId": callee["id"], "teamMemberId": caller["id"], "callerId": OURS}
    )
    assert status == 502 and err["error"]["details"]["mayHaveBeenPlaced"] is True
    assert len(ops(stack, "calls.create")) == creates + 1  # never retried
    call_id = err["error"]["details"]["callId"]
    (placed,) = [c for c in stack.sim.calls() if c["to"] == caller["phone"]]
    done = stack.sim.wait_call(placed["sid"], timeout=30)
    assert done["status"] == "completed"  # the member answered and was hung up on
    assert not [c for c in stack.sim.calls() if c["to"] == callee["phone"]]  # lead never rung
    hooks = stack.sim.webhooks(placed["sid"])
    assert hooks and all(h["status"] == 200 for h in hooks), hooks
    assert not [h for h in hooks if "<Dial" in h["responseBody"]], hooks
    status, got = stack.get(f"/calls/{call_id}")
    assert got["status"] == "failed" and got["errorCode"] == "20500"
    assert got["leadLegStatus"] == "not-connected" and got["talkSeconds"] is None
    assert moved(before, day_counters(stack)) == {
        "calls": 1,
        f"m#{caller['id']}#calls": 1,
        "call#failed": 1,
        "lead#not-connected": 1,
    }
    _, after = stack.get(f"/leads/{callee['id']}")
    assert after["status"] == "new"


# ---------------------------------------------------------------- webhooks past the timeout


@pytest.fixture(scope="module")
def slow_stack(
    ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveStack]:
    """Twilio's 15 s webhook timeout scaled down to 1 s; every webhook arrives 1.5 s late."""
    with live_stack_running(
        ddb_local_endpoint,
        tmp_path_factory.mktemp("slow"),
        webhook_timeout=1.0,
        CALLING_HOURS="00:00-23:59",
    ) as s:
        s.sim.set_webhook_delay(1.5)
        yield s


def test_webhooks_past_twilios_timeout_converge_and_the_reconciler_settles_the_rest(
    slow_stack: LiveStack,
) -> None:
    """Twilio gives up on every webhook (11205). Its TwiML fetch timing out is an application
    error for Twilio: the member hears it and the call ends, the lead never dialled. The
    status callbacks were still delivered late and the app processed them: the member leg
    converges to completed, and since the lead was never dialled, the lead leg, which no
    callback will ever report, is settled `not-connected` at once (not 15 minutes on by the
    reconciler, which then has nothing left to do): nothing stays in flight."""
    from chalicelib import providers
    from chalicelib.domain.statuses import CALL_FINAL, LEAD_LEG_FINAL
    from chalicelib.services import calls
    from tests.helpers import dynamo

    caller, callee = member(slow_stack), lead(slow_stack)
    status, call = slow_stack.post(
        "/calls", {"leadId": callee["id"], "teamMemberId": caller["id"], "callerId": OURS}
    )
    assert status == 201, call
    done = slow_stack.sim.wait_call(call["twilioSid"], timeout=30)
    assert done["status"] == "completed"
    hooks = slow_stack.sim.webhooks(call["twilioSid"])
    assert hooks and all(h["errorCode"] == 11205 for h in hooks), hooks  # all given up on
    assert [h["kind"] for h in hooks if not h["kind"].startswith("call-status")] == ["voice-url"]

    got = settled(
        slow_stack,
        f"/calls/{call['id']}",
        lambda c: c["status"] == "completed" and c["leadLegStatus"] is not None,
    )
    assert got["status"] == "completed"  # the late callbacks were processed all the same
    assert got["leadLegStatus"] == "not-connected"  # never dialled: settled with the member leg

    with slow_stack.in_process():
        later = datetime.now(UTC) + timedelta(minutes=16)
        deps = providers.deps()
        assert calls.reconcile_stale(deps, later).examined == 0  # nothing left unsettled
        today = datetime.now(UTC).date().isoformat()
        left = [
            c.id
            for c in dynamo().tables.m.Call.by_day.query(today)
            if c.status not in CALL_FINAL or c.lead_leg_status not in LEAD_LEG_FINAL
        ]
    assert left == []
    _, got = slow_stack.get(f"/calls/{call['id']}")
    assert got["status"] == "completed" and got["leadLegStatus"] == "not-connected"
    status, stats = slow_stack.get("/dashboard/stats")
    assert stats["calls"]["placed"] == 1
    assert stats["calls"]["byStatus"]["completed"] == 1
    assert stats["calls"]["byLeadLegStatus"]["not-connected"] == 1
