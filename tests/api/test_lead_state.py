"""A lead's US `state` (API.md, Lead): settable, validated, and held to by the compliance
check: the stricter of its window and the number's area code's applies."""

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
