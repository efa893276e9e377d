"""`GET /leads?q=`: search over the token index, kept in step with every lead write, and the
sorts and filters of the list (API.md, "Working the lists every day"). On DynamoDB (moto):
the index is a table and the sorts are GSIs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.dynamo


def ids(page: dict[str, Any]) -> list[str]:
    return [x["id"] for x in page["items"]]


def search(api: Any, q: str, extra: str = "") -> list[str]:
    from urllib.parse import quote

    status, page, _ = api.get(f"/leads?q={quote(q)}{extra}")
    assert status == 200, page
    return ids(page)


def all_pages(api: Any, path: str, limit: int = 2) -> list[str]:
    sep = "&" if "?" in path else "?"
    status, page, _ = api.get(f"{path}{sep}limit={limit}")
    assert status == 200, page
    seen = ids(page)
    while page["nextCursor"]:
        status, page, _ = api.get(f"{path}{sep}limit={limit}&cursor={page['nextCursor']}")
        assert status == 200, page
        seen += ids(page)
    return seen


def test_search_by_name_company_email_and_phone_digits(api, make_lead):
    jose = make_lead(name="José Núñez", phone="+14155550142", company="Ünited Widgets")
    ann = make_lead(name="Ann Lee", phone="+12125559876", email="a.lee@example.com")
    make_lead(name="Bob Stone", phone="+13125551111", company="Acme")
    assert search(api, "jos") == [jose["id"]]
    assert search(api, "NUNEZ") == [jose["id"]]  # accents and case folded
    assert search(api, "jo nu") == [jose["id"]]  # every word a prefix
    assert search(api, "united") == [jose["id"]]
    assert search(api, "widg jose") == [jose["id"]]
    assert search(api, "a.lee@example.com") == [ann["id"]]
    assert search(api, "lee@exa") == [ann["id"]]
    assert search(api, "0142") == [jose["id"]]  # the last four digits
    assert search(api, "5559") == [ann["id"]]  # any four
    assert search(api, "(212) 555-9876") == [ann["id"]]  # any format
    assert search(api, "+1 212 555 9876") == [ann["id"]]
    assert sorted(search(api, "555")) == []  # three digits: a word, no name starts with it
    assert search(api, "jose lee") == []
    assert search(api, "zzz") == []


def test_search_combines_with_status_and_assignee_and_pages(api, make_lead, make_member):
    member = make_member()
    made = [make_lead(name=f"Maria Garcia {i}") for i in range(5)]
    make_lead(name="Mario Other")
    api.patch(f"/leads/{made[1]['id']}", {"status": "qualified"})
    api.patch(f"/leads/{made[3]['id']}", {"assignedToId": member["id"]})
    newest_first = [x["id"] for x in made[::-1]]
    assert all_pages(api, "/leads?q=garcia") == newest_first
    assert all_pages(api, "/leads?q=mari%20garc", limit=1) == newest_first
    assert search(api, "garcia", "&status=qualified") == [made[1]["id"]]
    assert search(api, "garcia", f"&assignedToId={member['id']}") == [made[3]["id"]]
    assert search(api, "mari") == [x["id"] for x in api.get("/leads")[1]["items"]]


def test_a_caller_finds_only_their_leads_and_unassigned_ones(api, make_lead, make_member):
    from chalicelib import providers
    from chalicelib.domain.actors import Actor
    from chalicelib.services import leads

    me, other = make_member(), make_member()
    mine = make_lead(name="Kim Park", assignedToId=me["id"])
    free = make_lead(name="Kim Lee")
    make_lead(name="Kim Choi", assignedToId=other["id"])
    caller = Actor("member", me["id"], "Sam", "caller")
    opts = leads.ListOptions(q="kim")
    page = leads.list_leads(providers.deps(), None, None, 25, None, caller, opts)
    assert [x.id for x in page.items] == [free["id"], mine["id"]]


def test_the_index_follows_edits_archives_restores_and_imports(api, make_lead):
    lead = make_lead(name="Olga Petrova", phone="+14155550177", company="Northwind")
    assert search(api, "olga") == [lead["id"]]
    status, _, _ = api.patch(
        f"/leads/{lead['id']}",
        {"name": "Helga Smirnova", "phone": "+14155550299", "company": None},
    )
    assert status == 200
    assert search(api, "olga") == [] and search(api, "petrova") == []
    assert search(api, "0177") == [] and search(api, "northwind") == []
    assert search(api, "helga smir") == [lead["id"]] and search(api, "0299") == [lead["id"]]
    assert stored_tokens(lead["id"]) == expected_tokens(lead["id"])  # none left behind

    api.delete(f"/leads/{lead['id']}")
    assert search(api, "helga") == [] and stored_tokens(lead["id"]) == set()
    status, _, _ = api.post(f"/leads/{lead['id']}/restore")
    assert status == 200
    assert search(api, "helga") == [lead["id"]]
    assert stored_tokens(lead["id"]) == expected_tokens(lead["id"])

    csv = "name,phone,company\nPriya Raman,+13125550123,Globex\nLi Wei,+13125550124,\n"
    status, report, _ = api.request(
        "POST", "/leads/import", raw=csv, headers={"Content-Type": "text/csv"}
    )
    assert status == 200 and report["created"] == 2, report
    assert len(search(api, "priya glob")) == 1 and len(search(api, "li")) == 1
    assert len(search(api, "0124")) == 1


def stored_tokens(lead_id: str) -> set[str]:
    from chalicelib.providers import deps

    client = deps().store.client  # type: ignore[attr-defined]
    table = deps().settings.table_name("lead-search")
    items = client.scan(TableName=table)["Items"]  # a test's look at the whole index
    return {i["token"]["S"] for i in items if i["lead_id"]["S"] == lead_id}


def expected_tokens(lead_id: str) -> set[str]:
    from chalicelib.domain import search as rules
    from chalicelib.providers import deps

    lead = deps().store.leads.get(lead_id, consistent=True)
    return set(rules.tokens(lead))


def test_a_bad_query_or_parameter_is_a_400(api, make_lead):
    make_lead()
    for path, field in [
        ("/leads?q=a", "q"),
        (f"/leads?q={'x' * 201}", "q"),
        ("/leads?sort=phone", "sort"),
        ("/leads?order=up", "order"),
        ("/leads?neverCalled=maybe", "neverCalled"),
        ("/leads?optedOut=2", "optedOut"),
        (f"/leads?campaignId={'c' * 65}", "campaignId"),
        ("/leads?q=jane&cursor=nope", "cursor"),
        ("/leads?sort=name&cursor=nope", "cursor"),
    ]:
        status, err, _ = api.get(path)
        assert status == 400, path
        assert err["error"]["code"] == "validation_error"
        assert err["error"]["details"]["field"] == field, path


def test_sort_by_name_created_and_last_contact(api, make_lead, clock):
    from chalicelib import providers
    from chalicelib.services import leads

    c = make_lead(name="Émile Zola")
    a = make_lead(name="adam Smith")
    b = make_lead(name="Bea Arthur")
    d = make_lead(name="Carl Dunn")
    names = [a["id"], b["id"], d["id"], c["id"]]
    assert all_pages(api, "/leads?sort=name") == names  # case and accents folded
    assert all_pages(api, "/leads?sort=name&order=desc") == names[::-1]
    created = [c["id"], a["id"], b["id"], d["id"]]
    assert all_pages(api, "/leads?sort=createdAt&order=asc") == created
    assert all_pages(api, "/leads?sort=createdAt") == created[::-1]
    deps = providers.deps()
    now = clock.now()
    leads.mark_contacted(deps, b["id"], now - timedelta(hours=2))
    leads.mark_contacted(deps, a["id"], now - timedelta(hours=1))
    # contacted first, latest first; never contacted after them, newest first
    assert all_pages(api, "/leads?sort=lastContactedAt") == [a["id"], b["id"], d["id"], c["id"]]
    asc = all_pages(api, "/leads?sort=lastContactedAt&order=asc")
    assert asc == [c["id"], d["id"], b["id"], a["id"]]
    status, _, _ = api.delete(f"/leads/{a['id']}")
    assert status == 200
    assert a["id"] not in all_pages(api, "/leads?sort=lastContactedAt")  # live leads only
    assert a["id"] not in all_pages(api, "/leads?sort=name")


def test_filters_source_never_called_opted_out_and_campaign(api, make_lead, make_member, clock):
    from chalicelib import providers
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import campaigns, leads, suppressions

    member = make_member()
    manual = make_lead(name="Manual One")
    called = make_lead(name="Called Two", assignedToId=member["id"])
    stopped = make_lead(name="Stopped Three")
    in_campaign = make_lead(name="Campaign Four")
    csv = "name,phone\nImported Five,+13125550155\n"
    api.request("POST", "/leads/import", raw=csv, headers={"Content-Type": "text/csv"})
    imported = api.get("/leads?source=csv_import")[1]["items"]
    assert [x["name"] for x in imported] == ["Imported Five"]
    deps = providers.deps()
    leads.mark_contacted(deps, called["id"], clock.now())
    suppressions.add(deps, SYSTEM, stopped["phone"], ["sms"], source="manual", reason="asked")
    campaign = campaigns.create(deps, SYSTEM, {"name": "Spring"})
    campaigns.add_leads_by_id(deps, SYSTEM, campaign.id, [in_campaign["id"], manual["id"]])

    never = all_pages(api, "/leads?neverCalled=true")
    assert called["id"] not in never and len(never) == 4
    assert all_pages(api, "/leads?neverCalled=true&source=manual&status=new") == [
        in_campaign["id"],
        stopped["id"],
        manual["id"],
    ]
    assert all_pages(api, f"/leads?neverCalled=true&assignedToId={member['id']}") == []
    assert all_pages(api, "/leads?neverCalled=true&sort=name") == sorted(
        never, key=lambda i: api.get(f"/leads/{i}")[1]["name"].lower()
    )
    _, page, _ = api.get("/leads?optedOut=true")
    assert ids(page) == [stopped["id"]] and page["items"][0]["smsOptOut"] is True
    assert all_pages(api, "/leads?optedOut=true&status=qualified") == []
    assert search(api, "stopped", "&optedOut=true") == [stopped["id"]]
    assert search(api, "manual", "&optedOut=true") == []
    assert all_pages(api, f"/leads?campaignId={campaign.id}") == [in_campaign["id"], manual["id"]]
    assert all_pages(api, f"/leads?campaignId={campaign.id}&q=camp") == [in_campaign["id"]]
    api.delete(f"/leads/{manual['id']}")
    assert all_pages(api, f"/leads?campaignId={campaign.id}") == [in_campaign["id"]]


def test_total_with_the_first_page_when_the_funnel_knows_it(api, make_lead, make_member):
    member = make_member()
    for i in range(3):
        make_lead(assignedToId=member["id"] if i == 0 else None)
    gone = make_lead()
    api.delete(f"/leads/{gone['id']}")
    qualified = make_lead()
    api.patch(f"/leads/{qualified['id']}", {"status": "qualified"})
    _, page, _ = api.get("/leads?limit=2")
    assert page["total"] == 4
    _, nxt, _ = api.get(f"/leads?limit=2&cursor={page['nextCursor']}")
    assert nxt["total"] is None  # the first page only
    assert api.get("/leads?status=qualified")[1]["total"] == 1
    assert api.get("/leads?sort=name")[1]["total"] == 4
    assert api.get(f"/leads?assignedToId={member['id']}")[1]["total"] is None
    assert api.get("/leads?q=jane")[1]["total"] is None
    assert api.get("/leads?neverCalled=true")[1]["total"] is None


def test_a_search_is_a_query_a_term_and_one_read_of_the_leads(api, make_lead, ddb_requests):
    for i in range(5):
        make_lead(name=f"Nadia Kowalski {i}")
    make_lead(name="Nadia Other")
    ddb_requests.reset()
    _, page, _ = api.get("/leads?q=kowal&limit=3")
    assert len(page["items"]) == 3 and page["nextCursor"]
    # the token's partition (keys only), the leads (consistent), the page's flags
    assert dict(ddb_requests.calls) == {"Query": 1, "BatchGetItem": 2}
    ddb_requests.reset()
    _, page, _ = api.get("/leads?q=nadia%20kowal&limit=3")
    assert len(page["items"]) == 3 and page["nextCursor"]
    # two terms: two partitions read and intersected before any lead is read
    assert dict(ddb_requests.calls) == {"Query": 2, "BatchGetItem": 2}
    ddb_requests.reset()
    status, _, _ = api.post("/leads", {"name": "Nadia Nowak", "phone": "+12125550999"})
    assert status == 201
    # still one transaction: the lead, its guard, its funnel count and its tokens
    assert dict(ddb_requests.calls) == {"TransactWriteItems": 1, "GetItem": 1}


def test_a_callers_sorted_and_filtered_lists_hold_only_what_they_may_see(
    api, make_lead, make_member, clock
):
    from chalicelib import providers
    from chalicelib.domain.actors import Actor
    from chalicelib.services import leads

    me, other = make_member(), make_member()
    mine = make_lead(name="Yara Mine", assignedToId=me["id"])
    free = make_lead(name="Abe Free")
    make_lead(name="Bo Theirs", assignedToId=other["id"])
    deps = providers.deps()
    leads.mark_contacted(deps, mine["id"], clock.now())
    caller = Actor("member", me["id"], "Sam", "caller")

    def listed(**options):
        opts = leads.ListOptions(**options)
        page = leads.list_leads(deps, None, None, 25, None, caller, opts)
        return [x.id for x in page.items]

    assert listed(sort="name", descending=False) == [free["id"], mine["id"]]
    assert listed(sort="lastContactedAt") == [mine["id"], free["id"]]
    assert listed(never_called=True) == [free["id"]]
    assert listed(source="manual", descending=False) == [mine["id"], free["id"]]
    assert leads.total(deps, None, None, caller, leads.ListOptions()) is None  # not the funnel's
