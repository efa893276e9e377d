"""Counter names and the ONE rule that turns a record into the counters it contributes.

Live transitions move a day's counters by `change(before, after)` in the same transaction as
the record change; the rollup recomputes a day as the sum of `of_call`/`of_message` over its
records. Both use the same function, so they cannot disagree (tests/unit/test_counter_rules.py
checks it over random histories).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from chalicelib.domain.statuses import CALL_FINAL, INBOUND, LEAD_LEG_FINAL, SMS_FINAL, is_machine

FUNNEL_SCOPE = "funnel"
FUNNEL_DAY = "current"
ALL_SCOPE = "all"
REVISION = "rev"

# ---------------------------------------------------------------- day counters (scope "all")
# One item per business day holds every counter of that day, the per-member ones included
# (`m#<memberId>#<name>`), so the stats endpoint reads a date range with one Query.

CALLS_PLACED = "calls"
CALLS_CONNECTED = "connected"
TALK_SECONDS = "talk"
SMS_SENT = "sms#sent"
SMS_INBOUND = "sms#inbound"
# Leads moved to `converted` that day (an event; see services.leads.conversion_deltas). Not
# derivable from calls or messages, so the rollup keeps it as it finds it.
CONVERTED = "converted"


def call_status(status: str) -> str:
    return f"call#{status}"


def lead_leg_status(status: str) -> str:
    return f"lead#{status}"


def sms_status(status: str) -> str:
    return f"sms#{status}"


def member(member_id: str, name: str) -> str:
    return f"m#{member_id}#{name}"


def lead_status(status: str) -> str:
    return f"status#{status}"


class CallLike(Protocol):
    @property
    def team_member_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def lead_leg_status(self) -> str | None: ...
    @property
    def talk_seconds(self) -> int | None: ...
    @property
    def answered_by(self) -> str | None: ...


class MessageLike(Protocol):
    @property
    def team_member_id(self) -> str | None: ...
    @property
    def direction(self) -> str: ...
    @property
    def status(self) -> str: ...


def of_call(call: CallLike) -> Counter[str]:
    """The day counters a call in its present state contributes: placed (and its member's);
    its final status; its lead leg's final status; connected and talk time once the lead leg
    completed and a person answered it (a conversation happened): a lead leg answered by a
    machine (answering-machine detection: voicemail, fax) counts `lead#completed` only."""
    out: Counter[str] = Counter()
    member_id = call.team_member_id
    out[CALLS_PLACED] += 1
    out[member(member_id, "calls")] += 1
    if call.status in CALL_FINAL:
        out[call_status(call.status)] += 1
    leg = call.lead_leg_status
    if leg in LEAD_LEG_FINAL:
        out[lead_leg_status(leg)] += 1
        if leg == "completed" and not is_machine(call.answered_by):
            talk = max(0, int(call.talk_seconds or 0))
            out[CALLS_CONNECTED] += 1
            out[member(member_id, "connected")] += 1
            out[TALK_SECONDS] += talk
            out[member(member_id, "talk")] += talk
    return +out


def of_message(message: MessageLike) -> Counter[str]:
    """Inbound: `sms#inbound`. Outbound: sent (and its member's), and its final status."""
    out: Counter[str] = Counter()
    if message.direction == INBOUND:
        out[SMS_INBOUND] += 1
        return out
    out[SMS_SENT] += 1
    if message.team_member_id:
        out[member(message.team_member_id, "sms")] += 1
    if message.status in SMS_FINAL:
        out[sms_status(message.status)] += 1
    return out


def change(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Deltas that move counters from `before`'s contribution to `after`'s (non-zero only)."""
    names = set(before) | set(after)
    deltas = {n: after.get(n, 0) - before.get(n, 0) for n in sorted(names)}
    return {n: d for n, d in deltas.items() if d}


def of_day(calls: Iterable[CallLike], messages: Iterable[MessageLike]) -> dict[str, int]:
    """A day's derived counters from its records (the rollup)."""
    total: Counter[str] = Counter()
    for call in calls:
        total.update(of_call(call))
    for message in messages:
        total.update(of_message(message))
    return {k: v for k, v in total.items() if v}


def lead_status_deltas(old: str | None, new: str | None) -> dict[str, int]:
    """Funnel deltas for a lead moving from `old` to `new` (None: not counted, i.e. absent or
    archived)."""
    deltas: Counter[str] = Counter()
    if old == new:
        return {}
    if old is not None:
        deltas[lead_status(old)] -= 1
        deltas["total"] -= 1
    if new is not None:
        deltas[lead_status(new)] += 1
        deltas["total"] += 1
    return {k: v for k, v in deltas.items() if v}
