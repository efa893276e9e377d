"""Forward-only status changes, shared by calls and messages.

Read the record, decide a change from what was read, and write it on the condition that what
was read still holds, with the day's counters in the same transaction; on a lost race, read
again and decide again. So a status only moves forward, a final status never changes,
duplicates and late callbacks change nothing, and concurrent callbacks never lose each other's
updates. The counters a change moves are `domain.counters.change` of the record's
contribution before and after: the rule the rollup sums over records, written where
`day_counts` puts it (the day item, and an item per member).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chalicelib.clock import business_day
from chalicelib.domain import counters
from chalicelib.domain.records import Call, Message
from chalicelib.errors import TelephonyError, found
from chalicelib.services.deps import Deps
from chalicelib.store.base import Count, Op, TransactionFailed, Update, When

MAX_ATTEMPTS = 5

Record = TypeVar("Record", Call, Message)


def day_counts(day: str, deltas: Mapping[str, int]) -> list[Op]:
    """The operations that add `deltas` (a contribution or a change of one, member counters
    named `m#<id>#<name>`) to a business day: the day item's part, which always bumps the day's
    revision (even when only member counters move: the rollup's writes of member items are
    conditioned on it), and one `Count` per member item touched. Every writer of day or member
    counters goes through here, in the same transaction as the record change."""
    day_part, members = counters.split(deltas)
    ops: list[Op] = [Count("day", counters.ALL_SCOPE, day, day_part, revise=True)]
    for member_id, part in sorted(members.items()):
        key = counters.member_day(day, member_id)
        ops.append(Count(f"member:{member_id}", counters.MEMBERS_SCOPE, key, part))
    return ops


@dataclass
class Change:
    set: dict[str, Any]
    when: When = field(default_factory=dict)


def apply(
    deps: Deps,
    kind: type[Record],
    record_id: str,
    decide: Callable[[Record], Change | None],
    also: Callable[[Record, Record], list[Op]] | None = None,
) -> tuple[Record, bool]:
    """Apply `decide`'s change to the record; returns (record as read, changed?). `also`: more
    operations for the same transaction, from the record as read and as it will be (the
    dialer's campaign counters: counted once, with the change that makes a call final)."""
    label = kind.__name__.lower()
    read: Callable[..., Any] = deps.store.calls.get if kind is Call else deps.store.messages.get
    count: Callable[[Any], Mapping[str, int]] = (
        counters.of_call if kind is Call else counters.of_message
    )
    for _ in range(MAX_ATTEMPTS):
        record = found(read(record_id, consistent=True), label, record_id)
        change = decide(record)
        if change is None:
            return record, False
        after = dataclasses.replace(record, **change.set)
        deltas = counters.change(count(record), count(after))
        ops: list[Op] = [Update(label, kind, record_id, change.set, when=change.when)]
        if deltas:
            ops += day_counts(record.day, deltas)
        if also is not None:
            ops += also(record, after)
        try:
            deps.store.transact(ops)
        except TransactionFailed as exc:
            if label in exc.failed or exc.conflict:
                continue
            raise
        return record, True
    raise TelephonyError(
        f"{label} status is changing too fast; try again", {f"{label}Id": record_id}
    )


STALE_AFTER = timedelta(minutes=15)


@dataclass
class Settled:
    """What one pass over stale records did."""

    examined: int = 0
    settled: int = 0
    errors: int = 0


def settle_stale(
    deps: Deps,
    at: datetime,
    pending_on: Callable[[str], Iterable[Record]],
    settle: Callable[[Record], bool],
    transient: tuple[type[Exception], ...],
) -> Settled:
    """Records of today's and yesterday's business days still not final STALE_AFTER after
    their creation, each settled by `settle` (True: it moved). An error in `transient` is
    counted and left for the next pass; the others go on."""
    tz = deps.settings.stats_timezone
    done = Settled()
    for day in sorted({business_day(at, tz), business_day(at - timedelta(days=1), tz)}):
        for record in pending_on(day):
            if record.created_at > at - STALE_AFTER:
                continue
            done.examined += 1
            try:
                if settle(record):
                    done.settled += 1
            except transient:
                done.errors += 1
    return done
