"""What a parsed PATCH body says beyond its values: which fields the client sent with a value,
and which it set to null on purpose (to clear them). Reads only `model_fields_set`, so the
services use it without importing pydantic."""

from __future__ import annotations

from collections.abc import Set
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.api.schemas import Body


def explicit_nulls(body: Body, allowed: Set[str]) -> set[str]:
    """Fields the client set to null on purpose (to clear them), limited to `allowed`."""
    return {f for f in body.model_fields_set if getattr(body, f) is None and f in allowed}


def provided(body: Body) -> dict[str, Any]:
    """The fields the client sent with a value (not null)."""
    return {f: getattr(body, f) for f in body.model_fields_set if getattr(body, f) is not None}
