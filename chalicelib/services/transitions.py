"""Forward-only status changes, shared by calls and messages.

Read the record, decide a change from what was read, and write it on the condition that what
was read still holds, with the day's counters in the same transaction; on a lost race, read
again and decide again. So a status only moves forward, a final status never changes,
duplicates and late callbacks change nothing, and concurrent callbacks never lose each other's
updates. The counters a change moves are `domain.counters.change` of the record's
contribution before and after: the rule the rollup sums over records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chalicelib.domain import counters
from chalicelib.domain.records import Call, Message
from chalicelib.errors import TelephonyError, found
from chalicelib.services.deps import Deps
from chalicelib.store.base import Count, Op, TransactionFailed, Update, When

MAX_ATTEMPTS = 5

Record = TypeVar("Record", Call, Message)


@dataclass
class Change:
    set: dict[str, Any]
    when: When = field(default_factory=dict)


def apply(
    deps: Deps,
    kind: type[Record],
    record_id: str,
    decide: Callable[[Record], Change | None],
) -> tuple[Record, bool]:
    """Apply `decide`'s change to the record; returns (record as read, changed?)."""
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
            ops.append(Count("day", counters.ALL_SCOPE, record.day, deltas, revise=True))
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
