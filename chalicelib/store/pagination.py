"""Paginated Queries with opaque cursors (every list endpoint is a Query, never a Scan)."""

from __future__ import annotations

from typing import Any

from chalicelib.store import cursor as cursors
from chalicelib.store.base import Page


def query_page(
    index: Any,
    hash_key: str,
    key_names: set[str],
    limit: int,
    start: dict[str, Any] | None,
    filter_condition: Any = None,
    newest_first: bool = True,
) -> Page[Any]:
    """One page of a Query on `index`: reads one item past `limit` to know whether there is a
    next page (so the last page never carries a cursor to an empty page); a filtered query keeps
    reading until the page is full or the partition ends."""
    want = limit + 1
    items: list[Any] = []
    last_key = start
    while True:
        result = index.query(
            hash_key,
            filter_condition=filter_condition,
            scan_index_forward=not newest_first,
            limit=want - len(items),
            last_evaluated_key=last_key,
            page_size=want - len(items) if filter_condition is None else max(want, 50),
        )
        items.extend(result)
        last_key = result.last_evaluated_key
        if len(items) >= want or last_key is None:
            break
    if len(items) <= limit:
        return Page(items, None)
    items = items[:limit]
    last = items[-1]
    return Page(items, cursors.encode({k: {"S": getattr(last, k)} for k in key_names}))
