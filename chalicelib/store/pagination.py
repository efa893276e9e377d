"""Paginated Queries with opaque cursors (every list endpoint is a Query, never a Scan)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.errors import ValidationError
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
    range_key_condition: Any = None,
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
            range_key_condition=range_key_condition,
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


_DONE = "."


def merged_page(
    fetch: Callable[[str, str | None, int], Page[Any]],
    partitions: list[str],
    key_name: str,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
) -> Page[Any]:
    """One newest-first (or oldest-first) page over several partitions of one index (a
    caller's leads and the unassigned ones): a page of each, merged by id, the first `limit`
    kept. The cursor holds each partition's position (after the last item taken from it, or
    done), so no item is skipped or repeated, and nothing outside the partitions is read."""
    positions = _decode_positions(cursor, partitions)
    taken: list[tuple[str, Any]] = []
    pages: dict[str, Page[Any]] = {}
    for part in partitions:
        pos = positions.get(part)
        if pos == _DONE:
            continue
        page = fetch(part, pos, limit)
        pages[part] = page
        taken.extend((part, item) for item in page.items)
    taken.sort(key=lambda pair: pair[1].id, reverse=newest_first)
    taken = taken[:limit]
    nxt: dict[str, str] = {}
    for part in partitions:
        if positions.get(part) == _DONE:
            nxt[part] = _DONE
            continue
        page = pages[part]
        mine = [item for p, item in taken if p == part]
        if len(mine) == len(page.items):
            nxt[part] = page.next_cursor or _DONE
        elif mine:
            nxt[part] = cursors.encode({key_name: {"S": part}, "id": {"S": mine[-1].id}}) or _DONE
        elif (kept := positions.get(part)) is not None:
            nxt[part] = kept
    items = [item for _, item in taken]
    if all(nxt.get(p) == _DONE for p in partitions):
        return Page(items, None)
    return Page(items, cursors.dump(nxt))


def _decode_positions(cursor: str | None, partitions: list[str]) -> dict[str, str | None]:
    if not cursor:
        return {}
    bad = ValidationError("cursor is not valid", {"field": "cursor"})
    value = cursors.load(cursor, max_len=4096)  # holds one cursor per partition
    if not isinstance(value, dict) or not set(value) <= set(partitions):
        raise bad
    if not all(isinstance(v, str) and v for v in value.values()):
        raise bad
    return dict(value)
