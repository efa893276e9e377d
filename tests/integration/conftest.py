"""Integration tier: the repository code against DynamoDB Local over HTTP (and, for the
telephony tests, the Twilio simulator over HTTP with the real SDK).

DynamoDB Local runs once per session, in memory, on a free port. Each test gets its own stage
name, hence its own tables. Where Java is missing the tier is skipped with a clear message,
except in CI, where a missing Java is a failure."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ddb_local_endpoint() -> Iterator[str]:
    import signal

    from localdev import ddb_local

    if not ddb_local.java_available():
        if os.environ.get("CI"):
            pytest.fail("Java is required in CI for the DynamoDB Local integration tier")
        pytest.skip("Java is missing: DynamoDB Local integration tests skipped")
    port = free_port()
    proc = ddb_local.start(None, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture
def ddb_local(ddb_local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fresh tables on DynamoDB Local for this test (a stage of its own)."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.db.tables import ensure_tables

    monkeypatch.setenv("DYNAMODB_ENDPOINT", ddb_local_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("STAGE", "it" + uuid.uuid4().hex[:8])
    reset_settings()
    ensure_tables(providers.settings())
    return ddb_local_endpoint
