"""Dashboard stats from counters, and the rollup that keeps the counters honest.

Reading never grows with history: one Query on the day items of the range (scope "all"), one
GetItem for the live funnel and one Scan of the small team table (names for the leaderboard),
whatever the number of calls and messages ever made.

The counters are moved in the same transaction as the transitions that move them, so they are
exact as long as every writer does its job. The rollup (every 5 minutes) recomputes today's and
yesterday's counters from the records (Query on the by-day indexes, never a Scan) and
overwrites them only if they differ, on the condition that the day item's revision (`rev`,
bumped by every live update) is still the one it read: a live increment landing in between
makes the write fail, and the rollup starts the day again. Running it twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.domain import counters
from chalicelib.domain.constants import LEAD_STATUSES
from chalicelib.domain.records import TeamMember
from chalicelib.domain.statuses import CALL_FINAL_ORDER, LEAD_LEG_FINAL_ORDER, SMS_FINAL_ORDER
from chalicelib.errors import ValidationError
from chalicelib.services import calls, messages
from chalicelib.services.deps import Deps

log = logging.getLogger("coldcall")

DEFAULT_DAYS = 7
MAX_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------- the date range


def parse_range(raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """`from`/`to` as given (YYYY-MM-DD, both days included), else the last 7 days to today."""
    end = _parse_day(raw_to, "to") if raw_to else today
    if raw_from:
        start = _parse_day(raw_from, "from")
    elif end.toordinal() > DEFAULT_DAYS:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    else:  # `to` in the first days of year 1: the default week would start before it
        raise ValidationError("to is too early for the default range; give from", {"field": "to"})
    if start > end:
        raise ValidationError("from must not be after to", {"field": "from"})
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ValidationError(
            f"the range is {days} days; at most {MAX_DAYS} are allowed",
            {"field": "from", "maxDays": MAX_DAYS},
        )
    return start, end


def _parse_day(raw: str, name: str) -> date:
    # fromisoformat alone would also take "20261123" or "2026-W47-1".
    if _DATE.fullmatch(raw.strip()):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValidationError(f"{name} must be a date as YYYY-MM-DD, got {raw!r}", {"field": name})


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


# ---------------------------------------------------------------- reads


def day_items(deps: Deps, start: str, end: str) -> dict[str, dict[str, int]]:
    """The counters of every day item in [start, end]: one Query (a page holds 1 MB, about a
    year of days for a team of dozens, so a longer range or a much larger team reads a page
    more; never more because of how many calls or messages there were)."""
    return deps.store.stats.range(counters.ALL_SCOPE, start, end)


def funnel(deps: Deps) -> dict[str, int]:
    item = deps.store.stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)
    return item.counters if item is not None else {}


# ---------------------------------------------------------------- the dashboard


def _rate(part: int, whole: int, digits: int = 4) -> float:
    return round(part / whole, digits) if whole else 0.0


def _by_prefix(totals: Mapping[str, int], prefix: str, known: Iterable[str]) -> dict[str, int]:
    out = dict.fromkeys(known, 0)
    for name, value in totals.items():
        if name.startswith(prefix) and not name.startswith("m#"):
            out[name[len(prefix) :]] = value
    return out


_MEMBER_COUNTERS = {
    "calls": "calls",
    "connected": "connected",
    "talk": "talkSeconds",
    "sms": "messagesSent",
    "converted": "converted",
}


def dashboard(deps: Deps, raw_from: str | None, raw_to: str | None) -> dict[str, Any]:
    """The body of GET /dashboard/stats (API.md)."""
    s = deps.settings
    today = date.fromisoformat(clock.business_day(deps.clock.now(), s.stats_timezone))
    start, end = parse_range(raw_from, raw_to, today)
    days = _days(start, end)
    items = day_items(deps, days[0], days[-1])
    live = funnel(deps)
    members = deps.store.members.all()

    totals: Counter[str] = Counter()
    per_member: dict[str, Counter[str]] = {}
    for values in items.values():
        for name, value in values.items():
            if name.startswith("m#"):
                _, member_id, what = name.split("#", 2)
                per_member.setdefault(member_id, Counter())[what] += value
            elif name != counters.REVISION:
                totals[name] += value

    placed, connected, talk = (
        totals[counters.CALLS_PLACED],
        totals[counters.CALLS_CONNECTED],
        totals[counters.TALK_SECONDS],
    )
    sent, delivered = totals[counters.SMS_SENT], totals[counters.sms_status("delivered")]
    daily = []
    for day in days:
        c = items.get(day, {})
        daily.append(
            {
                "date": day,
                "calls": c.get(counters.CALLS_PLACED, 0),
                "connected": c.get(counters.CALLS_CONNECTED, 0),
                "talkSeconds": c.get(counters.TALK_SECONDS, 0),
                "messagesSent": c.get(counters.SMS_SENT, 0),
                "messagesInbound": c.get(counters.SMS_INBOUND, 0),
                "converted": c.get(counters.CONVERTED, 0),
            }
        )
    return {
        "from": days[0],
        "to": days[-1],
        "timezone": s.stats_timezone,
        "leads": {
            "total": live.get("total", 0),
            "byStatus": {st: live.get(counters.lead_status(st), 0) for st in LEAD_STATUSES},
        },
        "calls": {
            "placed": placed,
            "byStatus": _by_prefix(totals, "call#", CALL_FINAL_ORDER),
            "byLeadLegStatus": _by_prefix(totals, "lead#", LEAD_LEG_FINAL_ORDER),
            "connected": connected,
            "connectRate": _rate(connected, placed),
            "talkSeconds": talk,
            "avgTalkSeconds": _rate(talk, connected, 1),
        },
        "messages": {
            "sent": sent,
            "delivered": delivered,
            "failed": totals[counters.sms_status("failed")]
            + totals[counters.sms_status("undelivered")],
            "inbound": totals[counters.SMS_INBOUND],
            "deliveryRate": _rate(delivered, sent),
        },
        "converted": totals[counters.CONVERTED],
        "daily": daily,
        "leaderboard": _leaderboard(members, per_member),
    }


def _leaderboard(
    members: list[TeamMember], per_member: dict[str, Counter[str]]
) -> list[dict[str, Any]]:
    """Every active member, and any other with activity in the range; best first."""
    names = {m.id: m for m in members}
    wanted = {m.id for m in members if m.active} | {
        mid for mid, c in per_member.items() if any(c.values())
    }
    rows = []
    for member_id in wanted:
        c = per_member.get(member_id, Counter())
        member = names.get(member_id)
        row: dict[str, Any] = {
            "teamMemberId": member_id,
            "name": member.name if member else "unknown member",
            "active": bool(member.active) if member else False,
        }
        row.update({out: c[name] for name, out in _MEMBER_COUNTERS.items()})
        rows.append(row)
    rows.sort(
        key=lambda r: (-r["calls"], -r["connected"], -r["talkSeconds"], -r["converted"], r["name"])
    )
    return rows


# ---------------------------------------------------------------- the rollup

# Counters the rollup derives from the records; everything else on a day item (`converted`,
# `m#<id>#converted`, `rev`, anything a later feature adds) is kept as found.
_DERIVED_NAMES = frozenset(
    {
        counters.CALLS_PLACED,
        counters.CALLS_CONNECTED,
        counters.TALK_SECONDS,
        counters.SMS_SENT,
        counters.SMS_INBOUND,
        *(counters.call_status(st) for st in CALL_FINAL_ORDER),
        *(counters.lead_leg_status(st) for st in LEAD_LEG_FINAL_ORDER),
        *(counters.sms_status(st) for st in SMS_FINAL_ORDER),
    }
)
_DERIVED_MEMBER = re.compile(r"m#[^#]+#(calls|connected|talk|sms)")
SETTLE_SECONDS = 5.0
_MAX_ATTEMPTS = 5


def is_derived(name: str) -> bool:
    return name in _DERIVED_NAMES or _DERIVED_MEMBER.fullmatch(name) is not None


def derive_day(deps: Deps, day: str) -> dict[str, int]:
    """Counters of one day from its records: two Queries on the by-day indexes (paged), summed
    with the same rule the live transitions use (`domain.counters`)."""
    return counters.of_day(deps.store.calls.rows_on(day), deps.store.messages.rows_on(day))


@dataclass
class DayReport:
    day: str
    changed: bool = False
    attempts: int = 0
    fixed: dict[str, list[int]] = field(default_factory=dict)  # name: [was, now]


@dataclass
class RollupReport:
    days: list[DayReport] = field(default_factory=list)
    reconciled: dict[str, int] = field(default_factory=dict)
    # Message recovery: stale outbound messages examined and settled, inbound texts listed
    # from Twilio and ingested (never stored before), errors (`messages.RecoveryReport`).
    messages: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ms: float = 0.0

    @property
    def changed(self) -> bool:
        return (
            any(d.changed for d in self.days)
            or bool(self.reconciled.get("settled"))
            or bool(self.messages.get("settled") or self.messages.get("ingested"))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "days": [asdict(d) for d in self.days],
            "reconciled": self.reconciled,
            "messages": self.messages,
            "errors": self.errors,
            "ms": self.ms,
        }


class RollupRaceLost(Exception):
    """Live updates kept landing between the rollup's read and write of one day."""


def _derived_part(values: Mapping[str, int]) -> dict[str, int]:
    return {k: v for k, v in values.items() if v and is_derived(k)}


def rollup_day(
    deps: Deps,
    day: str,
    settle_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DayReport:
    """Recompute one day's derived counters and overwrite them if they drifted.

    1. Read the day item (consistent), remembering its `rev`.
    2. Derive the counters from the records (Query on the by-day indexes).
    3. Equal: done, nothing written (so a second run changes nothing).
    4. Different: wait `settle_seconds` (default SETTLE_SECONDS), derive again, and Put the
       item back on the condition `rev` is unchanged. Indexes are eventually consistent: a
       transition committed just before step 1 may not be visible yet in step 2, and
       overwriting with that view would lose it. Every transition counted in the `rev` read
       committed before step 1, so after the wait the second derivation sees it; any later
       one has moved `rev`, and the write fails.
    5. A failed condition means a live update landed in between: start again from 1.
    """
    settle = SETTLE_SECONDS if settle_seconds is None else settle_seconds
    report = DayReport(day)
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        report.attempts = attempt
        item = deps.store.stats.item(counters.ALL_SCOPE, day, consistent=True)
        values = item.counters if item is not None else {}
        stored = _derived_part(values)
        derived = derive_day(deps, day)
        if derived == stored:
            return report
        if settle > 0:
            sleep(settle)
        derived = derive_day(deps, day)
        if derived == stored:
            return report
        # Everything not derived (conversions, anything a later feature adds) is kept as read.
        kept = {k: v for k, v in values.items() if not is_derived(k)}
        revision = item.revision if item is not None else None
        if deps.store.stats.replace(counters.ALL_SCOPE, day, {**kept, **derived}, revision):
            report.changed = True
            report.fixed = {
                k: [stored.get(k, 0), derived.get(k, 0)]
                for k in sorted(set(stored) | set(derived))
                if stored.get(k, 0) != derived.get(k, 0)
            }
            return report
    raise RollupRaceLost(f"day {day}: live updates kept landing; next run will retry")


def rollup(
    deps: Deps,
    moment: datetime | None = None,
    settle_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RollupReport:
    """The scheduled job: settle stale calls and messages, ingest inbound texts whose webhook
    was lost, then recompute today's and yesterday's counters (business days in
    STATS_TIMEZONE). One failing part does not stop the others."""
    started = time.perf_counter()
    s = deps.settings
    at = moment or deps.clock.now()
    report = RollupReport()
    try:
        rec = calls.reconcile_stale(deps, at)
        report.reconciled = {"examined": rec.examined, "settled": rec.settled, "errors": rec.errors}
    except Exception as exc:  # the counters still get their repair
        log.exception("rollup: reconciler failed")
        report.errors.append(f"reconcile: {type(exc).__name__}: {exc}")
    recovered = messages.RecoveryReport()
    for name, part in (
        ("messages", messages.reconcile_stale),
        ("inbound", messages.recover_inbound),
    ):
        try:
            recovered.merge(part(deps, at))
        except Exception as exc:  # the other parts still run
            log.exception("rollup: %s recovery failed", name)
            report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
    report.messages = recovered.to_dict()
    days = sorted(
        {
            clock.business_day(at - timedelta(days=1), s.stats_timezone),
            clock.business_day(at, s.stats_timezone),
        }
    )
    for day in days:
        try:
            report.days.append(rollup_day(deps, day, settle_seconds, sleep))
        except Exception as exc:
            log.exception("rollup: day %s failed", day)
            report.errors.append(f"{day}: {type(exc).__name__}: {exc}")
    report.ms = round((time.perf_counter() - started) * 1000, 1)
    return report


def log_line(report: RollupReport) -> str:
    return json.dumps({"msg": "rollup", **report.to_dict()}, separators=(",", ":"))
