"""The suppression ledger: 100,000 numbers imported in one request (`POST /suppressions/import`
through the service), in rows per second and DynamoDB requests, against moto in process; and
the DynamoDB requests the compliance check adds to a call and to a text (one GetItem each)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench import RULES_NOW
from bench.bench_csv_import import _env
from bench.bench_ddb_cost import Meter

ROWS = 100_000


def _file() -> bytes:
    lines = ["Area Code,Phone Number"]  # the national registry's layout, and E.164 lines
    lines += [
        f"212,{2_000_000 + i:07d}" if i % 2 else f"+1646{2_000_000 + i:07d}" for i in range(ROWS)
    ]
    return "\n".join(lines).encode()


def run(report: Callable[[str, float, str], None]) -> None:
    from moto import mock_aws

    from chalicelib import providers
    from chalicelib.clock import OffsetClock
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import compliance, suppressions
    from chalicelib.store.tables import ensure_tables

    data = _file()
    _env(MAX_IMPORT_BYTES=str(8 * 1024 * 1024))
    start = datetime.fromisoformat(RULES_NOW)  # the checks below run at any hour
    providers.override(rules_clock=OffsetClock(start - datetime.now(UTC)))
    try:
        with mock_aws():
            ensure_tables(providers.settings())
            deps = providers.deps()
            with Meter().installed() as meter:
                started = time.perf_counter()
                # no time budget: the import's throughput in one call, not its requests
                result = suppressions.import_numbers(
                    deps, SYSTEM, data, budget_seconds=float("inf")
                )
                elapsed = time.perf_counter() - started
                figures = meter.reset()
                assert result.added == ROWS, result.to_body()
                requests = sum(figures.requests.values())
                print(f"moto: {ROWS / elapsed:.0f} rows/s, {dict(figures.requests)}")
                report("suppression_import_rows_per_s", round(ROWS / elapsed), "rows/s")
                report("suppression_import_requests", requests, "count")
                # a number that may be contacted: the check's whole cost
                compliance.check(deps, SYSTEM, phone="+13105550100", channel="voice", lead=None)
                report(
                    "compliance_requests_per_call", sum(meter.reset().requests.values()), "count"
                )
                compliance.check(deps, SYSTEM, phone="+13105550100", channel="sms", lead=None)
                report(
                    "compliance_requests_per_text", sum(meter.reset().requests.values()), "count"
                )
    finally:
        providers.override(rules_clock=None)
