"""Forward-only status changes, shared by calls and messages.

Read the record, decide a change from what was read, and write it on the condition that what
was read still holds, with the day's counters in the same transaction; on a lost race, read
again and decide again. So a status only moves forward, a final status never changes,
duplicates and late callbacks change nothing, and concurrent callbacks never lose each other's
updates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import providers
from chalicelib.db import counters
from chalicelib.db.models import Call, Message
from chalicelib.errors import TelephonyError, not_found

MAX_ATTEMPTS = 5

Record = TypeVar("Record", Call, Message)


@dataclass
class Change:
    actions: list[Action]
    condition: Condition
    day_deltas: dict[str, int] = field(default_factory=dict)


def cancel_reasons(exc: TransactWriteError) -> list[str | None]:
    """Why each item of a cancelled transaction failed, in the transaction's item order."""
    return [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]


def apply(
    model: type[Record], record_id: str, kind: str, decide: Callable[[Record], Change | None]
) -> tuple[Record, bool]:
    """Apply `decide`'s change to the record; returns (record as read, changed?). `kind` names
    the record in errors ("call", "message")."""
    for _ in range(MAX_ATTEMPTS):
        try:
            record = model.get(record_id, consistent_read=True)
        except DoesNotExist:
            raise not_found(kind, record_id) from None
        change = decide(record)
        if change is None:
            return record, False
        try:
            with providers.transaction() as tx:
                tx.update(model(id=record_id), change.actions, condition=change.condition)
                if change.day_deltas:
                    tx.update(
                        counters.day_item(record.day), counters.day_actions(change.day_deltas)
                    )
        except TransactWriteError as exc:
            reasons = cancel_reasons(exc)
            if (reasons and reasons[0] == "ConditionalCheckFailed") or (
                "TransactionConflict" in reasons
            ):
                continue
            raise
        return record, True
    raise TelephonyError(f"{kind} status is changing too fast; try again", {f"{kind}Id": record_id})
