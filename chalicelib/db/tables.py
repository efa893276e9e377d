"""Table definitions derived from the PynamoDB models (the one source of truth, also used by
`infra/` to generate CloudFormation), and an idempotent create-or-update of every table."""

from __future__ import annotations

import time
from typing import Any

from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.db.models import ALL_MODELS


def _ordered(key_schema: Any) -> list[dict[str, str]]:
    """HASH before RANGE, as DynamoDB requires."""
    return sorted(key_schema, key=lambda k: 0 if k["KeyType"] == "HASH" else 1)


def table_definition(model: type[Model], settings: Settings) -> dict[str, Any]:
    """The CreateTable request for a model, on-demand billing, GSIs with their projections."""
    schema = model._get_schema()
    attr_defs: dict[str, str] = {}
    for d in schema["attribute_definitions"]:
        attr_defs[d["AttributeName"]] = d["AttributeType"]
    gsis = []
    for index in sorted(schema["global_secondary_indexes"], key=lambda i: i["index_name"]):
        for d in index["attribute_definitions"]:
            attr_defs[d["AttributeName"]] = d["AttributeType"]
        gsis.append(
            {
                "IndexName": index["index_name"],
                "KeySchema": _ordered(index["key_schema"]),
                "Projection": index["projection"],
            }
        )
    definition: dict[str, Any] = {
        "TableName": settings.table_name(model.Meta.entity),  # type: ignore[attr-defined]
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _ordered(schema["key_schema"]),
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
