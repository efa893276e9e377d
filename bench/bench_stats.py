"""Dashboard stats against history: the counters endpoint versus a Scan-and-count.

One run on one growing data set: 1k, then 10k, then 50k calls (and a quarter as many
messages) spread over 30 days, loaded with BatchWriteItem into DynamoDB Local (in memory, on a
free port; moto in-process where Java is missing). At each size the day items are rebuilt by
the rollup, then:

- `stats_ddb_requests_<n>` and `stats_ms_<n>`: GET /dashboard/stats's service over the 30 days
  (requests counted at botocore; time is the median of several runs);
- `scan_baseline_ms_<n>` (and its request count): what the brief's dashboard would do, a Scan
  of the calls and messages tables counting the same figures;
- `rollup_ms_<n>`: one rollup of today and yesterday that finds nothing to change (its steady
  cost, which grows with the calls of two days, not with history).
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import signal
import socket
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

SIZES = (1_000, 10_000, 50_000)
DAYS = 30
MEMBERS = 10
END = date(2026, 11, 23)
Report = Callable[[str, float, str], None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _dynamodb() -> Iterator[str]:
    """DynamoDB Local in memory when Java is present, else moto in-process."""
    from localdev import ddb_local

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if ddb_local.java_available():
        port = _free_port()
        proc = ddb_local.start(None, port)
        os.environ["DYNAMODB_ENDPOINT"] = f"http://127.0.0.1:{port}"
        try:
            yield "DynamoDB Local (in memory)"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
            os.environ.pop("DYNAMODB_ENDPOINT", None)
        return
    from moto import mock_aws

    os.environ.pop("DYNAMODB_ENDPOINT", None)
    with mock_aws():
        yield "moto (in process; Java is missing)"


class _Requests:
    """Counts DynamoDB requests made through botocore."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        calls = self.calls

        def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                calls[operation] += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counting
        try:
            yield
        finally:
            BaseClient._make_api_call = original


def _dynamo() -> Any:
    """The app's DynamoDB store (its botocore client and bound models, for raw bulk writes)."""
    from chalicelib import providers
    from chalicelib.store.dynamo import DynamoStore

    store = providers.deps().store
    assert isinstance(store, DynamoStore)
    return store


def _items(count: int, members: list[str], rng: random.Random) -> Iterator[Any]:
    """Calls and messages with the outcomes the live path produces."""
    from chalicelib.clock import new_id
    from chalicelib.domain.records import Call, Message

    stamp = datetime(2026, 11, 23, 12, tzinfo=UTC)
    for i in range(count):
        day = (END - timedelta(days=rng.randrange(DAYS))).isoformat()
        member = rng.choice(members)
        leg = rng.choice(["completed", "completed", "busy", "no-answer", "not-connected"])
        yield Call(
            id=new_id(),
            lead_id=f"L{rng.randrange(5000)}",
            team_member_id=member,
            caller_id="+15005550006",
            status=rng.choice(["completed", "completed", "completed", "no-answer"]),
            lead_leg_status=leg,
            talk_seconds=rng.randrange(5, 300) if leg == "completed" else None,
            day=day,
            created_at=stamp,
            updated_at=stamp,
        )
        if i % 4 == 0:
            inbound = rng.random() < 0.3
            yield Message(
                id=new_id(),
                lead_id=f"L{rng.randrange(5000)}",
                team_member_id=None if inbound else member,
                direction="inbound" if inbound else "outbound",
                from_number="+15005550006",
                to_number="+12125550100",
                body="Hello from the benchmark",
                status="received"
                if inbound
                # final statuses only: a message still `sent` days later is the recovery's
                # work (fetched from Twilio), not the steady state measured here
                else rng.choice(["delivered", "delivered", "failed", "undelivered"]),
                day=day,
                created_at=stamp,
                updated_at=stamp,
            )


def _load(
    count: int, members: list[str], rng: random.Random, days: dict[str, Counter[str]]
) -> None:
    """BatchWriteItem, 25 items a request, a few requests in flight; `days` gains the counters
    the live path would have moved for them (the rule the rollup applies)."""
    from chalicelib.domain import counters
    from chalicelib.domain.records import Call

    store = _dynamo()
    records = list(_items(count, members, rng))
    for record in records:
        moved = (
            counters.of_call(record) if isinstance(record, Call) else counters.of_message(record)
        )
        days.setdefault(record.day, Counter()).update(moved)
    tables = store.tables
    items = [
        (tables.by_kind[type(r)].Meta.table_name, tables.model(r).serialize()) for r in records
    ]
    batches = [items[i : i + 25] for i in range(0, len(items), 25)]
    client = store.client

    def write(batch: list[tuple[str, Any]]) -> None:
        request: dict[str, list[dict[str, Any]]] = {}
        for table, item in batch:
            request.setdefault(table, []).append({"PutRequest": {"Item": item}})
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, batches))


def _put_day_items(days: dict[str, Counter[str]]) -> None:
    from chalicelib.domain import counters

    store = _dynamo()
    table = store.tables.m.Stats.Meta.table_name
    for day, values in days.items():
        # as the live path lays them out: the day item, and an item per member and day
        day_part, members = counters.split(values)
        item = {"scope": {"S": counters.ALL_SCOPE}, "day": {"S": day}, "rev": {"N": "1"}}
        item.update({k: {"N": str(v)} for k, v in day_part.items()})
        store.client.put_item(TableName=table, Item=item)
        for member_id, part in members.items():
            key = counters.member_day(day, member_id)
            item = {"scope": {"S": counters.MEMBERS_SCOPE}, "day": {"S": key}}
            item.update({k: {"N": str(v)} for k, v in part.items()})
            store.client.put_item(TableName=table, Item=item)


def _scan_baseline(start: str, end: str) -> dict[str, int]:
    """The naive dashboard: read every call and message, count those in the range."""
    store = _dynamo()
    client = store.client
    totals: Counter[str] = Counter()
    calls_table = store.tables.m.Call.Meta.table_name
    for table in (calls_table, store.tables.m.Message.Meta.table_name):
        request: dict[str, Any] = {"TableName": table}
        while True:
            resp = client.scan(**request)
            for item in resp.get("Items", []):
                if not start <= item["day"]["S"] <= end:
                    continue
                if table != calls_table:  # a message (calls have a direction too)
                    totals["sms#" + item["direction"]["S"]] += 1
                    totals["sms#" + item["status"]["S"]] += 1
                else:
                    totals["calls"] += 1
                    totals["call#" + item["status"]["S"]] += 1
                    leg = item.get("lead_leg_status", {}).get("S")
                    if leg:
                        totals["lead#" + leg] += 1
                    if leg == "completed":
                        totals["connected"] += 1
                        totals["talk"] += int(item.get("talk_seconds", {}).get("N", "0"))
            if "LastEvaluatedKey" not in resp:
                break
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return dict(totals)


def _ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def run(report: Report) -> None:
    from chalicelib import clock, providers
    from chalicelib.clock import ManualClock
    from chalicelib.config import reset_settings
    from chalicelib.domain.records import TeamMember
    from chalicelib.services import stats
    from chalicelib.store.base import Put
    from chalicelib.store.tables import ensure_tables

    started = time.perf_counter()
    with _dynamodb() as engine:
        os.environ["STAGE"] = "bench" + uuid.uuid4().hex[:6]
        os.environ.pop("STATS_TIMEZONE", None)
        reset_settings()
        ensure_tables(providers.settings())
        members = []
        for i in range(MEMBERS):
            moment = providers.deps().clock.now()
            member = TeamMember(
                id=clock.new_id(),
                name=f"Caller {i}",
                phone=f"+1415555{i:04d}",
                created_at=moment,
                updated_at=moment,
            )
            providers.deps().store.write(Put("member", member))
            members.append(member.id)
        # today is END for the stats default and for the rollup
        fixed_now = datetime(2026, 11, 23, 18, tzinfo=UTC)
        from chalicelib.telephony.fake import FakeTelephony

        # the rollup also asks Twilio for missed inbound texts: a fake that has none
        providers.override(clock=ManualClock(fixed_now), telephony=FakeTelephony())
        deps = providers.deps()
        rng = random.Random(20261123)
        days = [(END - timedelta(days=d)).isoformat() for d in range(DAYS)][::-1]
        rows = []
        loaded = 0
        day_counters: dict[str, Counter[str]] = {}
        try:
            for n in SIZES:
                t0 = time.perf_counter()
                _load(n - loaded, members, rng, day_counters)
                _put_day_items(day_counters)
                load_ms = (time.perf_counter() - t0) * 1000
                loaded = n
                counted = _Requests()
                timings = []
                with counted.counting():
                    body = stats.dashboard(deps, days[0], days[-1])
                for _ in range(3):  # warm up (DynamoDB Local's JIT, connection pool)
                    stats.dashboard(deps, days[0], days[-1])
                for _ in range(7):
                    ms, again = _ms(lambda: stats.dashboard(deps, days[0], days[-1]))
                    timings.append(ms)
                assert again == body
                scan = _Requests()
                with scan.counting():
                    scan_ms, scanned = _ms(lambda: _scan_baseline(days[0], days[-1]))
                # the two roads agree
                assert scanned["calls"] == body["calls"]["placed"] == n, (scanned, body["calls"])
                assert scanned.get("talk", 0) == body["calls"]["talkSeconds"]
                for _ in range(2):  # the first run warms up; neither may change anything
                    rollup_ms, rolled = _ms(lambda: stats.rollup(deps, fixed_now, settle_seconds=0))
                    assert not rolled.changed, rolled.to_dict()
                label = f"{n // 1000}k"
                stats_ms = statistics.median(timings)
                report(f"stats_ddb_requests_{label}", sum(counted.calls.values()), "requests")
                report(f"stats_ms_{label}", round(stats_ms, 1), "ms")
                report(f"scan_baseline_ms_{label}", round(scan_ms, 1), "ms")
                report(f"scan_baseline_ddb_requests_{label}", sum(scan.calls.values()), "requests")
                report(f"rollup_ms_{label}", round(rollup_ms, 1), "ms")
                rows.append(
                    (n, dict(counted.calls), stats_ms, sum(scan.calls.values()), scan_ms, load_ms)
                )
        finally:
            providers.override(clock=None, telephony=None)
    print(f"# engine: {engine}; {platform.platform()}; {os.cpu_count()} CPUs")
    print("# calls   stats requests                      stats ms   scan requests   scan ms")
    for n, calls, stats_ms, scan_requests, scan_ms, _load_ms in rows:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        print(f"# {n:>6}  {shown:<34}  {stats_ms:>8.1f}  {scan_requests:>13}  {scan_ms:>8.1f}")
    print(f"# whole module {time.perf_counter() - started:.0f}s")
    reset_settings()
