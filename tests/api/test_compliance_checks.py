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
