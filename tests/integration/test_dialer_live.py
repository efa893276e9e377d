"""The power dialer end to end over real HTTP: `chalice local` on DynamoDB Local runs dialer
sessions through the Twilio simulator (the real SDK, signed webhooks, conferences, machine
detection). The member's phone is rung once and presses 1 (the simulator does); the lead
outcomes come from the numbers' last digits (API.md, "Simulator additions": 1 busy, 2 no
answer, 3 failed, 4 an answering machine, any other a person who talks 30 s); the test plays
the member at the dashboard: it polls the session and, in `wrap_up`, saves a disposition and
presses Next.

The stack is this module's own: a faster simulator and short dialer timers
(DIALER_IDLE_RETRY_SECONDS, DIALER_STALE_SECONDS), so the recovery paths (a lost conference
join, a lost final status) show within seconds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.stack import LiveStack, live_stack_running

pytestmark = pytest.mark.integration

OURS = "+15005550006"
# A person talks 30 s: 0.6 s here; a machine records 60 s after its beep: 1.2 s, time enough
# for the app's answer to the detection verdict (which dials the next lead first) on a busy box.
SPEED = 50.0
VOICEMAIL = "Hi, this is Sam from Acme about your order. Call us back at 500 555 0006."
# What the member saves at wrap-up, by the lead number's last digit (the people).
DISPOSITIONS = {
    "0": "connected",
    "5": "meeting_booked",
    "6": "not_interested",
    "7": "connected",
    "8": "connected",
    "9": "meeting_booked",
}
PEOPLE = set(DISPOSITIONS)


@pytest.fixture(scope="module")
def stack(ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    with live_stack_running(
        ddb_local_endpoint,
        Path(tmp_path_factory.mktemp("dialer")),
        speed=SPEED,
        CALLING_HOURS="00:00-23:59",
        DIALER_IDLE_RETRY_SECONDS="1",
        DIALER_STALE_SECONDS="2",
    ) as s:
        yield s


# ---------------------------------------------------------------- helpers


def ok(result: tuple[int, Any], status: int = 200) -> Any:
    code, body = result
    assert code == status, body
    return body


def new_member(stack: LiveStack, name: str) -> dict[str, Any]:
    return dict(ok(stack.post("/team-members", {"name": name, "phone": stack.new_phone("5")}), 201))


def campaign_with(
    stack: LiveStack,
    members: list[dict[str, Any]],
    digits: str,
    **fields: Any,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A campaign of `members` over one new lead per digit; answers it and its leads by id."""
    leads = {}
    for i, digit in enumerate(digits):
        body = {"name": f"Lead {i} ({digit})", "phone": stack.new_phone(digit)}
        lead = ok(stack.post("/leads", body), 201)
        leads[lead["id"]] = lead
    body = {
        "name": f"Live campaign {time.monotonic_ns()}",
        "callerId": OURS,
        "memberIds": [m["id"] for m in members],
        **fields,
    }
    campaign = ok(stack.post("/campaigns", body), 201)
    added = ok(stack.post(f"/campaigns/{campaign['id']}/leads", {"leadIds": list(leads)}))
    assert added["added"] == len(leads), added
    return campaign, leads


def start(stack: LiveStack, campaign: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    body = {"campaignId": campaign["id"], "teamMemberId": member["id"]}
    return dict(ok(stack.post("/dialer/sessions", body), 201))


def session_of(stack: LiveStack, session_id: str) -> dict[str, Any]:
    return dict(ok(stack.get(f"/dialer/sessions/{session_id}")))


def digit_of(leads: dict[str, dict[str, Any]], lead_id: str | None) -> str:
    return str(leads[lead_id or ""]["phone"][-1])


def drive(
    stack: LiveStack,
    sessions: list[str],
    leads: dict[str, dict[str, Any]],
    *,
    on_connected: Callable[[dict[str, Any]], None] | None = None,
    timeout: float = 30.0,
) -> dict[str, list[str]]:
    """Play the members until every session waits with nothing left to dial (`ready`,
    `no_leads`): in `wrap_up` the disposition for the lead's digit is saved with Next. Answers
    the leads each session had, in order."""
    seen: dict[str, list[str]] = {s: [] for s in sessions}
    deadline = time.monotonic() + timeout
    while True:
        idle = 0
        for sid in sessions:
            now = session_of(stack, sid)
            lead = now["currentLeadId"]
            if lead and lead not in seen[sid]:
                seen[sid].append(lead)
            if now["status"] == "wrap_up":
                body = {"disposition": DISPOSITIONS[digit_of(leads, lead)], "notes": "live"}
                code, after = stack.post(f"/dialer/sessions/{sid}/next", body)
                assert code == 200 or (code == 409 and after["error"]["code"] == "conflict"), after
            elif now["status"] == "connected" and on_connected is not None:
                on_connected(now)
            elif now["status"] == "ready" and now["note"] == "no_leads":
                idle += 1
            assert now["status"] != "ended", now
        if idle == len(sessions):
            return seen
        assert time.monotonic() < deadline, (seen, stack.log_tail())
        time.sleep(0.02)


def end(
    stack: LiveStack,
    session_id: str,
    members: list[dict[str, Any]],
    leads: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """End the session and wait until the simulator is done with its calls (to the members
    and the leads)."""
    ended = ok(stack.post(f"/dialer/sessions/{session_id}/end"))
    assert ended["status"] == "ended", ended
    settle(stack, members, leads)
    return dict(ended)


def settle(
    stack: LiveStack, members: list[dict[str, Any]], leads: dict[str, dict[str, Any]]
) -> None:
    phones = {m["phone"] for m in members} | {lead["phone"] for lead in leads.values()}
    for call in stack.sim.calls():
        if call["to"] in phones:
            stack.sim.wait_call(call["sid"], timeout=10)


def calls_of(stack: LiveStack, lead_id: str) -> list[dict[str, Any]]:
    return list(ok(stack.get(f"/calls?leadId={lead_id}"))["items"])


def campaign_leads(stack: LiveStack, campaign_id: str) -> dict[str, dict[str, Any]]:
    """Every lead of the campaign, whatever its state, by lead id."""
    found = {}
    for state in ("ready", "scheduled", "done"):
        page = ok(stack.get(f"/campaigns/{campaign_id}/leads?state={state}&limit=100"))
        found.update({item["leadId"]: item for item in page["items"]})
    return found


def member_sid(stack: LiveStack, member: dict[str, Any]) -> str:
    (call,) = [c for c in stack.sim.calls() if c["to"] == member["phone"]]
    return str(call["sid"])


def room(stack: LiveStack, session_id: str) -> dict[str, Any]:
    (conference,) = [
        c for c in stack.sim.conferences() if c["friendly_name"] == f"session-{session_id}"
    ]
    return conference


def released(entries: dict[str, dict[str, Any]]) -> None:
    held = [e for e in entries.values() if e.get("reservedBy")]
    assert held == [], held


# ---------------------------------------------------------------- a whole session


def test_a_session_over_every_outcome(stack: LiveStack) -> None:
    """Ten leads, one per outcome digit, `amd: voicemail`: the member is rung once, every lead
    is attempted exactly once, the people are bridged into the session's conference and
    dispositioned, the machine gets the message after its beep, the others are rescheduled;
    the calls, the session, the campaign's stats and the day's counters agree."""
    member = new_member(stack, "Dialer Dana")
    campaign, leads = campaign_with(
        stack, [member], "0123456789", amd="voicemail", voicemailMessage=VOICEMAIL
    )
    session = start(stack, campaign, member)
    assert session["status"] == "connecting"
    drive(stack, [session["id"]], leads)
    ended = end(stack, session["id"], [member], leads)

    # The member's phone rang once, and stayed in the one conference throughout.
    member_calls = [c for c in stack.sim.calls() if c["to"] == member["phone"]]
    assert len(member_calls) == 1, member_calls
    conference = room(stack, session["id"])
    assert conference["status"] == "completed"

    calls = {}
    for lead_id, lead in leads.items():
        (call,) = calls_of(stack, lead_id)  # attempted exactly once
        assert call["campaignId"] == campaign["id"] and call["sessionId"] == session["id"]
        assert call["teamMemberId"] == member["id"] and call["callerId"] == OURS
        calls[lead["phone"][-1]] = call

    people_sids = {calls[d]["twilioSid"] for d in PEOPLE}
    assert set(conference["simulator"]["joined"]) == {member_calls[0]["sid"], *people_sids}, (
        calls,
        ended,
        [stack.sim.call(calls[d]["twilioSid"]) for d in PEOPLE],
    )
    talk = 0
    for digit in PEOPLE:
        call, sim_call = calls[digit], stack.sim.call(calls[digit]["twilioSid"])
        assert call["status"] == "completed" and call["answeredBy"] == "human", call
        assert call["disposition"] == DISPOSITIONS[digit] and call["notes"] == "live"
        assert member_calls[0]["sid"] in sim_call["simulator"]["bridgedWith"]
        # the talk time is what Twilio reported for the lead's leg
        assert call["talkSeconds"] == int(sim_call["duration"]) > 0, (call, sim_call)
        talk += call["talkSeconds"]

    machine = calls["4"]
    assert machine["answeredBy"] == "machine_end_beep" and machine["voicemailLeft"] is True
    assert machine["disposition"] == "left_voicemail" and machine["talkSeconds"] == 0
    voicemail = stack.sim.call(machine["twilioSid"])["simulator"]["voicemail"]
    assert voicemail["beeped"] and voicemail["left"], voicemail
    assert any(VOICEMAIL in line for line in voicemail["message"]), voicemail
    assert (calls["1"]["status"], calls["1"]["disposition"]) == ("busy", "no_answer")
    assert (calls["2"]["status"], calls["2"]["disposition"]) == ("no-answer", "no_answer")
    assert calls["3"]["status"] == "failed" and calls["3"]["answeredBy"] is None

    entries = campaign_leads(stack, campaign["id"])
    assert set(entries) == set(leads)
    released(entries)
    for lead_id, entry in entries.items():
        assert entry["attempts"] == 1, entry
        people = digit_of(leads, lead_id) in PEOPLE
        assert entry["state"] == ("done" if people else "scheduled"), entry

    stats = ended["stats"]
    assert stats == {
        "dialed": 10,
        "humans": 6,
        "machines": 1,
        "voicemailsDropped": 1,
        "noAnswer": 2,
        "abandoned": 0,
        "talkSeconds": talk,
    }
    got = ok(stack.get(f"/campaigns/{campaign['id']}/stats"))
    assert (got["dials"], got["humans"], got["machines"], got["voicemails"]) == (10, 6, 1, 1)
    assert got["noAnswer"] == 2 and got["abandoned"] == 0 and got["talkSeconds"] == talk
    assert got["conversions"] == 0 and got["leads"]["done"] == 6, got

    day = ok(stack.get("/dashboard/stats"))
    (row,) = [r for r in day["leaderboard"] if r["teamMemberId"] == member["id"]]
    assert (row["calls"], row["connected"], row["talkSeconds"]) == (10, 6, talk), row


@pytest.mark.parametrize("amd", ["hangup", "off"])
def test_a_machine_is_hung_up_on_or_bridged_with_detection_off(stack: LiveStack, amd: str) -> None:
    """`amd: hangup`: the machine is hung up on once detected (no message), the person bridged.
    `amd: off`: no detection; the machine answers like a person and is bridged, and the member,
    hearing it, drops the voicemail: the message is left after the beep and the dialer moves on.
    """
    member = new_member(stack, f"Dialer {amd}")
    campaign, leads = campaign_with(stack, [member], "40", amd=amd, voicemailMessage=VOICEMAIL)
    machine_id = next(i for i, lead in leads.items() if lead["phone"].endswith("4"))
    dropped: list[str] = []

    def on_connected(now: dict[str, Any]) -> None:
        if now["currentLeadId"] != machine_id or dropped:
            return
        sid = ok(stack.get(f"/calls/{now['currentCallId']}"))["twilioSid"]
        if sid and "machine: beep" in stack.sim.call(sid)["simulator"]["transcript"]:
            # the member heard the greeting end with the beep: leave the message now
            dropped.append(now["currentCallId"])
            after = ok(stack.post(f"/dialer/sessions/{now['id']}/drop-voicemail"))
            assert after["status"] in ("dialing", "connected", "ready"), after

    session = start(stack, campaign, member)
    drive(stack, [session["id"]], leads, on_connected=on_connected)
    ended = end(stack, session["id"], [member], leads)

    (machine,) = calls_of(stack, machine_id)
    sim_machine = stack.sim.call(machine["twilioSid"])
    voicemail = sim_machine["simulator"]["voicemail"]
    if amd == "hangup":
        assert dropped == []  # never bridged
        assert machine["answeredBy"] == "machine_end_beep" and machine["voicemailLeft"] is False
        assert machine["disposition"] == "no_answer"
        assert not voicemail["left"], voicemail
        assert ended["stats"]["humans"] == 1 and ended["stats"]["voicemailsDropped"] == 0
    else:
        assert dropped == [machine["id"]]  # bridged as a person: the member heard it
        assert sim_machine["answered_by"] is None  # no detection was asked for
        assert machine["voicemailLeft"] is True and machine["disposition"] == "left_voicemail"
        assert voicemail["left"] and any(VOICEMAIL in line for line in voicemail["message"])
        assert ended["stats"]["voicemailsDropped"] == 1 and ended["stats"]["humans"] == 1
    assert ended["stats"]["machines"] == 1 and ended["stats"]["dialed"] == 2
    (person_id,) = set(leads) - {machine_id}
    (person,) = calls_of(stack, person_id)
    assert person["status"] == "completed" and person["disposition"] == "connected"
    assert person["twilioSid"] in room(stack, session["id"])["simulator"]["joined"]
    assert machine["twilioSid"] not in room(stack, session["id"])["simulator"]["joined"] or (
        amd == "off"
    )
    released(campaign_leads(stack, campaign["id"]))


def test_two_sessions_on_one_campaign_dial_disjoint_leads(stack: LiveStack) -> None:
    ann, bob = new_member(stack, "Ann Parallel"), new_member(stack, "Bob Parallel")
    digits = "0567891056781"
    campaign, leads = campaign_with(stack, [ann, bob], digits)
    sessions = [start(stack, campaign, ann)["id"], start(stack, campaign, bob)["id"]]
    drive(stack, sessions, leads)
    for sid in sessions:
        assert ok(stack.post(f"/dialer/sessions/{sid}/end"))["status"] == "ended"
    settle(stack, [ann, bob], leads)
    dialled_by: dict[str, set[str]] = {sid: set() for sid in sessions}
    for lead_id in leads:
        (call,) = calls_of(stack, lead_id)  # never two calls to one lead
        dialled_by[call["sessionId"]].add(lead_id)
    first, second = dialled_by.values()
    assert first and second, dialled_by  # both worked the list
    assert not first & second and first | second == set(leads)
    entries = campaign_leads(stack, campaign["id"])
    released(entries)
    assert all(e["attempts"] == 1 for e in entries.values()), entries
    got = ok(stack.get(f"/campaigns/{campaign['id']}/stats"))
    assert got["dials"] == len(leads) and got["humans"] == len(digits) - digits.count("1")


# ---------------------------------------------------------------- crashes and lost webhooks


@pytest.mark.parametrize("digit, status", [("0", "connected"), ("2", "dialing")])
def test_the_member_hanging_up_mid_call_ends_the_session_and_frees_the_lead(
    stack: LiveStack, digit: str, status: str
) -> None:
    """The member's phone hangs up (not the app) while a person talks to them, or while a lead
    rings: the session ends, the lead call ends with it, its attempt is recorded and nothing
    stays reserved; the member can start a new session at once."""
    member = new_member(stack, f"Crashing {status}")
    campaign, leads = campaign_with(stack, [member], digit + "0")
    session = start(stack, campaign, member)
    deadline = time.monotonic() + 15
    while (now := session_of(stack, session["id"]))["status"] != status:
        assert now["status"] not in ("wrap_up", "ended"), now
        assert time.monotonic() < deadline, now
        time.sleep(0.01)
    stack.sim.hang_up_far_end(member_sid(stack, member))
    settle(stack, [member], leads)
    ended = session_of(stack, session["id"])
    # the member's own status callback and the conference's end race: either names it
    assert ended["status"] == "ended", ended
    assert ended["endReason"] in ("member_hung_up", "conference_ended"), ended
    assert room(stack, session["id"])["status"] == "completed"

    (call,) = calls_of(stack, now["currentLeadId"])
    assert call["status"] in ("completed", "canceled", "no-answer"), call
    entries = campaign_leads(stack, campaign["id"])
    released(entries)
    assert entries[now["currentLeadId"]]["attempts"] == 1, (entries, call, now)
    (other,) = set(leads) - {now["currentLeadId"]}
    assert entries[other]["attempts"] == 0 and entries[other]["state"] == "ready"

    again = start(stack, campaign, member)  # nothing holds the member's one live session
    end(stack, again["id"], [member], leads)


def test_a_lost_conference_join_is_recovered_by_the_idle_retry(stack: LiveStack) -> None:
    """Twilio gave up on the member's `participant-join` callback: the session waits in
    `ready`; polled, it dials once it has been idle DIALER_IDLE_RETRY_SECONDS (here 1 s)."""
    member = new_member(stack, "Lost Join")
    campaign, leads = campaign_with(stack, [member], "0")
    stack.sim.add_fault("webhook", "drop", kind="conference-status:participant-join")
    session = start(stack, campaign, member)
    deadline = time.monotonic() + 10
    while (now := session_of(stack, session["id"]))["status"] in ("connecting", "ready"):
        assert time.monotonic() < deadline, now
        time.sleep(0.05)
    lost = [h for h in stack.sim.webhooks() if h["dropped"] and session["id"] in h["url"]]
    assert [h["kind"] for h in lost] == ["conference-status:participant-join"], lost
    assert f"/twilio/dialer/conference/{session['id']}" in lost[0]["url"]
    drive(stack, [session["id"]], leads)
    end(stack, session["id"], [member], leads)
    (call,) = calls_of(stack, next(iter(leads)))
    assert call["status"] == "completed" and call["disposition"] == "connected"
    assert call["twilioSid"] in room(stack, session["id"])["simulator"]["joined"]


def test_a_lost_final_status_is_fetched_from_twilio(stack: LiveStack) -> None:
    """Twilio gave up on the lead call's final status callback while the session was `dialing`:
    after DIALER_STALE_SECONDS (here 2 s) with no news, the polled session asks Twilio, records
    the outcome and moves on."""
    member = new_member(stack, "Lost Status")
    campaign, leads = campaign_with(stack, [member], "2")
    stack.sim.add_fault("webhook", "drop", kind="call-status:completed")
    session = start(stack, campaign, member)
    started = time.monotonic()
    drive(stack, [session["id"]], leads)
    assert time.monotonic() - started >= 2  # only the check found it
    lost = [h for h in stack.sim.webhooks() if h["dropped"] and session["id"] in h["url"]]
    assert [h["kind"] for h in lost] == ["call-status:completed"], lost
    assert "/twilio/dialer/lead-status/" in lost[0]["url"]
    ended = end(stack, session["id"], [member], leads)
    assert ended["stats"]["noAnswer"] == 1
    (call,) = calls_of(stack, next(iter(leads)))
    assert call["status"] == "no-answer" and call["disposition"] == "no_answer"
    fetched = [r for r in stack.sim.requests() if r["op"] == "calls.fetch"]
    assert any(call["twilioSid"] in r["path"] for r in fetched), "the app asked Twilio"
    entries = campaign_leads(stack, campaign["id"])
    released(entries)
    (entry,) = entries.values()
    assert entry["attempts"] == 1 and entry["state"] == "scheduled"


def test_a_recorded_campaign_keeps_the_conversation_and_streams_it(stack: LiveStack) -> None:
    """`record: true`: the person hears the notice, the lead call is recorded (both channels
    from the answer), the recording is copied out of the simulator's Twilio, deleted there,
    and plays from the call (GET /calls/{id}/recording, a WAV); the machine's is not kept."""
    import io
    import wave

    import requests

    member = new_member(stack, "Dialer recorded")
    campaign, leads = campaign_with(stack, [member], "0", record=True)
    session = start(stack, campaign, member)
    drive(stack, [session["id"]], leads)
    end(stack, session["id"], [member], leads)
    (person_id,) = leads
    (call,) = calls_of(stack, person_id)
    deadline = time.monotonic() + 30
    while call["recording"] is None:
        assert time.monotonic() < deadline, (call, stack.log_tail())
        time.sleep(0.2)
        (call,) = calls_of(stack, person_id)
    assert "This call may be recorded." in " ".join(
        stack.sim.call(call["twilioSid"])["simulator"]["transcript"]
    )
    resp = requests.get(
        stack.api + call["recording"]["url"],
        headers={"Authorization": f"Bearer {stack.token}", "Accept": "audio/wav"},
        timeout=30,
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(resp.content)) as w:
        assert w.getnchannels() == 2 and w.getnframes() > 0
    kept = [r for r in stack.sim.recordings() if r.get("call_sid") == call["twilioSid"]]
    assert kept and all(r.get("deleted") for r in kept)
