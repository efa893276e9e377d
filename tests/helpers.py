"""What several test modules read or write behind the API's back: stored counters and records,
through the app's own store (the DynamoDB store on moto or DynamoDB Local in these tiers), and
waiting for something that happens asynchronously."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib import providers
from chalicelib.domain import counters

T = TypeVar("T")
TODAY = "2026-11-23"  # the clock fixture's day


def store() -> Any:
    return providers.deps().store


def dynamo() -> Any:
    """The DynamoDB store (for what only a raw table shows: deleting a counter item, scans)."""
    from chalicelib.store.dynamo import DynamoStore

    s = store()
    assert isinstance(s, DynamoStore), "this helper needs the DynamoDB store"
    return s


def day_counters(day: str = TODAY) -> dict[str, int]:
    """A day's non-zero counters (the revision left out)."""
    item = store().stats.item(counters.ALL_SCOPE, day, consistent=True)
    return {k: v for k, v in (item.counters if item else {}).items() if v}


def day_revision(day: str = TODAY) -> int | None:
    item = store().stats.item(counters.ALL_SCOPE, day, consistent=True)
    return item.revision if item else None


def funnel() -> dict[str, int]:
    item = store().stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY, consistent=True)
    return {k: v for k, v in (item.counters if item else {}).items() if v}


def stats_table() -> str:
    return str(dynamo().tables.m.Stats.Meta.table_name)


def _memory() -> Any:
    from chalicelib.store.memory import MemoryStore

    s = store()
    return s if isinstance(s, MemoryStore) else None


def put_day(day: str, values: dict[str, int]) -> None:
    """Write a day item's counters directly, `rev` included (as if the live path built them)."""
    memory = _memory()
    if memory is not None:
        memory.counters[(counters.ALL_SCOPE, day)] = dict(values)
        return
    item: dict[str, Any] = {"scope": {"S": counters.ALL_SCOPE}, "day": {"S": day}}
    item.update({k: {"N": str(v)} for k, v in values.items()})
    dynamo().client.put_item(TableName=stats_table(), Item=item)


def delete_day(day: str) -> None:
    memory = _memory()
    if memory is not None:
        memory.counters.pop((counters.ALL_SCOPE, day), None)
        return
    key = {"scope": {"S": counters.ALL_SCOPE}, "day": {"S": day}}
    dynamo().client.delete_item(TableName=stats_table(), Key=key)


def wait_for(
    check: Callable[[], T],
    done: Callable[[T], object] = bool,
    timeout: float = 10.0,
    every: float = 0.2,
) -> T:
    """The first result of `check` that `done` accepts (by default: a truthy one), polled until
    `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done after {timeout} s; last result {got!r}")
        time.sleep(every)
