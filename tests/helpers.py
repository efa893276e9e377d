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
    """A day's non-zero counters (the revision left out) as one contribution: the day item's
    and each member item's, named `m#<memberId>#<name>` (as `domain.counters` names them)."""
    return merged_day(store(), day)


def merged_day(s: Any, day: str) -> dict[str, int]:
    """`day_counters` on a given store."""
    item = s.stats.item(counters.ALL_SCOPE, day, consistent=True)
    out = {k: v for k, v in (item.counters if item else {}).items() if v}
    low, high = counters.member_range(day, day)
    for key, values in s.stats.range(counters.MEMBERS_SCOPE, low, high, consistent=True).items():
        _, member_id = counters.parse_member_day(key)
        for name, value in values.items():
            if value:
                name = counters.member(member_id, name)
                out[name] = out.get(name, 0) + value
    return out


def day_item(day: str = TODAY) -> dict[str, int]:
    """The day item's own non-zero counters (no member item's)."""
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


def put_day(day: str, values: dict[str, int], legacy: bool = False) -> None:
    """Write a day's counters directly, `rev` included, as the live path lays them out: member
    counters (`m#<id>#<name>`) into member items. `legacy`: all of them on the day item, as
    before member items existed."""
    day_part, members = counters.split(values)
    if legacy:
        day_part = {k: v for k, v in values.items() if v}
        members = {}
    _put_item(counters.ALL_SCOPE, day, day_part)
    for member_id, part in members.items():
        _put_item(counters.MEMBERS_SCOPE, counters.member_day(day, member_id), part)


def put_member_item(day: str, member_id: str, values: dict[str, int]) -> None:
    """Overwrite a member item of a day (drift, as a test wants it)."""
    _put_item(counters.MEMBERS_SCOPE, counters.member_day(day, member_id), values)


def _put_item(scope: str, day: str, values: dict[str, int]) -> None:
    memory = _memory()
    if memory is not None:
        memory.counters[(scope, day)] = dict(values)
        return
    item: dict[str, Any] = {"scope": {"S": scope}, "day": {"S": day}}
    item.update({k: {"N": str(v)} for k, v in values.items()})
    dynamo().client.put_item(TableName=stats_table(), Item=item)


def delete_day(day: str) -> None:
    """Delete a day item and its member items."""
    low, high = counters.member_range(day, day)
    keys = [(counters.ALL_SCOPE, day)] + [
        (counters.MEMBERS_SCOPE, k)
        for k in store().stats.range(counters.MEMBERS_SCOPE, low, high, consistent=True)
    ]
    memory = _memory()
    for scope, key in keys:
        if memory is not None:
            memory.counters.pop((scope, key), None)
        else:
            raw = {"scope": {"S": scope}, "day": {"S": key}}
            dynamo().client.delete_item(TableName=stats_table(), Key=raw)


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
