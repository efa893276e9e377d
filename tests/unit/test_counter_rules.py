"""One rule for counters: what the live transitions write, webhook by webhook (in any order,
duplicated, late), equals what the rollup derives from the records afterwards. Random
histories run through the real services on the in-memory store."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.clock import ManualClock, new_id
from chalicelib.config import Settings
from chalicelib.domain import counters
from chalicelib.domain.constants import DISPOSITIONS
from chalicelib.domain.records import Call, Message
from chalicelib.services import calls, messages, transitions
from chalicelib.services.deps import Deps
from chalicelib.store.base import Put
from chalicelib.store.memory import MemoryStore
from chalicelib.telephony.fake import FakeTelephony
from chalicelib.telephony.webhooks import SmsStatusEvent
from tests.conftest import CLOCK_START
from tests.helpers import merged_day

CALL_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["member", "lead", "amd", "wrap"]),
        st.sampled_from(
            [
                "queued",
                "initiated",
                "ringing",
                "in-progress",
                "completed",
                "busy",
                "no-answer",
                "failed",
                "canceled",
                "not-connected",
            ]
        ),
        st.integers(min_value=0, max_value=600),
    ),
    max_size=12,
)
SMS_EVENTS = st.lists(
    st.sampled_from(["queued", "sending", "sent", "delivered", "undelivered", "failed"]),
    max_size=6,
)


def _fresh_deps() -> Deps:
    fake = FakeTelephony()
    return Deps(Settings(), MemoryStore(), ManualClock(CLOCK_START), lambda: fake)


def _day(deps: Deps) -> dict[str, int]:
    return merged_day(deps.store, "2026-11-23")


@settings(max_examples=150, deadline=None)
@given(
    call_histories=st.lists(st.tuples(st.sampled_from(["M1", "M2"]), CALL_EVENTS), max_size=4),
    sms_histories=st.lists(
        st.tuples(st.sampled_from(["M1", None, "inbound"]), SMS_EVENTS), max_size=4
    ),
)
def test_live_counters_equal_the_rollups_over_random_histories(call_histories, sms_histories):
    deps = _fresh_deps()
    stamp = deps.clock.now()
    for member_id, events in call_histories:
        call = Call(
            id=new_id(),
            lead_id="L1",
            team_member_id=member_id,
            caller_id="+15005550006",
            day="2026-11-23",
            created_at=stamp,
            updated_at=stamp,
        )
        # placing a call writes it with its counters, as calls.place does
        deps.store.transact(
            [
                Put("call", call, if_absent=True),
                *transitions.day_counts(call.day, counters.of_call(call)),
            ]
        )
        for leg, status, duration in events:
            if leg == "wrap":
                # a wrap-up sets, changes or clears the disposition at any point
                choices = [None, *DISPOSITIONS]
                disposition = choices[duration % len(choices)]
                calls.wrap_up(deps, call.id, calls.WrapUp({"disposition": disposition}))
            elif leg == "amd":
                # answering-machine detection, at any point of the history
                verdict = "machine_end_beep" if duration % 2 else "human"
                calls.record_answered_by(deps, call.id, verdict)
            elif leg == "member":
                if status != "not-connected":
                    calls.advance_member_leg(deps, call.id, status, duration=duration)
            else:
                calls.advance_lead_leg(deps, call.id, status, duration=duration)
    for who, events in sms_histories:
        inbound = who == "inbound"
        message = Message(
            id=new_id(),
            lead_id="L1",
            team_member_id=None if inbound else who,
            direction="inbound" if inbound else "outbound",
            to_number="+12125550142",
            body="hi",
            status="received" if inbound else "queued",
            day="2026-11-23",
            created_at=stamp,
            updated_at=stamp,
        )
        deps.store.transact(
            [
                Put("message", message, if_absent=True),
                *transitions.day_counts("2026-11-23", counters.of_message(message)),
            ]
        )
        for status in events:
            messages.advance(deps, message.id, SmsStatusEvent(status, None, None, None))

    derived = counters.of_day(
        deps.store.calls.rows_on("2026-11-23"), deps.store.messages.rows_on("2026-11-23")
    )
    assert _day(deps) == derived


def _call(**over: Any) -> Call:
    values: dict[str, Any] = {
        "id": "C",
        "lead_id": "L",
        "team_member_id": "M1",
        "caller_id": "+15005550006",
        "day": "2026-11-23",
        "created_at": CLOCK_START,
        "updated_at": CLOCK_START,
    }
    return Call(**{**values, **over})


def test_a_connected_call_counts_placed_connected_and_talk_for_its_member():
    call = _call(
        lead_leg_status="completed",
        status="completed",
        talk_seconds=42,
    )
    assert counters.of_call(call) == {
        "calls": 1,
        "m#M1#calls": 1,
        "call#completed": 1,
        "lead#completed": 1,
        "connected": 1,
        "m#M1#connected": 1,
        "talk": 42,
        "m#M1#talk": 42,
    }


def test_a_lead_leg_a_machine_answered_counts_completed_but_not_connected():
    call = _call(
        lead_leg_status="completed",
        status="completed",
        talk_seconds=42,
        answered_by="machine_end_beep",
    )
    assert counters.of_call(call) == {
        "calls": 1,
        "m#M1#calls": 1,
        "call#completed": 1,
        "lead#completed": 1,
    }


def test_change_is_the_difference_of_two_contributions():
    before = _call(status="ringing")
    after = _call(status="busy")
    assert counters.change(counters.of_call(before), counters.of_call(after)) == {"call#busy": 1}


def test_a_disposition_counts_for_the_day_and_a_meeting_for_its_member():
    assert counters.of_call(_call(disposition="meeting_booked")) == {
        "calls": 1,
        "m#M1#calls": 1,
        "disp#meeting_booked": 1,
        "m#M1#meetings": 1,
    }
    before = _call(disposition="meeting_booked")
    after = _call(disposition="not_interested")
    assert counters.change(counters.of_call(before), counters.of_call(after)) == {
        "disp#meeting_booked": -1,
        "disp#not_interested": 1,
        "m#M1#meetings": -1,
    }
