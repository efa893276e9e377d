"""Leads written before callers existed get the unassigned key, so a caller's list finds them
(chalicelib/store/tables.backfill_unassigned, run by `make dev` and the deploy)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.dynamo


def test_old_unassigned_leads_join_the_callers_list_once(api, make_lead, make_member):
    from chalicelib import providers
    from chalicelib.domain.actors import Actor
    from chalicelib.services import leads
    from chalicelib.store.tables import backfill_unassigned

    member = make_member()
    old = make_lead()
    theirs = make_lead(assignedToId=member["id"])
    archived = make_lead()
    api.delete(f"/leads/{archived['id']}")
    settings = providers.settings()
    client = providers.deps().store.client  # type: ignore[attr-defined]
    table = settings.table_name("leads")
    # as written before this change: no by-assignee key on a live unassigned lead
    client.update_item(
        TableName=table, Key={"id": {"S": old["id"]}}, UpdateExpression="REMOVE gsi_assignee"
    )
    caller = Actor("member", member["id"], "Sam", "caller")
    d = providers.deps()
    assert [x.id for x in leads.list_leads(d, None, None, 25, None, caller).items] == [theirs["id"]]

    assert backfill_unassigned(settings) == 1
    assert backfill_unassigned(settings) == 0
    listed = leads.list_leads(d, None, None, 25, None, caller).items
    assert [x.id for x in listed] == [theirs["id"], old["id"]]
    raw = client.get_item(TableName=table, Key={"id": {"S": archived["id"]}})["Item"]
    assert "gsi_assignee" not in raw  # archived leads stay out of every list


def test_lead_flags_from_before_the_ledger_become_suppressions_once(api, make_lead):
    """Leads whose doNotCall/smsOptOut were stored on the lead (before the ledger) become their
    numbers' suppressions; the flags are cleared so that a suppression lifted since is never
    brought back by a later run."""
    from chalicelib import providers
    from chalicelib.store.tables import backfill_suppressions

    dnc = make_lead(phone="+12125550101")
    opted = make_lead(phone="+12125550102")
    plain = make_lead(phone="+12125550103")
    settings = providers.settings()
    client = providers.deps().store.client  # type: ignore[attr-defined]
    table = settings.table_name("leads")
    for lead, field in ((dnc, "do_not_call"), (opted, "sms_opt_out")):
        client.update_item(
            TableName=table,
            Key={"id": {"S": lead["id"]}},
            UpdateExpression=f"SET {field} = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    # Before the backfill the API already shows the stored flag (and the check refuses).
    assert api.get(f"/leads/{dnc['id']}")[1]["doNotCall"] is True

    assert backfill_suppressions(settings) == 2
    assert backfill_suppressions(settings) == 0
    ledger = providers.deps().store.suppressions
    assert ledger.get(dnc["phone"]).voice_source == "lead_flag"
    assert ledger.get(dnc["phone"]).sms_source is None
    assert ledger.get(opted["phone"]).sms_source == "lead_flag"
    assert ledger.get(plain["phone"]) is None
    raw = client.get_item(TableName=table, Key={"id": {"S": dnc["id"]}})["Item"]
    assert raw["do_not_call"] == {"BOOL": False}
    after = api.get(f"/leads/{dnc['id']}")[1]
    assert after["doNotCall"] is True and after["smsOptOut"] is False
    _, audit, _ = api.get("/audit?action=suppression.added")
    assert len(audit["items"]) == 2


def test_leads_from_before_search_get_their_tokens_once(api, make_lead):
    """Leads written before the search index have no tokens: `backfill_search` (make dev and
    the deploy) writes them and stamps `search_version`; archived leads stay out."""
    from urllib.parse import quote

    from chalicelib import providers
    from chalicelib.store.tables import backfill_search

    old = make_lead(name="Greta Lindqvist", phone="+12125550601")
    edited = make_lead(name="Hugo Brandt", phone="+12125550602")
    archived = make_lead(name="Greta Archived", phone="+12125550603")
    api.delete(f"/leads/{archived['id']}")
    settings = providers.settings()
    client = providers.deps().store.client  # type: ignore[attr-defined]
    leads_table, index = settings.table_name("leads"), settings.table_name("lead-search")
    # as written before search: no tokens, no search_version
    for item in client.scan(TableName=index)["Items"]:
        client.delete_item(
            TableName=index, Key={"token": item["token"], "lead_id": item["lead_id"]}
        )
    for lead in (old, edited, archived):
        client.update_item(
            TableName=leads_table,
            Key={"id": {"S": lead["id"]}},
            UpdateExpression="REMOVE search_version, gsi_name, gsi_contacted",
        )

    def found(q: str) -> list[str]:
        return [x["id"] for x in api.get(f"/leads?q={quote(q)}")[1]["items"]]

    assert found("greta") == [] and found("0601") == []
    by_name = [x["id"] for x in api.get("/leads?sort=name")[1]["items"]]
    assert old["id"] not in by_name  # no sort key yet
    # an edit before the backfill writes every token of the lead, not only the changed ones
    api.patch(f"/leads/{edited['id']}", {"notes": "called back"})
    assert found("hugo") == [edited["id"]]

    assert backfill_search(settings) == 1  # the old lead; the edited one is stamped already
    assert backfill_search(settings) == 0
    assert found("greta") == [old["id"]] and found("0601") == [old["id"]]
    by_name = [x["id"] for x in api.get("/leads?sort=name")[1]["items"]]
    assert by_name == [old["id"], edited["id"]]  # Greta, Hugo: sorted again
    by_contact = [x["id"] for x in api.get("/leads?sort=lastContactedAt")[1]["items"]]
    assert sorted(by_contact) == sorted([old["id"], edited["id"]])
    raw = client.get_item(TableName=leads_table, Key={"id": {"S": archived["id"]}})["Item"]
    assert "search_version" not in raw  # archived: no tokens, nothing to stamp
