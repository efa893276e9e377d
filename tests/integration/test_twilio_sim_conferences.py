"""The simulator's power-dialer side over real HTTP with the real twilio SDK: conferences and
their participants, conference status callbacks, answering-machine detection on REST calls,
call redirects and hang-ups, calling back a fake app that checks every signature."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from localdev.twilio_sim import Simulator
from tests.integration.fake_app import CALLER_ID, FakeApp, Received
from tests.integration.sim_helpers import assert_signed, wait_for

pytestmark = pytest.mark.integration

TOKEN = "sim-conf-token"
SPEED = 40.0  # a lead talks 30 s: 0.75 s here; rings 5.5 s: 0.14 s
MEMBER = "+14155550100"
HUMAN = "+12125550100"
MACHINE = "+12125550104"
ROOM = "session-s1"
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def conference_twiml(app: FakeApp, *, end_on_exit: bool = True, action: str = "") -> str:
    callback = f"{app.base}/twilio/dialer/conference/s1"
    dial_action = f' action="{action}"' if action else ""
    return (
        f'<Response><Dial{dial_action}><Conference startConferenceOnEnter="true"'
        f' endConferenceOnExit="{str(end_on_exit).lower()}" beep="false" waitUrl=""'
        f' statusCallback="{callback}" statusCallbackEvent="start end join leave mute hold">'
        f"{ROOM}</Conference></Dial><Say>Session over.</Say></Response>"
    )


def park_member(client: Client, app: FakeApp, **kwargs: Any) -> str:
    """The session's member leg: press 1, then wait in the conference (TwiML from the app)."""
    app.routes["/twilio/dialer/member/"] = (
        f'<Response><Gather numDigits="1" action="{app.base}/twilio/dialer/join/s1">'
        "<Say>Press 1 to start dialing.</Say></Gather></Response>"
    )
    app.routes["/twilio/dialer/join/"] = conference_twiml(app, **kwargs)
    call = client.calls.create(
        to=MEMBER,
        from_=CALLER_ID,
        url=f"{app.base}/twilio/dialer/member/s1",
        status_callback=f"{app.base}/twilio/dialer/member-status/s1",
        status_callback_event=CALL_EVENTS,
    )
    # Alone in the room, the member waits (`init`: a conference starts with two people).
    wait_for(lambda: client.conferences.list(friendly_name=ROOM, status="init"))
    wait_for(lambda: sim_participants(client) == [call.sid])
    return str(call.sid)


def sim_participants(client: Client) -> list[str]:
    rooms = client.conferences.list(friendly_name=ROOM)
    if not rooms:
        return []
    listed = client.conferences(rooms[0].sid).participants.list()
    return [p.call_sid for p in listed if p.status == "connected"]


def conference_events(app: FakeApp) -> list[Received]:
    return app.requests("/twilio/dialer/conference/")


def event_names(app: FakeApp) -> list[tuple[str, str]]:
    return [
        (r.params["StatusCallbackEvent"], r.params.get("CallSid", ""))
        for r in conference_events(app)
    ]


def add_lead(client: Client, app: FakeApp, conference_sid: str, to: str, **kwargs: Any) -> Any:
    return client.conferences(conference_sid).participants.create(
        from_=CALLER_ID,
        to=to,
        status_callback=f"{app.base}/twilio/dialer/lead-status/s1",
        status_callback_event=CALL_EVENTS,
        **kwargs,
    )


# ---------------------------------------------------------------- conferences


def test_a_member_parks_and_a_human_participant_is_bridged(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    member = park_member(client, fake_app)
    (conference,) = client.conferences.list(friendly_name=ROOM)
    assert conference.sid.startswith("CF") and conference.status == "init"
    assert [p.call_sid for p in client.conferences(conference.sid).participants.list()] == [member]

    lead = add_lead(
        client,
        fake_app,
        conference.sid,
        HUMAN,
        machine_detection="Enable",
        amd_status_callback=f"{fake_app.base}/twilio/dialer/amd/s1",
        end_conference_on_exit=False,
        label="lead",
    )
    assert lead.status == "queued" and lead.call_sid.startswith("CA")
    assert lead.conference_sid == conference.sid and lead.label == "lead"

    def both_connected() -> list[Any]:
        listed = client.conferences(conference.sid).participants.list()
        return listed if len(listed) == 2 and {p.status for p in listed} == {"connected"} else []

    wait_for(both_connected)
    assert client.conferences(conference.sid).fetch().status == "in-progress"
    fetched = client.conferences(conference.sid).participants(lead.call_sid).fetch()
    assert (fetched.status, fetched.muted, fetched.hold) == ("connected", False, False)
    assert sim.call(member)["simulator"]["bridgedWith"] == [lead.call_sid]
    assert sim.call(lead.call_sid)["simulator"]["bridgedWith"] == [member]
    assert sim.call(lead.call_sid)["simulator"]["role"] == "lead"
    assert sim.call(member)["simulator"]["role"] == "member"

    # the asynchronous verdict is its own request: it may land after the bridge
    (amd,) = wait_for(lambda: fake_app.requests("/twilio/dialer/amd/"))
    assert (amd.params["AnsweredBy"], amd.params["CallSid"]) == ("human", lead.call_sid)

    # The member hangs up: endConferenceOnExit ends the room, and the lead (added through the
    # API) is hung up with it.
    client.calls(member).update(status="completed")
    sim.wait_call(member)
    lead_call = sim.wait_call(lead.call_sid)
    assert lead_call["status"] == "completed"
    wait_for(lambda: ("conference-end", "") in event_names(fake_app))
    assert event_names(fake_app) == [
        ("participant-join", member),
        ("participant-join", lead.call_sid),
        ("conference-start", ""),
        ("participant-leave", member),
        ("participant-leave", lead.call_sid),
        ("conference-end", ""),
    ]
    events = conference_events(fake_app)
    assert_signed(fake_app, events)
    assert [int(r.params["SequenceNumber"]) for r in events] == [1, 2, 3, 4, 5, 6]
    assert {r.params["ConferenceSid"] for r in events} == {conference.sid}
    assert {r.params["FriendlyName"] for r in events} == {ROOM}
    end = events[-1].params
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert end["CallSidEndingConference"] == member
    assert events[1].params["EndConferenceOnExit"] == "false"
    assert events[0].params["EndConferenceOnExit"] == "true"
    assert client.conferences(conference.sid).fetch().status == "completed"
    assert client.conferences(conference.sid).participants.list() == []
    lead_status = fake_app.requests("/twilio/dialer/lead-status/")
    assert [r.params["CallStatus"] for r in lead_status] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert lead_status[-1].params["AnsweredBy"] == "human"


def test_a_human_lead_hangs_up_after_talking_and_the_member_stays(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    member = park_member(client, fake_app)
    (conference,) = client.conferences.list(friendly_name=ROOM)
    lead = add_lead(client, fake_app, conference.sid, "+12125550109")  # 9: a person too
    record = sim.wait_call(lead.call_sid)
    assert record["status"] == "completed" and 28 <= int(record["duration"]) <= 31
    leave = wait_for(
        lambda: [
            r
            for r in conference_events(fake_app)
            if r.params["StatusCallbackEvent"] == "participant-leave"
        ]
    )
    assert leave[0].params["CallSid"] == lead.call_sid
    assert leave[0].params["ReasonParticipantLeft"] == "participant_hung_up"
    # The member is still parked: the conference goes on until the app ends it.
    assert client.conferences(conference.sid).fetch().status == "in-progress"
    assert client.calls(member).fetch().status == "in-progress"
    ended = client.conferences(conference.sid).update(status="completed")
    assert ended.status == "completed"
    done = sim.wait_call(member)
    # The member's call goes on with the verb after <Dial>, then hangs up.
    assert done["simulator"]["transcript"][-1] == "say: Session over."
    end = conference_events(fake_app)[-1].params
    assert end["StatusCallbackEvent"] == "conference-end"
    assert end["ReasonConferenceEnded"] == "conference-ended-via-api"


def test_a_redirect_takes_the_member_out_and_the_last_leave_ends_the_room(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    member = park_member(client, fake_app, end_on_exit=False)
    fake_app.routes["/twilio/dialer/wrap/"] = "<Response><Say>Wrapped up.</Say></Response>"
    updated = client.calls(member).update(url=f"{fake_app.base}/twilio/dialer/wrap/s1")
    assert updated.status == "in-progress"
    done = sim.wait_call(member)
    assert done["status"] == "completed"
    assert "say: Wrapped up." in done["simulator"]["transcript"]
    assert "say: Session over." not in done["simulator"]["transcript"]
    (wrap,) = fake_app.requests("/twilio/dialer/wrap/")
    assert wrap.params["CallSid"] == member and wrap.signature_ok
    events = conference_events(fake_app)
    leave = [r for r in events if r.params["StatusCallbackEvent"] == "participant-leave"]
    assert leave[0].params["ReasonParticipantLeft"] == "participant_updated_via_api"
    assert events[-1].params["ReasonConferenceEnded"] == "last-participant-left"


def test_mute_hold_and_kick_a_participant(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    park_member(client, fake_app)
    (conference,) = client.conferences.list(friendly_name=ROOM)
    lead = add_lead(client, fake_app, ROOM, HUMAN)  # a friendly name finds the live room
    assert lead.conference_sid == conference.sid
    part = client.conferences(conference.sid).participants(lead.call_sid)
    wait_for(lambda: part.fetch().status == "connected")
    assert part.update(muted=True).muted is True
    assert part.update(hold=True).hold is True
    assert [
        p.call_sid for p in client.conferences(conference.sid).participants.list(hold=True)
    ] == [lead.call_sid]
    assert part.delete() is True
    assert sim.wait_call(lead.call_sid)["status"] == "completed"
    with pytest.raises(TwilioRestException) as err:
        part.fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    names = [name for name, _ in event_names(fake_app)]
    assert "participant-mute" in names and "participant-hold" in names
    kicked = [r for r in conference_events(fake_app) if r.params.get("CallSid") == lead.call_sid]
    assert kicked[-1].params["ReasonParticipantLeft"] == "participant_kicked"
    # The member is alone but stays: only endConferenceOnExit or the last leave end it.
    assert client.conferences(conference.sid).fetch().status == "in-progress"


@pytest.mark.parametrize(("digit", "final"), [("1", "busy"), ("2", "no-answer"), ("3", "failed")])
def test_a_participant_that_never_answers_never_joins(
    sim: Simulator, client: Client, fake_app: FakeApp, digit: str, final: str
) -> None:
    park_member(client, fake_app)
    (conference,) = client.conferences.list(friendly_name=ROOM)
    lead = add_lead(client, fake_app, conference.sid, "+1212555010" + digit, timeout=10)
    assert sim.wait_call(lead.call_sid)["status"] == final
    assert client.calls(lead.call_sid).fetch().status == final
    assert [p.call_sid for p in client.conferences(conference.sid).participants.list()] != [
        lead.call_sid
    ]
    assert len(client.conferences(conference.sid).participants.list()) == 1
    assert all(r.params.get("CallSid") != lead.call_sid for r in conference_events(fake_app))


def test_a_conference_unknown_sid_is_a_twilio_404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as err:
        client.conferences("CF" + "0" * 32).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as err:
        client.conferences("CF" + "0" * 32).update(status="in-progress")
    assert err.value.status in (400, 404)


# ---------------------------------------------------------------- AMD on REST calls


def test_async_amd_names_the_machine_and_the_voicemail_is_left(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    fake_app.routes["/twilio/dialer/lead/"] = '<Response><Pause length="120"/></Response>'
    call = client.calls.create(
        to=MACHINE,
        from_=CALLER_ID,
        url=f"{fake_app.base}/twilio/dialer/lead/x",
        status_callback=f"{fake_app.base}/twilio/dialer/lead-status/x",
        status_callback_event=CALL_EVENTS,
        machine_detection="DetectMessageEnd",
        async_amd="true",
        async_amd_status_callback=f"{fake_app.base}/twilio/dialer/amd/x",
    )
    (amd,) = wait_for(lambda: fake_app.requests("/twilio/dialer/amd/"))
    assert amd.signature_ok and amd.params["CallSid"] == call.sid
    assert amd.params["AnsweredBy"] == "machine_end_beep"
    assert amd.params["MachineDetectionDuration"] == "6000"
    # The TwiML ran at once, without AnsweredBy (async): the verdict came later.
    (first,) = fake_app.requests("/twilio/dialer/lead/")
    assert "AnsweredBy" not in first.params
    message = "Hi, this is Acme Solar. Please call us back at 415 555 0100."
    client.calls(call.sid).update(twiml=f"<Response><Say>{message}</Say><Hangup/></Response>")
    record = sim.wait_call(call.sid)
    assert record["status"] == "completed" and record["answered_by"] == "machine_end_beep"
    assert record["simulator"]["voicemail"] == {
        "beeped": True,
        "left": True,
        "message": [f"say: {message}"],
    }
    last = fake_app.requests("/twilio/dialer/lead-status/")[-1]
    assert (last.params["CallStatus"], last.params["AnsweredBy"]) == (
        "completed",
        "machine_end_beep",
    )


def test_a_message_played_before_the_beep_is_not_left(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    call = client.calls.create(
        to=MACHINE,
        from_=CALLER_ID,
        twiml='<Response><Say>Too early.</Say><Pause length="10"/></Response>',
        machine_detection="Enable",
        async_amd="true",
        async_amd_status_callback=f"{fake_app.base}/twilio/dialer/amd/x",
    )
    record = sim.wait_call(call.sid)
    assert record["simulator"]["voicemail"]["left"] is False
    (amd,) = wait_for(lambda: fake_app.requests("/twilio/dialer/amd/"))
    assert amd.params["AnsweredBy"] == "machine_start"


@pytest.mark.parametrize(
    ("to", "mode", "verdict"),
    [
        (HUMAN, "Enable", "human"),
        (MACHINE, "Enable", "machine_start"),
        (MACHINE, "DetectMessageEnd", "machine_end_beep"),
    ],
)
def test_sync_amd_puts_answered_by_on_the_answer_webhook(
    sim: Simulator, client: Client, fake_app: FakeApp, to: str, mode: str, verdict: str
) -> None:
    fake_app.routes["/twilio/dialer/lead/"] = "<Response><Say>Hello from Acme.</Say></Response>"
    call = client.calls.create(
        to=to, from_=CALLER_ID, url=f"{fake_app.base}/twilio/dialer/lead/y", machine_detection=mode
    )
    record = sim.wait_call(call.sid)
    (answer,) = fake_app.requests("/twilio/dialer/lead/")
    assert answer.params["AnsweredBy"] == verdict and answer.signature_ok
    assert record["answered_by"] == verdict
    if to == MACHINE:
        # DetectMessageEnd waits for the beep, so the message lands; Enable speaks too early.
        assert record["simulator"]["voicemail"]["left"] is (mode == "DetectMessageEnd")


@pytest.mark.parametrize(("digit", "final"), [("1", "busy"), ("2", "no-answer"), ("3", "failed")])
def test_rest_lead_calls_follow_the_last_digit(
    sim: Simulator, client: Client, fake_app: FakeApp, digit: str, final: str
) -> None:
    call = client.calls.create(
        to="+1212555010" + digit,
        from_=CALLER_ID,
        url=f"{fake_app.base}/twilio/dialer/lead/z",
        machine_detection="Enable",
        timeout=15,
    )
    record = sim.wait_call(call.sid)
    assert record["status"] == final and record["answered_by"] is None
    assert fake_app.requests("/twilio/dialer/lead/") == []


def test_member_rest_calls_ending_in_3_or_4_answer(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    """Without detection a REST call rings a member: only 1 and 2 fail to answer."""
    for to in ("+14155550103", "+14155550104"):
        call = client.calls.create(
            to=to, from_=CALLER_ID, twiml="<Response><Say>Hi.</Say></Response>"
        )
        record = sim.wait_call(call.sid)
        assert record["status"] == "completed" and record["answered_by"] is None
        assert record["simulator"]["role"] == "member"


# ---------------------------------------------------------------- calls update and faults


def test_redirect_with_url_and_complete(sim: Simulator, client: Client, fake_app: FakeApp) -> None:
    fake_app.routes["/twilio/dialer/lead/"] = '<Response><Pause length="120"/></Response>'
    fake_app.routes["/twilio/dialer/next/"] = '<Response><Pause length="120"/></Response>'
    call = client.calls.create(
        to=MEMBER, from_=CALLER_ID, url=f"{fake_app.base}/twilio/dialer/lead/r"
    )
    wait_for(lambda: fake_app.requests("/twilio/dialer/lead/"))
    client.calls(call.sid).update(url=f"{fake_app.base}/twilio/dialer/next/r", method="POST")
    (nxt,) = wait_for(lambda: fake_app.requests("/twilio/dialer/next/"))
    assert nxt.params["CallSid"] == call.sid
    done = client.calls(call.sid).update(status="completed")
    assert done.status == "completed"
    with pytest.raises(TwilioRestException) as err:
        client.calls(call.sid).update(url=f"{fake_app.base}/twilio/dialer/next/r")
    assert (err.value.status, err.value.code) == (400, 21220)
    with pytest.raises(TwilioRestException) as err:
        client.calls(call.sid).update(twiml="<NotTwiml/>")
    assert err.value.status == 400


def test_faults_reach_the_conference_routes_and_callbacks(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    sim.add_fault("participants.create", "500")
    with pytest.raises(TwilioRestException) as err:
        client.conferences(ROOM).participants.create(from_=CALLER_ID, to=HUMAN)
    assert err.value.status == 500
    assert sim.calls() == []
    sim.add_fault("conferences.list", "429")
    with pytest.raises(TwilioException) as failed:
        client.conferences.list()  # a list page that fails raises the SDK's TwilioException
    assert "429" in str(failed.value)
    sim.add_fault("webhook", "drop", count=1)
    fake_app.routes["/twilio/dialer/join/"] = conference_twiml(fake_app)
    call = client.calls.create(
        to=MEMBER, from_=CALLER_ID, url=f"{fake_app.base}/twilio/dialer/join/f"
    )  # the first webhook (this Url's fetch) is dropped: an application error
    assert sim.wait_call(call.sid)["simulator"]["errors"]
    assert any(h["dropped"] for h in sim.webhooks(call.sid))


def test_the_far_end_hangs_up_through_the_developer_endpoint(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    member = park_member(client, fake_app)
    answer = requests.post(f"{sim.url}/simulator/calls/{member}/hangup", timeout=5)
    assert answer.status_code == 200 and answer.json()["status"] == "completed"
    wait_for(lambda: ("conference-end", "") in event_names(fake_app))
    listed = requests.get(f"{sim.url}/simulator/conferences", timeout=5).json()["conferences"]
    assert listed[0]["status"] == "completed" and listed[0]["simulator"]["joined"] == [member]


def test_a_machine_participant_is_redirected_out_of_the_room_to_a_voicemail(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    member = park_member(client, fake_app)
    lead = add_lead(
        client,
        fake_app,
        ROOM,
        MACHINE,
        machine_detection="DetectMessageEnd",
        amd_status_callback=f"{fake_app.base}/twilio/dialer/amd/m",
    )
    (amd,) = wait_for(lambda: fake_app.requests("/twilio/dialer/amd/"))
    assert (amd.params["AnsweredBy"], amd.params["CallSid"]) == ("machine_end_beep", lead.call_sid)
    client.calls(lead.call_sid).update(
        twiml="<Response><Say>Sorry we missed you.</Say><Hangup/></Response>"
    )
    record = sim.wait_call(lead.call_sid)
    assert record["simulator"]["voicemail"]["left"] is True
    assert record["simulator"]["voicemail"]["message"] == ["say: Sorry we missed you."]
    leaves = [
        r
        for r in conference_events(fake_app)
        if r.params["StatusCallbackEvent"] == "participant-leave"
    ]
    assert [r.params["CallSid"] for r in leaves] == [lead.call_sid]
    assert leaves[0].params["ReasonParticipantLeft"] == "participant_updated_via_api"
    assert client.calls(member).fetch().status == "in-progress"


def test_a_lead_call_with_async_amd_can_be_sent_into_the_room(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    """The other way to bridge: the lead's own call (REST, async AMD) runs TwiML that holds it,
    and on `human` the app redirects it into the member's conference."""
    member = park_member(client, fake_app)
    fake_app.routes["/twilio/dialer/lead/"] = '<Response><Pause length="60"/></Response>'
    call = client.calls.create(
        to=HUMAN,
        from_=CALLER_ID,
        url=f"{fake_app.base}/twilio/dialer/lead/h",
        machine_detection="Enable",
        async_amd="true",
        async_amd_status_callback=f"{fake_app.base}/twilio/dialer/amd/h",
    )
    (amd,) = wait_for(lambda: fake_app.requests("/twilio/dialer/amd/"))
    assert amd.params["AnsweredBy"] == "human"
    room = (
        '<Response><Dial><Conference endConferenceOnExit="false">'
        f"{ROOM}</Conference></Dial></Response>"
    )
    client.calls(call.sid).update(twiml=room)
    wait_for(lambda: sim.call(member)["simulator"]["bridgedWith"] == [call.sid])
    assert sim.wait_call(call.sid)["status"] == "completed"  # the person hangs up after 30 s
    assert client.calls(member).fetch().status == "in-progress"


def test_a_verdict_later_than_the_timeout_is_unknown(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    call = client.calls.create(
        to=MACHINE,
        from_=CALLER_ID,
        twiml="<Response><Say>Hello.</Say></Response>",
        machine_detection="DetectMessageEnd",
        machine_detection_timeout=3,
    )
    assert sim.wait_call(call.sid)["answered_by"] == "unknown"


def test_a_participant_redirected_before_it_answers_never_joins(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    park_member(client, fake_app)
    (conference,) = client.conferences.list(friendly_name=ROOM)
    lead = add_lead(client, fake_app, conference.sid, HUMAN)
    client.calls(lead.call_sid).update(twiml="<Response><Say>Not today.</Say></Response>")
    assert [p.call_sid for p in client.conferences(conference.sid).participants.list()] == [
        sim_participants(client)[0]
    ]
    record = sim.wait_call(lead.call_sid)
    assert record["simulator"]["transcript"][-1] == "say: Not today."
    assert record["simulator"]["bridgedWith"] == []


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"machine_detection": "Sometimes"}, 20001),
        ({"machine_detection": "Enable", "machine_detection_timeout": 2}, 21626),
        ({"async_amd_status_callback": "not a url", "async_amd": "true"}, 21609),
    ],
)
def test_detection_parameters_are_validated(
    sim: Simulator, client: Client, extra: dict[str, Any], code: int
) -> None:
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(
            to=HUMAN, from_=CALLER_ID, twiml="<Response><Say>Hi.</Say></Response>", **extra
        )
    assert (err.value.status, err.value.code) == (400, code)
    assert sim.calls() == []
