"""Counter items in the stats table: names of counters and the ADD actions that move them.

Counters are plain numeric attributes added with ADD (created on first use), so a counter is
moved in the same transaction as the record change that moves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from chalicelib.db.models import Stats

FUNNEL_SCOPE = "funnel"
FUNNEL_DAY = "current"
ALL_SCOPE = "all"


def funnel_item() -> Stats:
    return Stats(scope=FUNNEL_SCOPE, day=FUNNEL_DAY)


def day_item(day: str) -> Stats:
    return Stats(scope=ALL_SCOPE, day=day)


def add_actions(deltas: Mapping[str, int]) -> list[Action]:
    """ADD actions for the non-zero deltas (a list path, so names may contain dots)."""
    return [Path([name]).add(delta) for name, delta in sorted(deltas.items()) if delta]


def counters_of(raw_item: Mapping[str, Any] | None) -> dict[str, int]:
    """Numeric attributes of a raw stats item, as ints."""
    if not raw_item:
        return {}
    out: dict[str, int] = {}
    for name, value in raw_item.items():
        if isinstance(value, dict) and "N" in value:
            out[name] = int(value["N"])
    return out


def lead_status_deltas(old: str | None, new: str | None) -> dict[str, int]:
    """Funnel deltas for a lead moving from `old` to `new` (None: not counted, i.e. absent or
    archived)."""
    deltas: dict[str, int] = {}
    if old == new:
        return deltas
    if old is not None:
        deltas[f"status#{old}"] = deltas.get(f"status#{old}", 0) - 1
        deltas["total"] = deltas.get("total", 0) - 1
    if new is not None:
        deltas[f"status#{new}"] = deltas.get(f"status#{new}", 0) + 1
        deltas["total"] = deltas.get("total", 0) + 1
    return {k: v for k, v in deltas.items() if v}


# ---------------------------------------------------------------- day counters (scope "all")
# One item per business day holds every counter of that day, the per-member ones included
# (`m#<memberId>#<name>`), so the stats endpoint reads a date range with one Query.

CALLS_PLACED = "calls"
CALLS_CONNECTED = "connected"
TALK_SECONDS = "talk"
SMS_SENT = "sms#sent"
SMS_INBOUND = "sms#inbound"
# Leads moved to `converted` that day (an event; see leads.conversion_deltas). Not derivable
# from calls or messages, so the rollup keeps it as it finds it.
CONVERTED = "converted"


def call_status(status: str) -> str:
    return f"call#{status}"


def lead_leg_status(status: str) -> str:
    return f"lead#{status}"


def sms_status(status: str) -> str:
    return f"sms#{status}"


def member(member_id: str, name: str) -> str:
    return f"m#{member_id}#{name}"


REVISION = "rev"


def day_actions(deltas: Mapping[str, int]) -> list[Action]:
    """ADD actions for a day item: the deltas plus one to its revision, so the rollup, which
    overwrites a day's counters, can write on the condition that no live update came between
    its read and its write."""
    return add_actions({**deltas, REVISION: 1})
