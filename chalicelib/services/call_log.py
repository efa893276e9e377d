"""The team's call log (`GET /calls?from=&to=&teamMemberId=&outcome=&disposition=`): calls of
a range of business days, newest first, paged, with filters applied on the server.

Reads are Queries, never a Scan: the calls' by-day index, day after day from `to` back to
`from` (the cursor holds the day and the last call examined, so a page may span days); with a
member (always for a caller, who sees only their own calls) the by-member index over the ids
of the range instead (ids are ULIDs: a time range is an id range), which reads none of the
others' calls. `outcome` and `disposition` are applied to the calls read (a DynamoDB filter
would cost the same read capacity): a request reads at most `_MAX_READS` chunks of `_CHUNK`
calls and then answers the calls found so far with a cursor, so a rare filter over a busy
range answers shorter pages (possibly empty ones) with a cursor rather than a long request.
A page that ends exactly where the range does may still carry a cursor (to an empty page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib import clock as clocks
from chalicelib.domain.actors import Actor
from chalicelib.domain.constants import DISPOSITIONS
from chalicelib.domain.outcomes import OUTCOMES, outcome
from chalicelib.domain.records import Call
from chalicelib.errors import Forbidden, ValidationError
from chalicelib.services.deps import Deps
from chalicelib.store import cursor as cursors
from chalicelib.store.base import Page

_CHUNK = 100
_MAX_READS = 10
_ID_LEN = 26  # a ULID


def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise ValidationError(f"{field} must be one of {', '.join(allowed)}", {"field": field})
    return value


def _ulid_floor(moment: datetime) -> str:
    """The smallest ULID of `moment`'s millisecond."""
    from ulid import ULID

    return str(ULID.from_datetime(moment))[:10] + "0" * 16


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz))


def _decode(cursor: str | None, by_day: bool, start: str, end: str) -> tuple[str, str | None]:
    """(day, before) of a cursor; (end, None) without one."""
    if not cursor:
        return end, None
    bad = ValidationError("cursor is not valid", {"field": "cursor"})
    value = cursors.load(cursor)
    want = {"d", "b"} if by_day else {"b"}
    if not isinstance(value, dict) or set(value) != want:
        raise bad
    before = value["b"]
    if not isinstance(before, str) or len(before) != _ID_LEN:
        raise bad
    day = value.get("d", end)
    if not isinstance(day, str) or not start <= day <= end:
        raise bad
    return day, before


def call_log(
    deps: Deps,
    actor: Actor,
    raw_from: str | None,
    raw_to: str | None,
    member_id: str | None,
    raw_outcome: str | None,
    raw_disposition: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Call]:
    from chalicelib.services.stats import parse_range

    tz = deps.settings.stats_timezone
    today = date.fromisoformat(clocks.business_day(deps.clock.now(), tz))
    first, last = parse_range(raw_from, raw_to, today)
    start, end = first.isoformat(), last.isoformat()
    wanted_outcome = _choice(raw_outcome, OUTCOMES, "outcome")
    wanted_disposition = _choice(raw_disposition, DISPOSITIONS, "disposition")
    if member_id is not None and len(member_id) > 64:
        raise ValidationError("teamMemberId is too long", {"field": "teamMemberId"})
    if not actor.sees_all_leads:
        me = actor.member_id
        if me is None:
            raise Forbidden("this API key's role cannot read the call log")
        if member_id and member_id != me:
            raise Forbidden("a caller sees only their own calls", {"field": "teamMemberId"})
        member_id = me

    def keep(call: Call) -> bool:
        return (
            start <= call.day <= end
            and (wanted_outcome is None or outcome(call) == wanted_outcome)
            and (wanted_disposition is None or call.disposition == wanted_disposition)
        )

    if member_id:
        return _member_pages(deps, member_id, first, last, tz, keep, limit, cursor)
    return _day_pages(deps, start, end, keep, limit, cursor)


def _day_pages(
    deps: Deps,
    start: str,
    end: str,
    keep: Callable[[Call], bool],
    limit: int,
    cursor: str | None,
) -> Page[Call]:
    day, before = _decode(cursor, True, start, end)
    found: list[Call] = []
    for _ in range(_MAX_READS):
        rows = deps.store.calls.on_day(day, before, _CHUNK)
        for index, call in enumerate(rows):
            before = call.id
            if keep(call):
                found.append(call)
                if len(found) == limit:
                    rest = rows[index + 1 :]
                    if not rest and len(rows) < _CHUNK and day == start:
                        return Page(found, None)
                    return Page(found, cursors.dump({"d": day, "b": call.id}))
        if len(rows) < _CHUNK:  # the day is done: the one before it
            if day <= start:
                return Page(found, None)
            day = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
            before = None
    if before is None:
        # a day not begun: its first id bound is "after every id"
        before = "Z" * _ID_LEN
    return Page(found, cursors.dump({"d": day, "b": before}))


def _member_pages(
    deps: Deps,
    member_id: str,
    first: date,
    last: date,
    tz: str,
    keep: Callable[[Call], bool],
    limit: int,
    cursor: str | None,
) -> Page[Call]:
    low = _ulid_floor(_day_start(first, tz))
    end_id = _ulid_floor(_day_start(last + timedelta(days=1), tz))
    _, before = _decode(cursor, False, first.isoformat(), last.isoformat())
    high = before or end_id
    found: list[Call] = []
    for _ in range(_MAX_READS):
        rows = deps.store.calls.of_member_between(member_id, low, high, _CHUNK)
        for index, call in enumerate(rows):
            high = call.id
            if keep(call):
                found.append(call)
                if len(found) == limit:
                    if len(rows) < _CHUNK and index == len(rows) - 1:
                        return Page(found, None)
                    return Page(found, cursors.dump({"b": call.id}))
        if len(rows) < _CHUNK:
            return Page(found, None)
    return Page(found, cursors.dump({"b": high}))
