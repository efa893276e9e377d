"""The one place that wires dependencies: models bound to the configured tables, the shared
DynamoDB connection for transactions. Nothing is created at import time (moto must be active
first, and cold start must stay small)."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from chalicelib.config import Settings, get_settings
from chalicelib.db import models

_bound: Settings | None = None
_connection: Connection | None = None


def settings() -> Settings:
    """Settings with the models bound to their tables (cheap after the first call)."""
    global _bound, _connection
    current = get_settings()
    if current is not _bound:
        models.bind(current)
        _bound = current
        _connection = None
    return current


def connection() -> Connection:
    """A low-level connection for transactions and batch operations across tables."""
    global _connection
    s = settings()
    if _connection is None:
        _connection = Connection(region=s.region, host=s.dynamodb_endpoint, max_retry_attempts=3)
    return _connection


def transaction() -> TransactWrite:
    """A write transaction on the shared connection (commit on leaving the `with` block)."""
    return TransactWrite(connection=connection())
