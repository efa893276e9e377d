"""Leads who call back, end to end over real HTTP: the simulator places a call to our number
(`POST /simulator/inbound-call`), the app routes it (assignee, then the last caller, then the
voicemail), and a voicemail is copied out of the simulator's Twilio into the stack's storage,
deleted there, and streamed back as a WAV. Member numbers answer by their last digit: `1`
busy, `2` no answer, anything else answers and presses 1."""

from __future__ import annotations

import io
import time
import wave
from typing import Any

import pytest

from tests.integration.conftest import LiveStack

pytestmark = pytest.mark.integration

OURS = "+15005550006"


def member(stack: LiveStack, last_digit: str, name: str) -> dict[str, Any]:
    status, m = stack.post("/team-members", {"name": name, "phone": stack.new_phone(last_digit)})
    assert status == 201, m
    return dict(m)


def lead(stack: LiveStack, **fields: Any) -> dict[str, Any]:
    body = {"name": "Callback Lead", "phone": stack.new_phone("7"), **fields}
    status, got = stack.post("/leads", body)
    assert status == 201, got
    return dict(got)


def inbound_calls(stack: LiveStack, lead_id: str) -> list[dict[str, Any]]:
    status, page = stack.get(f"/calls?leadId={lead_id}")
    assert status == 200, page
    return [c for c in page["items"] if c["direction"] == "inbound"]


def settled(stack: LiveStack, sid: str, lead_id: str, *, voicemail: bool = False) -> dict[str, Any]:
    """The inbound call once the simulator is done and the app has settled it (and stored the
    voicemail, when one is expected)."""
    stack.sim.wait_call(sid, timeout=60)
    deadline = time.monotonic() + 30
    while True:
        calls = inbound_calls(stack, lead_id)
        done = [
            c
            for c in calls
            if c["status"] in ("completed", "no-answer") and (not voicemail or c["voicemail"])
        ]
        if done:
            return done[0]
        hooks = [(h.get("kind"), h.get("status"), h.get("url")) for h in stack.sim.webhooks(sid)]
        assert time.monotonic() < deadline, (calls, hooks, stack.log_tail(20))
        time.sleep(0.2)


def test_the_assignee_answers(live_stack: LiveStack) -> None:
    owner = member(live_stack, "5", "Olga Owner")
    mine = lead(live_stack, assignedToId=owner["id"])
    sid = live_stack.sim.inbound_call(mine["phone"], OURS)
    call = settled(live_stack, sid, mine["id"])
    assert call["status"] == "completed" and call["teamMemberId"] == owner["id"]
    assert call["talkSeconds"] and call["voicemail"] is None
    rung = [c for c in live_stack.sim.calls() if c.get("parent_call_sid") == sid]
    assert {c["to"] for c in rung} == {owner["phone"]}


def test_a_busy_assignee_then_the_member_who_last_called_answers(live_stack: LiveStack) -> None:
    busy = member(live_stack, "1", "Busy Owner")
    last = member(live_stack, "6", "Last Caller")
    mine = lead(live_stack, assignedToId=busy["id"])
    status, out = live_stack.post(
        "/calls", {"leadId": mine["id"], "teamMemberId": last["id"], "callerId": OURS}
    )
    assert status == 201, out
    live_stack.sim.wait_call(out["twilioSid"], timeout=60)
    sid = live_stack.sim.inbound_call(mine["phone"], OURS)
    call = settled(live_stack, sid, mine["id"])
    assert call["status"] == "completed" and call["teamMemberId"] == last["id"]


def test_nobody_answers_and_the_voicemail_is_stored_and_streams(live_stack: LiveStack) -> None:
    away = member(live_stack, "2", "Away Owner")
    mine = lead(live_stack, assignedToId=away["id"])
    sid = live_stack.sim.inbound_call(mine["phone"], OURS, behaviour="message", messageSeconds=5)
    call = settled(live_stack, sid, mine["id"], voicemail=True)
    assert call["status"] == "no-answer" and call["teamMemberId"] == "-"
    assert call["voicemail"]["durationSeconds"] == 5
    import requests

    resp = requests.get(
        live_stack.api + call["voicemail"]["recordingUrl"],
        headers={"Authorization": f"Bearer {live_stack.token}", "Accept": "audio/wav"},
        timeout=30,
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(resp.content)) as w:
        assert round(w.getnframes() / w.getframerate()) == 5
    kept = [r for r in live_stack.sim.recordings() if r.get("call_sid") == sid]
    assert kept and all(r.get("deleted") for r in kept)  # deleted from Twilio once copied


def test_an_unknown_caller_becomes_a_lead(live_stack: LiveStack) -> None:
    phone = live_stack.new_phone("8")
    sid = live_stack.sim.inbound_call(phone, OURS, hangupAfter=3)
    live_stack.sim.wait_call(sid, timeout=60)
    status, page = live_stack.get("/leads?limit=100")
    assert status == 200
    (made,) = [x for x in page["items"] if x["phone"] == phone]
    assert made["source"] == "inbound_call" and made["name"] == phone
    assert len(inbound_calls(live_stack, made["id"])) == 1


def test_an_archived_leads_call_restores_it(live_stack: LiveStack) -> None:
    mine = lead(live_stack)
    assert live_stack.delete(f"/leads/{mine['id']}")[0] == 200
    sid = live_stack.sim.inbound_call(mine["phone"], OURS, hangupAfter=3)
    live_stack.sim.wait_call(sid, timeout=60)
    status, back = live_stack.get(f"/leads/{mine['id']}")
    assert status == 200 and back["archivedAt"] is None
