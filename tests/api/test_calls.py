from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.records import Call
from chalicelib.providers import deps
from chalicelib.store.base import Update
from chalicelib.telephony.base import CallState, TelephonyFailure
from tests.conftest import post_webhook
from tests.helpers import day_counters, funnel, store

CALLER_ID = "+15005550006"


@pytest.fixture
def setup(api, telephony, clock, make_member, make_lead):
    member = make_member(phone="+14155550100")
    lead = make_lead(name="Jane <Doe> & Co", phone="+12125550142")
    return member, lead


def place(api, member, lead, **over):
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
    body.update(over)
    return api.post("/calls", body)


def test_place_call_rings_the_member_first(api, setup, telephony, ddb_requests):
    member, lead = setup
    ddb_requests.reset()
    status, call, _ = place(api, member, lead, callerId="(500) 555-0006")
    assert status == 201
    assert call["status"] == "queued" and call["twilioSid"].startswith("CA")
    assert call["leadId"] == lead["id"] and call["callerId"] == CALLER_ID
    placed = telephony.calls[-1]
    assert placed["to"] == member["phone"] and placed["from"] == CALLER_ID
    assert placed["url"] == f"https://api.example.test/api/twilio/voice/connect/{call['id']}"
    assert placed["status_callback"].endswith(f"/twilio/voice/status/{call['id']}")
    # lead, member, the member's rate counter, create (call + counters + the live-call guards of
    # the member and the lead, in one transaction), store the SID
    # the lead, the member; the number's suppression item and the rules document (compliance:
    # one BatchGetItem per call); the rate counter; the call's transaction; the SID
    assert dict(ddb_requests.calls) == {
        "GetItem": 2,
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
        "UpdateItem": 2,
    }
    assert day_counters() == {"calls": 1, f"m#{member['id']}#calls": 1}


def test_caller_id_list_is_cached(api, setup, telephony):
    member, lead = setup
    place(api, member, lead)
    place(api, member, lead)
    api.get("/twilio/phone-numbers")
    assert telephony.list_count == 1


def test_phone_numbers_route(api, telephony):
    status, body, _ = api.get("/twilio/phone-numbers")
    assert status == 200
    assert [n["phoneNumber"] for n in body["items"]] == ["+15005550006", "+15005550007"]
    assert body["items"][0]["capabilities"] == {"voice": True, "sms": True}


@pytest.mark.parametrize(
    "override, field",
    [
        ({"leadId": "01NOPE"}, "leadId"),
        ({"teamMemberId": "01NOPE"}, "teamMemberId"),
        ({"callerId": "+14155550199"}, "callerId"),
        ({"callerId": "not a number"}, "callerId"),
    ],
)
def test_bad_references_are_400(api, setup, telephony, override, field):
    member, lead = setup
    status, err, _ = place(api, member, lead, **override)
    assert status == 400 and err["error"]["details"]["field"] == field
    assert telephony.calls == []


def test_inactive_member_and_archived_lead_are_400(api, setup, make_member, make_lead):
    member, lead = setup
    other = make_member()
    api.delete(f"/team-members/{other['id']}")
    assert place(api, other, lead)[0] == 400
    api.delete(f"/leads/{lead['id']}")
    assert place(api, member, lead)[0] == 400


def test_do_not_call_is_blocked(api, setup, telephony):
    member, lead = setup
    api.patch(f"/leads/{lead['id']}", {"doNotCall": True})
    status, err, _ = place(api, member, lead)
    assert status == 422 and err["error"]["code"] == "blocked"
    assert err["error"]["details"]["reason"] == "do_not_call"
    assert telephony.calls == []


def test_outside_calling_hours_is_blocked_with_local_time_and_opening(api, setup, clock, telephony):
    member, lead = setup
    clock.set(datetime(2026, 11, 24, 3, 30, tzinfo=UTC))  # 22:30 in New York
    status, err, _ = place(api, member, lead)
    assert status == 422 and err["error"]["code"] == "blocked"
    details = err["error"]["details"]
    assert details["reason"] == "calling_hours"
    assert details["leadLocalTime"] == {"America/New_York": "2026-11-23T22:30"}
    assert details["opensAt"] == "2026-11-24T13:00:00Z"  # 08:00 EST
    assert "22:30" in err["error"]["message"]
    assert telephony.calls == []


def test_calling_hours_are_configurable(api, setup, clock, monkeypatch):
    from chalicelib.config import reset_settings

    member, lead = setup
    monkeypatch.setenv("CALLING_HOURS", "09:00-17:00")
    reset_settings()
    clock.set(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))  # 18:00 New York
    assert place(api, member, lead)[0] == 422
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # 10:00 New York
    assert place(api, member, lead)[0] == 201


def test_multi_zone_number_uses_the_shared_window(api, setup, clock, make_lead):
    member, _ = setup
    toll_free = make_lead(phone="+18005550100")
    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # 07:00 in Honolulu
    status, err, _ = place(api, member, toll_free)
    assert status == 422
    assert "Pacific/Honolulu" in err["error"]["details"]["leadLocalTime"]
    opens = datetime.fromisoformat(err["error"]["details"]["opensAt"].replace("Z", "+00:00"))
    clock.set(opens)
    assert place(api, member, toll_free)[0] == 201


@pytest.mark.parametrize(
    "failure, status_code, code",
    [
        (TelephonyFailure("Invalid 'To' Phone Number", 21211, 400), 400, "21211"),
        (TelephonyFailure("Internal error", 20500, 500, maybe_executed=True), 502, "20500"),
        (TelephonyFailure("Twilio could not be reached", None, 0, True), 502, "http_0"),
    ],
)
def test_twilio_error_leaves_the_call_failed_never_queued(
    api, setup, telephony, failure, status_code, code
):
    member, lead = setup
    telephony.fail_next(failure, "place_call")
    status, err, _ = place(api, member, lead)
    assert status == status_code
    assert err["error"]["code"] == ("validation_error" if status_code == 400 else "telephony_error")
    call_id = err["error"]["details"]["callId"]
    _, call, _ = api.get(f"/calls/{call_id}")
    assert call["status"] == "failed" and call["errorCode"] == code
    assert call["errorMessage"] == failure.message and call["endedAt"]
    assert day_counters()["call#failed"] == 1


# ---------------------------------------------------------------- TwiML


def test_connect_whispers_the_lead_name_and_gathers_to_its_own_url(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    status, body, headers = post_webhook(api, f"/twilio/voice/connect/{call['id']}", {})
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    assert "<Gather" in body and 'numDigits="1"' in body
    assert "Lead Jane &lt;Doe&gt; &amp; Co. Press 1 to connect." in body
    assert f'action="https://api.example.test/api/twilio/voice/gather/{call["id"]}"' in body
    assert 'actionOnEmptyResult="true"' in body


def gather(api, call_id, params):
    return post_webhook(api, f"/twilio/voice/gather/{call_id}", params)


def test_pressing_1_dials_the_lead_with_its_own_status_callback(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    status, body, _ = gather(api, call["id"], {"Digits": "1"})
    assert status == 200
    lead_url = f"https://api.example.test/api/twilio/voice/lead-status/{call['id']}"
    assert f'<Dial action="{lead_url}" callerId="{CALLER_ID}"' in body
    assert f'statusCallback="{lead_url}"' in body
    assert 'statusCallbackEvent="initiated ringing answered completed"' in body
    assert ">+12125550142</Number>" in body
    amd_url = f"https://api.example.test/api/twilio/voice/amd/{call['id']}"
    assert 'machineDetection="DetectMessageEnd"' in body
    assert f'amdStatusCallback="{amd_url}"' in body and 'amdStatusCallbackMethod="POST"' in body
    _, still, _ = api.get(f"/calls/{call['id']}")
    assert still["leadLegStatus"] == "queued"  # dialling is recorded: item 5 must not settle it
    assert "lead#not-connected" not in day_counters()


@pytest.mark.parametrize(
    "params",
    [{"Digits": ""}, {}, {"Digits": "2"}, {"Digits": "#"}, {"Digits": " "}],
    ids=["empty", "absent", "other-key", "hash", "blank"],
)
def test_any_other_gather_result_says_goodbye_and_never_replays_the_whisper(api, setup, params):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    status, body, _ = gather(api, call["id"], {"msg": "Gather End", **params})
    assert status == 200 and "<Hangup" in body and "Goodbye" in body
    assert "<Gather" not in body and "<Dial" not in body
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["leadLegStatus"] == "not-connected"
    assert day_counters()["lead#not-connected"] == 1
    # A late or repeated result changes nothing, and pressing 1 after it does not dial.
    again = gather(api, call["id"], {"Digits": "1"})[1]
    assert "<Dial" not in again and "<Gather" not in again
    assert day_counters()["lead#not-connected"] == 1


def test_legacy_gather_result_at_the_connect_url_still_works(api, setup):
    """A whisper served before the deploy posts its Gather to the connect URL, with `Digits`."""
    member, lead = setup
    _, call, _ = place(api, member, lead)
    status, body, _ = post_webhook(api, f"/twilio/voice/connect/{call['id']}", {"Digits": "1"})
    assert status == 200 and ">+12125550142</Number>" in body
    member_leg(api, call["id"], "completed")  # one live call per member and lead
    _, other, _ = place(api, member, lead)
    status, body, _ = post_webhook(api, f"/twilio/voice/connect/{other['id']}", {"Digits": ""})
    assert status == 200 and "<Hangup" in body and "Goodbye" in body
    _, got, _ = api.get(f"/calls/{other['id']}")
    assert got["leadLegStatus"] == "not-connected"


@pytest.mark.parametrize("digits", [None, "1"])
def test_a_call_reported_failed_but_placed_anyway_is_never_bridged(api, setup, telephony, digits):
    """Twilio answered 5xx on create yet placed the call (`mayHaveBeenPlaced`): when the member
    answers, the call is hung up, the lead is never dialled, the call stays failed."""
    member, lead = setup
    telephony.fail_next(TelephonyFailure("Internal error", 20500, 500, True), "place_call")
    status, err, _ = place(api, member, lead)
    assert status == 502 and err["error"]["details"]["mayHaveBeenPlaced"] is True
    call_id = err["error"]["details"]["callId"]
    params = {} if digits is None else {"Digits": digits}
    status, body, _ = post_webhook(api, f"/twilio/voice/connect/{call_id}", params)
    assert status == 200 and "<Hangup" in body
    assert "<Dial" not in body and "<Gather" not in body
    _, got, _ = api.get(f"/calls/{call_id}")
    assert got["status"] == "failed" and got["leadLegStatus"] == "not-connected"
    assert day_counters() == {
        "calls": 1,
        "call#failed": 1,
        "lead#not-connected": 1,
        f"m#{member['id']}#calls": 1,
    }


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed", "canceled", "not-connected"])
def test_a_call_that_never_reached_the_lead_is_no_contact(api, setup, outcome):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    cid = call["id"]
    for s in ("initiated", "ringing", "in-progress"):
        member_leg(api, cid, s)
    if outcome == "not-connected":
        post_webhook(api, f"/twilio/voice/connect/{cid}", {"Digits": ""})
    else:
        lead_leg(api, cid, outcome)
    member_leg(api, cid, "completed", CallDuration="20")
    _, now_lead, _ = api.get(f"/leads/{lead['id']}")
    assert now_lead["status"] == "new" and now_lead["lastContactedAt"] is None
    assert funnel() == {"status#new": 1, "total": 1}


@pytest.mark.parametrize("kind", ["forged", "missing", "other-token", "other-url"])
def test_bad_signatures_are_403_and_change_nothing(api, setup, kind):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    path = f"/twilio/voice/status/{call['id']}"
    params = {"CallStatus": "completed", "CallDuration": "5"}
    if kind == "forged":
        status, body, _ = api.request(
            "POST",
            path,
            raw="CallStatus=completed",
            token=None,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            },
        )
    elif kind == "missing":
        status, body, _ = post_webhook(api, path, params, sign=False)
    elif kind == "other-token":
        status, body, _ = post_webhook(api, path, params, token="not-the-token")
    else:  # signed for another call's URL, replayed here
        from urllib.parse import urlencode

        from chalicelib.telephony.signature import sign

        sig = sign(
            "simulated-auth-token", "https://api.example.test/api/twilio/voice/status/X", params
        )
        status, body, _ = api.request(
            "POST",
            path,
            raw=urlencode(params),
            token=None,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sig,
            },
        )
    assert status == 403 and body["error"]["code"] == "forbidden"
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["status"] == "queued"


def test_unknown_call_is_404_not_500(api, telephony):
    for path in ("status", "lead-status", "connect", "gather", "amd"):
        status, body, _ = post_webhook(
            api, f"/twilio/voice/{path}/01NOPE", {"CallStatus": "ringing"}
        )
        assert status == 404 and body["error"]["code"] == "not_found"


def test_webhook_needs_form_encoding(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    status, body, _ = api.request(
        "POST", f"/twilio/voice/status/{call['id']}", {"CallStatus": "ringing"}, token=None
    )
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"


# ---------------------------------------------------------------- statuses


def member_leg(api, call_id, status, **extra):
    params = {"CallStatus": status, "CallSid": "CAxx", **extra}
    return post_webhook(api, f"/twilio/voice/status/{call_id}", params)


def lead_leg(api, call_id, status, **extra):
    params = {"CallStatus": status, "CallSid": "CAchild", "ParentCallSid": "CAxx", **extra}
    return post_webhook(api, f"/twilio/voice/lead-status/{call_id}", params)


def test_a_connected_call_end_to_end(api, setup, ddb_requests):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    cid = call["id"]
    for s in ("initiated", "ringing", "in-progress"):
        assert member_leg(api, cid, s)[0] == 200
    for s in ("initiated", "ringing", "in-progress"):
        assert lead_leg(api, cid, s)[0] == 200
    ddb_requests.reset()
    lead_leg(api, cid, "completed", CallDuration="42")
    assert ddb_requests.total <= 4
    post_webhook(
        api,
        f"/twilio/voice/lead-status/{cid}",
        {"DialCallStatus": "completed", "DialCallDuration": "43", "CallStatus": "in-progress"},
    )
    ddb_requests.reset()
    member_leg(api, cid, "completed", CallDuration="60")
    assert ddb_requests.total <= 4  # + the member's and the lead's live-call guards released
    _, got, _ = api.get(f"/calls/{cid}")
    assert got["status"] == "completed" and got["leadLegStatus"] == "completed"
    assert got["talkSeconds"] == 42 and got["durationSeconds"] == 60
    assert got["answeredAt"] and got["endedAt"]
    _, now_lead, _ = api.get(f"/leads/{lead['id']}")
    assert now_lead["status"] == "contacted" and now_lead["lastContactedAt"]
    assert funnel() == {"status#contacted": 1, "total": 1}
    assert day_counters() == {
        "calls": 1,
        "call#completed": 1,
        "lead#completed": 1,
        "connected": 1,
        "talk": 42,
        f"m#{member['id']}#calls": 1,
        f"m#{member['id']}#connected": 1,
        f"m#{member['id']}#talk": 42,
    }


def test_duplicates_and_late_callbacks_change_nothing(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    cid = call["id"]
    lead_leg(api, cid, "completed", CallDuration="30")
    lead_leg(api, cid, "completed", CallDuration="30")
    lead_leg(api, cid, "ringing")  # late
    lead_leg(api, cid, "busy")  # a final status never changes
    member_leg(api, cid, "completed", CallDuration="40")
    member_leg(api, cid, "ringing")
    member_leg(api, cid, "completed", CallDuration="99")
    _, got, _ = api.get(f"/calls/{cid}")
    assert got["status"] == "completed" and got["durationSeconds"] == 40
    assert got["leadLegStatus"] == "completed" and got["talkSeconds"] == 30
    c = day_counters()
    assert c["call#completed"] == 1 and c["connected"] == 1 and c["talk"] == 30
    assert "lead#busy" not in c


def amd(api, call_id, answered_by):
    params = {"AnsweredBy": answered_by, "CallSid": "CAchild", "ParentCallSid": "CAxx"}
    return post_webhook(api, f"/twilio/voice/amd/{call_id}", params)


@pytest.mark.parametrize("answered_by", ["machine_end_beep", "machine_start", "fax"])
def test_a_voicemail_is_completed_but_not_connected_nor_a_contact(
    api, setup, ddb_requests, answered_by
):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    cid = call["id"]
    lead_leg(api, cid, "in-progress")
    ddb_requests.reset()
    assert amd(api, cid, answered_by)[0] == 200
    assert ddb_requests.total <= 2  # a consistent read, one transaction
    amd(api, cid, "human")  # the first verdict stands
    lead_leg(api, cid, "completed", CallDuration="12")
    member_leg(api, cid, "completed", CallDuration="20")
    _, got, _ = api.get(f"/calls/{cid}")
    assert got["leadLegStatus"] == "completed" and got["answeredBy"] == answered_by
    _, same_lead, _ = api.get(f"/leads/{lead['id']}")
    assert same_lead["status"] == "new" and same_lead["lastContactedAt"] is None
    assert day_counters() == {
        "calls": 1,
        "call#completed": 1,
        "lead#completed": 1,
        f"m#{member['id']}#calls": 1,
    }


def test_a_human_answer_is_connected(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    amd(api, call["id"], "human")
    lead_leg(api, call["id"], "completed", CallDuration="30")
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["answeredBy"] == "human"
    _, now_lead, _ = api.get(f"/leads/{lead['id']}")
    assert now_lead["status"] == "contacted"
    assert day_counters()["connected"] == 1 and day_counters()["talk"] == 30


def test_a_late_machine_verdict_takes_the_connect_back(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    lead_leg(api, call["id"], "completed", CallDuration="30")
    assert day_counters()["connected"] == 1
    amd(api, call["id"], "machine_end_silence")
    c = day_counters()
    assert "connected" not in c and "talk" not in c and c["lead#completed"] == 1


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed"])
def test_unanswered_lead_leg_is_not_a_connect(api, setup, outcome):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    lead_leg(api, call["id"], outcome)
    member_leg(api, call["id"], "completed", CallDuration="20")
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["leadLegStatus"] == outcome and got["talkSeconds"] is None
    _, same_lead, _ = api.get(f"/leads/{lead['id']}")
    assert same_lead["status"] == "new" and same_lead["lastContactedAt"] is None
    assert "connected" not in day_counters()


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed", "canceled"])
def test_a_member_leg_that_never_answered_settles_the_lead_leg_at_once(api, setup, outcome):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    member_leg(api, call["id"], "ringing")
    member_leg(api, call["id"], outcome, CallDuration="0")
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["status"] == outcome and got["leadLegStatus"] == "not-connected"
    c = day_counters()
    assert c[f"call#{outcome}"] == 1 and c["lead#not-connected"] == 1
    member_leg(api, call["id"], outcome)  # a duplicate counts nothing twice
    assert day_counters() == c


def test_a_member_hanging_up_during_the_whisper_settles_the_lead_leg(api, setup):
    """Twilio posts nothing from the Gather when the member hangs up: only the member leg's
    `completed` tells us."""
    member, lead = setup
    _, call, _ = place(api, member, lead)
    member_leg(api, call["id"], "in-progress")
    post_webhook(api, f"/twilio/voice/connect/{call['id']}", {})
    member_leg(api, call["id"], "completed", CallDuration="4")
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["status"] == "completed" and got["leadLegStatus"] == "not-connected"
    assert day_counters()["lead#not-connected"] == 1


@pytest.mark.parametrize("lead_progress", [None, "initiated", "ringing"])
def test_a_member_hanging_up_after_the_lead_was_dialled_leaves_it_to_the_dial(
    api, setup, lead_progress
):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    member_leg(api, call["id"], "in-progress")
    gather(api, call["id"], {"Digits": "1"})
    if lead_progress:
        lead_leg(api, call["id"], lead_progress)
    member_leg(api, call["id"], "completed", CallDuration="9")
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["leadLegStatus"] == (lead_progress or "queued")
    assert "lead#not-connected" not in day_counters()
    lead_leg(api, call["id"], "canceled")  # the Dial's own callback settles it
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["leadLegStatus"] == "canceled"
    assert day_counters()["lead#canceled"] == 1 and "lead#not-connected" not in day_counters()


def test_connected_call_to_a_qualified_lead_only_stamps_contact(api, setup):
    member, lead = setup
    _, q, _ = api.patch(f"/leads/{lead['id']}", {"status": "qualified"})
    _, call, _ = place(api, member, lead)
    lead_leg(api, call["id"], "completed", CallDuration="10")
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["status"] == "qualified" and after["lastContactedAt"]
    assert after["version"] == q["version"]  # an open edit in the dashboard stays valid


def test_unknown_status_values_are_ignored(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    assert member_leg(api, call["id"], "weird")[0] == 200
    _, got, _ = api.get(f"/calls/{call['id']}")
    assert got["status"] == "queued"


# ---------------------------------------------------------------- history and wrap-up


def test_history_by_lead_and_member_newest_first(api, setup, make_lead):
    member, lead = setup
    ids = []
    for _ in range(3):
        ids.append(place(api, member, lead)[1]["id"])
        member_leg(api, ids[-1], "completed")  # one live call per member and lead
    other = make_lead()
    other_call = place(api, member, other)[1]["id"]
    _, by_lead, _ = api.get(f"/calls?leadId={lead['id']}&limit=2")
    assert [c["id"] for c in by_lead["items"]] == ids[::-1][:2]
    _, rest, _ = api.get(f"/calls?leadId={lead['id']}&limit=2&cursor={by_lead['nextCursor']}")
    assert [c["id"] for c in rest["items"]] == [ids[0]] and rest["nextCursor"] is None
    _, by_member, _ = api.get(f"/calls?teamMemberId={member['id']}")
    assert [c["id"] for c in by_member["items"]] == [other_call, *ids[::-1]]
    assert api.get("/calls")[0] == 400
    assert api.get(f"/calls?leadId={lead['id']}&teamMemberId={member['id']}")[0] == 400


def test_wrap_up_sets_disposition_and_notes(api, setup):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    status, got, _ = api.patch(
        f"/calls/{call['id']}", {"disposition": "meeting_booked", "notes": "Tue 10am"}
    )
    assert status == 200 and got["disposition"] == "meeting_booked" and got["notes"] == "Tue 10am"
    assert got["status"] == "queued"  # a wrap-up never touches the status
    status, got, _ = api.patch(f"/calls/{call['id']}", {"notes": None})
    assert got["notes"] is None and got["disposition"] == "meeting_booked"
    assert api.patch(f"/calls/{call['id']}", {"disposition": "won"})[0] == 400
    assert api.patch(f"/calls/{call['id']}", {"status": "completed"})[0] == 400
    assert api.patch("/calls/01NOPE", {"notes": "x"})[0] == 404
    assert api.get("/calls/01NOPE")[0] == 404


# ---------------------------------------------------------------- reconciler


def test_reconciler_settles_stale_calls_from_twilio(api, setup, telephony, clock):
    from chalicelib.services import calls

    member, lead = setup
    _, stale, _ = place(api, member, lead)
    telephony.states[stale["twilioSid"]] = CallState(
        sid=stale["twilioSid"],
        status="completed",
        duration_seconds=70,
        children=[CallState(sid="CAchild", status="completed", duration_seconds=55)],
    )
    # a call that never got a SID (the request died after creating it); a manager freed the
    # member and the lead the first call held
    assert api.post(f"/calls/{stale['id']}/release")[0] == 200
    never = store().calls.get(place(api, member, lead)[1]["id"])
    store().write(Update("unplace", Call, never.id, {"twilio_sid": None}))
    clock.set(clock.now() + timedelta(minutes=5))
    assert api.post(f"/calls/{never.id}/release")[0] == 200
    _, fresh, _ = place(api, member, lead)
    clock.set(clock.now() + timedelta(minutes=12))

    report = calls.reconcile_stale(deps(), clock.now())
    assert (report.examined, report.settled, report.errors) == (2, 2, 0)
    _, got, _ = api.get(f"/calls/{stale['id']}")
    assert got["status"] == "completed" and got["talkSeconds"] == 55
    _, gone, _ = api.get(f"/calls/{never.id}")
    assert gone["status"] == "failed" and gone["errorCode"] == "not_placed"
    _, young, _ = api.get(f"/calls/{fresh['id']}")
    assert young["status"] == "queued"
    again = calls.reconcile_stale(deps(), clock.now())
    assert again.settled == 0
