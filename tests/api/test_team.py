def test_create_normalises_phone_and_defaults_role(api):
    status, m, _ = api.post("/team-members", {"name": " Ann ", "phone": "(415) 555-0100"})
    assert status == 201
    assert m["name"] == "Ann"
    assert m["phone"] == "+14155550100"
    assert m["role"] == "caller" and m["active"] is True and m["version"] == 1


def test_get_list_and_filter_active(api, make_member):
    a = make_member(name="A")
    b = make_member(name="B")
    api.delete(f"/team-members/{b['id']}")
    status, page, _ = api.get("/team-members")
    assert status == 200 and [m["id"] for m in page["items"]] == [a["id"], b["id"]]
    _, active, _ = api.get("/team-members?active=true")
    assert [m["id"] for m in active["items"]] == [a["id"]]
    status, got, _ = api.get(f"/team-members/{a['id']}")
    assert status == 200 and got == a


def test_list_paginates_with_cursor(api, make_member):
    ids = [make_member()["id"] for _ in range(5)]
    seen = []
    cursor = None
    while True:
        path = "/team-members?limit=2" + (f"&cursor={cursor}" if cursor else "")
        _, page, _ = api.get(path)
        seen += [m["id"] for m in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == ids


def test_patch_updates_fields_and_bumps_version(api, make_member):
    m = make_member()
    status, updated, _ = api.patch(
        f"/team-members/{m['id']}",
        {"role": "admin", "email": "ann@example.com", "phone": "212 555 0199", "version": 1},
    )
    assert status == 200
    assert updated["role"] == "admin" and updated["email"] == "ann@example.com"
    assert updated["phone"] == "+12125550199" and updated["version"] == 2
    status, cleared, _ = api.patch(f"/team-members/{m['id']}", {"email": None})
    assert status == 200 and cleared["email"] is None


def test_stale_version_is_409(api, make_member):
    m = make_member()
    api.patch(f"/team-members/{m['id']}", {"name": "New", "version": 1})
    status, err, _ = api.patch(f"/team-members/{m['id']}", {"name": "Other", "version": 1})
    assert status == 409 and err["error"]["code"] == "conflict"
    assert err["error"]["details"]["currentVersion"] == 2


def test_delete_deactivates_and_keeps_the_member(api, make_member):
    m = make_member()
    status, gone, _ = api.delete(f"/team-members/{m['id']}")
    assert status == 200 and gone["active"] is False
    status, still, _ = api.get(f"/team-members/{m['id']}")
    assert status == 200 and still["active"] is False


def test_validation_errors(api):
    cases = [
        {"phone": "+14155550100"},  # name missing
        {"name": "", "phone": "+14155550100"},
        {"name": "A", "phone": "not a phone"},
        {"name": "A", "phone": "+14155550100", "email": "nope"},
        {"name": "A", "phone": "+14155550100", "role": "boss"},
        {"name": "A", "phone": "+14155550100", "favouriteColour": "red"},
        {"name": 5, "phone": "+14155550100"},
        {"name": "x" * 201, "phone": "+14155550100"},
    ]
    for body in cases:
        status, err, _ = api.post("/team-members", body)
        assert status == 400, body
        assert err["error"]["code"] == "validation_error"


def test_null_for_required_field_is_400(api, make_member):
    m = make_member()
    status, err, _ = api.patch(f"/team-members/{m['id']}", {"name": None})
    assert status == 400 and err["error"]["code"] == "validation_error"


def test_unknown_member_is_404(api):
    for method in ("get", "delete"):
        status, err, _ = getattr(api, method)("/team-members/01NOPE")
        assert status == 404 and err["error"]["code"] == "not_found"
    status, _, _ = api.patch("/team-members/01NOPE", {"name": "x"})
    assert status == 404
