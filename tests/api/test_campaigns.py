"""Campaigns over HTTP (API.md, "Campaigns and the dialer"): CRUD with its checks and
optimistic edits, who reads what, adding leads by ids and by filter (the one-active-campaign
guard, the per-request cap), the per-state lists, removing, stats."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import CALLER_ID, Team
from tests.conftest import Api


@pytest.fixture
def crew(api: Api, people: Team, telephony: Any) -> Team:
    return people


def make(api: Api, **body: Any) -> dict[str, Any]:
    status, data, _ = api.post("/campaigns", {"name": "Spring", **body})
    assert status == 201, data
    return data


def err(api_answer: tuple[int, Any, Any]) -> tuple[int, str, Any]:
    status, body, _ = api_answer
    return status, body["error"]["code"], body["error"].get("details")


def test_a_campaign_is_created_with_its_defaults_and_read_back(api: Api, crew: Team):
    made = make(api, callerId="(500) 555-0006", memberIds=[crew.caller.id, crew.caller.id])
    assert made == {
        "id": made["id"],
        "name": "Spring",
        "status": "active",
        "callerId": CALLER_ID,
        "script": None,
        "memberIds": [crew.caller.id],
        "maxAttempts": 3,
        "retryAfterMinutes": 240,
        "amd": "hangup",
        "voicemailMessage": None,
        "autoAdvanceSeconds": 0,
        "record": False,
        "counts": {"leads": 0, "ready": 0, "scheduled": 0, "done": 0},
        "createdAt": "2026-11-23T17:00:00.000Z",
        "updatedAt": "2026-11-23T17:00:00.000Z",
        "createdBy": made["createdBy"],
        "version": 1,
    }
    status, got, _ = api.get(f"/campaigns/{made['id']}")
    assert (status, got) == (200, made)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X", "amd": "shout"}, "amd"),
        ({"name": "X", "maxAttempts": 0}, "maxAttempts"),
        ({"name": "X", "maxAttempts": "3"}, "maxAttempts"),
        ({"name": "X", "retryAfterMinutes": 0}, "retryAfterMinutes"),
        ({"name": "X", "autoAdvanceSeconds": -1}, "autoAdvanceSeconds"),
        ({"name": "X", "status": "archived"}, "status"),
        ({"name": "X", "memberIds": "everyone"}, "memberIds"),
        ({"name": "X", "amd": "voicemail"}, "voicemailMessage"),
        ({"name": "X", "callerId": "not a number"}, "callerId"),
        ({"name": "X", "callerId": "+12125550199"}, "callerId"),  # not the account's
        ({"name": "X", "callerId": "+19005550100"}, "callerId"),  # a blocked prefix
        ({"name": "X", "memberIds": ["01NOSUCHMEMBER"]}, "memberIds"),
    ],
)
def test_bad_campaigns_are_400_naming_the_field(api: Api, crew: Team, body: Any, field: str):
    status, data, _ = api.post("/campaigns", body)
    assert status == 400, data
    error = data["error"]
    assert error["code"] == "validation_error"
    named = error.get("details", {}).get("field") or error["details"]["fields"][0]["field"]
    assert named == field


def test_a_deactivated_member_cannot_join(api: Api, crew: Team, make_member: Any):
    gone = make_member(name="Gone")
    api.delete(f"/team-members/{gone['id']}")
    assert err(api.post("/campaigns", {"name": "X", "memberIds": [gone["id"]]}))[:2] == (
        400,
        "validation_error",
    )


def test_campaigns_list_newest_first_and_callers_see_theirs(api: Api, crew: Team):
    ids = [
        make(api, name=f"C{i}", memberIds=[crew.caller.id] if i % 2 else [])["id"] for i in range(5)
    ]
    seen, cursor = [], None
    for _ in range(6):
        status, page, _ = api.get("/campaigns?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200 and len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    caller = crew.tokens["caller"]
    status, page, _ = api.get("/campaigns", token=caller)
    assert [c["id"] for c in page["items"]] == [ids[3], ids[1]]
    assert api.get(f"/campaigns/{ids[0]}", token=caller)[0] == 404
    assert api.get(f"/campaigns/{ids[1]}", token=caller)[0] == 200
    assert api.get("/campaigns", token=crew.tokens["caller key"])[1]["items"] == []
    assert err(api.get("/campaigns?limit=0"))[:2] == (400, "validation_error")
    assert err(api.get("/campaigns?cursor=bogus"))[:2] == (400, "validation_error")


def test_an_edit_needs_the_version_it_read(api: Api, crew: Team):
    made = make(api)
    status, edited, _ = api.patch(
        f"/campaigns/{made['id']}",
        {"name": "Spring push", "maxAttempts": 5, "version": 1, "status": "paused"},
    )
    assert status == 200, edited
    assert (edited["name"], edited["maxAttempts"], edited["status"]) == ("Spring push", 5, "paused")
    assert edited["version"] == 2
    status, code, details = err(api.patch(f"/campaigns/{made['id']}", {"name": "X", "version": 1}))
    assert (status, code, details) == (409, "conflict", {"currentVersion": 2})
    for field in ("name", "status", "maxAttempts", "retryAfterMinutes", "amd", "record"):
        status, code, details = err(api.patch(f"/campaigns/{made['id']}", {field: None}))
        assert (status, code, details["field"]) == (400, "validation_error", field)
    status, code, details = err(api.patch(f"/campaigns/{made['id']}", {"autoAdvanceSeconds": None}))
    assert (status, details["field"]) == (400, "autoAdvanceSeconds")
    status, cleared, _ = api.patch(
        f"/campaigns/{made['id']}", {"script": None, "memberIds": None, "callerId": None}
    )
    assert status == 200, cleared
    assert (cleared["script"], cleared["memberIds"], cleared["callerId"]) == (None, [], None)
    assert err(api.patch(f"/campaigns/{made['id']}", {"amd": "voicemail"}))[0] == 400
    status, edited, _ = api.patch(
        f"/campaigns/{made['id']}", {"amd": "voicemail", "voicemailMessage": "Hi, it's Acme."}
    )
    assert status == 200 and edited["amd"] == "voicemail"
    assert api.patch("/campaigns/01NOSUCHCAMPAIGN", {"name": "X"})[0] == 404


def test_delete_archives_and_an_archived_campaign_is_not_edited(api: Api, crew: Team, make_lead):
    made = make(api)
    status, gone, _ = api.delete(f"/campaigns/{made['id']}")
    assert status == 200 and gone["status"] == "archived"
    assert api.delete(f"/campaigns/{made['id']}")[1]["status"] == "archived"  # idempotent
    assert err(api.patch(f"/campaigns/{made['id']}", {"name": "X"}))[:2] == (409, "conflict")
    lead = make_lead()
    assert err(api.post(f"/campaigns/{made['id']}/leads", {"leadIds": [lead["id"]]}))[:2] == (
        409,
        "conflict",
    )


def test_leads_are_added_by_id_once_and_a_lead_is_in_one_active_campaign(
    api: Api, crew: Team, make_lead
):
    first, second = make(api), make(api, name="Other")
    leads = [make_lead() for _ in range(4)]
    gone = make_lead()
    api.delete(f"/leads/{gone['id']}")
    ids = [x["id"] for x in leads]
    status, result, _ = api.post(
        f"/campaigns/{first['id']}/leads", {"leadIds": [*ids[:3], gone["id"], "01NOSUCHLEAD"]}
    )
    assert status == 200, result
    assert (result["added"], result["skipped"]) == (3, 2)
    assert {s["reason"] for s in result["skippedLeads"]} == {"archived", "not_found"}
    again = api.post(f"/campaigns/{first['id']}/leads", {"leadIds": ids})[1]
    assert (again["added"], again["skipped"]) == (1, 3)
    # the one-active-campaign guard: a single lead held by another campaign is a 409 naming it
    status, code, details = err(api.post(f"/campaigns/{second['id']}/leads", {"leadIds": [ids[0]]}))
    assert (status, code, details) == (
        409,
        "conflict",
        {"leadId": ids[0], "campaignId": first["id"]},
    )
    bulk = api.post(f"/campaigns/{second['id']}/leads", {"leadIds": ids})[1]
    assert (bulk["added"], bulk["skipped"]) == (0, 4)
    assert bulk["skippedLeads"][0]["campaignId"] == first["id"]
    status, lead, _ = api.get(f"/leads/{ids[0]}")
    assert lead["campaignId"] == first["id"]
    # an edit of a lead in a campaign keeps it there
    assert api.patch(f"/leads/{ids[0]}", {"notes": "hot", "version": lead["version"]})[0] == 200
    assert api.get(f"/leads/{ids[0]}")[1]["campaignId"] == first["id"]
    counts = api.get(f"/campaigns/{first['id']}")[1]["counts"]
    assert counts == {"leads": 4, "ready": 4, "scheduled": 0, "done": 0}
    # archiving the first releases them to the second
    api.delete(f"/campaigns/{first['id']}")
    moved = api.post(f"/campaigns/{second['id']}/leads", {"leadIds": ids})[1]
    assert (moved["added"], moved["skipped"]) == (4, 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"leadIds": []},
        {"leadIds": ["x"] * 501},
        {"leadIds": ["a"], "filter": {"status": "new"}},
        {"filter": {"status": "warm"}},
        {"filter": {"owner": "me"}},
        {"leadIds": "all"},
    ],
)
def test_bad_lead_additions_are_400(api: Api, crew: Team, body: Any):
    made = make(api)
    assert err(api.post(f"/campaigns/{made['id']}/leads", body))[:2] == (400, "validation_error")


def test_an_unknown_single_lead_is_400(api: Api, crew: Team):
    made = make(api)
    status, code, details = err(api.post(f"/campaigns/{made['id']}/leads", {"leadIds": ["01NOPE"]}))
    assert (status, code, details["field"]) == (400, "validation_error", "leadIds")


def test_leads_are_added_by_filter_up_to_the_cap_then_from_the_cursor(
    api: Api, crew: Team, make_lead, monkeypatch: pytest.MonkeyPatch
):
    from chalicelib.domain import campaigns as rules

    monkeypatch.setattr(rules, "MAX_FILTER_LEADS", 3)
    made = make(api)
    mine = [make_lead(assignedToId=crew.caller.id) for _ in range(5)]
    make_lead(assignedToId=crew.other.id)
    make_lead(assignedToId=crew.caller.id, status="contacted")
    body: dict[str, Any] = {"filter": {"status": "new", "assignedToId": crew.caller.id}}
    status, first, _ = api.post(f"/campaigns/{made['id']}/leads", body)
    assert status == 200, first
    assert (first["added"], first["examined"], first["limit"]) == (3, 3, 3)
    assert first["nextCursor"]
    body["filter"]["cursor"] = first["nextCursor"]
    rest = api.post(f"/campaigns/{made['id']}/leads", body)[1]
    assert (rest["added"], rest["nextCursor"]) == (2, None)
    ready = api.get(f"/campaigns/{made['id']}/leads?state=ready&limit=100")[1]["items"]
    assert sorted(x["leadId"] for x in ready) == sorted(x["id"] for x in mine)
    assert err(api.post(f"/campaigns/{made['id']}/leads", {"filter": {"cursor": "bogus"}}))[:2] == (
        400,
        "validation_error",
    )


def test_the_per_state_lists_page_with_names_and_phones(api: Api, crew: Team, make_lead):
    from chalicelib import providers
    from chalicelib.services import queue

    made = make(api, memberIds=[crew.caller.id])
    leads = [make_lead(name=f"Person {i}") for i in range(5)]
    api.post(f"/campaigns/{made['id']}/leads", {"leadIds": [x["id"] for x in leads]})
    d = providers.deps()
    campaign = d.store.campaigns.get(made["id"])
    taken = queue.take_next(d, campaign, "S1", crew.caller.id)
    assert taken is not None
    queue.finish_attempt(d, made["id"], taken.lead.id, "S1", "no_answer")
    seen, cursor = [], None
    for _ in range(6):
        path = f"/campaigns/{made['id']}/leads?state=ready&limit=2"
        status, page, _ = api.get(path + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    newest = sorted(leads, key=lambda x: x["id"], reverse=True)
    assert [x["leadId"] for x in seen] == [x["id"] for x in newest if x["id"] != taken.lead.id]
    assert {(x["name"], x["phone"]) for x in seen} == {
        (x["name"], x["phone"]) for x in leads if x["id"] != taken.lead.id
    }
    scheduled = api.get(
        f"/campaigns/{made['id']}/leads?state=scheduled", token=crew.tokens["caller"]
    )
    status, page, _ = scheduled
    assert status == 200 and [x["leadId"] for x in page["items"]] == [taken.lead.id]
    item = page["items"][0]
    assert (item["state"], item["attempts"], item["lastOutcome"]) == ("scheduled", 1, "no_answer")
    assert item["nextAttemptAt"] == "2026-11-23T21:00:00.000Z"  # 240 minutes later
    assert api.get(f"/campaigns/{made['id']}/leads?state=done")[1]["items"] == []
    assert err(api.get(f"/campaigns/{made['id']}/leads?state=later"))[:2] == (
        400,
        "validation_error",
    )
    counts = api.get(f"/campaigns/{made['id']}")[1]["counts"]
    assert counts == {"leads": 5, "ready": 4, "scheduled": 1, "done": 0}


def test_a_lead_is_removed_from_its_campaign_and_freed(api: Api, crew: Team, make_lead):
    made, other = make(api), make(api, name="Other")
    lead = make_lead()
    api.post(f"/campaigns/{made['id']}/leads", {"leadIds": [lead["id"]]})
    status, _, _ = api.delete(f"/campaigns/{made['id']}/leads/{lead['id']}")
    assert status == 204
    assert api.get(f"/campaigns/{made['id']}")[1]["counts"]["leads"] == 0
    assert api.get(f"/leads/{lead['id']}")[1]["campaignId"] is None
    assert api.get(f"/campaigns/{made['id']}/leads/{lead['id']}")[0] in (404, 405)
    assert err(api.delete(f"/campaigns/{made['id']}/leads/{lead['id']}"))[:2] == (404, "not_found")
    assert api.post(f"/campaigns/{other['id']}/leads", {"leadIds": [lead["id"]]})[1]["added"] == 1


def test_stats_report_dials_and_what_remains(api: Api, crew: Team, make_lead):
    from chalicelib import providers
    from chalicelib.services import campaigns

    made = make(api)
    api.post(f"/campaigns/{made['id']}/leads", {"leadIds": [make_lead()["id"] for _ in range(3)]})
    d = providers.deps()
    campaigns.record_dial_outcome(d, made["id"], "human", talk_seconds=30)
    campaigns.record_dial_outcome(d, made["id"], "machine", voicemail_dropped=True)
    status, stats, _ = api.get(f"/campaigns/{made['id']}/stats")
    assert status == 200
    assert stats == {
        "campaignId": made["id"],
        "dials": 2,
        "humans": 1,
        "machines": 1,
        "voicemails": 1,
        "noAnswer": 0,
        "abandoned": 0,
        "abandonRate": 0.0,
        "connectRate": 0.5,
        "answered": 2,
        "talkSeconds": 30,
        "avgTalkSeconds": 30.0,
        "conversions": 0,
        "remaining": 3,
        "leads": {"leads": 3, "ready": 3, "scheduled": 0, "done": 0},
        # the dialer writes these (answered by a person, abandoned) per day: none here
        "abandonment": {
            "windowDays": 30,
            "answered": 0,
            "abandoned": 0,
            "rate": 0.0,
            "limit": 0.03,
            "overLimit": False,
        },
    }
    assert err(api.get("/campaigns/01NOSUCH/stats"))[:2] == (404, "not_found")


@pytest.mark.dynamo
def test_many_leads_are_added_in_groups_on_dynamodb(api: Api, crew: Team):
    """More than one transaction's worth (49 leads each) and more than one page of the lead
    list (100), on DynamoDB (moto): counts exact, every lead guarded once."""
    from chalicelib import providers
    from chalicelib.services import leads

    d = providers.deps()
    made = [
        leads.create(d, leads.NewLead(name=f"L{i}", phone=f"+1212555{i:04d}")) for i in range(105)
    ]
    first, second = make(api), make(api, name="Other")
    ids = [x.id for x in made[:55]]
    result = api.post(f"/campaigns/{first['id']}/leads", {"leadIds": ids})[1]
    assert (result["added"], result["skipped"]) == (55, 0)
    by_filter = api.post(f"/campaigns/{second['id']}/leads", {"filter": {"status": "new"}})[1]
    assert (by_filter["added"], by_filter["skipped"], by_filter["examined"]) == (50, 55, 105)
    assert by_filter["nextCursor"] is None and len(by_filter["skippedLeads"]) == 20
    assert api.get(f"/campaigns/{first['id']}")[1]["counts"]["ready"] == 55
    assert api.get(f"/campaigns/{second['id']}")[1]["counts"]["ready"] == 50
    held = {x.id: x.campaign_id for x in d.store.leads.get_many([x.id for x in made]).values()}
    assert sorted(held.values()).count(first["id"]) == 55
    assert sorted(held.values()).count(second["id"]) == 50


def test_campaign_writes_are_audited(api: Api, crew: Team, make_lead):
    made = make(api)
    lead = make_lead()
    api.patch(f"/campaigns/{made['id']}", {"script": "Hello", "maxAttempts": 4})
    api.post(f"/campaigns/{made['id']}/leads", {"leadIds": [lead["id"]]})
    api.delete(f"/campaigns/{made['id']}/leads/{lead['id']}")
    api.delete(f"/campaigns/{made['id']}")
    status, page, _ = api.get("/audit?limit=100", token=crew.tokens["admin"])
    assert status == 200
    mine = [e for e in page["items"] if (e["target"] or {}).get("id") == made["id"]]
    assert [e["action"] for e in reversed(mine)] == [
        "campaign.created",
        "campaign.updated",
        "campaign.leads_added",
        "campaign.lead_removed",
        "campaign.archived",
    ]
    updated = next(e for e in mine if e["action"] == "campaign.updated")
    assert updated["details"] == {"fields": ["maxAttempts", "script"]}
