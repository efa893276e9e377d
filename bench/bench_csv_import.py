"""Bulk: a 10,000-row CSV import, in rows per second, against DynamoDB Local
over HTTP (where Java is present), in as many requests as the import's time budget makes it
(`nextRow`, as the dashboard sends them). Each group of 49 leads is one transaction whose guards
are conditional; moto copies its tables on every transaction, so its figure (once
`csv_import_rows_per_s_moto`) would measure moto, and is no longer taken."""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from collections.abc import Callable

ROWS = 10_000


def _csv() -> bytes:
    lines = ["name,phone,email,company"]
    lines += [
        f"Lead {i},+1415{2000000 + i:07d},lead{i}@example.com,Company {i % 97}" for i in range(ROWS)
    ]
    return ("\n".join(lines) + "\n").encode()


def _env(**extra: str) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "STAGE": "bench" + uuid.uuid4().hex[:6],
            **extra,
        }
    )
    if "DYNAMODB_ENDPOINT" not in extra:
        os.environ.pop("DYNAMODB_ENDPOINT", None)
    from chalicelib.config import reset_settings

    reset_settings()


def _import_once(data: bytes) -> float:
    from chalicelib import providers
    from chalicelib.api.schemas import lead_row
    from chalicelib.services import lead_csv
    from chalicelib.store.tables import ensure_tables

    ensure_tables(providers.settings())
    deps = providers.deps()
    started = time.perf_counter()
    created, requests, from_row = 0, 0, None
    while True:  # as the dashboard does: again from `nextRow` until the file is done
        result = lead_csv.import_csv(deps, data, 8 * 1024 * 1024, lead_row, from_row=from_row)
        created += result.created
        requests += 1
        if result.next_row is None:
            break
        from_row = result.next_row
    elapsed = time.perf_counter() - started
    assert created == ROWS, result.to_body()
    print(f"{requests} request(s) of at most {deps.settings.import_budget_seconds:g} s of writes")
    return ROWS / elapsed


def run(report: Callable[[str, float, str], None]) -> None:
    data = _csv()
    from localdev import ddb_local

    if not ddb_local.java_available():
        print("DynamoDB Local: Java missing, skipped")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = ddb_local.start(None, port)
    try:
        _env(DYNAMODB_ENDPOINT=f"http://127.0.0.1:{port}")
        rate = _import_once(data)
        print(f"DynamoDB Local: {rate:.0f} rows/s")
        report("csv_import_rows_per_s_ddblocal", round(rate), "rows/s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
