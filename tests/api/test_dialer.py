"""The power dialer through the API and its webhooks, on the recording fake Twilio (API.md,
"Campaigns and the dialer"): every session transition and refusal, the member's actions, the
lead call's outcomes (a person bridged, a machine left a voicemail or hung up on, busy, no
answer), abandoned calls, the guard of one live session per member, and a replay of a
session's webhooks shuffled and duplicated that changes nothing."""

from __future__ import annotations

import random
from typing import Any

import pytest

from chalicelib.telephony import webhooks as hooks
from tests.api.conftest import CALLER_ID
from tests.conftest import post_webhook

VOICEMAIL = "Hi, this is Sam from Acme. Call me back at 500 555 0006."


@pytest.fixture
def world(api, telephony, clock, make_member, make_lead):
    member = make_member(name="Sam Dialer", phone="+14155550100")
    leads = [make_lead(name=f"Lead {i}", phone=f"+1212555{i:04d}") for i in range(1, 6)]
    status, campaign, _ = api.post(
        "/campaigns",
        {
            "name": "November push",
            "callerId": CALLER_ID,
            "memberIds": [member["id"]],
            "amd": "voicemail",
            "voicemailMessage": VOICEMAIL,
            "retryAfterMinutes": 60,
        },
    )
    assert status == 201, campaign
    status, added, _ = api.post(
        f"/campaigns/{campaign['id']}/leads", {"leadIds": [lead["id"] for lead in leads]}
    )
    assert status == 200 and added["added"] == 5, added
    return member, campaign, leads


def start(api: Any, member: dict[str, Any], campaign: dict[str, Any]) -> dict[str, Any]:
    body = {"campaignId": campaign["id"], "teamMemberId": member["id"]}
    status, session, _ = api.post("/dialer/sessions", body)
    assert status == 201, session
    return session


def hook(api: Any, path: str, params: dict[str, str] | None = None, **ids: str) -> Any:
    status, body, _ = post_webhook(api, path.format(**ids), params or {})
    assert status == 200, body
    return body


def session_of(api: Any, session_id: str) -> dict[str, Any]:
    status, body, _ = api.get(f"/dialer/sessions/{session_id}")
    assert status == 200, body
    return body


def connect(api: Any, telephony: Any, session: dict[str, Any]) -> dict[str, Any]:
    """The member answers, presses 1 and joins the conference: the first lead rings."""
    sid = session["id"]
    member_call = telephony.calls[-1]
    assert member_call["url"].endswith(f"/twilio/dialer/member/{sid}")
    twiml = hook(api, hooks.DIALER_MEMBER, session_id=sid)
    assert "<Gather" in twiml and "Press 1" in twiml
    twiml = hook(api, hooks.DIALER_MEMBER_GATHER, {"Digits": "1"}, session_id=sid)
    assert f">session-{sid}</Conference>" in twiml and 'endConferenceOnExit="true"' in twiml
    assert session_of(api, sid)["status"] == "ready"
    join = {"StatusCallbackEvent": "participant-join", "CallSid": member_call["sid"]}
    hook(api, hooks.DIALER_CONFERENCE, join, session_id=sid)
    return session_of(api, sid)


def lead_call(telephony: Any) -> dict[str, Any]:
    call = telephony.calls[-1]
    assert "/twilio/dialer/lead/" in call["url"]
    return call


def ids_of(call: dict[str, Any]) -> tuple[str, str]:
    *_, session_id, call_id = call["url"].rsplit("/", 2)
    return session_id, call_id


def answer(api: Any, call: dict[str, Any], answered_by: str = "human") -> str:
    session_id, call_id = ids_of(call)
    params = {"CallSid": call["sid"], "AnsweredBy": answered_by}
    return str(hook(api, hooks.DIALER_LEAD, params, session_id=session_id, call_id=call_id))


def status_of(api: Any, call: dict[str, Any], status: str, duration: int | None = None) -> None:
    session_id, call_id = ids_of(call)
    params = {"CallSid": call["sid"], "CallStatus": status}
    if duration is not None:
        params["CallDuration"] = str(duration)
    hook(api, hooks.DIALER_LEAD_STATUS, params, session_id=session_id, call_id=call_id)


# ---------------------------------------------------------------- a session's life


def test_a_session_rings_the_member_once_and_dials_the_first_lead(api, telephony, world):
    member, campaign, leads = world
    session = start(api, member, campaign)
    assert session["status"] == "connecting" and session["teamMemberId"] == member["id"]
    (member_call,) = telephony.calls
    assert member_call["to"] == member["phone"] and member_call["from"] == CALLER_ID
    assert "machine_detection" not in member_call

    dialing = connect(api, telephony, session)
    assert dialing["status"] == "dialing" and dialing["stats"]["dialed"] == 1
    call = lead_call(telephony)
    assert call["machine_detection"] == "DetectMessageEnd" and call["from"] == CALLER_ID
    assert call["to"] in {lead["phone"] for lead in leads}
    assert dialing["currentLeadId"] in {lead["id"] for lead in leads}
    _, record, _ = api.get(f"/calls/{dialing['currentCallId']}")
    assert record["campaignId"] == campaign["id"] and record["sessionId"] == session["id"]
    assert len(telephony.calls) == 2  # the member was rung once


def test_a_person_is_bridged_then_wrap_up_then_next(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    twiml = answer(api, first, "human")
    assert f">session-{session['id']}</Conference>" in twiml
    assert 'endConferenceOnExit="false"' in twiml
    assert session_of(api, session["id"])["status"] == "connected"
    status_of(api, first, "in-progress")
    status_of(api, first, "completed", 42)
    wrap = session_of(api, session["id"])
    assert wrap["status"] == "wrap_up" and wrap["stats"]["talkSeconds"] == 42
    assert wrap["stats"]["humans"] == 1

    status, after, _ = api.post(
        f"/dialer/sessions/{session['id']}/next", {"disposition": "meeting_booked"}
    )
    assert status == 200, after
    assert after["status"] == "dialing" and after["currentCallId"] != wrap["currentCallId"]
    _, call, _ = api.get(f"/calls/{wrap['currentCallId']}")
    assert call["disposition"] == "meeting_booked" and call["talkSeconds"] == 42
    _, done, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=done")
    assert [item["leadId"] for item in done["items"]] == [wrap["currentLeadId"]]
    _, stats, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    assert stats["dials"] >= 1 and stats["humans"] == 1 and stats["talkSeconds"] == 42


def test_a_machine_gets_the_voicemail_and_the_dialer_moves_on(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    twiml = answer(api, first, "machine_end_beep")
    assert VOICEMAIL in twiml and "<Hangup" in twiml and "Conference" not in twiml
    moved = session_of(api, session["id"])
    assert moved["status"] == "dialing" and moved["stats"]["machines"] == 1
    assert moved["stats"]["voicemailsDropped"] == 1
    assert lead_call(telephony)["sid"] != first["sid"]  # the next lead rings
    status_of(api, first, "completed", 20)
    _, call, _ = api.get(f"/calls/{ids_of(first)[1]}")
    assert call["disposition"] == "left_voicemail" and call["voicemailLeft"] is True
    assert call["answeredBy"] == "machine_end_beep" and call["talkSeconds"] == 0
    _, stats, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    assert stats["machines"] == 1 and stats["voicemails"] == 1


def test_busy_and_no_answer_move_on_and_reschedule(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    status_of(api, first, "busy")
    second = lead_call(telephony)
    assert second["sid"] != first["sid"]
    status_of(api, second, "no-answer")
    now = session_of(api, session["id"])
    assert now["stats"]["noAnswer"] == 2 and now["stats"]["dialed"] == 3
    _, scheduled, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    assert len(scheduled["items"]) == 2
    for call, status in ((first, "busy"), (second, "no-answer")):
        _, record, _ = api.get(f"/calls/{ids_of(call)[1]}")  # the disposition is automatic
        assert record["status"] == status and record["disposition"] == "no_answer", record
    _, stats, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    assert stats["noAnswer"] == 2 and stats["dials"] == 2  # busy counts as no answer, as above


def test_the_campaign_runs_dry_and_the_session_waits(api, telephony, world, clock):
    member, campaign, leads = world
    session = connect(api, telephony, start(api, member, campaign))
    for _ in leads:
        status_of(api, lead_call(telephony), "busy")
    waiting = session_of(api, session["id"])
    assert waiting["status"] == "ready" and waiting["note"] == "no_leads"
    dialled = [c["to"] for c in telephony.calls[1:]]
    assert sorted(dialled) == sorted(lead["phone"] for lead in leads)  # each lead once
    clock.advance(minutes=61)  # retryAfterMinutes later: the session, polled, dials again
    assert session_of(api, session["id"])["status"] == "dialing"


def test_one_live_session_per_member(api, telephony, world):
    member, campaign, _ = world
    session = start(api, member, campaign)
    body = {"campaignId": campaign["id"], "teamMemberId": member["id"]}
    status, err, _ = api.post("/dialer/sessions", body)
    assert status == 409 and err["error"]["details"]["sessionId"] == session["id"]
    assert api.post(f"/dialer/sessions/{session['id']}/end")[0] == 200
    assert api.post("/dialer/sessions", body)[0] == 201


def test_ending_hangs_up_and_gives_the_lead_back(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    ringing = lead_call(telephony)
    status, ended, _ = api.post(f"/dialer/sessions/{session['id']}/end")
    assert status == 200 and ended["status"] == "ended" and ended["endReason"]
    hung = {u["sid"] for u in telephony.updates if u["hang_up"]}
    assert hung == {telephony.calls[0]["sid"], ringing["sid"]}
    status_of(api, ringing, "canceled")
    _, ready, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=ready")
    _, scheduled, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    reserved = [i for i in ready["items"] + scheduled["items"] if i.get("reservedBy")]
    assert reserved == []
    assert api.post(f"/dialer/sessions/{session['id']}/next")[0] == 409


def test_the_member_hanging_up_ends_the_session(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    answer(api, lead_call(telephony), "human")
    params = {"CallSid": telephony.calls[0]["sid"], "CallStatus": "completed"}
    hook(api, hooks.DIALER_MEMBER_STATUS, params, session_id=session["id"])
    ended = session_of(api, session["id"])
    assert ended["status"] == "ended" and ended["endReason"] == "member_hung_up"


def test_a_person_answering_a_session_that_ended_hears_the_opt_out_message(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    ringing = lead_call(telephony)
    api.post(f"/dialer/sessions/{session['id']}/end")
    twiml = answer(api, ringing, "human")  # answered before the hang-up reached Twilio
    assert "Conference" not in twiml and "not to call again" in twiml and "<Hangup" in twiml
    status_of(api, ringing, "completed", 8)
    _, call, _ = api.get(f"/calls/{ids_of(ringing)[1]}")
    assert call["abandoned"] is True
    _, stats, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    assert stats["abandoned"] == 1


def test_actions_are_refused_where_the_status_does_not_allow_them(api, telephony, world):
    member, campaign, _ = world
    session = start(api, member, campaign)
    sid = session["id"]
    for action in ("next", "pause", "resume", "drop-voicemail"):
        status, err, _ = api.post(f"/dialer/sessions/{sid}/{action}")
        assert status == 409 and err["error"]["details"]["status"] == "connecting", action
    connect(api, telephony, session)
    assert api.post(f"/dialer/sessions/{sid}/pause")[0] == 409  # dialing
    status_of(api, lead_call(telephony), "busy")
    answer(api, lead_call(telephony), "human")
    status_of(api, lead_call(telephony), "completed", 5)
    status, paused, _ = api.post(f"/dialer/sessions/{sid}/pause", {"disposition": "not_interested"})
    assert status == 200 and paused["status"] == "paused"
    status, resumed, _ = api.post(f"/dialer/sessions/{sid}/resume")
    assert status == 200 and resumed["status"] == "dialing"


def test_drop_voicemail_while_the_member_hears_a_machine(api, telephony, world):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    answer(api, first, "unknown")  # AMD could not tell: a person, bridged
    status, moved, _ = api.post(f"/dialer/sessions/{session['id']}/drop-voicemail")
    assert status == 200 and moved["status"] == "dialing"
    (update,) = [u for u in telephony.updates if u["sid"] == first["sid"]]
    assert VOICEMAIL in update["twiml"]
    assert moved["stats"]["voicemailsDropped"] == 1 and moved["stats"]["humans"] == 0


def test_a_replay_of_shuffled_and_duplicated_webhooks_changes_nothing(api, telephony, world):
    """Twilio may deliver any callback twice and in any order: replaying a finished session's
    webhooks, shuffled and duplicated, moves no counter and dials nobody."""
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    sid = session["id"]
    sent: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def send(path: str, params: dict[str, str], **ids: str) -> Any:
        sent.append((path, params, ids))
        return hook(api, path, params, **ids)

    first = lead_call(telephony)
    s1, c1 = ids_of(first)
    send(
        hooks.DIALER_LEAD,
        {"CallSid": first["sid"], "AnsweredBy": "human"},
        session_id=s1,
        call_id=c1,
    )
    send(
        hooks.DIALER_LEAD_STATUS,
        {"CallSid": first["sid"], "CallStatus": "completed", "CallDuration": "30"},
        session_id=s1,
        call_id=c1,
    )
    api.post(f"/dialer/sessions/{sid}/next", {"disposition": "not_interested"})
    second = lead_call(telephony)
    s2, c2 = ids_of(second)
    send(
        hooks.DIALER_LEAD_STATUS,
        {"CallSid": second["sid"], "CallStatus": "busy"},
        session_id=s2,
        call_id=c2,
    )
    api.post(f"/dialer/sessions/{sid}/end")
    send(
        hooks.DIALER_MEMBER_STATUS,
        {"CallSid": telephony.calls[0]["sid"], "CallStatus": "completed"},
        session_id=sid,
    )

    before = session_of(api, sid)
    _, stats_before, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    _, day_before, _ = api.get("/stats")
    calls_before = len(telephony.calls)
    replay = sent * 2
    random.Random(7).shuffle(replay)
    for path, params, ids in replay:
        hook(api, path, params, **ids)
    after = session_of(api, sid)
    assert after["stats"] == before["stats"] and after["status"] == "ended"
    assert api.get(f"/campaigns/{campaign['id']}/stats")[1] == stats_before
    assert api.get("/stats")[1] == day_before
    assert len(telephony.calls) == calls_before


def test_forged_dialer_webhooks_are_refused(api, telephony, world):
    member, campaign, _ = world
    session = start(api, member, campaign)
    path = hooks.DIALER_MEMBER_GATHER.format(session_id=session["id"])
    status, _, _ = post_webhook(api, path, {"Digits": "1"}, token="not-the-token")
    assert status == 403
    assert session_of(api, session["id"])["status"] == "connecting"


@pytest.mark.parametrize("status", ["ringing", "completed", None])
def test_a_lead_status_naming_another_sessions_call_is_404(api, telephony, world, status):
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    _, call_id = ids_of(lead_call(telephony))
    params = {"CallStatus": status} if status else {}
    for sid, cid in (("01NOSUCHSESSION", call_id), (session["id"], "01NOSUCHCALL")):
        path = hooks.DIALER_LEAD_STATUS.format(session_id=sid, call_id=cid)
        got, body, _ = post_webhook(api, path, params)
        assert got == 404 and body["error"]["code"] == "not_found", body
    _, call, _ = api.get(f"/calls/{call_id}")
    assert call["status"] == "queued"  # untouched


def test_a_caller_sees_and_acts_on_their_own_sessions_only(api, people, telephony):
    from tests.conftest import Api  # noqa: F401  (the people fixture's tokens)

    status, campaign, _ = api.post(
        "/campaigns",
        {
            "name": "Team push",
            "callerId": CALLER_ID,
            "memberIds": [people.caller.id, people.other.id],
        },
    )
    assert status == 201, campaign
    mine = api.post(
        "/dialer/sessions", {"campaignId": campaign["id"]}, token=people.tokens["caller"]
    )
    assert mine[0] == 201, mine
    session = mine[1]
    assert session["teamMemberId"] == people.caller.id
    other = people.tokens["other"]
    assert api.get(f"/dialer/sessions/{session['id']}", token=other)[0] == 404
    assert api.post(f"/dialer/sessions/{session['id']}/end", token=other)[0] == 404
    status, _, _ = api.post(
        "/dialer/sessions",
        {"campaignId": campaign["id"], "teamMemberId": people.other.id},
        token=people.tokens["caller"],
    )
    assert status == 403
    assert api.get(f"/dialer/sessions/{session['id']}", token=people.tokens["manager"])[0] == 200


# ---------------------------------------------------------------- lost callbacks (tick)


def test_a_lost_final_status_while_dialing_is_fetched_from_twilio(api, telephony, world, clock):
    """Twilio gave up on a lead call's final status callback: once the session has had no news
    for DIALER_STALE_SECONDS, a read asks Twilio (once per period), applies the status as the
    callback would have, and the dialer moves on."""
    from chalicelib.domain.dialer import STALE_SECONDS
    from chalicelib.telephony.base import CallState

    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    clock.advance(seconds=STALE_SECONDS - 1)
    assert session_of(api, session["id"])["status"] == "dialing"
    assert not [f for f in telephony.fetches if f[1] == first["sid"]]  # not asked yet
    clock.advance(seconds=2)
    telephony.states[first["sid"]] = CallState(sid=first["sid"], status="ringing")
    assert session_of(api, session["id"])["status"] == "dialing"  # still ringing: no change
    assert session_of(api, session["id"])["currentCallId"] == ids_of(first)[1]
    assert len([f for f in telephony.fetches if f[1] == first["sid"]]) == 1  # once per period
    clock.advance(seconds=STALE_SECONDS)
    telephony.states[first["sid"]] = CallState(sid=first["sid"], status="no-answer")
    moved = session_of(api, session["id"])
    assert moved["status"] == "dialing" and moved["stats"]["noAnswer"] == 1
    assert lead_call(telephony)["sid"] != first["sid"]  # the next lead rings
    _, call, _ = api.get(f"/calls/{ids_of(first)[1]}")
    assert call["status"] == "no-answer" and call["disposition"] == "no_answer"
    _, scheduled, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    (item,) = scheduled["items"]
    assert item["attempts"] == 1 and item["reservedBy"] is None
    status_of(api, first, "no-answer")  # the callback after all: changes nothing
    assert session_of(api, session["id"])["stats"]["noAnswer"] == 1


def test_a_lost_final_status_while_connected_moves_to_wrap_up(api, telephony, world, clock):
    from chalicelib.domain.dialer import STALE_SECONDS
    from chalicelib.telephony.base import CallState

    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    answer(api, first, "human")
    clock.advance(seconds=STALE_SECONDS + 1)
    telephony.states[first["sid"]] = CallState(first["sid"], "completed", duration_seconds=37)
    wrap = session_of(api, session["id"])
    assert wrap["status"] == "wrap_up" and wrap["stats"]["talkSeconds"] == 37
    _, call, _ = api.get(f"/calls/{ids_of(first)[1]}")
    assert call["status"] == "completed" and call["talkSeconds"] == 37


def test_a_member_call_over_without_news_ends_the_session(api, telephony, world, clock):
    """The member's phone never answered and its final status was lost: the session does not
    hold the member's one live session forever; nor does a `ready` session whose member hung
    up unheard dial anyone."""
    from chalicelib.domain.dialer import STALE_SECONDS
    from chalicelib.telephony.base import CallState

    member, campaign, _ = world
    session = start(api, member, campaign)
    member_sid = telephony.calls[0]["sid"]
    clock.advance(seconds=STALE_SECONDS + 1)
    telephony.states[member_sid] = CallState(member_sid, "no-answer")
    ended = session_of(api, session["id"])
    assert ended["status"] == "ended" and ended["endReason"] == "member_no_answer"

    again = start(api, member, campaign)  # the guard was freed
    hook(api, hooks.DIALER_MEMBER, session_id=again["id"])
    hook(api, hooks.DIALER_MEMBER_GATHER, {"Digits": "1"}, session_id=again["id"])
    # the conference join and the member's hang-up were both lost
    sid = telephony.calls[-1]["sid"]
    clock.advance(seconds=16)
    telephony.states[sid] = CallState(sid, "completed", duration_seconds=5)
    calls_before = len(telephony.calls)
    ended = session_of(api, again["id"])
    assert ended["status"] == "ended" and ended["endReason"] == "member_hung_up"
    assert len(telephony.calls) == calls_before  # no lead was dialled into an empty room


def test_ending_acts_on_the_session_as_it_ended_not_as_first_read(
    api, telephony, world, monkeypatch
):
    """The member hangs up just as the person does: the lead call's final status moves the
    session to wrap-up between `_end`'s first look and its write. The attempt is recorded (not
    a mere release of the reservation, as an earlier read of `connected` with a finished call
    would have it)."""
    from chalicelib.services import dialer_core

    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    answer(api, first, "human")
    real_move, raced = dialer_core._move, []

    def move(deps, session_id, decide, ops=None, **kw):
        if not raced:  # the first write of `_end`: the lead's final status lands first
            raced.append(True)
            status_of(api, first, "completed", 30)
        return real_move(deps, session_id, decide, ops, **kw)

    monkeypatch.setattr(dialer_core, "_move", move)
    params = {"CallSid": telephony.calls[0]["sid"], "CallStatus": "completed"}
    hook(api, hooks.DIALER_MEMBER_STATUS, params, session_id=session["id"])
    monkeypatch.setattr(dialer_core, "_move", real_move)
    ended = session_of(api, session["id"])
    assert ended["status"] == "ended" and ended["stats"]["talkSeconds"] == 30
    _, scheduled, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    (item,) = scheduled["items"]
    assert item["leadId"] == ended["currentLeadId"]
    assert item["attempts"] == 1 and item["reservedBy"] is None and item["lastOutcome"] == "human"


def test_a_lead_call_twilio_refuses_is_an_attempt_and_the_next_lead_rings(api, telephony, world):
    """Twilio refuses the lead call: the call is `failed`, the lead's attempt is recorded
    (rescheduled, not left reserved for the reservation's 10 minutes), the next lead rings."""
    from chalicelib.telephony.base import TelephonyFailure

    member, campaign, _ = world
    session = start(api, member, campaign)
    telephony.fail_next(TelephonyFailure("Invalid 'To' Phone Number", 21211, 400), "place_call")
    dialing = connect(api, telephony, session)
    assert dialing["status"] == "dialing" and dialing["stats"]["dialed"] == 2
    _, scheduled, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    (item,) = scheduled["items"]
    assert item["attempts"] == 1 and item["lastOutcome"] == "failed" and item["reservedBy"] is None
    (refused,) = api.get(f"/calls?leadId={item['leadId']}")[1]["items"]
    assert refused["status"] == "failed" and refused["errorCode"] == "21211"


def test_a_session_ending_while_the_lead_call_is_placed_hangs_it_up(api, telephony, world):
    """The member hangs up while Twilio is placing the lead call (the Call has no SID yet, so
    `_end` cannot hang it up): the placing request sees the session ended and hangs up the
    call it just placed; the call's final status then records the attempt."""
    from chalicelib import providers
    from chalicelib.services import dialer

    member, campaign, _ = world
    session = start(api, member, campaign)
    real_place = telephony.place_call

    def place_while_ending(**kw):
        sid = real_place(**kw)
        if "/twilio/dialer/lead/" in kw["url"]:
            dialer._end(providers.deps(), session["id"], "member_hung_up")
        return sid

    telephony.place_call = place_while_ending
    connect_ended = connect(api, telephony, session)
    assert connect_ended["status"] == "ended"
    lead = lead_call(telephony)
    assert {u["sid"] for u in telephony.updates if u["hang_up"]} >= {lead["sid"]}
    status_of(api, lead, "canceled")
    _, scheduled, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    (item,) = scheduled["items"]
    assert item["attempts"] == 1 and item["reservedBy"] is None


def test_a_lead_call_never_placed_is_settled_failed_only_when_it_cannot_be_in_flight(
    api, telephony, world, clock
):
    """The request placing a lead call died before Twilio answered (the Call has no SID): the
    session is not stuck in `dialing`; but a call still being placed is left alone."""
    from chalicelib import providers
    from chalicelib.domain import dialer as rules
    from chalicelib.domain.records import Call
    from chalicelib.store.base import Update

    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    call_id = session["currentCallId"]
    providers.deps().store.write(Update("lost", Call, call_id, {"twilio_sid": None}))
    clock.advance(seconds=rules.STALE_SECONDS + 1)
    assert session_of(api, session["id"])["currentCallId"] == call_id  # may still be placing
    clock.advance(seconds=rules.UNPLACED_AFTER_SECONDS)
    moved = session_of(api, session["id"])
    assert moved["status"] == "dialing" and moved["currentCallId"] != call_id
    _, call, _ = api.get(f"/calls/{call_id}")
    assert call["status"] == "failed"


def test_next_after_the_auto_advance_time_saves_the_members_disposition(
    api, telephony, world, clock
):
    """The member presses Next with a disposition after `autoAdvanceSeconds` passed without a
    read of the session: their disposition is saved (not overtaken by the auto-advance, which
    would have dialled on and answered them 409)."""
    member, campaign, _ = world
    status, campaign, _ = api.patch(
        f"/campaigns/{campaign['id']}",
        {"autoAdvanceSeconds": 5, "version": campaign["version"]},
    )
    assert status == 200, campaign
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    answer(api, first, "human")
    status_of(api, first, "completed", 42)
    clock.advance(seconds=30)
    status, after, _ = api.post(
        f"/dialer/sessions/{session['id']}/next", {"disposition": "meeting_booked"}
    )
    assert status == 200 and after["status"] == "dialing", after
    _, call, _ = api.get(f"/calls/{ids_of(first)[1]}")
    assert call["disposition"] == "meeting_booked"


def test_auto_advance_never_dials_for_a_member_who_is_gone(api, telephony, world, clock):
    """The member hung up during wrap-up and both that callback and the conference's end were
    lost: the auto-advance does not ring a lead nobody would hear (an abandoned call); Twilio
    says the member's call is over, and the session ends."""
    from chalicelib.telephony.base import CallState

    member, campaign, _ = world
    status, campaign, _ = api.patch(
        f"/campaigns/{campaign['id']}",
        {"autoAdvanceSeconds": 5, "version": campaign["version"]},
    )
    assert status == 200, campaign
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    answer(api, first, "human")
    status_of(api, first, "completed", 42)
    member_sid = telephony.calls[0]["sid"]
    telephony.states[member_sid] = CallState(member_sid, "completed", duration_seconds=60)
    clock.advance(seconds=6)
    placed = len(telephony.calls)
    ended = session_of(api, session["id"])
    assert ended["status"] == "ended" and ended["endReason"] == "member_hung_up"
    assert len(telephony.calls) == placed  # no lead rung
    _, done, _ = api.get(f"/campaigns/{campaign['id']}/leads?state=scheduled")
    assert [i["leadId"] for i in done["items"]] == [ended["currentLeadId"]]  # attempt recorded


def test_a_recorded_campaign_records_the_person_after_a_notice(api, telephony, world):
    """A campaign with `record`: the lead call records both channels from the answer, the
    person hears the notice before joining the member, and the recording lands on the call."""
    import io
    import wave

    member, campaign, _ = world
    status, _, _ = api.patch(
        f"/campaigns/{campaign['id']}", {"record": True, "version": campaign["version"]}
    )
    assert status == 200
    session = connect(api, telephony, start(api, member, campaign))
    first = lead_call(telephony)
    _, call_id = ids_of(first)
    assert first["recording_callback"].endswith(f"/twilio/voice/recording/{call_id}")
    twiml = answer(api, first, "human")
    assert "<Say>This call may be recorded.</Say>" in twiml and "Conference" in twiml
    status_of(api, first, "completed", 12)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0\0\0" * 8000 * 12)
    sid = "RE" + "e" * 32
    telephony.recordings[sid] = out.getvalue()
    event = {"RecordingSid": sid, "RecordingStatus": "completed", "RecordingDuration": "12"}
    hook(api, hooks.VOICE_RECORDING, event, call_id=call_id)
    _, call, _ = api.get(f"/calls/{call_id}")
    assert call["recording"] == {"durationSeconds": 12, "url": f"/calls/{call_id}/recording"}
    assert session_of(api, session["id"])["status"] == "wrap_up"


def test_abandonment_is_measured_over_thirty_days(api, telephony, world, clock):
    """The FTC/FCC rule: at most 3 % of calls answered by a person, per campaign over 30 days.
    An abandoned person counts in the window's answered calls and abandoned ones; it drops
    out of the window 30 days later."""
    member, campaign, _ = world
    session = connect(api, telephony, start(api, member, campaign))
    ringing = lead_call(telephony)
    api.post(f"/dialer/sessions/{session['id']}/end")
    answer(api, ringing, "human")  # nobody to take them: abandoned
    status_of(api, ringing, "completed", 8)
    _, stats, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    assert stats["abandonment"] == {
        "windowDays": 30,
        "answered": 1,
        "abandoned": 1,
        "rate": 1.0,
        "limit": 0.03,
        "overLimit": True,
    }
    clock.advance(days=30)
    _, later, _ = api.get(f"/campaigns/{campaign['id']}/stats")
    assert later["abandonment"]["answered"] == 0 and later["abandonment"]["overLimit"] is False
    assert later["abandoned"] == 1  # the all-time count stays
