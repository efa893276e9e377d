"""Opaque pagination cursors: the query's LastEvaluatedKey, as compact base64url JSON.

Decoding checks that the cursor names exactly the key attributes of the index it is used with,
that every value is a short string, and that it belongs to the partition queried, so a forged
or foreign cursor is a 400, never a 500."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalicelib.errors import ValidationError

_MAX_CURSOR_LEN = 2048


def encode(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    flat = {k: v["S"] for k, v in sorted(last_evaluated_key.items())}
    raw = json.dumps(flat, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def dump(value: Any) -> str:
    """Any JSON value as an opaque cursor (base64url, no padding)."""
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def load(cursor: str, max_len: int = _MAX_CURSOR_LEN) -> Any:
    """The JSON value inside a cursor; a 400 for anything that is not one."""
    bad = ValidationError("cursor is not valid", {"field": "cursor"})
    if len(cursor) > max_len:
        raise bad
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None


def decode(
    cursor: str | None, key_names: set[str], partition: tuple[str, str] | None = None
) -> dict[str, Any] | None:
    """The query's ExclusiveStartKey. `partition` (the index's hash key name and the value being
    queried): the cursor must come from that same partition (a cursor of another status or
    assignee is refused: DynamoDB answers a ValidationException, a 500)."""
    if cursor is None or cursor == "":
        return None
    bad = ValidationError("cursor is not valid", {"field": "cursor"})
    flat = load(cursor)
    if not isinstance(flat, dict) or set(flat) != key_names:
        raise bad
    if not all(isinstance(v, str) and 0 < len(v) <= 256 for v in flat.values()):
        raise bad
    if partition is not None and flat.get(partition[0]) != partition[1]:
        raise bad
    return {k: {"S": v} for k, v in flat.items()}
