from chalicelib.providers import deps
from tests.helpers import funnel, store


def test_create_normalises_phone_and_derives_timezone(api):
    status, lead, _ = api.post(
        "/leads", {"name": "Jane Doe", "phone": "(212) 555-0142", "company": "Acme"}
    )
    assert status == 201
    assert lead["phone"] == "+12125550142"
    assert lead["timezone"] == "America/New_York"
    assert lead["status"] == "new" and lead["source"] == "manual" and lead["version"] == 1
    assert lead["smsOptOut"] is False and lead["doNotCall"] is False
    assert lead["createdAt"].endswith("Z")


def test_duplicate_phone_is_409_with_the_existing_lead(api, make_lead):
    first = make_lead(phone="+12125550142")
    status, err, _ = api.post("/leads", {"name": "Again", "phone": "212-555-0142"})
    assert status == 409
    assert err["error"]["code"] == "conflict"
    assert err["error"]["details"]["existingLeadId"] == first["id"]
    assert funnel() == {"status#new": 1, "total": 1}


def test_create_is_one_transaction(api, ddb_requests):
    ddb_requests.reset()
    status, _, _ = api.post("/leads", {"name": "Jane", "phone": "+12125550142"})
    assert status == 201
    # + the answer's flags: the number's suppression item (the ledger is their truth)
    assert dict(ddb_requests.calls) == {"TransactWriteItems": 1, "GetItem": 1}


def test_assignee_must_be_an_active_member(api, make_member):
    status, err, _ = api.post(
        "/leads", {"name": "J", "phone": "+12125550142", "assignedToId": "01NOBODY"}
    )
    assert status == 400 and err["error"]["details"]["field"] == "assignedToId"
    member = make_member()
    api.delete(f"/team-members/{member['id']}")
    status, err, _ = api.post(
        "/leads", {"name": "J", "phone": "+12125550142", "assignedToId": member["id"]}
    )
    assert status == 400 and "deactivated" in err["error"]["message"]


def test_list_newest_first_filtered_and_paginated(api, make_lead, make_member, ddb_requests):
    member = make_member()
    made = [make_lead(assignedToId=member["id"] if i % 2 else None) for i in range(7)]
    api.patch(f"/leads/{made[0]['id']}", {"status": "qualified"})
    ddb_requests.reset()
    _, page, _ = api.get("/leads?limit=3")
    assert [x["id"] for x in page["items"]] == [m["id"] for m in made[::-1][:3]]
    # never a Scan; the page's flags from the ledger: one BatchGetItem; the first page's
    # `total` from the funnel item: one GetItem
    assert dict(ddb_requests.calls) == {"Query": 1, "BatchGetItem": 1, "GetItem": 1}
    assert page["total"] == 7
    seen = [x["id"] for x in page["items"]]
    while page["nextCursor"]:
        _, page, _ = api.get(f"/leads?limit=3&cursor={page['nextCursor']}")
        seen += [x["id"] for x in page["items"]]
    assert seen == [m["id"] for m in made[::-1]]
    _, q, _ = api.get("/leads?status=qualified")
    assert [x["id"] for x in q["items"]] == [made[0]["id"]]
    _, mine, _ = api.get(f"/leads?assignedToId={member['id']}")
    assert [x["id"] for x in mine["items"]] == [m["id"] for m in made[::-1] if m["assignedToId"]]
    _, mine_new, _ = api.get(f"/leads?assignedToId={member['id']}&status=new&limit=2")
    assert len(mine_new["items"]) == 2 and mine_new["nextCursor"]
    assert "Scan" not in ddb_requests.calls


def test_last_page_has_no_cursor(api, make_lead):
    for _ in range(3):
        make_lead()
    _, page, _ = api.get("/leads?limit=3")
    assert len(page["items"]) == 3 and page["nextCursor"] is None


def test_bad_list_parameters_are_400(api):
    for query in ("limit=0", "limit=101", "limit=abc", "status=hot", "cursor=garbage!!"):
        status, err, _ = api.get(f"/leads?{query}")
        assert status == 400, query
        assert err["error"]["code"] == "validation_error"


def test_cursor_from_another_index_is_400(api, make_lead):
    for _ in range(3):
        make_lead()
    _, page, _ = api.get("/leads?limit=1")
    status, _, _ = api.get(f"/leads?status=new&cursor={page['nextCursor']}")
    assert status == 400


def test_cursor_of_another_partition_is_400(api, make_lead):
    for _ in range(3):
        make_lead()
    _, page, _ = api.get("/leads?status=new&limit=1")
    status, body, _ = api.get(f"/leads?status=qualified&cursor={page['nextCursor']}")
    assert status == 400 and body["error"]["details"]["field"] == "cursor"


def test_patch_with_version_and_stale_409(api, make_lead):
    lead = make_lead()
    status, updated, _ = api.patch(
        f"/leads/{lead['id']}", {"status": "contacted", "notes": "left a message", "version": 1}
    )
    assert status == 200 and updated["version"] == 2 and updated["notes"] == "left a message"
    status, err, _ = api.patch(f"/leads/{lead['id']}", {"status": "qualified", "version": 1})
    assert status == 409 and err["error"]["details"]["currentVersion"] == 2
    _, now, _ = api.get(f"/leads/{lead['id']}")
    assert now["status"] == "contacted"


def test_concurrent_edit_between_read_and_write_is_a_conflict(api, make_lead):
    """Two editors read version 1; the second save must not overwrite the first."""
    import pytest

    from chalicelib.errors import Conflict
    from chalicelib.services import leads

    lead = make_lead()
    mine = leads.get(deps(), lead["id"])
    api.patch(f"/leads/{lead['id']}", {"name": "Theirs"})
    mine.name = "Mine"
    with pytest.raises(Conflict):
        read = leads._as_read(mine)
        leads._save(deps(), mine, read, old_status=mine.status, old_phone=mine.phone)
    assert leads.get(deps(), lead["id"]).name == "Theirs"


def test_phone_change_moves_the_guard(api, make_lead):
    lead = make_lead(phone="+12125550142")
    other = make_lead(phone="+12125550143")
    status, err, _ = api.patch(f"/leads/{lead['id']}", {"phone": "+12125550143"})
    assert status == 409 and err["error"]["details"]["existingLeadId"] == other["id"]
    status, moved, _ = api.patch(f"/leads/{lead['id']}", {"phone": "+14155550100"})
    assert status == 200 and moved["timezone"] == "America/Los_Angeles"
    assert store().leads.id_by_phone("+14155550100") == lead["id"]
    assert store().leads.id_by_phone("+12125550142") is None
    status, _, _ = api.post("/leads", {"name": "Reuse", "phone": "+12125550142"})
    assert status == 201


def test_patch_validation(api, make_lead):
    lead = make_lead()
    for body in (
        {"status": "won"},
        {"name": None},
        {"phone": "123"},
        {"id": "x"},
        {"version": 0},
        {"doNotCall": "yes"},
    ):
        status, _err, _ = api.patch(f"/leads/{lead['id']}", body)
        assert status == 400, body
    status, cleared, _ = api.patch(f"/leads/{lead['id']}", {"company": None})
    assert status == 200 and cleared["company"] is None


def test_archive_keeps_history_and_guard(api, make_lead):
    lead = make_lead(phone="+12125550142")
    status, archived, _ = api.delete(f"/leads/{lead['id']}")
    assert status == 200 and archived["archived"] is True
    _, page, _ = api.get("/leads")
    assert page["items"] == []
    status, again, _ = api.get(f"/leads/{lead['id']}")
    assert status == 200 and again["archived"] is True
    status, err, _ = api.post("/leads", {"name": "Back", "phone": "+12125550142"})
    assert status == 409 and err["error"]["details"]["existingLeadId"] == lead["id"]
    status, _, _ = api.patch(f"/leads/{lead['id']}", {"name": "x"})
    assert status == 409
    status, _, _ = api.delete(f"/leads/{lead['id']}")
    assert status == 200  # archiving twice is harmless
    assert funnel() == {}


def test_restore_brings_an_archived_lead_back(api, make_lead, ddb_requests):
    lead = make_lead(phone="+12125550142")
    api.patch(f"/leads/{lead['id']}", {"status": "qualified"})
    api.delete(f"/leads/{lead['id']}")
    status, err, _ = api.post("/leads", {"name": "Back", "phone": "212-555-0142"})
    assert status == 409
    assert err["error"]["details"]["existingLeadId"] == lead["id"]
    assert err["error"]["details"]["existingLeadArchived"] is True
    assert funnel() == {}
    ddb_requests.reset()
    status, back, _ = api.post(f"/leads/{lead['id']}/restore")
    assert status == 200 and back["archived"] is False and back["archivedAt"] is None
    assert back["status"] == "qualified" and back["id"] == lead["id"]
    # the lead (1), one transaction: the lead and its funnel count (2), the audit entry (3),
    # the answer's flags: the number's suppression item (4)
    assert dict(ddb_requests.calls) == {"GetItem": 2, "TransactWriteItems": 1, "PutItem": 1}
    assert funnel() == {"status#qualified": 1, "total": 1}
    _, page, _ = api.get("/leads?status=qualified")
    assert [x["id"] for x in page["items"]] == [lead["id"]]
    status, edited, _ = api.patch(f"/leads/{lead['id']}", {"name": "Editable again"})
    assert status == 200 and edited["name"] == "Editable again"
    # restoring a live lead changes nothing
    status, again, _ = api.post(f"/leads/{lead['id']}/restore")
    assert status == 200 and again["version"] == edited["version"]
    assert funnel() == {"status#qualified": 1, "total": 1}
    # the duplicate's 409 no longer says archived
    status, err, _ = api.post("/leads", {"name": "Back", "phone": "212-555-0142"})
    assert status == 409 and "existingLeadArchived" not in err["error"]["details"]


def test_restore_an_unknown_lead_is_404_and_needs_auth(api):
    status, err, _ = api.post("/leads/01NOSUCHLEAD/restore")
    assert status == 404 and err["error"]["code"] == "not_found"
    status, _, _ = api.request("POST", "/leads/01NOSUCHLEAD/restore", None, token=None)
    assert status == 401


def test_funnel_follows_status_changes(api, make_lead):
    a, b, _c = make_lead(), make_lead(), make_lead()
    api.patch(f"/leads/{a['id']}", {"status": "contacted"})
    api.patch(f"/leads/{b['id']}", {"status": "converted"})
    api.patch(f"/leads/{b['id']}", {"notes": "no status change"})
    assert funnel() == {"status#new": 1, "status#contacted": 1, "status#converted": 1, "total": 3}


def test_unknown_lead_is_404(api):
    for method in ("get", "delete"):
        status, err, _ = getattr(api, method)("/leads/01NOPE")
        assert status == 404 and err["error"]["code"] == "not_found"
