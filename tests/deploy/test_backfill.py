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
