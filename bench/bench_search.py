"""Search at 100,000 leads: the time and DynamoDB requests of `GET /leads?q=` (the service, as
the route calls it) and of a lead write with its tokens, against DynamoDB Local.

A search reads ONE token's partition and the leads it names, nothing else: its cost depends on
the size of that partition, not on the table's. So the benchmark draws 100,000 leads (names from
200 first and 500 last names, random numbers, five statuses), computes every lead's tokens in
memory, and writes the partitions its queries read, whole (every lead of the 100,000 holding
that token), with the leads they name: the same items a search meets in a table of 100,000
leads, seeded in seconds (all 100,000 leads' ~2.5 million token items would take DynamoDB
Local most of an hour). Figures:

- `search_ms`: the median of the searches below (a name, a surname prefix, the last four
  digits, seven digits), each the first page of 25; `search_ms_<kind>` each.
- `search_requests`: DynamoDB requests of one search (the most of the four; the page's
  suppression flags, one more BatchGetItem at the route, are not in it).
- `search_common_prefix_filtered_requests`: a two-letter prefix with a status filter that only
  one lead in ten passes: bounded by the search's rounds (services/search.MAX_ROUNDS).
- `lead_write_requests`, `lead_write_items`: a lead created with its tokens: one
  TransactWriteItems of that many items.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

LEADS = 100_000
_SYL = ["ra", "lo", "ne", "ti", "bo", "ke", "su", "da", "mi", "vo"]
# pronounceable made-up names: 200 first names ("ralon", "ralona", ...), 500 last names
FIRST = [a + b + end for a in _SYL for b in _SYL for end in ("n", "na")]
LAST = [a + b + c for a in _SYL[:5] for b in _SYL for c in _SYL]
STATUSES = ["new", "contacted", "qualified", "not_interested", "converted"]


def _name(rng: random.Random, first: list[str], last: list[str]) -> str:
    return f"{rng.choice(first)} {rng.choice(last)}"


@contextmanager
def _counting() -> Iterator[Counter[str]]:
    from botocore.client import BaseClient

    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counting
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def _seed(deps: Any, queries: dict[str, str], rng: random.Random) -> None:
    from chalicelib.domain import search as rules
    from chalicelib.domain.records import Lead, LeadToken
    from chalicelib.services import leads

    wanted = {t for q in queries.values() for t in rules.parse(q).tokens}
    members: dict[str, list[str]] = defaultdict(list)
    chosen: dict[str, Lead] = {}
    stamp = datetime(2026, 12, 1, tzinfo=UTC)
    for i in range(LEADS):
        lead = leads.new_lead(
            deps,
            name=_name(rng, FIRST, LAST),
            phone=(
                "+14155550142"
                if i == 0
                else f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            ),
            source="bench",
            status=STATUSES[i % 10 % 5] if i % 10 else "qualified",
            timezone="America/New_York",
        )
        lead.created_at = lead.updated_at = stamp
        lead.search_version = rules.SEARCH_VERSION
        hit = wanted.intersection(rules.tokens(lead))
        for token in hit:
            members[token].append(lead.id)
        if hit:
            chosen[lead.id] = lead
    m = deps.store.tables.m
    with m.Lead.batch_write() as batch:
        for lead in chosen.values():
            batch.save(deps.store.tables.model(lead))
    with m.LeadToken.batch_write() as batch:
        for token, ids in members.items():
            for lead_id in ids:
                batch.save(deps.store.tables.model(LeadToken(token, lead_id)))
    sizes = ", ".join(f"{t} {len(ids)}" for t, ids in sorted(members.items()))
    print(f"seeded {len(chosen)} leads of {LEADS:,} and the partitions read: {sizes}")


def _queries() -> dict[str, str]:
    return {
        "name": f"{FIRST[7]} {LAST[42]}",
        "surname_prefix": LAST[42][:4],
        "last4": "0142",
        "digits7": "555-0142",
        "common_prefix_filtered": "vor",
    }


def _search(deps: Any, q: str, status: str | None = None) -> tuple[float, int, int]:
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import leads

    with _counting() as calls:
        started = time.perf_counter()
        page = leads.list_leads(deps, status, None, 25, None, SYSTEM, leads.ListOptions(q=q))
        took = (time.perf_counter() - started) * 1000
    return took, sum(calls.values()), len(page.items)


def _bench(report: Callable[[str, float, str], None]) -> None:
    from chalicelib import providers
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import leads
    from chalicelib.store.tables import ensure_tables

    ensure_tables(providers.settings())
    deps = providers.deps()
    rng = random.Random(17)
    queries = _queries()
    started = time.perf_counter()
    _seed(deps, queries, rng)
    print(f"seeding took {time.perf_counter() - started:.1f}s")

    times: list[float] = []
    most = 0
    for kind in ("name", "surname_prefix", "last4", "digits7"):
        q = queries[kind]
        _search(deps, q)  # warm the connection
        runs = [_search(deps, q) for _ in range(5)]
        took = statistics.median(r[0] for r in runs)
        times.append(took)
        most = max(most, max(r[1] for r in runs))
        print(f"{kind:16} q={q!r}: {took:.1f} ms, {runs[0][1]} requests, {runs[0][2]} hits")
        report(f"search_ms_{kind}", round(took, 1), "ms")
    report("search_ms", round(statistics.median(times), 1), "ms")
    report("search_requests", most, "requests")
    took, requests, hits = _search(deps, queries["common_prefix_filtered"], status="qualified")
    print(f"common prefix 'vor', status=qualified: {took:.1f} ms, {requests} requests, {hits} hits")
    report("search_common_prefix_filtered_requests", requests, "requests")

    with _counting() as calls:
        lead = leads.create(
            deps,
            leads.NewLead(name="Maria Garcia", phone="+12125550199", company="Acme Widgets"),
            actor=SYSTEM,
        )
    from chalicelib.domain import search as rules

    report("lead_write_requests", calls["TransactWriteItems"], "requests")
    report("lead_write_items", 3 + len(rules.tokens(lead)), "items")


def run(report: Callable[[str, float, str], None]) -> None:
    from localdev import ddb_local

    if not ddb_local.java_available():
        print("DynamoDB Local: Java missing, skipped")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = ddb_local.start(None, port)
    try:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_DEFAULT_REGION": "us-east-1",
                "STAGE": "bench" + uuid.uuid4().hex[:6],
                "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{port}",
            }
        )
        from chalicelib.config import reset_settings

        reset_settings()
        _bench(report)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
