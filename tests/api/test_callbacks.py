"""Callbacks over HTTP: set on a lead one may read, listed soonest first (a caller's own,
anyone's for managers and admins, `due=true` for those whose time has come), deleted by their
owner, managers and admins; a completed call by the owner marks them done."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Team
from tests.conftest import Api

SOON = "2026-11-23T18:00:00Z"  # an hour after the clock's start


@pytest.fixture
def crew(api: Api, people: Team) -> Team:
    return people


def lead_of(api: Api, make_lead: Any, assignee: Any = None) -> dict[str, Any]:
    return make_lead(assignedToId=assignee.id) if assignee is not None else make_lead()


def test_a_callback_is_set_for_oneself_and_listed(api: Api, crew: Team, make_lead: Any):
    lead = lead_of(api, make_lead, crew.caller)
    token = crew.tokens["caller"]
    status, made, _ = api.post(
        f"/leads/{lead['id']}/callbacks",
        {"at": "2026-11-24T09:30:00-05:00", "note": "after the board meeting"},
        token=token,
    )
    assert status == 201, made
    assert made == {
        "id": made["id"],
        "leadId": lead["id"],
        "leadName": lead["name"],
        "teamMemberId": crew.caller.id,
        "at": "2026-11-24T14:30:00.000Z",
        "note": "after the board meeting",
        "createdAt": "2026-11-23T17:00:00.000Z",
        "createdBy": crew.caller.id,
        "done": False,
    }
    status, page, _ = api.get("/callbacks", token=token)
    assert (status, page) == (200, {"items": [made], "nextCursor": None})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "at"),
        ({"at": "tomorrow"}, "at"),
        ({"at": "2026-11-24T09:30:00"}, "at"),  # no offset
        ({"at": "2026-11-23T16:00:00Z"}, "at"),  # in the past
        ({"at": SOON, "note": "x" * 1001}, "note"),
        ({"at": SOON, "extra": 1}, "extra"),
        ({"at": 1764000000}, "at"),
        ({"at": SOON, "teamMemberId": "01NOSUCHMEMBER"}, "teamMemberId"),
    ],
)
def test_bad_callbacks_are_400(api: Api, crew: Team, make_lead: Any, body: Any, field: str):
    lead = make_lead()
    status, data, _ = api.post(f"/leads/{lead['id']}/callbacks", body)
    assert status == 400, data
    details = data["error"]["details"]
    assert (details.get("field") or details["fields"][0]["field"]) == field


def test_who_may_set_a_callback_for_whom(api: Api, crew: Team, make_lead: Any):
    theirs = lead_of(api, make_lead, crew.other)
    mine = lead_of(api, make_lead, crew.caller)
    caller = crew.tokens["caller"]
    # a lead they may not read: 404, as if it did not exist
    status, data, _ = api.post(f"/leads/{theirs['id']}/callbacks", {"at": SOON}, token=caller)
    assert (status, data["error"]["code"]) == (404, "not_found")
    # a callback for another member: 403
    body = {"at": SOON, "teamMemberId": crew.other.id}
    status, data, _ = api.post(f"/leads/{mine['id']}/callbacks", body, token=caller)
    assert (status, data["error"]["code"]) == (403, "forbidden")
    # a manager sets one for a caller
    status, made, _ = api.post(
        f"/leads/{theirs['id']}/callbacks", body, token=crew.tokens["manager"]
    )
    assert status == 201 and made["teamMemberId"] == crew.other.id
    assert made["createdBy"] == crew.manager.id
    # an archived lead takes none
    api.delete(f"/leads/{mine['id']}")
    status, data, _ = api.post(f"/leads/{mine['id']}/callbacks", {"at": SOON}, token=caller)
    assert status == 400


def test_lists_are_soonest_first_by_owner_and_due(
    api: Api, crew: Team, make_lead: Any, clock: Any, cognito: Any
):
    lead = make_lead()
    plan = [
        (crew.caller, "2026-11-23T20:00:00Z"),
        (crew.other, "2026-11-23T17:30:00Z"),
        (crew.caller, "2026-11-23T17:10:00Z"),
        (crew.caller, "2026-11-25T08:00:00Z"),
        (crew.other, "2026-11-23T19:00:00Z"),
    ]
    made = []
    for owner, at in plan:
        status, cb, _ = api.post(
            f"/leads/{lead['id']}/callbacks", {"at": at, "teamMemberId": owner.id}
        )
        assert status == 201, cb
        made.append(cb)
    soonest = sorted(made, key=lambda c: c["at"])
    caller = crew.tokens["caller"]
    mine = [c["id"] for c in soonest if c["teamMemberId"] == crew.caller.id]
    assert [c["id"] for c in api.get("/callbacks", token=caller)[1]["items"]] == mine
    assert api.get(f"/callbacks?teamMemberId={crew.caller.id}", token=caller)[0] == 200
    status, data, _ = api.get(f"/callbacks?teamMemberId={crew.other.id}", token=caller)
    assert (status, data["error"]["code"]) == (403, "forbidden")
    # managers: everyone's, or one member's; paged
    seen, cursor = [], None
    for _ in range(8):
        path = "/callbacks?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = api.get(path, token=crew.tokens["manager"])
        assert status == 200 and len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in soonest]
    theirs = api.get(f"/callbacks?teamMemberId={crew.other.id}", token=crew.tokens["admin"])[1]
    assert [c["id"] for c in theirs["items"]] == [
        c["id"] for c in soonest if c["teamMemberId"] == crew.other.id
    ]
    # due: those whose time has come
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 23, 19, 0, tzinfo=UTC))
    caller = cognito.access_token("caller@example.com")  # the earlier one has expired
    due = api.get("/callbacks?due=true")[1]["items"]
    assert [c["at"] for c in due] == [
        "2026-11-23T17:10:00.000Z",
        "2026-11-23T17:30:00.000Z",
        "2026-11-23T19:00:00.000Z",
    ]
    assert [c["at"] for c in api.get("/callbacks?due=true", token=caller)[1]["items"]] == [
        "2026-11-23T17:10:00.000Z"
    ]
    assert api.get("/callbacks?due=maybe")[0] == 400
    assert api.get("/callbacks?cursor=bogus")[0] == 400
    assert api.get("/callbacks", token=crew.tokens["caller key"])[1]["items"] == []


def test_the_owner_managers_and_admins_delete_a_callback(api: Api, crew: Team, make_lead: Any):
    lead = make_lead()
    made = [
        api.post(f"/leads/{lead['id']}/callbacks", {"at": SOON, "teamMemberId": crew.caller.id})[1]
        for _ in range(3)
    ]
    status, data, _ = api.delete(f"/callbacks/{made[0]['id']}", token=crew.tokens["other"])
    assert (status, data["error"]["code"]) == (404, "not_found")
    assert api.delete(f"/callbacks/{made[0]['id']}", token=crew.tokens["caller"])[0] == 204
    assert api.delete(f"/callbacks/{made[1]['id']}", token=crew.tokens["manager"])[0] == 204
    assert api.delete(f"/callbacks/{made[0]['id']}")[0] == 404
    left = api.get("/callbacks", token=crew.tokens["caller"])[1]["items"]
    assert [c["id"] for c in left] == [made[2]["id"]]
    audit = api.get("/audit?action=callback.deleted", token=crew.tokens["admin"])[1]["items"]
    assert len(audit) == 2


def test_a_completed_call_by_the_owner_marks_their_callbacks_done(
    api: Api, crew: Team, make_lead: Any
):
    from chalicelib import providers
    from chalicelib.services import callbacks

    lead, other_lead = make_lead(), make_lead()
    mine = {"at": SOON, "teamMemberId": crew.caller.id}
    api.post(f"/leads/{lead['id']}/callbacks", mine)
    api.post(f"/leads/{lead['id']}/callbacks", {**mine, "teamMemberId": crew.other.id})
    kept = api.post(f"/leads/{other_lead['id']}/callbacks", mine)[1]
    assert callbacks.complete_callbacks(providers.deps(), lead["id"], crew.caller.id) == 1
    left = api.get("/callbacks", token=crew.tokens["caller"])[1]["items"]
    assert [c["id"] for c in left] == [kept["id"]]
    assert len(api.get(f"/callbacks?teamMemberId={crew.other.id}")[1]["items"]) == 1
    assert callbacks.complete_callbacks(providers.deps(), lead["id"], crew.caller.id) == 0


def test_a_calls_wrap_up_sets_a_callback_for_its_member(
    api: Api, crew: Team, make_lead: Any, telephony: Any
):
    from tests.api.conftest import CALLER_ID

    lead = make_lead(assignedToId=crew.caller.id)
    token = crew.tokens["caller"]
    status, call, _ = api.post("/calls", {"leadId": lead["id"], "callerId": CALLER_ID}, token=token)
    assert status == 201, call
    # refused before anything is written
    for bad in ("2026-11-23T16:00:00Z", "soon"):
        status, data, _ = api.patch(
            f"/calls/{call['id']}", {"notes": "x", "callbackAt": bad}, token=token
        )
        assert (status, data["error"]["details"]["field"]) == (400, "callbackAt")
    assert api.get(f"/calls/{call['id']}")[1]["notes"] is None
    status, wrapped, _ = api.patch(
        f"/calls/{call['id']}",
        {"disposition": "callback_requested", "notes": "wants Tuesday", "callbackAt": SOON},
        token=token,
    )
    assert status == 200, wrapped
    assert (wrapped["disposition"], wrapped["notes"]) == ("callback_requested", "wants Tuesday")
    made = wrapped["callback"]
    assert (made["leadId"], made["teamMemberId"], made["at"]) == (
        lead["id"],
        crew.caller.id,
        "2026-11-23T18:00:00.000Z",
    )
    assert made["note"] == "wants Tuesday"
    listed = api.get("/callbacks", token=token)[1]["items"]
    assert [c["id"] for c in listed] == [made["id"]]
    # without callbackAt the answer is the call alone, as before
    status, plain, _ = api.patch(f"/calls/{call['id']}", {"notes": "done"}, token=token)
    assert status == 200 and "callback" not in plain
