"""Table definitions derived from the PynamoDB models (the one source of truth, also used by
`infra/` to generate CloudFormation), and an idempotent create-or-update of every table."""

from __future__ import annotations

import inspect
import time
from typing import Any

from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.store.models import ALL_MODELS


def _key_schema(attributes: dict[str, Any]) -> list[dict[str, str]]:
    """HASH before RANGE, as DynamoDB requires."""
    keys = [(a.attr_name, "HASH") for a in attributes.values() if a.is_hash_key]
    keys += [(a.attr_name, "RANGE") for a in attributes.values() if a.is_range_key]
    return [{"AttributeName": name, "KeyType": kind} for name, kind in keys]


def _projection(index: GlobalSecondaryIndex[Any]) -> dict[str, Any]:
    projection = index.Meta.projection
    out: dict[str, Any] = {"ProjectionType": projection.projection_type}
    if getattr(projection, "non_key_attributes", None):
        out["NonKeyAttributes"] = list(projection.non_key_attributes)
    return out


def table_definition(model: type[Model], settings: Settings) -> dict[str, Any]:
    """The CreateTable request for a model, on-demand billing, GSIs with their projections
    (read from the model's attributes and indexes through PynamoDB's public API)."""
    attr_defs: dict[str, str] = {}
    key_schema = _key_schema(model.get_attributes())
    for attr in model.get_attributes().values():
        if attr.is_hash_key or attr.is_range_key:
            attr_defs[attr.attr_name] = attr.attr_type
    indexes = [
        index
        for _, index in inspect.getmembers(model, lambda o: isinstance(o, GlobalSecondaryIndex))
    ]
    gsis = []
    for index in sorted(indexes, key=lambda i: i.Meta.index_name):
        attributes = index.Meta.attributes
        for attr in attributes.values():
            if attr.is_hash_key or attr.is_range_key:
                attr_defs[attr.attr_name] = attr.attr_type
        gsis.append(
            {
                "IndexName": index.Meta.index_name,
                "KeySchema": _key_schema(attributes),
                "Projection": _projection(index),
            }
        )
    definition: dict[str, Any] = {
        "TableName": settings.table_name(model.Meta.entity),  # type: ignore[attr-defined]
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": k, "AttributeType": v} for k, v in sorted(attr_defs.items())
        ],
    }
    if gsis:
        definition["GlobalSecondaryIndexes"] = gsis
    return definition


def all_table_definitions(settings: Settings) -> list[dict[str, Any]]:
    return [table_definition(m, settings) for m in ALL_MODELS]


def _client(settings: Settings) -> Any:
    import boto3

    return boto3.client(
        "dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint
    )


def _wait_active(client: Any, name: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = client.describe_table(TableName=name)["Table"]
        indexes = desc.get("GlobalSecondaryIndexes", [])
        if desc["TableStatus"] == "ACTIVE" and all(
            i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
        ):
            return
        time.sleep(0.5)
    raise TimeoutError(f"table {name} did not become ACTIVE")


def ensure_tables(settings: Settings, log: Any = None) -> list[str]:
    """Create every missing table and add every missing GSI. Safe to run any number of times.

    Returns a list of the changes made (empty when everything was already in place).
    """
    client = _client(settings)
    changes: list[str] = []
    existing: set[str] = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    for definition in all_table_definitions(settings):
        name = definition["TableName"]
        if name not in existing:
            created = client.create_table(**definition)["TableDescription"]
            if created.get("TableStatus") != "ACTIVE":  # AWS: CREATING for a few seconds
                _wait_active(client, name)
            changes.append(f"created {name}")
            continue
        desc = client.describe_table(TableName=name)["Table"]
        have = {i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", [])}
        for gsi in definition.get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] in have:
                continue
            # DynamoDB accepts one new GSI per UpdateTable; wait for each to build.
            key_attrs = {k["AttributeName"] for k in gsi["KeySchema"]}
            client.update_table(
                TableName=name,
                AttributeDefinitions=[
                    d for d in definition["AttributeDefinitions"] if d["AttributeName"] in key_attrs
                ],
                GlobalSecondaryIndexUpdates=[{"Create": gsi}],
            )
            _wait_active(client, name)
            changes.append(f"added index {gsi['IndexName']} to {name}")
    if log is not None:
        for change in changes:
            log(change)
    return changes


def backfill_unassigned(settings: Settings) -> int:
    """Data written before callers existed: a live unassigned lead had no by-assignee key, so a
    caller's list (their leads and the unassigned ones) would miss it. Give every such lead the
    unassigned key (`UNASSIGNED_KEY`). One paged Scan, filtered to the leads that need it, and a
    conditional update each (a lead assigned or archived meanwhile is left alone). Safe to run
    any number of times; returns how many leads it changed."""
    from botocore.exceptions import ClientError

    from chalicelib.store.models import UNASSIGNED_KEY

    client = _client(settings)
    table = settings.table_name("leads")
    missing = (
        "attribute_exists(gsi_all) AND attribute_not_exists(gsi_assignee) "
        "AND attribute_not_exists(assigned_to_id)"
    )
    changed = 0
    pages = client.get_paginator("scan").paginate(
        TableName=table, FilterExpression=missing, ProjectionExpression="id"
    )
    try:
        scanned = list(pages)
    except client.exceptions.ResourceNotFoundException:
        return 0  # no leads table yet: nothing was written before
    for page in scanned:
        for item in page.get("Items", []):
            try:
                client.update_item(
                    TableName=table,
                    Key={"id": item["id"]},
                    UpdateExpression="SET gsi_assignee = :u",
                    ConditionExpression=missing,
                    ExpressionAttributeValues={":u": {"S": UNASSIGNED_KEY}},
                )
                changed += 1
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
    return changed


def backfill_suppressions(settings: Settings) -> int:
    """Data written before the suppression ledger: `do_not_call`/`sms_opt_out` were flags on
    the lead, and the ledger is now their truth. Each lead with a flag set becomes its
    number's suppression (source `lead_flag`, by the system, audited as every addition is),
    then its flags are cleared, so a later run (or a suppression an admin lifts since) is never
    brought back. One paged Scan, filtered to the flagged leads. Safe to run any number of
    times; returns how many leads it moved."""
    from botocore.exceptions import ClientError

    from chalicelib.clock import SystemClock
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.domain.suppressions import Channel
    from chalicelib.services import suppressions
    from chalicelib.services.deps import Deps
    from chalicelib.store.dynamo import DynamoStore

    client = _client(settings)
    table = settings.table_name("leads")
    flagged = "sms_opt_out = :t OR do_not_call = :t"
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression=flagged,
        ProjectionExpression="id, phone, sms_opt_out, do_not_call",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    try:
        scanned = list(pages)
    except client.exceptions.ResourceNotFoundException:
        return 0  # no leads table yet: nothing was written before

    def no_telephony() -> Any:
        raise RuntimeError("the backfill places no calls")

    deps = Deps(settings, DynamoStore(settings), SystemClock(), no_telephony)
    moved = 0
    for page in scanned:
        for item in page.get("Items", []):
            channels: list[Channel] = []
            if item.get("do_not_call", {}).get("BOOL"):
                channels.append("voice")
            if item.get("sms_opt_out", {}).get("BOOL"):
                channels.append("sms")
            suppressions.add(
                deps,
                SYSTEM,
                item["phone"]["S"],
                channels,
                source="lead_flag",
                reason="flag on the lead before the suppression ledger",
            )
            try:
                client.update_item(
                    TableName=table,
                    Key={"id": item["id"]},
                    UpdateExpression="SET sms_opt_out = :f, do_not_call = :f",
                    ConditionExpression=flagged,
                    ExpressionAttributeValues={":t": {"BOOL": True}, ":f": {"BOOL": False}},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
            moved += 1
    return moved


def backfill_search(settings: Settings) -> int:
    """Leads written before search (or under an older SEARCH_VERSION) have no tokens in the
    index, nor the sort keys of the by-name and by-contact indexes: write each live one's
    tokens, its sort keys and its `search_version`, in one transaction on
    the condition that the lead is still the version read (a lead edited meanwhile got its
    tokens from that edit; an archived one needs none). One paged Scan, filtered to the leads
    that need it, and transactions eight at a time. Safe to run any number of times; returns
    how many leads it indexed."""
    from botocore.exceptions import ClientError

    from chalicelib.domain.records import Lead
    from chalicelib.domain.search import SEARCH_VERSION
    from chalicelib.services import search
    from chalicelib.store.base import ABSENT, Eq, Op, Update
    from chalicelib.store.dynamo import DynamoStore
    from chalicelib.store.models import contacted_key, name_key

    client = _client(settings)
    table = settings.table_name("leads")
    stale = (
        "attribute_exists(gsi_all) "
        "AND (attribute_not_exists(search_version) OR search_version < :v)"
    )
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression=stale,
        ProjectionExpression="id",
        ExpressionAttributeValues={":v": {"N": str(SEARCH_VERSION)}},
    )
    try:
        ids = [item["id"]["S"] for page in pages for item in page.get("Items", [])]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return 0  # no leads table yet: nothing was written before
        raise
    store = DynamoStore(settings)
    done = 0
    for start in range(0, len(ids), 100):
        found = store.leads.get_many(ids[start : start + 100], consistent=True)
        batches: list[list[Op]] = []
        for lead in found.values():
            if lead.archived_at is not None:
                continue
            ops: list[Op] = search.all_token_ops(lead)
            # the sort keys of by-name and by-contact (leads from before them have none), on
            # the condition that neither the lead nor its contact time moved since it was read
            contacted = lead.last_contacted_at
            stamp = Update(
                "lead",
                Lead,
                lead.id,
                {
                    "search_version": SEARCH_VERSION,
                    "gsi_name": name_key(lead.name),
                    "gsi_contacted": contacted_key(lead.id, contacted),
                },
                when={
                    "version": Eq(lead.version),
                    "last_contacted_at": ABSENT if contacted is None else Eq(contacted),
                },
            )
            batches.append([stamp, *ops])
        outcomes = store.transact_each(batches)
        done += sum(1 for failure in outcomes if failure is None)
    return done
