"""The repository code against AWS's own emulator: transactions, conditions, GSIs, batches."""

import pytest

from chalicelib import providers
from chalicelib.api.patch import patch_of
from chalicelib.api.schemas import LeadCreate, LeadUpdate, TeamMemberCreate, lead_row
from chalicelib.errors import Conflict
from chalicelib.services import lead_csv, leads, team
from chalicelib.store.tables import ensure_tables
from tests.helpers import funnel

pytestmark = pytest.mark.integration


def test_tables_are_created_once_and_ensure_is_idempotent(ddb_local):
    assert ensure_tables(providers.settings()) == []


def test_missing_index_is_added_to_an_existing_table(ddb_local):
    import boto3

    s = providers.settings()
    client = boto3.client("dynamodb", endpoint_url=ddb_local, region_name=s.region)
    client.delete_table(TableName=s.table_name("calls"))
    client.create_table(
        TableName=s.table_name("calls"),
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    changes = ensure_tables(s)
    assert len(changes) == 4 and all("added index" in c for c in changes)
    desc = client.describe_table(TableName=s.table_name("calls"))["Table"]
    assert {i["IndexName"] for i in desc["GlobalSecondaryIndexes"]} == {
        "by-day",
        "by-lead",
        "by-member",
        "by-sid",
    }


def new_member(body):
    return team.NewMember(**TeamMemberCreate.model_validate(body).model_dump())


def new_lead(body):
    return leads.NewLead(**LeadCreate.model_validate(body).model_dump())


def patch(body):
    return patch_of(LeadUpdate.model_validate(body))


def test_lead_lifecycle_on_dynamodb_local(ddb_local):
    deps = providers.deps()
    member, _ = team.create(deps, new_member({"name": "Ann", "phone": "4155550100"}))
    lead = leads.create(
        deps, new_lead({"name": "Jane", "phone": "(212) 555-0142", "assignedToId": member.id})
    )
    with pytest.raises(Conflict) as dup:
        leads.create(deps, new_lead({"name": "Copy", "phone": "2125550142"}))
    assert dup.value.details and dup.value.details["existingLeadId"] == lead.id
    updated = leads.update(deps, lead.id, patch({"status": "qualified", "version": 1}))
    assert updated.version == 2
    with pytest.raises(Conflict):
        leads.update(deps, lead.id, patch({"status": "converted", "version": 1}))
    assert [x.id for x in leads.list_leads(deps, "qualified", None, 10, None).items] == [lead.id]
    assert [x.id for x in leads.list_leads(deps, None, member.id, 10, None).items] == [lead.id]
    leads.archive(deps, lead.id)
    assert leads.list_leads(deps, None, None, 10, None).items == []
    # the phone guard outlives the archive: the number still finds its (archived) lead
    holder = deps.store.leads.id_by_phone("+12125550142")
    assert holder == lead.id and deps.store.leads.get(holder) is not None
    assert funnel() == {}


def test_csv_import_batches_on_dynamodb_local(ddb_local):
    rows = ["name,phone"] + [f"L{i},+1415{3000000 + i:07d}" for i in range(600)]
    rows += ["dup,+14153000000", "bad,xyz"]
    deps = providers.deps()
    data = ("\n".join(rows)).encode()
    # a budget of 0: one slice of 500 rows a call, the second going on from the first's nextRow
    first = lead_csv.import_csv(deps, data, 6 * 1024 * 1024, lead_row, budget_seconds=0)
    assert (first.created, first.next_row, first.total_rows) == (500, 502, 602)
    result = lead_csv.import_csv(
        deps, data, 6 * 1024 * 1024, lead_row, from_row=first.next_row, budget_seconds=0
    )
    assert result.next_row is None
    assert (result.created, result.duplicates, result.error_count) == (100, 1, 1)
    seen, cursor = 0, None
    while True:
        page = leads.list_leads(deps, None, None, 100, cursor)
        seen += len(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == 600
    assert funnel() == {"status#new": 600, "total": 600}


def test_two_imports_of_the_same_numbers_and_post_leads_at_once_make_one_lead_each(ddb_local):
    """Issue 14 item 6: two imports of the same 300 numbers and POST /leads for some of them,
    all at once, on DynamoDB Local: 300 leads, one per number, the funnel counting 300."""
    import threading

    numbers = [f"+1415{4000000 + i:07d}" for i in range(300)]
    data = ("\n".join(["name,phone"] + [f"L{i},{n}" for i, n in enumerate(numbers)])).encode()
    deps = providers.deps()
    results: list[object] = []
    start = threading.Barrier(3)

    def importer() -> None:
        start.wait()
        # no time budget: each import is one call (300 rows are one slice anyway)
        results.append(
            lead_csv.import_csv(deps, data, 6 * 1024 * 1024, lead_row, budget_seconds=float("inf"))
        )

    def creator() -> None:
        start.wait()
        for n in numbers[::7]:
            try:
                leads.create(deps, leads.NewLead(name="By hand", phone=n))
                results.append("created")
            except Conflict:
                results.append("conflict")

    threads = [threading.Thread(target=f) for f in (importer, importer, creator)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holders = {n: deps.store.leads.id_by_phone(n, consistent=True) for n in numbers}
    assert all(holders.values())
    live: list[str] = []
    cursor = None
    while True:
        page = leads.list_leads(deps, None, None, 100, cursor)
        live += [lead.phone for lead in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(live) == sorted(numbers)  # 300 leads: no number twice, none lost
    imported = [r for r in results if not isinstance(r, str)]
    by_hand = results.count("created")
    assert sum(r.created for r in imported) + by_hand == 300  # type: ignore[attr-defined]
    assert funnel() == {"status#new": 300, "total": 300}
