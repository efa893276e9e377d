"""The compliance check's inputs beyond the ledger: a lead's US `state` (settable, validated;
the stricter of its window and the number's area code's applies), and our own numbers (the
member's phone, the caller ID, the sender) held to the restricted numbers."""

from __future__ import annotations

from datetime import UTC, datetime

CALLER_ID = "+15005550006"


def test_state_is_set_validated_and_cleared(api, make_lead):
    lead = make_lead(state="fl")
    assert lead["state"] == "FL"
    status, err, _ = api.patch(f"/leads/{lead['id']}", {"state": "ZZ"})
    assert status == 400 and err["error"]["code"] == "validation_error"
    status, cleared, _ = api.patch(f"/leads/{lead['id']}", {"state": None})
    assert status == 200 and cleared["state"] is None


def test_a_new_york_number_of_a_florida_lead_is_called_in_floridas_window(
    api, make_lead, make_member, clock, telephony
):
    member = make_member()
    lead = make_lead(phone="+12125550188", state="FL")  # a New York area code
    clock.set(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # 20:30 in New York and Florida
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
    status, err, _ = api.post("/calls", body)
    assert status == 422 and err["error"]["details"]["reason"] == "calling_hours"
    api.patch(f"/leads/{lead['id']}", {"state": None})  # New York's own window: until 21:00
    status, call, _ = api.post("/calls", body)
    assert status == 201, call


def test_our_numbers_obey_the_restricted_numbers_too(api, make_lead, make_member, telephony):
    """API.md: member phones and caller IDs obey blockedPrefixes and allowedCountries."""
    from chalicelib.telephony.base import PhoneNumber

    lead = make_lead()
    premium = make_member(phone="+19005550123")  # a +1900 premium-rate number
    body = {"leadId": lead["id"], "teamMemberId": premium["id"], "callerId": CALLER_ID}
    status, err, _ = api.post("/calls", body)
    assert status == 422 and err["error"]["details"]["reason"] == "restricted_number"
    assert err["error"]["details"]["field"] == "memberPhone"
    telephony.numbers.append(PhoneNumber("PN" + "c" * 32, "+19005550199", "Premium line"))
    member = make_member()
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+19005550199"}
    status, err, _ = api.post("/calls", body)
    assert status == 422 and err["error"]["details"]["field"] == "callerId"
    text = {"leadId": lead["id"], "body": "Hi", "teamMemberId": member["id"]}
    status, err, _ = api.post("/messages", {**text, "from": "+19005550199"})
    assert status == 422 and err["error"]["details"]["field"] == "from"
    assert telephony.calls == [] and telephony.messages == []


def test_a_leads_state_goes_round_a_spreadsheet(api, make_lead):
    make_lead(phone="+12125550191", state="MD")
    status, body, _ = api.get("/leads/export")
    assert status == 200
    header, *rows = [line.split(",") for line in body.strip("\ufeff").splitlines()]
    assert "state" in header
    (row,) = [r for r in rows if "+12125550191" in r]
    assert row[header.index("state")] == "MD"
    csv = "name,phone,state\nRoundtrip,+12125550192,tx\nBad,+12125550193,ZZ\n"
    status, report, _ = api.post("/leads/import", raw=csv, headers={"Content-Type": "text/csv"})
    assert status == 200 and report["created"] == 1 and report["errorCount"] == 1
    assert "state" in report["errors"][0]["message"]
    _, page, _ = api.get("/leads?limit=100")
    (lead,) = [x for x in page["items"] if x["phone"] == "+12125550192"]
    assert lead["state"] == "TX"


def test_the_leads_state_holds_at_the_key_press(api, make_lead, make_member, clock, telephony):
    """Placed at 19:59 in New York for a Florida lead (Florida closes at 20:00): the member's
    key press a minute later is past Florida's window, so the lead is not dialled."""
    from tests.conftest import post_webhook

    member = make_member()
    lead = make_lead(phone="+12125550177", state="FL")
    clock.set(datetime(2026, 11, 24, 0, 59, 30, tzinfo=UTC))  # 19:59:30 in New York
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
    status, call, _ = api.post("/calls", body)
    assert status == 201, call
    clock.advance(seconds=60)
    status, twiml, _ = post_webhook(api, f"/twilio/voice/gather/{call['id']}", {"Digits": "1"})
    assert status == 200 and "<Dial" not in twiml
    _, after, _ = api.get(f"/calls/{call['id']}")
    assert after["errorCode"] == "blocked" and after["leadLegStatus"] == "not-connected"
    _, log, _ = api.get("/audit?action=compliance.blocked")
    (entry,) = log["items"]
    assert entry["details"]["reason"] == "calling_hours"
    assert entry["details"]["leadId"] == lead["id"] and entry["details"]["leadState"] == "FL"


def test_calls_and_texts_share_floridas_three_attempts_a_day(
    api, make_lead, make_member, clock, telephony
):
    """Florida caps attempts at 3 per 24 hours and counts texts as calls; a text answering the
    person's own text is a conversation, not an attempt; the cap lifts 24 hours later."""
    from tests.conftest import post_webhook

    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # noon in Miami
    lead = make_lead(phone="+13055550142")  # a Miami number
    members = [make_member() for _ in range(3)]
    for member in members[:2]:
        body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
        status, call, _ = api.post("/calls", body)
        assert status == 201
        done = {"CallSid": "CA" + "1" * 32, "CallStatus": "busy"}
        assert post_webhook(api, f"/twilio/voice/status/{call['id']}", done)[0] == 200
        clock.advance(seconds=60)
    text = {"leadId": lead["id"], "body": "Hi", "from": CALLER_ID}
    assert api.post("/messages", text)[0] == 201  # the third attempt
    body = {"leadId": lead["id"], "teamMemberId": members[2]["id"], "callerId": CALLER_ID}
    status, err, _ = api.post("/calls", body)
    assert status == 422 and err["error"]["details"]["reason"] == "attempt_limit"
    assert err["error"]["details"]["attempts"] == 3 and err["error"]["details"]["limit"] == 3
    status, err, _ = api.post("/messages", text)
    assert status == 422 and err["error"]["details"]["reason"] == "attempt_limit"
    assert len(telephony.calls) == 2 and len(telephony.messages) == 1

    form = {
        "MessageSid": "SM" + "e" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": lead["phone"],
        "To": CALLER_ID,
        "Body": "Who is this?",
    }
    assert post_webhook(api, "/twilio/sms/incoming", form)[0] == 200
    assert api.post("/messages", text)[0] == 201  # answering them
    assert api.post("/calls", body)[1]["error"]["details"]["reason"] == "attempt_limit"

    clock.advance(hours=24)
    assert api.post("/calls", body)[0] == 201


def test_the_lead_page_is_told_why_and_until_when(api, make_lead, clock, telephony):
    """GET /leads/{id}/compliance: the checks of a call and a text, without sending (and
    without an audit entry), with the reason and the moment the window opens."""
    lead = make_lead(phone="+13055550199")  # Miami: Florida closes at 20:00
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # noon in Miami
    status, now, _ = api.get(f"/leads/{lead['id']}/compliance")
    assert status == 200
    assert now["phone"] == "+13055550199" and now["suppression"] is None
    for channel in ("voice", "sms"):
        assert now[channel] == {"allowed": True, "reason": None, "message": None, "details": {}}

    clock.set(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))  # 20:30 in Miami
    _, night, _ = api.get(f"/leads/{lead['id']}/compliance")
    voice = night["voice"]
    assert voice["allowed"] is False and voice["reason"] == "calling_hours"
    assert voice["details"]["opensAt"] == "2026-11-25T13:00:00Z"  # 08:00 in Miami
    assert voice["details"]["window"] == "08:00-20:00" and voice["details"]["state"] == "FL"
    assert "20:30" in voice["message"]
    assert night["sms"]["reason"] == "calling_hours"

    api.post("/suppressions", {"phone": lead["phone"], "channels": ["sms"], "reason": "asked"})
    _, suppressed, _ = api.get(f"/leads/{lead['id']}/compliance")
    assert suppressed["sms"]["reason"] == "suppressed"
    assert suppressed["suppression"]["channels"] == ["sms"]
    assert suppressed["voice"]["reason"] == "calling_hours"  # the ledger does not cover voice

    api.delete(f"/leads/{lead['id']}")
    _, archived, _ = api.get(f"/leads/{lead['id']}/compliance")
    assert archived["voice"]["reason"] == "archived" and archived["sms"]["reason"] == "archived"

    _, log, _ = api.get("/audit?action=compliance.blocked")
    assert log["items"] == []  # a preview refuses nothing
    assert api.get("/leads/nope/compliance")[0] == 404
