"""Dashboard stats from counters, and the rollup that keeps the counters honest.

Where counters live (the `stats` table): one item per business day (scope "all", day
"YYYY-MM-DD") holds the team's counters of that day; one item per member and day (scope
"members", day "<YYYY-MM-DD>#<memberId>") holds that member's (`calls`, `connected`, `talk`,
`sms`, `converted`); one item holds the live funnel (scope "funnel", day "current"). No item
grows with the size of the team: a day item holding every member's counters passed DynamoDB's
400 KB item limit at a few thousand members, and every call of the rest of the day failed.
Member items share one partition and sort by day first, so the leaderboard of any date range
is ONE paged Query (`between "<from>#" and "<to>#~"`), whatever the number of members; a
partition per member ("member#<id>") would cost a Query per member.

Reading never grows with history: one Query on the day items of the range, one paged Query on
the member items of the range (a page holds about 10,000 member-days), one GetItem for the
funnel and one Scan of the small team table (names for the leaderboard). Day items written
before member items existed still carry `m#<memberId>#<name>` counters; the dashboard adds them
to the member items' (the rollup leaves them where they are, see `rollup_day`), so old days
read as they always did.

The counters are moved in the same transaction as the transitions that move them, so they are
exact as long as every writer does its job. The rollup (every 5 minutes) recomputes today's and
yesterday's counters from the records (Query on the by-day indexes, never a Scan) and
overwrites them only if they differ, on the condition that the day item's revision (`rev`,
bumped by every live update, member counters included) is still the one it read: a live
increment landing in between makes the write fail, and the rollup starts the day again.
Running it twice changes nothing. It also recounts the funnel, at most hourly
(`rollup_funnel`).
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
from chalicelib.domain.constants import DISPOSITIONS, LEAD_STATUSES
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


def member_items(deps: Deps, start: str, end: str) -> dict[str, dict[str, int]]:
    """The counters of every member item of the days [start, end], keyed "<day>#<memberId>":
    one Query, paged (about 10,000 member-days a page)."""
    low, high = counters.member_range(start, end)
    return deps.store.stats.range(counters.MEMBERS_SCOPE, low, high)


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
    "inbound": "inboundAnswered",
    counters.MEETINGS: "meetings",
}


def dashboard(deps: Deps, raw_from: str | None, raw_to: str | None) -> dict[str, Any]:
    """The body of GET /dashboard/stats (API.md)."""
    s = deps.settings
    today = date.fromisoformat(clock.business_day(deps.clock.now(), s.stats_timezone))
    start, end = parse_range(raw_from, raw_to, today)
    days = _days(start, end)
    items = day_items(deps, days[0], days[-1])
    by_member = member_items(deps, days[0], days[-1])
    live = funnel(deps)
    members = deps.store.members.all()

    totals: Counter[str] = Counter()
    per_member: dict[str, Counter[str]] = {}
    for values in items.values():
        day_part, legacy = counters.split(values)
        totals.update({k: v for k, v in day_part.items() if k != counters.REVISION})
        # A day item written before member items existed: its member counters count too.
        for member_id, part in legacy.items():
            per_member.setdefault(member_id, Counter()).update(part)
    for key, values in by_member.items():
        _, member_id = counters.parse_member_day(key)
        per_member.setdefault(member_id, Counter()).update(values)

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
                "inboundCalls": c.get(counters.INBOUND_CALLS, 0),
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
            # calls wrapped up with each disposition (meetings booked, ...), by call day
            "byDisposition": _by_prefix(totals, "disp#", DISPOSITIONS),
        },
        "messages": {
            "sent": sent,
            "delivered": delivered,
            "failed": totals[counters.sms_status("failed")]
            + totals[counters.sms_status("undelivered")],
            "inbound": totals[counters.SMS_INBOUND],
            "deliveryRate": _rate(delivered, sent),
        },
        "inboundCalls": {
            "total": totals[counters.INBOUND_CALLS],
            "answered": totals[counters.INBOUND_ANSWERED],
            "missed": totals[counters.INBOUND_MISSED],
            "voicemails": totals[counters.INBOUND_VOICEMAILS],
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
# `rev`, member counters of a day item written before member items existed, anything a later
# feature adds) is kept as found.
_DERIVED_NAMES = frozenset(
    {
        counters.CALLS_PLACED,
        counters.CALLS_CONNECTED,
        counters.TALK_SECONDS,
        counters.SMS_SENT,
        counters.SMS_INBOUND,
        counters.INBOUND_CALLS,
        counters.INBOUND_ANSWERED,
        counters.INBOUND_MISSED,
        counters.INBOUND_VOICEMAILS,
        *(counters.call_status(st) for st in CALL_FINAL_ORDER),
        *(counters.lead_leg_status(st) for st in LEAD_LEG_FINAL_ORDER),
        *(counters.sms_status(st) for st in SMS_FINAL_ORDER),
        *(counters.disposition(d) for d in DISPOSITIONS),
    }
)
# Counters of a member item the rollup derives; `converted` (an event) is kept as found.
_DERIVED_MEMBER = frozenset({"calls", "connected", "talk", "sms", "inbound", counters.MEETINGS})
SETTLE_SECONDS = 5.0
_MAX_ATTEMPTS = 5


def is_derived(name: str) -> bool:
    """Whether the rollup derives this counter of a day item."""
    return name in _DERIVED_NAMES


def derive_day(deps: Deps, day: str) -> dict[str, int]:
    """Counters of one day from its records, member counters named `m#<id>#<name>`: two
    Queries on the by-day indexes (paged), summed with the same rule the live transitions use
    (`domain.counters`)."""
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


@dataclass
class _Plan:
    """What a day's repair writes: the day item's derived part (None: it is right), whole
    member items by range key, and what changed ("name": [was, now], member counters named
    `m#<id>#<name>` as in a contribution)."""

    day: dict[str, int] | None
    members: dict[str, dict[str, int]]
    fixed: dict[str, list[int]]


def _plan(
    day: str,
    values: Mapping[str, int],
    stored_members: Mapping[str, Mapping[str, int]],
    derived: Mapping[str, int],
) -> _Plan:
    derived_day, derived_members = counters.split(derived)
    stored_day = _derived_part(values)
    fixed = {
        k: [stored_day.get(k, 0), derived_day.get(k, 0)]
        for k in sorted(set(stored_day) | set(derived_day))
        if stored_day.get(k, 0) != derived_day.get(k, 0)
    }
    # A day item written before member items existed keeps its member counters (the
    # dashboard adds them): the member item holds the rest of what the records give.
    _, legacy = counters.split(values)
    found: dict[str, Mapping[str, int]] = {}
    for key, item in stored_members.items():
        found[counters.parse_member_day(key)[1]] = item
    writes: dict[str, dict[str, int]] = {}
    for member_id in sorted(set(found) | set(derived_members) | set(legacy)):
        item = found.get(member_id, {})
        have = {k: v for k, v in item.items() if k in _DERIVED_MEMBER and v}
        earlier = legacy.get(member_id, {})
        want = {
            k: v
            for k in _DERIVED_MEMBER
            if (v := derived_members.get(member_id, {}).get(k, 0) - earlier.get(k, 0))
        }
        if have == want:
            continue
        kept = {k: v for k, v in item.items() if k not in _DERIVED_MEMBER and v}
        writes[counters.member_day(day, member_id)] = {**kept, **want}
        for k in sorted(set(have) | set(want)):
            if have.get(k, 0) != want.get(k, 0):
                fixed[counters.member(member_id, k)] = [have.get(k, 0), want.get(k, 0)]
    return _Plan(derived_day if derived_day != stored_day else None, writes, fixed)


def rollup_day(
    deps: Deps,
    day: str,
    settle_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DayReport:
    """Recompute one day's derived counters (its day item and its member items) and overwrite
    the ones that drifted.

    1. Read the day item (consistent), remembering its `rev`; then the day's member items
       (one consistent Query).
    2. Derive the counters from the records (Query on the by-day indexes).
    3. Equal: done, nothing written (so a second run changes nothing).
    4. Different: wait `settle_seconds` (default SETTLE_SECONDS), derive again, and write what
       drifted, every write on the condition that the day item's `rev` is unchanged: member
       items in transactions of at most 99 whole-item Puts, each with a ConditionCheck on the
       day item's `rev` (DynamoDB allows 100 operations per transaction), then the day item
       with a conditional Put that bumps `rev`. Indexes are eventually consistent: a
       transition committed just before step 1 may not be visible yet in step 2, and
       overwriting with that view would lose it. Every transition counted in the `rev` read
       committed before step 1, so after the wait the second derivation sees it; any later
       one moved `rev` (every live update of a member item bumps the day item's `rev` in the
       same transaction: `transitions.day_counts`), and the write fails. So each transaction
       that commits writes values exact as of the `rev` read, to items nothing moved since;
       the ones before a failed one stay right (live deltas landing later add to exact
       values), and the next attempt sees them equal. Values are whole, never deltas, so two
       rollups running at once write the same values.
    5. A failed condition means a live update landed in between: start again from 1.

    Member counters a day item still holds from before member items existed (`m#<id>#<name>`)
    stay on it, never moved: the dashboard adds them, and the member item is repaired to the
    remainder (records minus those), so the sum is what the records give.
    """
    settle = SETTLE_SECONDS if settle_seconds is None else settle_seconds
    report = DayReport(day)
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        report.attempts = attempt
        item = deps.store.stats.item(counters.ALL_SCOPE, day, consistent=True)
        values = item.counters if item is not None else {}
        revision = item.revision if item is not None else None
        low, high = counters.member_range(day, day)
        stored_members = deps.store.stats.range(counters.MEMBERS_SCOPE, low, high, consistent=True)
        plan = _plan(day, values, stored_members, derive_day(deps, day))
        if not plan.fixed:
            return report
        if settle > 0:
            sleep(settle)
        plan = _plan(day, values, stored_members, derive_day(deps, day))
        if not plan.fixed:
            return report
        guard = (counters.ALL_SCOPE, day)
        if plan.members and not deps.store.stats.replace_checked(
            counters.MEMBERS_SCOPE, plan.members, guard, revision
        ):
            continue
        if plan.day is not None:
            # Everything not derived (conversions, anything a later feature adds) is kept.
            kept = {k: v for k, v in values.items() if not is_derived(k)}
            if not deps.store.stats.replace(
                counters.ALL_SCOPE, day, {**kept, **plan.day}, revision
            ):
                continue
        report.changed = True
        report.fixed = plan.fixed
        return report
    raise RollupRaceLost(f"day {day}: live updates kept landing; next run will retry")


# ---------------------------------------------------------------- the funnel's recount

# The funnel moves in the same transaction as every lead write except the CSV import, which
# writes its leads in batches and counts them afterwards: an import that dies in between
# (a Lambda timeout on a large file) leaves the funnel wrong. The rollup recounts it from the
# by-status index. A count reads the index's items (DynamoDB charges what it reads, not what
# it returns): about (leads x ~400 bytes) / 4 KB / 2 read units, ~5,000 at 100,000 leads;
# every 5 minutes that is ~1.4 million read units a day (~$0.36/day on demand), more than
# the rest of the product's DynamoDB use, and ~40 sequential pages. So it runs at most once
# an hour (~$0.90/month at 100,000 leads): a dead import's error lasts at most an hour, and
# any other drift (a bug, a hand edit of the table) is repaired too, which an import marker
# alone would not see.
FUNNEL_RECOUNT_SECONDS = 3600
# Scope "funnel", day "recounted": when the last recount was claimed (`at`, epoch seconds).
FUNNEL_RECOUNTED = "recounted"


def _funnel_names() -> frozenset[str]:
    return frozenset({"total", *(counters.lead_status(st) for st in LEAD_STATUSES)})


def count_funnel(deps: Deps) -> dict[str, int]:
    """The funnel from the leads themselves: a count on the by-status index per status (live
    leads only: an archived lead has no by-status key)."""
    out = {counters.lead_status(st): deps.store.leads.count_live(st) for st in LEAD_STATUSES}
    out["total"] = sum(out.values())
    return {k: v for k, v in out.items() if v}


def _funnel_due(deps: Deps, at: datetime) -> bool:
    """Claim this hour's recount: one consistent GetItem each run, and a conditional Put on
    the marker's revision when an hour has passed (two rollups at once: one wins)."""
    item = deps.store.stats.item(counters.FUNNEL_SCOPE, FUNNEL_RECOUNTED, consistent=True)
    now = int(at.timestamp())
    if item is not None and now - item.counters.get("at", 0) < FUNNEL_RECOUNT_SECONDS:
        return False
    revision = item.revision if item is not None else None
    return deps.store.stats.replace(counters.FUNNEL_SCOPE, FUNNEL_RECOUNTED, {"at": now}, revision)


def rollup_funnel(
    deps: Deps,
    at: datetime,
    settle_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DayReport | None:
    """Recount the funnel and overwrite it if it drifted; None when not due this run (at most
    hourly: FUNNEL_RECOUNT_SECONDS). The same argument as `rollup_day`: read the funnel item
    (consistent) and its `rev`, which every live funnel move bumps in the transaction of its
    lead write (`leads.funnel`); count; when different, wait `settle_seconds` (the by-status
    index is eventually consistent: a lead write counted in the `rev` read may not be visible
    yet), count again, and Put the funnel on the condition that `rev` is unchanged. A lead
    write landing in between moved `rev`: the write fails and the recount starts again, so it
    never loses a live move. An import still running when the recount lands (its leads
    written, its count not yet) is counted twice until the next recount, an hour later: the
    recount always converges on the leads as they are."""
    if not _funnel_due(deps, at):
        return None
    settle = SETTLE_SECONDS if settle_seconds is None else settle_seconds
    names = _funnel_names()
    report = DayReport(counters.FUNNEL_SCOPE)
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        report.attempts = attempt
        item = deps.store.stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY, consistent=True)
        values = item.counters if item is not None else {}
        stored = {k: v for k, v in values.items() if k in names and v}
        counted = count_funnel(deps)
        if counted == stored:
            return report
        if settle > 0:
            sleep(settle)
        counted = count_funnel(deps)
        if counted == stored:
            return report
        kept = {k: v for k, v in values.items() if k not in names}
        revision = item.revision if item is not None else None
        if deps.store.stats.replace(
            counters.FUNNEL_SCOPE, counters.FUNNEL_DAY, {**kept, **counted}, revision
        ):
            report.changed = True
            report.fixed = {
                k: [stored.get(k, 0), counted.get(k, 0)]
                for k in sorted(set(stored) | set(counted))
                if stored.get(k, 0) != counted.get(k, 0)
            }
            log.info("rollup: funnel recounted and repaired: %s", report.fixed)
            return report
    raise RollupRaceLost("funnel: live lead writes kept landing; the next recount will retry")


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
    try:  # the funnel, at most hourly; reported (as day "funnel") only when it was repaired
        repaired = rollup_funnel(deps, at, settle_seconds, sleep)
        if repaired is not None and repaired.changed:
            report.days.append(repaired)
    except Exception as exc:
        log.exception("rollup: funnel recount failed")
        report.errors.append(f"funnel: {type(exc).__name__}: {exc}")
    report.ms = round((time.perf_counter() - started) * 1000, 1)
    return report


def log_line(report: RollupReport) -> str:
    return json.dumps({"msg": "rollup", **report.to_dict()}, separators=(",", ":"))
