"""Hostile input on every JSON route and every webhook: random and malformed JSON, wrong types,
huge and Unicode strings, missing fields, forged and replayed signatures. Whatever comes in:
never a 500, never a stack trace, always the error shape, and no record changed by a request
that was refused.

"No record changed" is checked on every table's stored items without scanning them all around
every example: DynamoDB items change only through a successful write request, and every
request goes through botocore's client, so `Tables` watches the write requests that succeed
and scans again only the tables they wrote to (none, for a refused request that wrote
nothing, which is most of them)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SIM_TOKEN, post_webhook
from tests.helpers import dynamo

# The check that a refused request changed nothing watches DynamoDB writes: moto, not memory.
pytestmark = pytest.mark.dynamo

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.text(min_size=300, max_size=2000),
    st.sampled_from(["", " ", "+14155550100", "(415) 555-0100", "\u0000", "🙂" * 10, "null"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "name",
    "phone",
    "email",
    "company",
    "notes",
    "status",
    "assignedToId",
    "role",
    "active",
    "version",
    "leadId",
    "teamMemberId",
    "callerId",
    "disposition",
    "doNotCall",
    "smsOptOut",
    "body",
    "from",
    "memberIds",
    "maxAttempts",
    "amd",
    "voicemailMessage",
    "leadIds",
    "filter",
    "at",
    "note",
]
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
)
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.just(b"{" * 5000),
)


# Requests that write nothing; any other DynamoDB request is taken to write (below, the tables
# its parameters name, or every table when they name none).
READS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable", "ListTables"}
)


def written_tables(operation: str, params: dict[str, Any]) -> set[str] | None:
    """The tables a write request names (None: it names none this knows how to read)."""
    if "TableName" in params:
        return {params["TableName"]}
    if operation == "BatchWriteItem":
        return set(params["RequestItems"])
    if operation == "TransactWriteItems":
        return {
            entry[kind]["TableName"]
            for entry in params["TransactItems"]
            for kind in ("Put", "Update", "Delete")
            if kind in entry
        }
    return None


class Tables:
    """Every table's stored items (the raw items, counters included), kept up to date by
    scanning a table again only after a successful write request named it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from botocore.client import BaseClient

        store = dynamo()
        self.client = store.client
        models = store.tables.m
        self.names = sorted(
            str(getattr(models, f.name).Meta.table_name) for f in dataclasses.fields(models)
        )
        self.items = {name: self.scan(name) for name in self.names}
        self.touched: set[str] = set()
        original = BaseClient._make_api_call
        tables = self

        def watching(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = original(client, operation, params)  # a refused write raises here
            if client.meta.service_model.service_name == "dynamodb" and operation not in READS:
                named = written_tables(operation, params)
                tables.touched |= set(tables.names) if named is None else named
            return response

        monkeypatch.setattr(BaseClient, "_make_api_call", watching)

    def scan(self, name: str) -> list[str]:
        rows: list[str] = []
        request: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
        while True:
            resp = self.client.scan(**request)
            rows += (json.dumps(item, sort_keys=True) for item in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return sorted(rows)
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def changes(self) -> dict[str, tuple[list[str], list[str]]]:
        """The tables whose items changed since the last call, with their items before and
        after (an empty dict: nothing changed)."""
        touched, self.touched = self.touched & set(self.names), set()
        changed = {}
        for name in sorted(touched):
            now = self.scan(name)
            if now != self.items[name]:
                changed[name] = (self.items[name], now)
                self.items[name] = now
        return changed


@pytest.fixture
def stored(world, monkeypatch) -> Iterator[Tables]:
    """The tables' items once the world is made, then watched."""
    yield Tables(monkeypatch)


def check_shape(status: int, body: Any) -> None:
    assert status < 500, body
    if status >= 400:
        assert isinstance(body, dict) and set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
        assert "Traceback" not in json.dumps(body)


@pytest.fixture
def world(api, telephony, clock, make_member, make_lead):
    member = make_member()
    lead = make_lead()
    _, call, _ = api.post(
        "/calls", {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+15005550006"}
    )
    _, message, _ = api.post(
        "/messages", {"leadId": lead["id"], "body": "hi", "from": "+15005550006"}
    )
    _, campaign, _ = api.post("/campaigns", {"name": "Fuzz", "memberIds": [member["id"]]})
    return {"member": member, "lead": lead, "call": call, "message": message, "campaign": campaign}


JSON_ROUTES = [
    ("POST", "/team-members"),
    ("PATCH", "/team-members/{member}"),
    ("POST", "/leads"),
    ("PATCH", "/leads/{lead}"),
    ("POST", "/calls"),
    ("PATCH", "/calls/{call}"),
    ("POST", "/messages"),
    ("PUT", "/compliance/rules"),
    ("POST", "/suppressions"),
    ("POST", "/campaigns"),
    ("PATCH", "/campaigns/{campaign}"),
    ("POST", "/campaigns/{campaign}/leads"),
    ("POST", "/leads/{lead}/callbacks"),
]


def path_for(template: str, world: dict[str, Any]) -> str:
    return template.format(
        member=world["member"]["id"],
        lead=world["lead"]["id"],
        call=world["call"]["id"],
        message=world["message"]["id"],
        campaign=world["campaign"]["id"],
    )


def test_the_table_check_sees_what_a_request_writes(api, world, stored):
    """The check is not vacuous: a request that writes is seen, on the tables it wrote, with
    the new items; a refused one writes nothing; a write behind the API's back is seen too."""
    from chalicelib.domain.records import MessageSid
    from chalicelib.store.base import Put

    status, lead, _ = api.post("/leads", {"name": "Seen", "phone": "+12125550199"})
    assert status == 201, lead
    changed = stored.changes()
    lead_table, guard_table = (
        str(m.Meta.table_name) for m in (dynamo().tables.m.Lead, dynamo().tables.m.LeadPhone)
    )
    assert {lead_table, guard_table} <= set(changed)
    before, after = changed[lead_table]
    assert len(after) == len(before) + 1 and lead["id"] in "".join(after)
    status, data, _ = api.post("/leads", {"name": "Copy", "phone": "+12125550199"})
    assert status == 409, data
    assert stored.changes() == {}
    dynamo().write(Put("sid", MessageSid("SMseen", "nothing")))
    assert list(stored.changes()) == [str(dynamo().tables.m.MessageSid.Meta.table_name)]


@pytest.mark.parametrize("method, template", JSON_ROUTES)
def test_random_json_bodies(api, world, stored, method, template):
    path = path_for(template, world)

    @FUZZ
    @given(body=bodies)
    def run(body: Any) -> None:
        status, data, _ = api.request(method, path, body)
        check_shape(status, data)
        changed = stored.changes()  # and so the next example starts from what is stored now
        if status >= 400:
            assert changed == {}

    run()


@pytest.mark.parametrize(
    "method, template",
    [*JSON_ROUTES, ("POST", "/leads/import"), ("POST", "/suppressions/import")],
)
def test_raw_garbage_bodies(api, world, method, template):
    path = path_for(template, world)
    ctype = "text/csv" if template.endswith("import") else "application/json"

    @FUZZ
    @given(raw=raw_bodies)
    def run(raw: bytes) -> None:
        status, data, _ = api.request(method, path, raw=raw, headers={"Content-Type": ctype})
        check_shape(status, data)

    run()


@pytest.mark.parametrize(
    "template",
    [
        *("/leads", "/team-members", "/calls", "/leads/{lead}", "/calls/{call}", "/messages"),
        "/suppressions",
        *("/campaigns", "/campaigns/{campaign}/leads", "/callbacks"),
    ],
)
def test_random_query_strings_and_ids(api, world, template):
    path = path_for(template, world)

    @FUZZ
    @given(
        params=st.dictionaries(
            st.sampled_from(
                [
                    "limit",
                    "cursor",
                    "status",
                    "assignedToId",
                    "leadId",
                    "teamMemberId",
                    "active",
                    "phone",
                    "state",
                    "due",
                    "x",
                ]
            ),
            st.text(max_size=60),
            max_size=4,
        )
    )
    def run(params: dict[str, str]) -> None:
        status, data, _ = api.get(path + ("?" + urlencode(params) if params else ""))
        check_shape(status, data)

    run()


dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=40),
    st.sampled_from(["2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "2026-11-23T00:00"]),
)


def test_stats_query_strings(api, world):
    """Random, reversed, impossible and far-apart dates: 200 with the shape, or a 400."""

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(["from", "to", "x"]), dates, max_size=3))
    def run(params: dict[str, str]) -> None:
        query = "?" + urlencode(params) if params else ""
        status, data, _ = api.get("/dashboard/stats" + query)
        check_shape(status, data)
        assert status in (200, 400), data
        if status == 200:
            assert len(data["daily"]) <= 366 and data["from"] <= data["to"]

    run()


WEBHOOKS = [
    "/twilio/voice/connect/{call}",
    "/twilio/voice/status/{call}",
    "/twilio/voice/lead-status/{call}",
    "/twilio/sms/status/{message}",
    "/twilio/sms/incoming",
]
form_values = st.dictionaries(
    st.sampled_from(
        [
            "CallStatus",
            "CallDuration",
            "Digits",
            "DialCallStatus",
            "DialCallDuration",
            "CallSid",
            "Junk",
        ]
    ),
    st.one_of(
        st.sampled_from(["completed", "ringing", "in-progress", "busy", "1", "", "-5", "9" * 30]),
        st.text(max_size=40),
    ),
    max_size=5,
)


@pytest.mark.parametrize("template", WEBHOOKS)
def test_forged_or_replayed_webhooks_are_refused_and_change_nothing(api, world, stored, template):
    path = path_for(template, world)
    other = path_for("/twilio/voice/status/{member}", world)

    @FUZZ
    @given(params=form_values, how=st.sampled_from(["none", "wrong-token", "other-url", "garbage"]))
    def run(params: dict[str, str], how: str) -> None:
        if how == "none":
            status, data, _ = post_webhook(api, path, params, sign=False)
        elif how == "wrong-token":
            status, data, _ = post_webhook(api, path, params, token="guess")
        elif how == "other-url":
            from chalicelib.telephony.signature import sign

            sig = sign(SIM_TOKEN, "https://api.example.test/api" + other, params)
            status, data, _ = api.request(
                "POST",
                path,
                raw=urlencode(params),
                token=None,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": sig,
                },
            )
        else:
            status, data, _ = api.request(
                "POST",
                path,
                raw=urlencode(params),
                token=None,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": "x" * 28,
                },
            )
        assert status == 403, data
        check_shape(status, data)
        assert stored.changes() == {}

    run()


@pytest.mark.parametrize("template", WEBHOOKS)
def test_signed_random_webhooks_never_500(api, world, template):
    path = path_for(template, world)

    @FUZZ
    @given(params=form_values)
    def run(params: dict[str, str]) -> None:
        status, data, _ = post_webhook(api, path, params)
        if status >= 400:
            check_shape(status, data)
        assert status < 500

    run()
