"""The dev runner's pieces that a full `make dev` run does not reach on this machine."""

from __future__ import annotations

import boto3

from localdev import dev
from tests.integration.conftest import free_port


def test_without_java_dynamodb_runs_in_memory_with_a_warning(monkeypatch, capsys):
    monkeypatch.setattr(dev.ddb_local, "java_available", lambda: False)
    port = free_port()
    monkeypatch.setenv("DDB_PORT", str(port))
    stack = dev.Stack()
    try:
        endpoint = dev.start_dynamodb(stack)
        assert endpoint == f"http://127.0.0.1:{port}"
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
        assert client.list_tables()["TableNames"] == ["t"]
    finally:
        stack.stop()
    out = capsys.readouterr().out
    assert "WARNING: Java is missing" in out and "IN MEMORY" in out


def test_api_token_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.setattr(dev, "DATA", tmp_path)
    first = dev.api_token()
    assert len(first) >= 32 and dev.api_token() == first
    assert (tmp_path / "api-token").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("API_TOKEN", "given")
    assert dev.api_token() == "given"


def test_dev_now_moves_the_apis_clock_and_refuses_a_bad_value():
    from datetime import UTC, datetime, timedelta

    import pytest

    from localdev.api_server import dev_clock

    assert dev_clock(None) is None and dev_clock("  ") is None
    clock = dev_clock("2026-11-24T20:30:00-05:00")
    assert abs(clock.now() - datetime(2026, 11, 25, 1, 30, tzinfo=UTC)) < timedelta(seconds=5)
    for bad in ("tonight", "2026-11-24T20:30:00"):
        with pytest.raises(SystemExit, match="DEV_NOW"):
            dev_clock(bad)
