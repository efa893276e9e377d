"""The simulator's inbound calls and recordings over real HTTP with the real twilio SDK: a phone
calls the account's number, the fake app's TwiML rings members at once with a whisper, the
caller leaves a voicemail at <Record>, recordings are served as WAV behind Basic auth and
deleted; recorded Dials and REST calls; faults on the new routes."""

from __future__ import annotations

import io
import time
import wave
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from chalicelib.config import SIMULATOR_ACCOUNT_SID
from localdev.twilio_sim import NUMBERS, Simulator
from tests.integration.fake_app import CALLER_ID, FakeApp, Received
from tests.integration.sim_helpers import assert_signed, wait_for

pytestmark = pytest.mark.integration

TOKEN = "sim-inbound-token"
SPEED = 200.0  # a 30 s talk: 0.15 s; a 5 s message: 25 ms
OUR_NUMBER = NUMBERS[0]
LEAD = "+12125550100"
MEMBER_ANSWERS = "+14155550100"
MEMBER_NO_PRESS = "+14155550109"
MEMBER_BUSY = "+14155550101"
MEMBER_NO_ANSWER = "+14155550102"


def routes(app: FakeApp, *, numbers: list[str], record_dial: str = "", timeout: int = 15) -> None:
    """The app's inbound TwiML: ring `numbers` at once, each whispered "press 1"; nobody →
    a greeting and <Record>."""
    b = app.base
    record = (
        f' record="{record_dial}" recordingStatusCallback="{b}/twilio/voice/recording/bridge"'
        if record_dial
        else ""
    )
    legs = "".join(
        f'<Number url="{b}/twilio/voice/whisper/c1" statusCallback="{b}/twilio/voice/member/c1"'
        f' statusCallbackEvent="initiated ringing answered completed">{n}</Number>'
        for n in numbers
    )
    app.routes["/twilio/voice/incoming"] = (
        f'<Response><Say>Thanks for calling.</Say><Dial timeout="{timeout}"'
        f' action="{b}/twilio/voice/dialed/c1"{record}>{legs}</Dial></Response>'
    )
    app.routes["/twilio/voice/whisper/"] = (
        f'<Response><Gather numDigits="1" timeout="5" action="{b}/twilio/voice/screen/c1">'
        "<Say>Call from Jane Doe, press 1</Say></Gather><Hangup/></Response>"
    )
    app.routes["/twilio/voice/screen/"] = "<Response><Say>Connecting.</Say></Response>"
    app.routes["/twilio/voice/dialed/"] = (
        "<Response><Say>Please leave a message.</Say>"
        f'<Record maxLength="120" action="{b}/twilio/voice/voicemail/c1"'
        f' recordingStatusCallback="{b}/twilio/voice/recording/vm"'
        ' recordingStatusCallbackEvent="in-progress completed absent"/>'
        "<Say>We got nothing. Goodbye.</Say></Response>"
    )


def one(app: FakeApp, prefix: str) -> Received:
    (found,) = app.requests(prefix)
    return found


def media(sim: Simulator, url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, auth=(SIMULATOR_ACCOUNT_SID, TOKEN), timeout=5, **kwargs)


def wav_of(data: bytes) -> tuple[int, int, float]:
    """(channels, sample rate, seconds) of a WAV file."""
    with wave.open(io.BytesIO(data), "rb") as audio:
        rate = audio.getframerate()
        return audio.getnchannels(), rate, audio.getnframes() / rate


# ---------------------------------------------------------------- inbound calls


def test_inbound_call_rings_members_at_once_and_the_first_to_press_1_is_bridged(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    routes(fake_app, numbers=[MEMBER_NO_PRESS, MEMBER_ANSWERS])
    answer = requests.post(
        f"{sim.url}/simulator/inbound-call", json={"from": LEAD, "to": OUR_NUMBER}, timeout=5
    )
    assert answer.status_code == 200
    sid = answer.json()["sid"]
    call = sim.wait_call(sid, 10)

    incoming = one(fake_app, "/twilio/voice/incoming")
    params = incoming.params
    assert params["CallSid"] == sid
    assert (params["From"], params["To"], params["Caller"], params["Called"]) == (
        LEAD,
        OUR_NUMBER,
        LEAD,
        OUR_NUMBER,
    )
    assert (params["CallStatus"], params["Direction"]) == ("ringing", "inbound")
    assert (params["AccountSid"], params["ApiVersion"]) == (SIMULATOR_ACCOUNT_SID, "2010-04-01")
    assert params["FromCountry"] == "US" and "FromCity" in params and "ToState" in params

    fetched = client.calls(sid).fetch()
    assert (fetched.direction, fetched.status, fetched._from, fetched.to) == (
        "inbound",
        "completed",
        LEAD,
        OUR_NUMBER,
    )
    assert call["simulator"]["history"] == ["ringing", "in-progress", "completed"]
    number = client.incoming_phone_numbers.list(phone_number=OUR_NUMBER)[0]
    assert fetched.phone_number_sid == number.sid  # the number called

    legs = {sim.call(c)["to"]: sim.call(c) for c in call["simulator"]["children"]}
    assert set(legs) == {MEMBER_NO_PRESS, MEMBER_ANSWERS}
    winner, screened = legs[MEMBER_ANSWERS], legs[MEMBER_NO_PRESS]
    assert call["simulator"]["bridgedWith"] == [winner["sid"]]
    assert winner["parent_call_sid"] == sid and winner["direction"] == "outbound-dial"
    assert winner["status"] == "completed" and winner["duration"] is not None
    # The 9 rang at the same time and never pressed 1; it was hung up once the other won
    # (answered: completed; under a heavy load maybe before it answered: canceled).
    assert screened["status"] in ("completed", "canceled")

    whispers = fake_app.requests("/twilio/voice/whisper/")
    assert winner["sid"] in {w.params["CallSid"] for w in whispers}
    assert all(w.params["ParentCallSid"] == sid for w in whispers)
    assert all(w.params["CallStatus"] == "in-progress" for w in whispers)
    screen = one(fake_app, "/twilio/voice/screen/")
    assert (screen.params["CallSid"], screen.params["Digits"]) == (winner["sid"], "1")

    action = one(fake_app, "/twilio/voice/dialed/")
    assert action.params["DialCallStatus"] == "completed"
    assert action.params["DialCallSid"] == winner["sid"]
    assert action.params["DialCallDuration"] == winner["duration"]
    member_events = [
        (r.params["CallSid"], r.params["CallStatus"])
        for r in fake_app.requests("/twilio/voice/member/")
    ]
    assert [s for c, s in member_events if c == winner["sid"]] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert_signed(fake_app, fake_app.requests())


def test_a_member_who_does_not_press_1_is_not_bridged(sim: Simulator, fake_app: FakeApp) -> None:
    routes(fake_app, numbers=[MEMBER_NO_PRESS])
    sid = sim.inbound_call(LEAD, OUR_NUMBER)
    call = sim.wait_call(sid, 10)
    (leg_sid,) = call["simulator"]["children"]
    leg = sim.call(leg_sid)
    # It answered, heard the whisper, pressed nothing, and its TwiML hung it up.
    assert leg["status"] == "completed"
    assert "gather: no key pressed" in leg["simulator"]["transcript"]
    assert "whisper: hangup" in leg["simulator"]["transcript"]
    assert fake_app.requests("/twilio/voice/screen/") == []
    assert one(fake_app, "/twilio/voice/dialed/").params["DialCallStatus"] == "no-answer"
    assert call["simulator"]["bridgedWith"] == []


def test_nobody_answers_the_caller_leaves_a_voicemail_served_as_wav(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    routes(fake_app, numbers=[MEMBER_BUSY, MEMBER_NO_ANSWER])
    sid = sim.inbound_call(LEAD, OUR_NUMBER, behaviour="message", messageSeconds=5)
    call = sim.wait_call(sid, 10)

    action = one(fake_app, "/twilio/voice/dialed/")
    assert action.params["DialCallStatus"] == "no-answer"
    assert "DialCallSid" not in action.params
    statuses = {sim.call(c)["to"]: sim.call(c)["status"] for c in call["simulator"]["children"]}
    assert statuses == {MEMBER_BUSY: "busy", MEMBER_NO_ANSWER: "no-answer"}

    voicemail = one(fake_app, "/twilio/voice/voicemail/")
    recording_sid = voicemail.params["RecordingSid"]
    url = voicemail.params["RecordingUrl"]
    assert (
        url == f"{sim.url}/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Recordings/{recording_sid}"
    )
    assert voicemail.params["RecordingDuration"] == "5"
    assert voicemail.params["Digits"] == "hangup"  # the caller hung up after the message
    assert voicemail.params["CallStatus"] == "completed"
    # The action's TwiML is ignored: nobody is left to hear it.
    assert "say: We got nothing. Goodbye." not in call["simulator"]["transcript"]

    callbacks = wait_for(
        lambda: (
            len(fake_app.requests("/twilio/voice/recording/vm")) == 2
            and fake_app.requests("/twilio/voice/recording/vm")
        )
    )
    assert [c.params["RecordingStatus"] for c in callbacks] == ["in-progress", "completed"]
    done = callbacks[1].params
    assert done["RecordingSid"] == recording_sid and done["RecordingUrl"] == url
    assert (done["CallSid"], done["AccountSid"]) == (sid, SIMULATOR_ACCOUNT_SID)
    assert (done["RecordingDuration"], done["RecordingChannels"]) == ("5", "1")
    assert done["RecordingSource"] == "RecordVerb"
    assert "RecordingDuration" not in callbacks[0].params
    assert_signed(fake_app, fake_app.requests())

    fetched = client.recordings(recording_sid).fetch()
    assert (fetched.call_sid, fetched.duration, fetched.channels) == (sid, "5", 1)
    assert (fetched.status, fetched.source) == ("completed", "RecordVerb")
    assert fetched.media_url == url
    assert [r.sid for r in client.recordings.list(call_sid=sid)] == [recording_sid]
    assert [r.sid for r in client.calls(sid).recordings.list()] == [recording_sid]
    assert client.recordings.list(call_sid="CA" + "0" * 32) == []

    audio = media(sim, url + ".wav")
    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == "audio/x-wav"
    assert audio.content[:4] == b"RIFF" and audio.content[8:12] == b"WAVE"
    assert wav_of(audio.content) == (1, 8000, 5.0)
    assert media(sim, url).content == audio.content  # no extension: the WAV too
    assert media(sim, url + ".mp3").status_code == 415
    unauthenticated = requests.get(url + ".wav", timeout=5)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == 20003
    wrong = requests.get(url + ".wav", auth=(SIMULATOR_ACCOUNT_SID, "nope"), timeout=5)
    assert wrong.status_code == 401

    assert client.recordings(recording_sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        client.recordings(recording_sid).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)
    assert media(sim, url + ".wav").status_code == 404
    assert client.recordings.list(call_sid=sid) == []
    with pytest.raises(TwilioRestException) as err:
        client.recordings(recording_sid).delete()
    assert err.value.status == 404


def test_a_silent_caller_leaves_an_absent_recording_and_the_call_goes_on(
    sim: Simulator, fake_app: FakeApp
) -> None:
    routes(fake_app, numbers=[MEMBER_NO_ANSWER], timeout=5)
    sid = sim.inbound_call(LEAD, OUR_NUMBER)  # waits, says nothing
    call = sim.wait_call(sid, 10)
    assert fake_app.requests("/twilio/voice/voicemail/") == []  # no action for an empty one
    assert "say: We got nothing. Goodbye." in call["simulator"]["transcript"]
    absent = wait_for(
        lambda: [
            r
            for r in fake_app.requests("/twilio/voice/recording/vm")
            if r.params["RecordingStatus"] == "absent"
        ]
    )
    assert (absent[0].params["RecordingDuration"], absent[0].params["ErrorCode"]) == ("0", "16101")
    assert call["status"] == "completed"


def test_the_caller_hangs_up_while_members_ring(sim: Simulator, fake_app: FakeApp) -> None:
    routes(fake_app, numbers=[MEMBER_NO_ANSWER, "+14155550112"], timeout=600)
    # 100 simulated seconds: 0.5 s real, while the members ring (for 600 s: 3 s real).
    sid = sim.inbound_call(LEAD, OUR_NUMBER, behaviour="hangup", hangupAfter=100)
    call = sim.wait_call(sid, 10)
    assert call["status"] == "completed"
    action = one(fake_app, "/twilio/voice/dialed/")  # still requested; its TwiML ignored
    assert (action.params["DialCallStatus"], action.params["CallStatus"]) == (
        "canceled",
        "completed",
    )
    assert {sim.call(c)["status"] for c in call["simulator"]["children"]} == {"canceled"}
    assert fake_app.requests("/twilio/voice/voicemail/") == []


def test_the_callers_keys_reach_the_gather_action(sim: Simulator, fake_app: FakeApp) -> None:
    b = fake_app.base
    fake_app.routes["/twilio/voice/incoming"] = (
        f'<Response><Gather numDigits="1" action="{b}/twilio/voice/menu"><Say>Press 2</Say>'
        "</Gather></Response>"
    )
    fake_app.routes["/twilio/voice/menu"] = "<Response><Say>Bye</Say></Response>"
    sid = sim.inbound_call(LEAD, OUR_NUMBER, digits="2")
    sim.wait_call(sid, 10)
    assert one(fake_app, "/twilio/voice/menu").params["Digits"] == "2"


def test_the_numbers_voice_url_and_status_callback_are_used(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    number = client.incoming_phone_numbers.list(phone_number=NUMBERS[1])[0]
    client.incoming_phone_numbers(number.sid).update(
        voice_url=f"{fake_app.base}/custom/voice",
        status_callback=f"{fake_app.base}/custom/status",
    )
    fake_app.routes["/custom/voice"] = "<Response><Say>Hello there</Say></Response>"
    sid = sim.inbound_call(LEAD, NUMBERS[1])
    sim.wait_call(sid, 10)
    assert one(fake_app, "/custom/voice").params["To"] == NUMBERS[1]
    status = wait_for(lambda: fake_app.requests("/custom/status"))
    assert [s.params["CallStatus"] for s in status] == ["completed"]  # the final status only
    assert fake_app.requests("/twilio/voice/incoming") == []


def test_inbound_call_requests_are_checked(sim: Simulator) -> None:
    def post(body: Any) -> requests.Response:
        return requests.post(f"{sim.url}/simulator/inbound-call", json=body, timeout=5)

    not_ours = post({"from": LEAD, "to": "+15005550009"})
    assert not_ours.status_code == 400 and "account's numbers" in not_ours.json()["error"]
    assert post({"from": "12345", "to": OUR_NUMBER}).status_code == 400
    assert post({"from": LEAD, "to": OUR_NUMBER, "behaviour": "dance"}).status_code == 400
    assert post({"from": LEAD, "to": OUR_NUMBER, "behaviour": "hangup"}).status_code == 400
    assert post({"from": LEAD, "to": OUR_NUMBER, "messageSeconds": -1}).status_code == 400
    assert post([1, 2]).status_code == 400
    assert sim.calls() == []


# ---------------------------------------------------------------- recorded bridges


def test_a_recorded_inbound_dial_gets_a_dual_channel_recording(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    routes(fake_app, numbers=[MEMBER_ANSWERS], record_dial="record-from-answer-dual")
    sid = sim.inbound_call(LEAD, OUR_NUMBER)
    sim.wait_call(sid, 10)
    action = one(fake_app, "/twilio/voice/dialed/")
    assert action.params["DialCallStatus"] == "completed"
    callback = wait_for(lambda: fake_app.requests("/twilio/voice/recording/bridge"))[0].params
    assert callback["RecordingStatus"] == "completed"
    assert (callback["RecordingChannels"], callback["RecordingSource"]) == ("2", "DialVerb")
    assert callback["CallSid"] == sid
    assert action.params["RecordingSid"] == callback["RecordingSid"]
    seconds = int(callback["RecordingDuration"])
    assert seconds == 30  # the member's 30 s talk, from the bridge
    audio = media(sim, callback["RecordingUrl"] + ".wav")
    assert wav_of(audio.content) == (2, 8000, float(seconds))
    mixed = media(sim, callback["RecordingUrl"] + ".wav", params={"RequestedChannels": "1"})
    assert wav_of(mixed.content)[0] == 1
    assert client.recordings(callback["RecordingSid"]).fetch().channels == 2


def test_a_recorded_click_to_call_dial_records_the_lead_from_the_answer(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    b = fake_app.base
    fake_app.routes["/twilio/voice/c2c/"] = (
        f'<Response><Dial action="{b}/twilio/voice/c2c-done" record="record-from-answer-dual"'
        f' recordingStatusCallback="{b}/twilio/voice/recording/c2c"><Number>{LEAD}</Number>'
        "</Dial></Response>"
    )
    call = client.calls.create(to=MEMBER_ANSWERS, from_=CALLER_ID, url=f"{b}/twilio/voice/c2c/1")
    sim.wait_call(call.sid, 10)
    done = one(fake_app, "/twilio/voice/c2c-done").params
    assert (done["DialCallStatus"], done["DialCallDuration"]) == ("completed", "30")
    assert done["RecordingDuration"] == "30"
    callback = wait_for(lambda: fake_app.requests("/twilio/voice/recording/c2c"))[0].params
    assert (callback["RecordingDuration"], callback["RecordingChannels"]) == ("30", "2")
    assert callback["CallSid"] == call.sid  # the parent leg, as Twilio's
    assert callback["RecordingSid"] == done["RecordingSid"]


def test_a_rest_call_with_record_true_is_recorded_from_the_answer(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    fake_app.routes["/twilio/voice/rest/"] = '<Response><Pause length="12"/></Response>'
    call = client.calls.create(
        to=MEMBER_ANSWERS,
        from_=CALLER_ID,
        url=f"{fake_app.base}/twilio/voice/rest/1",
        record=True,
        recording_channels="dual",
        recording_status_callback=f"{fake_app.base}/twilio/voice/recording/rest",
        recording_status_callback_event=["in-progress", "completed"],
    )
    sim.wait_call(call.sid, 10)
    callbacks = wait_for(
        lambda: (
            len(fake_app.requests("/twilio/voice/recording/rest")) == 2
            and fake_app.requests("/twilio/voice/recording/rest")
        )
    )
    assert [c.params["RecordingStatus"] for c in callbacks] == ["in-progress", "completed"]
    done = callbacks[1].params
    assert (done["RecordingSource"], done["RecordingChannels"]) == ("OutboundAPI", "2")
    assert 12 <= int(done["RecordingDuration"]) <= 14
    assert_signed(fake_app, callbacks)
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(
            to=MEMBER_ANSWERS,
            from_=CALLER_ID,
            url=f"{fake_app.base}/twilio/voice/rest/1",
            record=True,
            recording_channels="stereo",
        )
    assert err.value.status == 400


# ---------------------------------------------------------------- faults


def test_faults_reach_the_recording_routes_and_webhooks(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    routes(fake_app, numbers=[MEMBER_NO_ANSWER], timeout=5)
    sim.inbound_call(LEAD, OUR_NUMBER, behaviour="message", messageSeconds=3)
    sim.wait_idle(10)
    recording_sid = one(fake_app, "/twilio/voice/voicemail/").params["RecordingSid"]

    sim.add_fault("recordings.fetch", "500")
    with pytest.raises(TwilioRestException) as err:
        client.recordings(recording_sid).fetch()
    assert err.value.status == 500
    assert client.recordings(recording_sid).fetch().duration == "3"

    sim.add_fault("recordings.media", "429", retry_after=3)
    url = client.recordings(recording_sid).fetch().media_url + ".wav"
    limited = media(sim, url)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert media(sim, url).status_code == 200

    sim.add_fault("recordings.delete", "500-after-create")
    with pytest.raises(TwilioRestException):
        client.recordings(recording_sid).delete()
    with pytest.raises(TwilioRestException) as err:  # it was deleted all the same
        client.recordings(recording_sid).fetch()
    assert err.value.status == 404

    # A dropped recording webhook is never sent (Twilio gave up on it). The message lasts
    # 0.5 s here: the fault is switched on while the caller speaks.
    fake_app.clear()
    routes(fake_app, numbers=[MEMBER_NO_ANSWER], timeout=5)
    sid = sim.inbound_call(LEAD, OUR_NUMBER, behaviour="message", messageSeconds=100)
    wait_for(lambda: fake_app.requests("/twilio/voice/recording/vm"))  # in-progress arrived
    sim.add_fault("webhook", "drop")
    sim.wait_call(sid, 10)
    dropped = [w for w in sim.webhooks(sid) if w["dropped"]]
    assert [w["kind"] for w in dropped] in (["recording-status:completed"], ["record-action"])
    sent = fake_app.requests("/twilio/voice/recording/vm") + fake_app.requests(
        "/twilio/voice/voicemail/"
    )
    assert len(sent) == 2  # in-progress, and whichever of the other two was not dropped


def test_a_conference_recorded_from_its_start(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    b = fake_app.base
    fake_app.routes["/twilio/voice/room/"] = (
        '<Response><Dial><Conference record="record-from-start" endConferenceOnExit="true"'
        f' recordingStatusCallback="{b}/twilio/voice/recording/room">room-1</Conference>'
        "</Dial></Response>"
    )
    began = time.monotonic()
    calls = [
        client.calls.create(to=member, from_=CALLER_ID, url=f"{b}/twilio/voice/room/{i}")
        for i, member in enumerate((MEMBER_ANSWERS, "+14155550103"))
    ]
    room = wait_for(lambda: client.conferences.list(friendly_name="room-1", status="in-progress"))
    time.sleep(0.1)  # 20 simulated seconds
    client.calls(calls[0].sid).update(status="completed")
    for call in calls:
        sim.wait_call(call.sid, 10)
    at_most = (time.monotonic() - began) * SPEED  # the room lasted less than all this
    callback = wait_for(lambda: fake_app.requests("/twilio/voice/recording/room"))[0].params
    assert (callback["RecordingSource"], callback["ConferenceSid"]) == ("Conference", room[0].sid)
    assert callback["RecordingStatus"] == "completed"
    assert 0.1 * SPEED - 2 <= int(callback["RecordingDuration"]) <= at_most
    listed = client.recordings.list(conference_sid=room[0].sid)
    assert [r.sid for r in listed] == [callback["RecordingSid"]]
    assert listed[0].call_sid is None


def test_a_click_to_call_lead_hears_a_recording_notice_before_the_bridge(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    b = fake_app.base

    def dial(lead: str) -> str:
        fake_app.routes["/twilio/voice/notice-dial/"] = (
            f'<Response><Dial action="{b}/twilio/voice/notice-done"'
            ' record="record-from-answer-dual"'
            f' recordingStatusCallback="{b}/twilio/voice/recording/notice">'
            f'<Number url="{b}/twilio/voice/rec-notice">{lead}</Number></Dial></Response>'
        )
        fake_app.routes["/twilio/voice/rec-notice"] = (
            "<Response><Say>This call is recorded.</Say></Response>"
        )
        call = client.calls.create(
            to=MEMBER_ANSWERS, from_=CALLER_ID, url=f"{b}/twilio/voice/notice-dial/1"
        )
        sim.wait_call(call.sid, 10)
        return str(call.sid)

    sid = dial(LEAD)
    (lead_sid,) = sim.call(sid)["simulator"]["children"]
    lead = sim.call(lead_sid)
    assert "say: This call is recorded." in lead["simulator"]["transcript"]
    notice = one(fake_app, "/twilio/voice/rec-notice")
    assert (notice.params["CallSid"], notice.params["ParentCallSid"]) == (lead_sid, sid)
    done = one(fake_app, "/twilio/voice/notice-done").params
    assert (done["DialCallStatus"], done["DialCallSid"]) == ("completed", lead_sid)
    callback = wait_for(lambda: fake_app.requests("/twilio/voice/recording/notice"))[0].params
    assert (callback["RecordingChannels"], callback["CallSid"]) == ("2", sid)

    fake_app.clear()
    sid = dial("+12125550101")  # a busy lead: no bridge, no recording
    assert one(fake_app, "/twilio/voice/notice-done").params["DialCallStatus"] == "busy"
    assert fake_app.requests("/twilio/voice/rec-notice") == []
    assert client.recordings.list(call_sid=sid) == []


def test_redirecting_an_inbound_call_drops_the_ringing_members(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    routes(fake_app, numbers=[MEMBER_NO_ANSWER, "+14155550112"], timeout=600)  # 3 s real
    sid = sim.inbound_call(LEAD, OUR_NUMBER)
    wait_for(lambda: len(sim.call(sid)["simulator"]["children"]) == 2)
    updated = client.calls(sid).update(
        twiml="<Response><Say>Sorry, nobody is free.</Say></Response>"
    )
    assert updated.status == "in-progress"
    call = sim.wait_call(sid, 10)
    assert {sim.call(c)["status"] for c in call["simulator"]["children"]} == {"canceled"}
    assert "say: Sorry, nobody is free." in call["simulator"]["transcript"]
    assert fake_app.requests("/twilio/voice/dialed/") == []  # a redirect drops the Dial
