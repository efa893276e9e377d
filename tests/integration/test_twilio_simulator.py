"""The Twilio simulator over real HTTP, driven by the real twilio SDK (through
RebasingHttpClient), calling back a fake app that checks every signature."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from chalicelib.config import SIMULATOR_ACCOUNT_SID
from chalicelib.telephony.http import RebasingHttpClient
from localdev.twilio_sim import NUMBERS, Simulator, start_simulator
from tests.integration.fake_app import CALLER_ID, FakeApp, Received
from tests.integration.sim_helpers import client_for

pytestmark = pytest.mark.integration

TOKEN = "sim-test-token"
SPEED = 500.0  # a 30 s talk takes 60 ms
MEMBER = "+14155550100"
EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def make_sim(fake_app: FakeApp) -> Iterator[Callable[..., Simulator]]:
    """Simulators with their own settings (speed, webhook timeout), stopped afterwards."""
    started: list[Simulator] = []

    def make(**overrides: Any) -> Simulator:
        settings: dict[str, Any] = {"app_base": fake_app.base, "auth_token": TOKEN, "speed": SPEED}
        settings.update(overrides)
        started.append(start_simulator(0, **settings))
        return started[-1]

    yield make
    for one in started:
        one.stop()
    fake_app.clear()


def place_call(client: Client, app: FakeApp, lead: str, *, events: list[str] = EVENTS) -> Any:
    call_id = uuid.uuid4().hex[:12]
    app.leads[call_id] = lead
    return client.calls.create(
        to=MEMBER,
        from_=CALLER_ID,
        url=f"{app.base}/twilio/voice/connect/{call_id}",
        status_callback=f"{app.base}/twilio/voice/status/{call_id}",
        status_callback_event=events,
    ), call_id


def statuses(requests_: list[Received]) -> list[str]:
    return [r.params["CallStatus"] for r in requests_]


def status_callbacks(app: FakeApp, prefix: str) -> list[Received]:
    return [r for r in app.requests(prefix) if "CallbackSource" in r.params]


def dial_action(app: FakeApp, call_id: str) -> Received:
    """The one Dial action request (it shares the lead-status route with the callbacks)."""
    (action,) = [
        r
        for r in app.requests(f"/twilio/voice/lead-status/{call_id}")
        if "DialCallStatus" in r.params
    ]
    return action


# ---------------------------------------------------------------- auth and numbers


def test_wrong_credentials_raise_twilio_20003(sim: Simulator) -> None:
    with pytest.raises(TwilioRestException) as err:
        client_for(sim, token="wrong").calls.create(
            to=MEMBER, from_=NUMBERS[0], url="http://127.0.0.1:9/x"
        )
    assert (err.value.status, err.value.code) == (401, 20003)
    assert sim.calls() == []

    raw = requests.get(f"{sim.url}/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Calls.json")
    assert raw.status_code == 401
    assert raw.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_lists_the_accounts_numbers_across_pages(sim: Simulator, client: Client) -> None:
    numbers = client.incoming_phone_numbers.list(page_size=1)  # follows next_page_uri
    assert [n.phone_number for n in numbers] == list(NUMBERS)
    first = numbers[0]
    assert re.fullmatch(r"PN[0-9a-f]{32}", first.sid)
    assert first.capabilities == {"voice": True, "sms": True, "mms": True, "fax": False}
    assert first.friendly_name == "(500) 555-0006"
    assert [r["op"] for r in sim.requests()] == ["numbers.list", "numbers.list"]


def test_unknown_call_is_a_twilio_404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as err:
        client.calls("CA" + "0" * 32).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)


# ---------------------------------------------------------------- calls


@pytest.mark.parametrize(
    ("to", "from_", "url", "code"),
    [
        (MEMBER, "+15005550001", "http://127.0.0.1:9/c", 21210),
        ("12345", NUMBERS[0], "http://127.0.0.1:9/c", 21211),
        ("+0123", NUMBERS[0], "http://127.0.0.1:9/c", 21211),
        (MEMBER, NUMBERS[0], None, 21205),
    ],
)
def test_create_call_validates_like_twilio(
    sim: Simulator, client: Client, to: str, from_: str, url: str | None, code: int
) -> None:
    kwargs = {"url": url} if url else {}
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to=to, from_=from_, **kwargs)
    assert (err.value.status, err.value.code) == (400, code)
    assert sim.calls() == []


def test_answered_call_walks_both_legs_signed_and_in_order(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    lead = "+12125550100"
    call, call_id = place_call(client, fake_app, lead)
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    assert (call.status, call.direction, call.to, call._from) == (
        "queued",
        "outbound-api",
        MEMBER,
        CALLER_ID,
    )
    sim.wait_call(call.sid)

    everything = fake_app.requests("/twilio/")
    assert everything and all(r.signature_ok for r in everything)
    for r in everything:
        assert r.headers["User-Agent"] == "TwilioProxy/1.1"
        assert r.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert r.headers["I-Twilio-Idempotency-Token"]

    member = fake_app.requests(f"/twilio/voice/status/{call_id}")
    assert statuses(member) == ["initiated", "ringing", "in-progress", "completed"]
    assert [r.params["SequenceNumber"] for r in member] == ["0", "1", "2", "3"]
    assert {r.params["CallSid"] for r in member} == {call.sid}
    assert {r.params["Direction"] for r in member} == {"outbound-api"}
    assert all(r.params["Timestamp"].endswith("+0000") for r in member)

    connect = fake_app.requests(f"/twilio/voice/connect/{call_id}")
    assert [r.params.get("Digits") for r in connect] == [None, "1"]
    assert connect[0].params["CallStatus"] == "in-progress"
    assert connect[0].params["AccountSid"] == SIMULATOR_ACCOUNT_SID

    lead_leg = status_callbacks(fake_app, f"/twilio/voice/lead-status/{call_id}")
    assert statuses(lead_leg) == ["initiated", "ringing", "in-progress", "completed"]
    child_sid = lead_leg[0].params["CallSid"]
    assert child_sid != call.sid
    for r in lead_leg:
        assert r.params["CallSid"] == child_sid
        assert r.params["ParentCallSid"] == call.sid
        assert (r.params["To"], r.params["From"]) == (lead, CALLER_ID)
        assert r.params["Direction"] == "outbound-dial"
    assert lead_leg[-1].params["CallDuration"] == "30"

    action = dial_action(fake_app, call_id)
    assert action.params["DialCallStatus"] == "completed"
    assert action.params["DialCallSid"] == child_sid
    assert action.params["DialCallDuration"] == "30"
    assert action.params["CallSid"] == call.sid
    # The member leg only ends once the Dial action's TwiML has run out.
    assert member[-1].at >= action.at
    assert int(member[-1].params["CallDuration"]) > 30

    fetched = client.calls(call.sid).fetch()
    assert fetched.status == "completed" and int(fetched.duration) > 30
    assert fetched.start_time is not None and fetched.end_time is not None
    child = client.calls(child_sid).fetch()
    assert (child.status, child.duration, child.parent_call_sid) == ("completed", "30", call.sid)


@pytest.mark.parametrize(
    ("digit", "final", "lead_statuses"),
    [
        ("1", "busy", ["initiated", "ringing", "busy"]),
        ("2", "no-answer", ["initiated", "ringing", "no-answer"]),
        ("3", "failed", ["initiated", "failed"]),
    ],
)
def test_lead_outcome_follows_the_last_digit(
    sim: Simulator,
    client: Client,
    fake_app: FakeApp,
    digit: str,
    final: str,
    lead_statuses: list[str],
) -> None:
    call, call_id = place_call(client, fake_app, "+1212555010" + digit)
    sim.wait_call(call.sid)

    lead_leg = status_callbacks(fake_app, f"/twilio/voice/lead-status/{call_id}")
    assert statuses(lead_leg) == lead_statuses
    assert lead_leg[-1].params["CallDuration"] == "0"
    assert all(r.signature_ok for r in fake_app.requests())
    action = dial_action(fake_app, call_id)
    assert action.params["DialCallStatus"] == final
    assert client.calls(action.params["DialCallSid"]).fetch().status == final
    member = fake_app.requests(f"/twilio/voice/status/{call_id}")
    assert statuses(member)[-1] == "completed"
    assert client.calls(call.sid).fetch().status == "completed"


def test_nine_means_the_member_never_presses_1(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    call, call_id = place_call(client, fake_app, "+12125550109")
    done = sim.wait_call(call.sid)

    assert done["status"] == "completed"
    assert int(done["duration"]) >= 5  # the Gather's timeout was waited out
    assert done["simulator"]["children"] == []
    assert "gather: no key pressed" in done["simulator"]["transcript"]
    assert done["simulator"]["transcript"][-2:] == ["say: No key pressed. Goodbye.", "hangup"]
    assert fake_app.requests(f"/twilio/voice/lead-status/{call_id}") == []
    assert [c["sid"] for c in sim.calls()] == [call.sid]
    member = fake_app.requests(f"/twilio/voice/status/{call_id}")
    assert statuses(member) == ["initiated", "ringing", "in-progress", "completed"]
    # The one peek the simulated member took is logged as thrown away.
    peeks = [w for w in sim.webhooks(call.sid) if w["params"].get("Digits") == "1"]
    assert len(peeks) == 1 and peeks[0]["discarded"] is True


def test_nine_with_action_on_empty_result_posts_empty_digits(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    fake_app.action_on_empty_result = True
    call, call_id = place_call(client, fake_app, "+12125550109")
    sim.wait_call(call.sid)
    connect = fake_app.requests(f"/twilio/voice/connect/{call_id}")
    assert [r.params.get("Digits") for r in connect] == [None, "1", ""]
    assert fake_app.requests(f"/twilio/voice/lead-status/{call_id}") == []


def test_an_app_that_rejects_the_signature_ends_the_call_with_an_application_error(
    fake_app: FakeApp, make_sim: Callable[..., Simulator]
) -> None:
    forged = make_sim(auth_token="not-the-app-token")
    call, call_id = place_call(client_for(forged, "not-the-app-token"), fake_app, "+12125550100")
    done = forged.wait_call(call.sid)
    assert done["status"] == "completed"
    assert [e["code"] for e in done["simulator"]["errors"]] == [11200]
    assert not any(r.signature_ok for r in fake_app.requests())
    assert fake_app.requests(f"/twilio/voice/lead-status/{call_id}") == []


def test_canceling_a_ringing_call(fake_app: FakeApp, make_sim: Callable[..., Simulator]) -> None:
    slow = make_sim(speed=2)  # queued and ringing last about 2 s
    call, call_id = place_call(client_for(slow, TOKEN), fake_app, "+12125550100")
    updated = client_for(slow, TOKEN).calls(call.sid).update(status="canceled")
    assert updated.status == "canceled"
    slow.wait_call(call.sid, timeout=5)
    member = fake_app.requests(f"/twilio/voice/status/{call_id}")
    assert statuses(member)[-1] == "canceled"
    assert fake_app.requests(f"/twilio/voice/connect/{call_id}") == []


def test_hanging_up_during_the_talk_ends_both_legs(
    fake_app: FakeApp, make_sim: Callable[..., Simulator]
) -> None:
    sim = make_sim(speed=20)  # the 30 s talk lasts 1.5 s
    client = client_for(sim, TOKEN)
    call, _ = place_call(client, fake_app, "+12125550100")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        legs = [c for c in sim.calls() if c["parent_call_sid"] == call.sid]
        if legs and legs[0]["status"] == "in-progress":
            break
        time.sleep(0.01)
    else:
        pytest.fail("the lead leg never answered")
    assert client.calls(call.sid).update(status="completed").status == "completed"
    sim.wait_call(call.sid, timeout=5)
    child = sim.call(legs[0]["sid"])
    assert child["status"] == "completed" and int(child["duration"]) < 30


# ---------------------------------------------------------------- SMS


def test_sms_goes_queued_sent_delivered(sim: Simulator, client: Client, fake_app: FakeApp) -> None:
    message = client.messages.create(
        to="+14155550100",
        from_=NUMBERS[0],
        body="Hello from the team",
        status_callback=f"{fake_app.base}/twilio/sms/status/m1",
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.num_segments) == ("queued", "1")
    assert message.direction == "outbound-api"
    sim.wait_message(message.sid)
    callbacks = fake_app.requests("/twilio/sms/status/m1")
    assert [r.params["MessageStatus"] for r in callbacks] == ["sent", "delivered"]
    assert all(r.signature_ok and r.params["MessageSid"] == message.sid for r in callbacks)
    assert client.messages(message.sid).fetch().status == "delivered"


def test_sms_to_a_number_ending_in_3_is_undelivered_with_30003(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    # A carrier failure, as Twilio reports it: `sent` (handed to the carrier), then
    # `undelivered` with ErrorCode only; status callbacks never carry ErrorMessage.
    message = client.messages.create(
        to="+14155550103",
        from_=NUMBERS[1],
        body="Hi",
        status_callback=f"{fake_app.base}/twilio/sms/status/m3",
    )
    sim.wait_message(message.sid)
    sent, undelivered = fake_app.requests("/twilio/sms/status/m3")
    assert sent.params["MessageStatus"] == "sent" and "ErrorCode" not in sent.params
    assert undelivered.params["MessageStatus"] == "undelivered"
    assert undelivered.params["ErrorCode"] == "30003"
    assert all("ErrorMessage" not in r.params for r in (sent, undelivered))
    fetched = client.messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)
    assert fetched.error_message == "Unreachable destination handset"


def test_sms_through_a_messaging_service(sim: Simulator, client: Client) -> None:
    message = client.messages.create(
        to="+14155550100", messaging_service_sid="MG" + "a" * 32, body="ł" * 71
    )
    assert (message.status, message.from_, message.num_segments) == ("accepted", None, "2")
    done = sim.wait_message(message.sid)
    assert (done["status"], done["from"]) == ("delivered", NUMBERS[0])


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "555-0100"}, 21211),
        ({"from_": "+15005550001"}, 21606),
        ({"from_": "not a number"}, 21212),
        ({"body": ""}, 21602),
        ({"body": "x" * 1601}, 21617),
        ({"from_": None, "messaging_service_sid": "MGnope"}, 21701),
    ],
)
def test_sms_is_validated_like_twilio(
    sim: Simulator, client: Client, fields: dict[str, Any], code: int
) -> None:
    kwargs: dict[str, Any] = {"to": "+14155550100", "from_": NUMBERS[0], "body": "hi"}
    kwargs.update(fields)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(**kwargs)
    assert (err.value.status, err.value.code) == (400, code)
    assert sim.messages() == []


def test_inbound_sms_reaches_the_app_signed(sim: Simulator, fake_app: FakeApp) -> None:
    answer = requests.post(
        f"{sim.url}/simulator/inbound-sms",
        json={"from": "+14155550123", "to": NUMBERS[0], "body": "Call me tomorrow"},
        timeout=5,
    ).json()
    assert (answer["status"], answer["body"], answer["error"]) == (200, "<Response/>", None)
    (received,) = fake_app.requests("/twilio/sms/incoming")
    assert received.signature_ok
    assert received.params["MessageSid"] == answer["messageSid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", answer["messageSid"])
    assert {k: received.params[k] for k in ("From", "To", "Body", "NumMedia", "SmsStatus")} == {
        "From": "+14155550123",
        "To": NUMBERS[0],
        "Body": "Call me tomorrow",
        "NumMedia": "0",
        "SmsStatus": "received",
    }
    assert received.params["AccountSid"] == SIMULATOR_ACCOUNT_SID


def test_inbound_sms_goes_to_the_numbers_sms_url(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    number = client.incoming_phone_numbers.list(phone_number=NUMBERS[1])[0]
    client.incoming_phone_numbers(number.sid).update(sms_url=f"{fake_app.base}/custom/sms")
    sim.inbound_sms("+14155550123", NUMBERS[1], "hello")
    assert [r.params["Body"] for r in fake_app.requests("/custom/sms")] == ["hello"]
    assert fake_app.requests("/twilio/sms/incoming") == []


def test_stop_blocks_sends_with_21610_until_start(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    lead = "+14155550124"
    stop = sim.inbound_sms(lead, NUMBERS[0], "  Stop! ")
    assert stop["optOutType"] == "STOP"
    assert fake_app.requests("/twilio/sms/incoming")[0].params["Body"] == "  Stop! "

    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to=lead, from_=NUMBERS[0], body="one more?")
    assert (err.value.status, err.value.code) == (400, 21610)
    # The opt-out is per sender number, as Twilio's default handling.
    assert client.messages.create(to=lead, from_=NUMBERS[1], body="other line").status == "queued"

    assert sim.inbound_sms(lead, NUMBERS[0], "start")["optOutType"] == "START"
    assert client.messages.create(to=lead, from_=NUMBERS[0], body="welcome back").status == "queued"
    replies = [m for m in sim.messages() if m["direction"] == "outbound-reply"]
    assert [m["body"].split(".")[0] for m in replies] == [
        "You have successfully been unsubscribed",
        "You have successfully been re-subscribed to messages from this number",
    ]


def test_messages_are_fetched_and_listed_like_twilio(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    """Fetch one (an unknown SID is Twilio's 404, code 20404); list with `To`, `From` and
    `DateSent` filters (inbound texts included, with their `date_sent`), paged by
    `next_page_uri`, newest first."""
    sids = [
        sim.inbound_sms(f"+1415555012{i}", NUMBERS[0], f"text {i}")["messageSid"] for i in range(5)
    ]
    other = sim.inbound_sms("+14155550129", NUMBERS[1], "to the other line")["messageSid"]
    out = client.messages.create(to="+14155550120", from_=NUMBERS[0], body="hi")

    got = client.messages(sids[0]).fetch()
    assert (got.sid, got.direction, got.status, got.body) == (
        sids[0],
        "inbound",
        "received",
        "text 0",
    )
    assert got.date_sent is not None and got.from_ == "+14155550120"
    with pytest.raises(TwilioRestException) as err:
        client.messages("SM" + "0" * 32).fetch()
    assert (err.value.status, err.value.code) == (404, 20404)

    today = got.date_sent.date()
    listed = client.messages.list(to=NUMBERS[0], date_sent_after=today.isoformat(), page_size=2)
    assert sorted(m.sid for m in listed) == sorted(sids)  # every page
    sent = [m.date_sent for m in listed]
    assert sent == sorted(sent, reverse=True)  # newest first
    assert all(m.direction == "inbound" for m in listed)
    first = requests.get(
        f"{sim.url}/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Messages.json",
        params={"To": NUMBERS[0], "PageSize": "2"},
        auth=(SIMULATOR_ACCOUNT_SID, TOKEN),
        timeout=5,
    ).json()
    assert len(first["messages"]) == 2 and first["next_page_uri"]  # what the SDK follows
    assert [m.sid for m in client.messages.list(to=NUMBERS[1])] == [other]
    assert [m.sid for m in client.messages.list(from_="+14155550123")] == [sids[3]]
    assert client.messages.list(to=NUMBERS[0], date_sent_after="2999-01-01") == []
    before = client.messages.list(date_sent_before=(today.replace(year=today.year - 1)).isoformat())
    assert before == []
    on_the_day = {m.sid for m in client.messages.list(date_sent=today.isoformat())}
    assert set(sids) | {other} <= on_the_day
    # The raw query as Twilio's docs write it: `DateSent>=YYYY-MM-DD` (and `<=`).
    raw = requests.get(
        f"{sim.url}/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Messages.json"
        f"?To=%2B{NUMBERS[1][1:]}&DateSent>={today.isoformat()}&DateSent<={today.isoformat()}",
        auth=(SIMULATOR_ACCOUNT_SID, TOKEN),
        timeout=5,
    )
    assert [m["sid"] for m in raw.json()["messages"]] == [other]
    bad = requests.get(
        f"{sim.url}/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Messages.json?DateSent>=soon",
        auth=(SIMULATOR_ACCOUNT_SID, TOKEN),
        timeout=5,
    )
    assert bad.status_code == 400
    assert out.sid not in {m.sid for m in listed}


# ---------------------------------------------------------------- faults


def test_a_webhook_drop_fault_sends_nothing(sim: Simulator, fake_app: FakeApp) -> None:
    """Twilio gave up on them: the next n webhooks never reach the app (logged as dropped),
    and the one after is sent as usual."""
    requests.post(
        f"{sim.url}/simulator/faults", json={"op": "webhook", "mode": "drop", "count": 2}, timeout=5
    ).raise_for_status()
    state = requests.get(f"{sim.url}/simulator/faults", timeout=5).json()
    assert [(f["op"], f["mode"], f["count"]) for f in state["faults"]] == [("webhook", "drop", 2)]
    first = sim.inbound_sms("+14155550131", NUMBERS[0], "STOP")
    second = sim.inbound_sms("+14155550132", NUMBERS[0], "hello")
    third = sim.inbound_sms("+14155550133", NUMBERS[0], "hello again")
    assert [r.params["Body"] for r in fake_app.requests("/twilio/sms/incoming")] == ["hello again"]
    assert first["status"] is None and first["delivery"]["dropped"] is True
    assert first["error"].startswith("dropped") and second["delivery"]["dropped"] is True
    assert third["status"] == 200 and third["delivery"]["dropped"] is False
    # Twilio still has the texts (and honoured the STOP), for whoever lists them.
    assert {m["sid"] for m in sim.messages()} >= {first["messageSid"], second["messageSid"]}
    opt_outs = requests.get(f"{sim.url}/simulator/opt-outs", timeout=5).json()["optOuts"]
    assert {"recipient": "+14155550131", "sender": NUMBERS[0]} in opt_outs
    assert requests.get(f"{sim.url}/simulator/faults", timeout=5).json()["faults"] == []


def test_fault_429_is_never_carried_out(sim: Simulator, client: Client) -> None:
    sim.add_fault("messages.create", "429", retry_after=2)
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="+14155550100", from_=NUMBERS[0], body="hi")
    assert (err.value.status, err.value.code) == (429, 20429)
    assert sim.messages() == []
    assert client.messages.create(to="+14155550100", from_=NUMBERS[0], body="hi").status == "queued"
    assert [r["fault"] for r in sim.requests()] == ["429", None]


def test_fault_429_carries_retry_after(sim: Simulator) -> None:
    requests.post(
        f"{sim.url}/simulator/faults", json={"op": "numbers.list", "mode": "429"}, timeout=5
    ).raise_for_status()
    raw = requests.get(
        f"{sim.url}/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/IncomingPhoneNumbers.json",
        auth=(SIMULATOR_ACCOUNT_SID, TOKEN),
        timeout=5,
    )
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "1"
    assert raw.json()["code"] == 20429


def test_fault_500_on_create_call_places_nothing(sim: Simulator, client: Client) -> None:
    sim.add_fault("calls.create", "500")
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to=MEMBER, from_=NUMBERS[0], url="http://127.0.0.1:9/c")
    assert (err.value.status, err.value.code) == (500, 20500)
    assert sim.calls() == []


def test_fault_500_after_create_places_the_call_anyway(
    sim: Simulator, client: Client, fake_app: FakeApp
) -> None:
    sim.add_fault("calls.create", "500-after-create")
    with pytest.raises(TwilioRestException) as err:
        place_call(client, fake_app, "+12125550100")
    assert err.value.status == 500
    (placed,) = sim.calls()
    assert sim.wait_call(placed["sid"])["status"] == "completed"


def test_fault_21211_and_counts(sim: Simulator, client: Client) -> None:
    sim.add_fault("calls.create", "21211", count=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as err:
            client.calls.create(to=MEMBER, from_=NUMBERS[0], url="http://127.0.0.1:9/c")
        assert (err.value.status, err.value.code) == (400, 21211)
    sim.add_fault("numbers.list", "500")
    with pytest.raises(TwilioException):  # the SDK's list() raises the plain kind
        client.incoming_phone_numbers.list()
    assert len(client.incoming_phone_numbers.list()) == 2
    assert sim.calls() == []


def test_fault_timeout_leaves_the_client_waiting(sim: Simulator) -> None:
    sim.add_fault("calls.create", "timeout", delay_seconds=1)
    impatient = client_for(sim, TOKEN, timeout=0.2)
    with pytest.raises(requests.exceptions.Timeout):
        impatient.calls.create(to=MEMBER, from_=NUMBERS[0], url="http://127.0.0.1:9/c")
    assert sim.calls() == []


def test_fault_switch_rejects_nonsense_and_clears(sim: Simulator) -> None:
    bad = requests.post(
        f"{sim.url}/simulator/faults", json={"op": "calls.explode", "mode": "500"}, timeout=5
    )
    assert bad.status_code == 400 and "op must be" in bad.json()["error"]
    requests.post(
        f"{sim.url}/simulator/faults", json={"webhookDelaySeconds": 0.5}, timeout=5
    ).raise_for_status()
    sim.add_fault("calls.fetch", "500", count=3)
    state = requests.get(f"{sim.url}/simulator/faults", timeout=5).json()
    assert state["webhookDelaySeconds"] == 0.5
    assert [(f["op"], f["count"]) for f in state["faults"]] == [("calls.fetch", 3)]
    cleared = requests.delete(f"{sim.url}/simulator/faults", timeout=5).json()
    assert cleared == {"faults": [], "webhookDelaySeconds": 0.0}


def test_webhook_delay_past_the_timeout_is_given_up_and_logged(
    fake_app: FakeApp, make_sim: Callable[..., Simulator]
) -> None:
    sim = make_sim(webhook_timeout=0.3)
    sim.set_webhook_delay(0.4)
    call, call_id = place_call(client_for(sim, TOKEN), fake_app, "+12125550100", events=[])
    done = sim.wait_call(call.sid, timeout=10)

    assert done["status"] == "completed"
    assert [e["code"] for e in done["simulator"]["errors"]] == [11205]
    assert done["simulator"]["children"] == []
    log = sim.webhooks(call.sid)
    assert [w["kind"] for w in log] == ["voice-url", "call-status:completed"]
    assert all(w["errorCode"] == 11205 and w["error"].startswith("timeout") for w in log)
    assert all(w["delaySeconds"] == 0.4 for w in log)
    # Twilio gave up waiting, but the late request did reach the app, as it would.
    deadline = time.monotonic() + 2
    while len(fake_app.requests(f"/twilio/voice/status/{call_id}")) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_webhook_delay_within_the_timeout_still_delivers(
    fake_app: FakeApp, make_sim: Callable[..., Simulator]
) -> None:
    sim = make_sim(webhook_timeout=2)
    sim.set_webhook_delay(0.1)
    message = client_for(sim, TOKEN).messages.create(
        to="+14155550100",
        from_=NUMBERS[0],
        body="hi",
        status_callback=f"{fake_app.base}/twilio/sms/status/slow",
    )
    sim.wait_message(message.sid)
    log = sim.webhooks(message.sid)
    assert [w["params"]["MessageStatus"] for w in log] == ["sent", "delivered"]
    assert all(w["error"] is None and w["elapsedMs"] >= 100 for w in log)


def test_connection_failure_is_retried_once(sim: Simulator, client: Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/sms"  # nothing listens once closed
    number = client.incoming_phone_numbers.list(phone_number=NUMBERS[0])[0]
    client.incoming_phone_numbers(number.sid).update(sms_url=dead)
    answer = sim.inbound_sms("+14155550123", NUMBERS[0], "anyone there?")
    assert answer["status"] is None
    assert answer["error"].startswith("connection failed")
    assert answer["delivery"]["attempts"] == 2


# ---------------------------------------------------------------- the command


def test_the_command_serves_until_sigterm(fake_app: FakeApp) -> None:
    env = {**os.environ, "SIMULATOR_AUTH_TOKEN": TOKEN, "SIM_APP_BASE": fake_app.base}
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdev.twilio_sim", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        client = Client(
            SIMULATOR_ACCOUNT_SID, TOKEN, http_client=RebasingHttpClient(match.group(1))
        )
        assert len(client.incoming_phone_numbers.list()) == 2
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
