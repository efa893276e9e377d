"""Bulk actions (`POST /leads/bulk`): assign, status, archive, restore, suppress on up to 500
leads, permissions per lead, a report of what was skipped and why, one audit entry, the
funnel kept right, and a lead edited meanwhile neither overwritten nor failing the others."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Team
from tests.conftest import Api


@pytest.fixture
def crew(api: Api, clock: Any, people: Team, make_lead: Any) -> dict[str, Any]:
    mine = [
        make_lead(name=f"Mine {n}", assignedToId=people.caller.id, phone=f"+1212555{n:04d}")
        for n in range(3)
    ]
    theirs = [
        make_lead(name=f"Theirs {n}", assignedToId=people.other.id, phone=f"+1213555{n:04d}")
        for n in range(2)
    ]
    free = [make_lead(name=f"Free {n}", phone=f"+1214555{n:04d}") for n in range(2)]
    return {"mine": mine, "theirs": theirs, "free": free, "team": people}


def _ids(*groups: list[dict]) -> list[str]:
    return [lead["id"] for group in groups for lead in group]


def bulk(api: Api, token: str | None, ids: list[str], action: str, **value: Any) -> Any:
    body: dict[str, Any] = {"leadIds": ids, "action": action, **value}
    kw = {"token": token} if token else {}
    return api.post("/leads/bulk", body, **kw)


def _lead(api: Api, lead_id: str) -> dict[str, Any]:
    status, body, _ = api.get(f"/leads/{lead_id}")
    assert status == 200
    return body


def _funnel(api: Api) -> dict[str, int]:
    return api.get("/dashboard/stats")[1]["leads"]["byStatus"]


def test_a_manager_assigns_leads_to_a_caller(api, crew):
    team = crew["team"]
    ids = _ids(crew["theirs"], crew["free"], crew["mine"][:1])
    status, body, _ = bulk(api, team.tokens["manager"], ids, "assign", value=team.caller.id)
    assert status == 200, body
    assert body == {"updated": 4, "skipped": 1, "errors": []}
    for lead_id in ids:
        assert _lead(api, lead_id)["assignedToId"] == team.caller.id
    _, listed, _ = api.get(f"/leads?assignedToId={team.caller.id}&limit=100")
    assert len(listed["items"]) == 7
    # one audit entry for the request, with its counts
    _, entries, _ = api.get("/audit?action=leads.bulk", token=team.tokens["admin"])
    assert len(entries["items"]) == 1
    entry = entries["items"][0]
    assert entry["actor"]["id"] == team.manager.id
    details = entry["details"]
    assert details["action"] == "assign" and details["value"] == team.caller.id
    assert (details["requested"], details["updated"], details["skipped"]) == (5, 4, 1)
    assert sorted(details["leadIds"]) == sorted(ids[:4])


def test_null_unassigns_and_a_missing_value_is_400(api, crew):
    ids = _ids(crew["mine"])
    status, body, _ = bulk(api, None, ids, "assign", value=None)
    assert status == 200 and body["updated"] == 3
    assert all(_lead(api, i)["assignedToId"] is None for i in ids)
    status, err, _ = bulk(api, None, ids, "assign")
    assert status == 400 and err["error"]["details"]["field"] == "value"


def test_assigning_to_an_unknown_or_inactive_member_is_400(api, crew, make_member):
    ids = _ids(crew["free"])
    status, err, _ = bulk(api, None, ids, "assign", value="01ZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert status == 400 and err["error"]["details"]["field"] == "value"
    gone = make_member(name="Gone", phone="+14155559000")
    api.delete(f"/team-members/{gone['id']}")
    status, err, _ = bulk(api, None, ids, "assign", value=gone["id"])
    assert status == 400 and err["error"]["details"]["field"] == "value"
    assert all(_lead(api, i)["assignedToId"] is None for i in ids)


def test_a_caller_acts_only_on_leads_they_may_edit(api, crew):
    team = crew["team"]
    caller = team.tokens["caller"]
    ids = _ids(crew["mine"][:1], crew["theirs"][:1], crew["free"][:1], [{"id": "NOPE"}])
    status, body, _ = bulk(api, caller, ids, "assign", value=team.caller.id)
    assert status == 200, body
    assert body["updated"] == 1 and body["skipped"] == 1
    assert body["errors"] == [
        {"leadId": crew["theirs"][0]["id"], "message": f"lead {crew['theirs'][0]['id']} not found"},
        {"leadId": "NOPE", "message": "lead NOPE not found"},
    ]
    assert _lead(api, crew["theirs"][0]["id"])["assignedToId"] == team.other.id
    assert _lead(api, crew["free"][0]["id"])["assignedToId"] == team.caller.id
    # a caller hands leads to nobody else, and does not archive or restore
    status, err, _ = bulk(api, caller, _ids(crew["mine"]), "assign", value=team.other.id)
    assert status == 403 and err["error"]["code"] == "forbidden"
    for action in ("archive", "restore"):
        status, err, _ = bulk(api, caller, _ids(crew["mine"]), action)
        assert status == 403 and err["error"]["code"] == "forbidden"
    # status on their own leads is theirs to set
    status, body, _ = bulk(
        api, caller, _ids(crew["mine"], crew["theirs"]), "status", value="contacted"
    )
    assert status == 200 and body["updated"] == 3 and len(body["errors"]) == 2


def test_status_moves_the_funnel_and_counts_conversions(api, crew):
    ids = _ids(crew["mine"], crew["free"])
    before = _funnel(api)
    assert before["new"] == 7
    status, body, _ = bulk(api, None, ids, "status", value="converted")
    assert status == 200 and body == {"updated": 5, "skipped": 0, "errors": []}
    after = _funnel(api)
    assert after["new"] == 2 and after["converted"] == 5
    _, stats, _ = api.get("/dashboard/stats")
    assert stats["converted"] == 5
    board = {r["teamMemberId"]: r["converted"] for r in stats["leaderboard"]}
    assert board[crew["team"].caller.id] == 3  # the assignee's conversions
    # again: nothing to do
    status, body, _ = bulk(api, None, ids, "status", value="converted")
    assert body == {"updated": 0, "skipped": 5, "errors": []}
    # the rollup's recount of the funnel agrees
    from chalicelib import providers
    from chalicelib.services import stats as stats_service

    assert stats_service.count_funnel(providers.deps())["status#converted"] == 5


def test_archive_and_restore_in_bulk(api, crew):
    team = crew["team"]
    ids = _ids(crew["mine"], crew["theirs"])
    status, body, _ = bulk(api, team.tokens["manager"], ids, "archive")
    assert status == 200 and body == {"updated": 5, "skipped": 0, "errors": []}
    _, listed, _ = api.get("/leads?limit=100")
    assert {lead["id"] for lead in listed["items"]} == set(_ids(crew["free"]))
    assert sum(_funnel(api).values()) == 2
    # archived leads cannot be assigned or given a status
    status, body, _ = bulk(api, None, ids[:1], "status", value="contacted")
    assert body["errors"][0]["message"].endswith("is archived and cannot be edited")
    status, body, _ = bulk(api, None, [*ids, crew["free"][0]["id"]], "restore")
    assert status == 200 and body == {"updated": 5, "skipped": 1, "errors": []}
    assert sum(_funnel(api).values()) == 7
    assert _lead(api, ids[0])["archived"] is False


def test_suppress_in_bulk_is_the_numbers_voice_and_sms(api, crew):
    team = crew["team"]
    caller = team.tokens["caller"]
    ids = _ids(crew["mine"][:2], crew["theirs"][:1])
    status, body, _ = bulk(api, caller, ids, "suppress")
    assert status == 200, body
    assert body["updated"] == 2 and body["skipped"] == 0 and len(body["errors"]) == 1
    for lead_id in ids[:2]:
        lead = _lead(api, lead_id)
        assert lead["doNotCall"] is True and lead["smsOptOut"] is True
    assert _lead(api, ids[2])["doNotCall"] is False
    status, body, _ = bulk(api, caller, ids[:2], "suppress")
    assert body == {"updated": 0, "skipped": 2, "errors": []}
    status, item, _ = api.get(f"/suppressions/%2B{crew['mine'][0]['phone'][1:]}")
    assert status == 200 and sorted(item["channels"]) == ["sms", "voice"]
    assert item["source"] == "manual" and item["createdBy"]["id"] == team.caller.id


def test_a_lead_edited_since_the_batch_read_is_not_overwritten(api, crew, monkeypatch):
    """The batch reads leads eventually consistently; one changed meanwhile fails its
    condition, leaves the group, and goes the single-lead way: the others are written, its
    edit stands, and it is still assigned."""
    from chalicelib import providers
    from chalicelib.services import leads

    d = providers.deps()
    ids = _ids(crew["free"], crew["theirs"])
    stale = d.store.leads.get_many(ids)
    leads.update(d, ids[0], leads.Patch({"notes": "edited meanwhile"}))
    monkeypatch.setattr(type(d.store.leads), "get_many", lambda self, wanted: stale)
    status, body, _ = bulk(api, None, ids, "assign", value=crew["team"].caller.id)
    assert status == 200 and body == {"updated": 4, "skipped": 0, "errors": []}
    first = _lead(api, ids[0])
    assert first["notes"] == "edited meanwhile"
    assert first["assignedToId"] == crew["team"].caller.id


def test_many_leads_go_in_groups(api, clock, people):
    from chalicelib import providers
    from chalicelib.services import leads

    d = providers.deps()
    ids = [
        leads.create(d, leads.NewLead(name=f"L{n}", phone=f"+1215555{n:04d}")).id for n in range(95)
    ]
    status, body, _ = bulk(api, None, ids, "status", value="qualified")
    assert status == 200 and body == {"updated": 95, "skipped": 0, "errors": []}
    assert _funnel(api)["qualified"] == 95 and _funnel(api)["new"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"leadIds": [], "action": "archive"}, "leadIds"),
        ({"leadIds": "x", "action": "archive"}, "leadIds"),
        ({"leadIds": [1], "action": "archive"}, "leadIds"),
        ({"leadIds": ["x" * 65], "action": "archive"}, "leadIds"),
        ({"leadIds": [f"L{n}" for n in range(501)], "action": "archive"}, "leadIds"),
        ({"leadIds": ["a"], "action": "delete"}, "action"),
        ({"leadIds": ["a"]}, "action"),
        ({"leadIds": ["a"], "action": "status"}, "value"),
        ({"leadIds": ["a"], "action": "status", "value": "hot"}, "value"),
        ({"leadIds": ["a"], "action": "assign", "value": 7}, "value"),
        ({"leadIds": ["a"], "action": "archive", "value": "x"}, "value"),
        ({"leadIds": ["a"], "action": "archive", "extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_400(api, crew, body, field):
    status, err, _ = api.post("/leads/bulk", body)
    assert status == 400 and err["error"]["code"] == "validation_error"
    assert err["error"]["details"]["field"] == field


def test_not_json_is_400(api, crew):
    status, err, _ = api.post("/leads/bulk", raw="nope")
    assert status == 400 and err["error"]["code"] == "validation_error"


def test_duplicate_ids_count_once(api, crew):
    lead_id = crew["free"][0]["id"]
    status, body, _ = bulk(api, None, [lead_id, lead_id], "status", value="contacted")
    assert status == 200 and body == {"updated": 1, "skipped": 0, "errors": []}
