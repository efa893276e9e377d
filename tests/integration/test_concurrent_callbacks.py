"""Twilio's callbacks for many calls, shuffled, duplicated and delivered by concurrent senders
against DynamoDB Local: no update is lost, nothing is counted twice."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import providers
from chalicelib.clock import business_day, new_id
from chalicelib.domain.records import Call
from chalicelib.services import calls
from chalicelib.store.base import Put
from tests.helpers import merged_day

pytestmark = pytest.mark.integration


def make_calls(n: int, member_id: str) -> list[Call]:
    deps = providers.deps()
    moment = deps.clock.now()
    made = []
    for _ in range(n):
        call = Call(
            id=new_id(),
            lead_id="L" + new_id(),
            team_member_id=member_id,
            caller_id="+15005550006",
            lead_phone="+12125550142",
            lead_name="x",
            status="queued",
            day=business_day(moment, "UTC"),
            created_at=moment,
            updated_at=moment,
        )
        deps.store.write(Put("call", call))
        made.append(call)
    return made


def test_shuffled_duplicated_concurrent_callbacks_lose_nothing(ddb_local):
    deps = providers.deps()
    rng = random.Random(7)
    member = "M" + new_id()
    made = make_calls(30, member)
    outcomes = {}
    events = []
    for i, call in enumerate(made):
        final = ["completed", "busy", "no-answer", "failed"][i % 4]
        talk = 10 + i
        if final == "completed":
            # The member pressed 1: the gather request comes (synchronously) before the Dial
            # exists, so before any lead-leg callback.
            calls.start_dialling(deps, call.id)
            lead_final = ["completed", "busy", "no-answer"][i % 3]
            seq = [("m", s, None) for s in ("initiated", "ringing", "in-progress")]
            seq += [("l", s, None) for s in ("initiated", "ringing")]
            seq += [("l", lead_final, talk if lead_final == "completed" else 0)]
        else:  # the member never answered: the lead leg is never dialled
            lead_final = "not-connected"
            seq = [("m", s, None) for s in ("initiated", "ringing")]
        seq += [("m", final, 60)]
        outcomes[call.id] = (final, lead_final, talk)
        for leg, status, dur in seq:
            for _ in range(rng.choice([1, 1, 2, 3])):  # Twilio repeats some callbacks
                events.append((call.id, leg, status, dur))
    rng.shuffle(events)

    def deliver(event: tuple[str, str, str, int | None]) -> None:
        call_id, leg, status, dur = event
        if leg == "m":
            calls.advance_member_leg(deps, call_id, status, duration=dur)
        else:
            calls.advance_lead_leg(deps, call_id, status, duration=dur)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(deliver, events))

    connected = talk_total = 0
    by_status: dict[str, int] = {}
    for call in made:
        final, lead_final, talk = outcomes[call.id]
        got = deps.store.calls.get(call.id, consistent=True)
        assert got is not None
        assert got.status == final
        assert got.lead_leg_status == lead_final
        by_status[final] = by_status.get(final, 0) + 1
        if lead_final == "completed":
            connected += 1
            talk_total += talk
            assert got.talk_seconds == talk
    c = merged_day(deps.store, made[0].day)  # the day item and its member items
    assert c["connected"] == connected and c["talk"] == talk_total
    assert c[f"m#{member}#connected"] == connected
    for status, n in by_status.items():
        assert c[f"call#{status}"] == n
