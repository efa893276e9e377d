"""The one place that wires dependencies: models bound to the configured tables, the shared
DynamoDB connection for transactions. Nothing is created at import time (moto must be active
first, and cold start must stay small)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from chalicelib import config
from chalicelib.config import Settings, get_settings
from chalicelib.db import models
from chalicelib.errors import TelephonyError

if TYPE_CHECKING:
    from chalicelib.telephony.base import Telephony

_bound: Settings | None = None
_connection: Connection | None = None
_telephony: Telephony | None = None


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


def telephony() -> Telephony:
    """The Twilio adapter (created on first use; the SDK is imported only then)."""
    global _telephony
    if _telephony is None:
        s = settings()
        token = config.twilio_auth_token()
        if not s.twilio_account_sid or not token:
            raise TelephonyError(
                "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        from chalicelib.telephony.twilio_client import TwilioTelephony

        _telephony = TwilioTelephony(s.twilio_account_sid, token, s.twilio_api_base)
    return _telephony


def set_telephony(adapter: Telephony | None) -> None:
    """Install an adapter (tests: the recording fake), or None to build the real one again."""
    global _telephony
    _telephony = adapter
