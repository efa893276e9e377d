"""The suppression ledger through the API (API.md, "Compliance"): compliance belongs to the
number, not to a lead record. Every bypass of the old lead flags as a regression test: a phone
move, archive and re-add, an export/import round trip, a redelivered START, a do-not-call set
after the call was placed; and who may clear what, with the audit log saying who."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import providers
from chalicelib.store.memory import MemoryStore
from tests.api.conftest import CALLER_ID
from tests.conftest import post_webhook
from tests.helpers import store

PHONE = "+12125550142"
ENC = "%2B12125550142"


@pytest.fixture
def setup(api, telephony, clock, make_member, make_lead):
    member = make_member(phone="+14155550100")
    lead = make_lead(name="Jane Doe", phone=PHONE)
    return member, lead


def text(api: Any, lead: dict[str, Any], **kw: Any) -> tuple[int, Any, Any]:
    body = {"leadId": lead["id"], "body": "Following up", "from": CALLER_ID}
    return api.post("/messages", body, **kw)


def call(api: Any, member: dict[str, Any], lead: dict[str, Any], **kw: Any) -> tuple[int, Any, Any]:
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
    return api.post("/calls", body, **kw)


def inbound(api: Any, body: str, sender: str = PHONE, sid: str | None = None) -> None:
    import secrets

    form = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "AC00000000000000000000000000000000",
        "From": sender,
        "To": CALLER_ID,
        "Body": body,
    }
    status, _, _ = post_webhook(api, "/twilio/sms/incoming", form)
    assert status == 200


def audit(api: Any, action: str) -> list[dict[str, Any]]:
    status, body, _ = api.get(f"/audit?action={action}&limit=100")
    assert status == 200
    return list(body["items"])


def blocked(result: tuple[int, Any, Any], reason: str) -> None:
    status, err, _ = result
    assert status == 422, err
    assert err["error"]["code"] == "blocked" and err["error"]["details"]["reason"] == reason


# ---------------------------------------------------------------- the routes


def test_add_get_list_and_remove(api, clock):
    status, item, _ = api.post("/suppressions", {"phone": "(212) 555-0101", "reason": "asked"})
    assert status == 201
    assert item["phone"] == "+12125550101" and item["channels"] == ["voice", "sms"]
    assert item["source"] == "manual" and item["reason"] == "asked"
    assert item["createdBy"]["type"] == "apiKey" and item["createdAt"]
    clock.advance(seconds=1)
    api.post("/suppressions", {"phone": "+12125550102", "channels": ["sms"]})
    clock.advance(seconds=1)
    api.post("/suppressions", {"phone": "+12125550103", "channels": ["voice"]})
    _, page, _ = api.get("/suppressions?limit=2")
    assert [i["phone"] for i in page["items"]] == ["+12125550103", "+12125550102"]
    _, rest, _ = api.get(f"/suppressions?limit=2&cursor={page['nextCursor']}")
    assert [i["phone"] for i in rest["items"]] == ["+12125550101"] and rest["nextCursor"] is None
    _, one, _ = api.get("/suppressions?phone=%2B12125550102")
    assert [i["channels"] for i in one["items"]] == [["sms"]]
    assert api.get("/suppressions?phone=2125550199")[1]["items"] == []
    assert api.get("/suppressions/%2B12125550103")[1]["channels"] == ["voice"]
    assert api.get("/suppressions/%2B12125550199")[0] == 404
    assert api.get("/suppressions/not-a-number")[0] == 400

    status, left, _ = api.delete("/suppressions/%2B12125550101?channel=voice")
    assert status == 200 and left["channels"] == ["sms"]
    status, _, _ = api.delete("/suppressions/%2B12125550101")
    assert status == 200
    assert api.get("/suppressions/%2B12125550101")[0] == 404
    assert api.delete("/suppressions/%2B12125550101")[0] == 404
    assert [i["phone"] for i in api.get("/suppressions")[1]["items"]] == [
        "+12125550103",
        "+12125550102",
    ]
    removed = audit(api, "suppression.removed")
    assert len(removed) == 2 and removed[0]["details"]["phone"] == "+1********01"  # masked
    assert len(audit(api, "suppression.added")) == 3


def test_bad_bodies_are_400(api):
    assert api.post("/suppressions", {"phone": "12"})[0] == 400
    assert api.post("/suppressions", {"phone": PHONE, "channels": ["fax"]})[0] == 400
    assert api.post("/suppressions", {"phone": PHONE, "channels": []})[0] == 400
    assert api.post("/suppressions", {"phone": PHONE, "extra": 1})[0] == 400
    assert api.delete(f"/suppressions/{ENC}?channel=fax")[0] == 400


def test_a_caller_adds_but_cannot_read_the_list_or_remove(api, people):
    caller = people.tokens["caller"]
    status, item, _ = api.post("/suppressions", {"phone": PHONE}, token=caller)
    assert status == 201 and item["createdBy"]["name"] == "Caller"
    assert api.get("/suppressions", token=caller)[0] == 403
    assert api.get(f"/suppressions/{ENC}", token=caller)[0] == 403
    assert api.delete(f"/suppressions/{ENC}", token=people.tokens["manager"])[0] == 403
    assert api.get(f"/suppressions/{ENC}", token=people.tokens["manager"])[0] == 200
    status, _, _ = api.delete(f"/suppressions/{ENC}", token=people.tokens["admin"])
    assert status == 200
    (entry,) = audit(api, "suppression.removed")
    assert entry["actor"]["name"] == "Admin" and entry["actor"]["type"] == "member"


# ---------------------------------------------------------------- a lead's STOP follows the number


def test_a_stop_stays_with_the_number_through_a_phone_move_and_a_new_lead(api, setup, make_lead):
    _, lead = setup
    inbound(api, "STOP")
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is True
    blocked(text(api, lead), "opted_out")
    # The lead moves to another number: the new number may be texted, the old one may not.
    _, moved, _ = api.patch(f"/leads/{lead['id']}", {"phone": "+12125550143"})
    assert moved["smsOptOut"] is False
    assert text(api, moved)[0] == 201
    again = make_lead(name="Jane again", phone="212 555 0142")
    assert again["smsOptOut"] is True  # the view of the number's suppression
    blocked(text(api, again), "opted_out")
    _, listed, _ = api.get("/leads")
    flags = {x["phone"]: x["smsOptOut"] for x in listed["items"]}
    assert flags == {PHONE: True, "+12125550143": False}


def test_archiving_and_restoring_never_frees_the_number(api, setup):
    _, lead = setup
    inbound(api, "STOP")
    assert api.delete(f"/leads/{lead['id']}")[0] == 200
    status, err, _ = api.post("/leads", {"name": "Re-added", "phone": PHONE})
    assert status == 409 and err["error"]["details"]["existingLeadArchived"] is True
    _, back, _ = api.post(f"/leads/{lead['id']}/restore")
    assert back["smsOptOut"] is True
    blocked(text(api, back), "opted_out")
    inbound(api, "hello again")  # a text from the number restores nothing of the opt-out
    blocked(text(api, back), "opted_out")


def test_an_export_then_import_keeps_every_flag(api, setup, make_lead):
    _, _lead = setup
    dnc = make_lead(phone="+12125550150", doNotCall=True)
    inbound(api, "STOP")
    status, csv_text, _ = api.get("/leads/export")
    assert status == 200
    header, *rows = csv_text.strip().splitlines()
    assert "smsOptOut" in header and "doNotCall" in header
    assert any(PHONE in r and "true" in r for r in rows)
    # Into a fresh stage (an empty store): the flags come back as suppressions.
    providers.override(store=MemoryStore())
    status, report, _ = api.post(
        "/leads/import", raw=csv_text, headers={"Content-Type": "text/csv"}
    )
    assert status == 200 and report["created"] == 2 and report["suppressed"] == 2
    _, listed, _ = api.get("/leads")
    by_phone = {x["phone"]: x for x in listed["items"]}
    assert by_phone[PHONE]["smsOptOut"] is True and by_phone[PHONE]["doNotCall"] is False
    assert by_phone[dnc["phone"]]["doNotCall"] is True
    blocked(text(api, by_phone[PHONE]), "opted_out")
    blocked(text(api, by_phone[dnc["phone"]]), "do_not_call")  # voice blocks texts too
    # And into the same stage again: duplicates, still suppressed.
    status, report, _ = api.post(
        "/leads/import", raw=csv_text, headers={"Content-Type": "text/csv"}
    )
    assert report["created"] == 0 and report["duplicates"] == 2 and report["suppressed"] == 0
    assert api.get(f"/suppressions/{ENC}")[1]["channels"] == ["sms"]


def test_only_the_persons_start_lifts_their_stop(api, setup):
    _, lead = setup
    inbound(api, "STOP")
    status, err, _ = api.delete(f"/suppressions/{ENC}?channel=sms")  # an admin key
    assert status == 409 and "START" in err["error"]["message"]
    status, err, _ = api.delete(f"/suppressions/{ENC}")
    assert status == 409
    status, err, _ = api.patch(f"/leads/{lead['id']}", {"smsOptOut": False})
    assert status == 409
    assert api.get(f"/suppressions/{ENC}")[1]["source"] == "sms_stop"  # it stays
    assert audit(api, "suppression.removed") == []
    inbound(api, "START")
    assert api.get(f"/suppressions/{ENC}")[0] == 404
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is False
    assert text(api, lead)[0] == 201


def test_a_redelivered_start_after_a_stop_changes_nothing(api, setup):
    _, lead = setup
    start = "SM" + "a" * 32
    inbound(api, "STOP", sid="SM" + "0" * 32)
    inbound(api, "START", sid=start)
    inbound(api, "STOP", sid="SM" + "b" * 32)
    before = store().suppressions.get(PHONE)
    inbound(api, "START", sid=start)  # Twilio's retry of the older START
    assert store().suppressions.get(PHONE) == before
    blocked(text(api, lead), "opted_out")


# ---------------------------------------------------------------- do-not-call set by hand


def test_a_do_not_call_set_by_a_caller_is_cleared_only_by_an_admin(api, people, telephony, clock):
    from chalicelib.services import leads

    d = providers.deps()
    lead = leads.create(d, leads.NewLead(name="Dan", phone=PHONE, assigned_to_id=people.caller.id))
    caller, admin = people.tokens["caller"], people.tokens["admin"]
    status, flagged, _ = api.patch(f"/leads/{lead.id}", {"doNotCall": True}, token=caller)
    assert status == 200 and flagged["doNotCall"] is True and flagged["smsOptOut"] is False
    item = api.get(f"/suppressions/{ENC}")[1]
    assert item["source"] == "lead_flag" and item["createdBy"]["id"] == people.caller.id
    status, _, _ = api.patch(f"/leads/{lead.id}", {"doNotCall": False}, token=caller)
    assert status == 403
    status, _, _ = api.patch(
        f"/leads/{lead.id}", {"doNotCall": False}, token=people.tokens["manager"]
    )
    assert status == 403
    assert api.get(f"/leads/{lead.id}")[1]["doNotCall"] is True
    # unchanged flags in an edit are fine for anyone (a form sends them back as they were)
    status, _, _ = api.patch(
        f"/leads/{lead.id}", {"notes": "asked", "smsOptOut": False}, token=caller
    )
    assert status == 200
    status, cleared, _ = api.patch(f"/leads/{lead.id}", {"doNotCall": False}, token=admin)
    assert status == 200 and cleared["doNotCall"] is False
    (added,) = audit(api, "suppression.added")
    assert added["actor"]["id"] == people.caller.id
    (removed,) = audit(api, "suppression.removed")
    assert removed["actor"]["id"] == people.admin.id and removed["actor"]["name"] == "Admin"
    assert removed["details"]["channels"] == ["voice"]
    assert removed["details"]["sources"] == {"voice": "lead_flag"}


def test_a_lead_created_with_flags_suppresses_its_number(api, people, telephony):
    status, lead, _ = api.post(
        "/leads",
        {"name": "Flagged", "phone": PHONE, "doNotCall": True, "smsOptOut": True},
        token=people.tokens["caller"],
    )
    assert status == 201 and lead["doNotCall"] is True and lead["smsOptOut"] is True
    item = api.get(f"/suppressions/{ENC}")[1]
    assert item["channels"] == ["voice", "sms"] and item["source"] == "lead_flag"
    # a flag set by hand is not the person's own STOP: an admin may lift it
    status, cleared, _ = api.patch(f"/leads/{lead['id']}", {"smsOptOut": False})
    assert status == 200 and cleared["smsOptOut"] is False and cleared["doNotCall"] is True


# ---------------------------------------------------------------- calls and texts


def test_a_number_suppressed_after_the_call_was_placed_is_not_dialled(api, setup, telephony):
    member, lead = setup
    status, placed, _ = call(api, member, lead)
    assert status == 201
    api.patch(f"/leads/{lead['id']}", {"doNotCall": True})  # while the member's phone rings
    status, twiml, _ = post_webhook(api, f"/twilio/voice/gather/{placed['id']}", {"Digits": "1"})
    assert status == 200
    assert "<Dial" not in twiml and "<Say>" in twiml and "asked not to be called" in twiml
    assert "<Hangup" in twiml
    _, after, _ = api.get(f"/calls/{placed['id']}")
    assert after["leadLegStatus"] == "not-connected" and after["errorCode"] == "blocked"
    (entry,) = audit(api, "compliance.blocked")
    assert entry["details"]["reason"] == "do_not_call" and entry["actor"]["type"] == "system"
    # a repeated key press does not dial either
    _, twiml, _ = post_webhook(api, f"/twilio/voice/gather/{placed['id']}", {"Digits": "1"})
    assert "<Dial" not in twiml


def test_a_text_to_a_voice_suppressed_number_is_refused(api, setup, telephony):
    member, lead = setup
    api.post("/suppressions", {"phone": PHONE, "channels": ["voice"]})
    blocked(text(api, lead), "suppressed")
    blocked(call(api, member, lead), "suppressed")
    assert telephony.messages == [] and telephony.calls == []


def test_an_sms_only_suppression_leaves_calls_alone(api, setup, telephony):
    member, lead = setup
    api.post("/suppressions", {"phone": PHONE, "channels": ["sms"]})
    blocked(text(api, lead), "suppressed")
    assert call(api, member, lead)[0] == 201


def test_a_do_not_call_disposition_suppresses_voice_and_sms(api, setup, telephony, people):
    member, lead = setup
    _, placed, _ = call(api, member, lead)
    status, _, _ = api.patch(f"/calls/{placed['id']}", {"disposition": "do_not_call"})
    assert status == 200
    item = api.get(f"/suppressions/{ENC}")[1]
    assert item["channels"] == ["voice", "sms"] and item["source"] == "disposition"
    assert api.get(f"/leads/{lead['id']}")[1]["doNotCall"] is True
    # the member's own call is still live: end it, then try again
    post_webhook(
        api,
        f"/twilio/voice/status/{placed['id']}",
        {"CallSid": placed["twilioSid"], "CallStatus": "completed", "CallDuration": "10"},
    )
    blocked(call(api, member, lead), "do_not_call")
    blocked(text(api, lead), "do_not_call")


def test_every_refusal_is_audited_with_its_reason(api, setup, telephony):
    member, lead = setup
    inbound(api, "STOP")
    blocked(text(api, lead), "opted_out")
    api.post("/suppressions", {"phone": PHONE, "channels": ["voice"]})
    blocked(call(api, member, lead), "suppressed")
    entries = audit(api, "compliance.blocked")
    assert [e["details"]["reason"] for e in entries] == ["suppressed", "opted_out"]
    assert [e["details"]["channel"] for e in entries] == ["voice", "sms"]
    assert all(e["target"] == {"type": "lead", "id": lead["id"]} for e in entries)
    assert all(e["details"]["phone"] == "+1********42" for e in entries)


# ---------------------------------------------------------------- import


def test_import_reads_numbers_and_the_registry_layout(api):
    body = "\n".join(
        [
            "Area Code,Phone Number",  # the registry's header: skipped
            "212,5550101",
            "(212) 555-0102",
            "+12125550103",
            "12125550104",
            "+44 20 7946 0958",
            "212,5550101",  # a repeat
            "not a number 1",
            "",
        ]
    )
    status, report, _ = api.post(
        "/suppressions/import", raw=body, headers={"Content-Type": "text/plain"}
    )
    assert status == 200, report
    assert report["added"] == 5 and report["duplicates"] == 1
    assert report["errors"] == [{"row": 8, "message": report["errors"][0]["message"]}]
    assert report["errorCount"] == 1 and report["errorsTruncated"] is False
    phones = {i["phone"] for i in api.get("/suppressions?limit=100")[1]["items"]}
    assert phones == {
        "+12125550101",
        "+12125550102",
        "+12125550103",
        "+12125550104",
        "+442079460958",
    }
    assert api.get("/suppressions/%2B12125550101")[1]["source"] == "import"
    # again: all duplicates; only voice asked: the numbers already have it
    status, report, _ = api.post(
        "/suppressions/import?" + urlencode({"channels": "voice"}),
        raw="2125550101\n2125550105\n",
        headers={"Content-Type": "text/csv"},
    )
    assert report["added"] == 1 and report["duplicates"] == 1
    assert api.get("/suppressions/%2B12125550105")[1]["channels"] == ["voice"]
    (first, second) = audit(api, "suppression.added")[::-1]
    assert first["details"]["added"] == 5 and second["details"]["added"] == 1


@pytest.mark.dynamo
def test_an_import_reads_and_writes_in_batches(api, ddb_requests):
    numbers = "\n".join(f"+1212{n:07d}" for n in range(2_000_000, 2_001_000))
    ddb_requests.reset()
    status, report, _ = api.post(
        "/suppressions/import", raw=numbers, headers={"Content-Type": "text/plain"}
    )
    assert status == 200 and report["added"] == 1000
    # 1,000 numbers: 10 BatchGetItem of 100, 40 BatchWriteItem of 25, the audit entry
    assert dict(ddb_requests.calls) == {"BatchGetItem": 10, "BatchWriteItem": 40, "PutItem": 1}
    assert api.get("/suppressions/%2B12122000999")[1]["channels"] == ["voice", "sms"]
