"""The inbox (API.md, "Working the lists every day"): each lead's latest inbound item, newest
first, unread counts, mark read, a caller's view, and what a redelivered or late text does."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import CALLER_ID, Team
from tests.conftest import Api, post_webhook


def inbound(api: Api, sender: str, text: str, sid: str | None = None) -> dict[str, Any]:
    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "AC00000000000000000000000000000000",
        "From": sender,
        "To": CALLER_ID,
        "Body": text,
        "NumMedia": "0",
    }
    status, body, _ = post_webhook(api, "/twilio/sms/incoming", params)
    assert status == 200, body
    return params


@pytest.fixture
def world(api: Api, telephony: Any, clock: Any, people: Team, make_lead: Any) -> dict[str, Any]:
    mine = make_lead(name="Mine Lead", phone="+12125550101", assignedToId=people.caller.id)
    theirs = make_lead(name="Their Lead", phone="+12125550102", assignedToId=people.other.id)
    nobody = make_lead(name="Nobody Lead", phone="+12125550103")
    return {"mine": mine, "theirs": theirs, "nobody": nobody, "team": people}


def _inbox(api: Api, token: str, query: str = "") -> dict[str, Any]:
    status, body, _ = api.get(f"/inbox{query}", token=token)
    assert status == 200, body
    return body


def test_the_latest_inbound_text_per_lead_newest_first_with_the_unread_count(api, world, clock):
    admin = world["team"].tokens["admin"]
    assert _inbox(api, admin) == {"items": [], "nextCursor": None, "unreadCount": 0}
    inbound(api, "+12125550101", "first from mine")
    clock.advance(minutes=1)
    inbound(api, "+12125550102", "hello from theirs")
    clock.advance(minutes=1)
    inbound(api, "+12125550101", "second   from\nmine")
    body = _inbox(api, admin)
    assert [(i["leadName"], i["preview"], i["kind"], i["unread"]) for i in body["items"]] == [
        ("Mine Lead", "second from mine", "text", True),
        ("Their Lead", "hello from theirs", "text", True),
    ]
    assert body["items"][0]["leadId"] == world["mine"]["id"]
    assert body["items"][0]["at"] == "2026-11-23T17:02:00.000Z"
    assert body["unreadCount"] == 2 and body["nextCursor"] is None


def test_a_text_from_an_unknown_number_opens_a_thread_of_its_new_lead(api, world):
    inbound(api, "+13105550199", "who is this?")
    item = _inbox(api, world["team"].tokens["manager"])["items"][0]
    assert item["leadName"] == "+13105550199" and item["preview"] == "who is this?"
    status, lead, _ = api.get(f"/leads/{item['leadId']}")
    assert status == 200 and lead["source"] == "inbound_sms"


def test_mark_read_clears_the_thread_and_the_count_and_unread_filters(api, world, clock):
    admin = world["team"].tokens["admin"]
    inbound(api, "+12125550101", "one")
    clock.advance(minutes=1)
    inbound(api, "+12125550103", "two")
    status, body, _ = api.post(f"/inbox/{world['mine']['id']}/read", token=admin)
    assert status == 200, body
    assert body["unread"] is False and body["unreadCount"] == 1 and body["leadName"] == "Mine Lead"
    assert body["readAt"] == "2026-11-23T17:01:00.000Z"
    unread = _inbox(api, admin, "?unread=true")
    assert [i["leadId"] for i in unread["items"]] == [world["nobody"]["id"]]
    assert unread["unreadCount"] == 1
    everything = _inbox(api, admin, "?unread=false")
    assert [i["unread"] for i in everything["items"]] == [True, False]
    # a new text makes the thread unread again
    clock.advance(minutes=1)
    inbound(api, "+12125550101", "three")
    assert _inbox(api, admin)["unreadCount"] == 2


def test_mark_read_of_a_stale_item_leaves_a_newer_text_unread(api, world, clock):
    admin = world["team"].tokens["admin"]
    inbound(api, "+12125550101", "one")
    seen = _inbox(api, admin)["items"][0]["itemId"]
    clock.advance(minutes=1)
    inbound(api, "+12125550101", "two")
    status, body, _ = api.post(f"/inbox/{world['mine']['id']}/read", {"itemId": seen}, token=admin)
    assert status == 200 and body["unread"] is True and body["preview"] == "two"
    current = body["itemId"]
    status, body, _ = api.post(
        f"/inbox/{world['mine']['id']}/read", {"itemId": current}, token=admin
    )
    assert status == 200 and body["unread"] is False


def test_a_lead_without_a_thread_marks_read_as_nothing_to_do(api, world):
    status, body, _ = api.post(f"/inbox/{world['mine']['id']}/read")
    assert status == 200 and body["unread"] is False and body["unreadCount"] == 0


def test_a_redelivered_text_does_not_mark_the_thread_unread_again(api, world, clock):
    admin = world["team"].tokens["admin"]
    params = inbound(api, "+12125550101", "hello")
    api.post(f"/inbox/{world['mine']['id']}/read", token=admin)
    clock.advance(seconds=30)
    status, _, _ = post_webhook(api, "/twilio/sms/incoming", params)  # Twilio again
    assert status == 200
    body = _inbox(api, admin)
    assert body["unreadCount"] == 0 and body["items"][0]["unread"] is False


def test_a_text_ingested_late_never_replaces_a_newer_one(api, world, clock):
    from chalicelib import providers
    from chalicelib.services import messages
    from chalicelib.telephony.webhooks import InboundSms

    admin = world["team"].tokens["admin"]
    inbound(api, "+12125550101", "the newer text")
    late = InboundSms(
        sid="SM" + secrets.token_hex(16),
        sender="+12125550101",
        to=CALLER_ID,
        body="an older text",
        opt_out_type=None,
    )
    got = messages.receive(providers.deps(), late, at=clock.now() - timedelta(hours=1))
    assert got.message_id is not None  # the message is stored all the same
    assert _inbox(api, admin)["items"][0]["preview"] == "the newer text"
    _, conversation, _ = api.get(f"/messages?leadId={world['mine']['id']}", token=admin)
    assert [m["body"] for m in conversation["items"]] == ["an older text", "the newer text"]


def test_a_caller_sees_their_leads_and_unassigned_threads_and_follows_reassignment(
    api, world, clock
):
    team = world["team"]
    for n, phone in enumerate(("+12125550101", "+12125550102", "+12125550103")):
        clock.advance(minutes=1)
        inbound(api, phone, f"text {n}")
    caller = team.tokens["caller"]
    body = _inbox(api, caller)
    assert [i["leadName"] for i in body["items"]] == ["Nobody Lead", "Mine Lead"]
    assert body["unreadCount"] == 2
    # the other caller's thread is not theirs to mark: 404, as if the lead did not exist
    status, err, _ = api.post(f"/inbox/{world['theirs']['id']}/read", token=caller)
    assert status == 404 and err["error"]["code"] == "not_found"
    # reassigned to them: the thread follows the lead at once
    status, _, _ = api.patch(f"/leads/{world['theirs']['id']}", {"assignedToId": team.caller.id})
    assert status == 200
    body = _inbox(api, caller)
    assert [i["leadName"] for i in body["items"]] == ["Nobody Lead", "Their Lead", "Mine Lead"]
    assert body["unreadCount"] == 3
    assert [i["leadName"] for i in _inbox(api, team.tokens["other"])["items"]] == ["Nobody Lead"]
    # an archived lead's thread leaves every inbox
    api.delete(f"/leads/{world['nobody']['id']}")
    assert _inbox(api, caller)["unreadCount"] == 2
    # a caller API key acts for nobody: no inbox
    status, err, _ = api.get("/inbox", token=team.tokens["caller key"])
    assert status == 403 and err["error"]["code"] == "forbidden"


def test_pages_follow_the_cursor_without_repeats_for_a_caller(api, world, clock, make_lead):
    team = world["team"]
    names = []
    for n in range(7):
        assignee = team.caller.id if n % 2 == 0 else team.other.id
        lead = make_lead(name=f"Paged {n}", phone=f"+1213555{n:04d}", assignedToId=assignee)
        clock.advance(minutes=1)
        inbound(api, lead["phone"], f"hi {n}")
        if n % 2 == 0:
            names.append(lead["name"])
    names.reverse()
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        body = _inbox(api, team.tokens["caller"], f"?limit=2{cursor}")
        seen += [i["leadName"] for i in body["items"]]
        if body["nextCursor"] is None:
            break
        cursor = f"&cursor={body['nextCursor']}"
    assert seen == names
    # and a manager's pages
    seen = []
    cursor = ""
    for _ in range(10):
        body = _inbox(api, team.tokens["manager"], f"?limit=3{cursor}")
        seen += [i["leadName"] for i in body["items"]]
        if body["nextCursor"] is None:
            break
        cursor = f"&cursor={body['nextCursor']}"
    assert seen == [f"Paged {n}" for n in range(6, -1, -1)]


@pytest.mark.parametrize(
    "query", ["?unread=yes", "?limit=0", "?limit=101", "?cursor=nope", "?unread=true&cursor=%%"]
)
def test_bad_queries_are_400(api, world, query):
    status, err, _ = api.get(f"/inbox{query}")
    assert status == 400 and err["error"]["code"] == "validation_error"


def test_a_foreign_cursor_is_400(api, world, clock):
    for phone in ("+12125550101", "+12125550102"):
        clock.advance(minutes=1)
        inbound(api, phone, "x")
    cursor = _inbox(api, world["team"].tokens["admin"], "?limit=1")["nextCursor"]
    status, err, _ = api.get(f"/inbox?unread=true&cursor={cursor}")
    assert status == 400 and err["error"]["code"] == "validation_error"


@pytest.mark.parametrize("body", [{"itemId": 5}, {"other": "x"}, ["x"]])
def test_mark_read_bad_bodies_are_400(api, world, body):
    status, err, _ = api.post(f"/inbox/{world['mine']['id']}/read", body)
    assert status == 400 and err["error"]["code"] == "validation_error"


def test_mark_read_of_an_unknown_lead_is_404(api, world):
    status, err, _ = api.post("/inbox/01ZZZZZZZZZZZZZZZZZZZZZZZZ/read")
    assert status == 404 and err["error"]["code"] == "not_found"


def test_record_inbound_for_missed_calls_and_voicemails(api, world, clock):
    from chalicelib import providers
    from chalicelib.clock import new_id
    from chalicelib.services import inbox

    d = providers.deps()
    lead_id = world["mine"]["id"]
    clock.advance(minutes=1)
    call_id = new_id(clock.now())
    assert inbox.record_inbound(
        d, lead_id, "missed_call", clock.now(), "Missed call", item_id=call_id
    )
    # the same call again (a redelivered webhook): nothing changes
    api.post(f"/inbox/{lead_id}/read")
    assert not inbox.record_inbound(
        d, lead_id, "missed_call", clock.now(), "Missed call", item_id=call_id
    )
    item = _inbox(api, world["team"].tokens["admin"])["items"][0]
    assert (item["kind"], item["preview"], item["unread"]) == ("missed_call", "Missed call", False)
    clock.advance(minutes=1)
    lead = d.store.leads.get(lead_id)
    assert inbox.record_inbound(d, lead, "voicemail", clock.now(), "Voicemail (12 s)")
    item = _inbox(api, world["team"].tokens["admin"])["items"][0]
    assert (item["kind"], item["unread"]) == ("voicemail", True)
    with pytest.raises(ValueError):
        inbox.record_inbound(d, lead_id, "fax", clock.now(), "?")
