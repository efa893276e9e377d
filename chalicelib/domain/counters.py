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
MEMBERS_SCOPE = "members"
REVISION = "rev"

# ---------------------------------------------------------------- day counters (scope "all")
# One item per business day holds the team's counters of that day; each member's counters of
# the day live in an item of their own (scope "members", day "<day>#<memberId>"), so no item
# grows with the size of the team (DynamoDB refuses an item over 400 KB). The rules below
# still name a member's counters `m#<memberId>#<name>` in one flat contribution; `split` sorts
# a contribution (or a day's total) into the day item's part and each member item's part.

CALLS_PLACED = "calls"
CALLS_CONNECTED = "connected"
TALK_SECONDS = "talk"
SMS_SENT = "sms#sent"
SMS_INBOUND = "sms#inbound"
# Leads moved to `converted` that day (an event; see services.leads.conversion_deltas). Not
# derivable from calls or messages, so the rollup keeps it as it finds it.
CONVERTED = "converted"
# Calls to our number (services/inbound.py): every one, those a member took, those nobody
# took, and those where the caller left a voicemail; a member's `inbound` = calls they took.
INBOUND_CALLS = "inbound"
INBOUND_ANSWERED = "inbound#answered"
INBOUND_MISSED = "inbound#missed"
INBOUND_VOICEMAILS = "inbound#voicemail"
# Meetings a member booked (calls wrapped up `meeting_booked`): the member counter's name.
MEETINGS = "meetings"
MEETING_BOOKED = "meeting_booked"


def call_status(status: str) -> str:
    return f"call#{status}"


def lead_leg_status(status: str) -> str:
    return f"lead#{status}"


def sms_status(status: str) -> str:
    return f"sms#{status}"


def member(member_id: str, name: str) -> str:
    return f"m#{member_id}#{name}"


def member_day(day: str, member_id: str) -> str:
    """The range key of a member's item for a day: a date range of every member is one Query
    (`between "<start>#" and "<end>#~"`)."""
    return f"{day}#{member_id}"


def member_range(start: str, end: str) -> tuple[str, str]:
    """The range keys bounding every member item of the days [start, end] ("~" sorts after
    every character an id is made of)."""
    return f"{start}#", f"{end}#~"


def parse_member_day(key: str) -> tuple[str, str]:
    """(day, member id) of a member item's range key."""
    day, _, member_id = key.partition("#")
    return day, member_id


def parse_member(name: str) -> tuple[str, str] | None:
    """(member id, counter) of a member counter's name `m#<memberId>#<name>`; else None."""
    if not name.startswith("m#"):
        return None
    _, member_id, what = name.split("#", 2)
    return member_id, what


def split(values: Mapping[str, int]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """A contribution (or a day's total) as (the day item's part, {member id: that member's
    item's part}), zeros left out. Live transitions write each part with the same rule the
    rollup compares against, so the two cannot disagree about where a counter lives."""
    day: dict[str, int] = {}
    members: dict[str, dict[str, int]] = {}
    for name, value in values.items():
        if not value:
            continue
        parsed = parse_member(name)
        if parsed is None:
            day[name] = value
        else:
            member_id, what = parsed
            members.setdefault(member_id, {})[what] = value
    return day, members


def disposition(name: str) -> str:
    """The day counter of calls wrapped up with this disposition."""
    return f"disp#{name}"


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
    @property
    def direction(self) -> str: ...
    @property
    def recording_kind(self) -> str | None: ...
    @property
    def disposition(self) -> str | None: ...


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
    machine (answering-machine detection: voicemail, fax) counts `lead#completed` only; its
    disposition (`disp#<name>`; a meeting booked also counts the member's `meetings`)."""
    out: Counter[str] = Counter()
    member_id = call.team_member_id
    if call.direction == INBOUND:
        return _of_inbound_call(call)
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
    # The disposition the member recorded at wrap-up (it can change: a wrap-up moves these
    # counters through `transitions.apply` like a status change does).
    if call.disposition:
        out[disposition(call.disposition)] += 1
        if call.disposition == MEETING_BOOKED:
            out[member(member_id, MEETINGS)] += 1
    return +out


def _of_inbound_call(call: CallLike) -> Counter[str]:
    """A call to our number: counted, then taken (with its talk time, and the member's) or
    missed once it is over, and a voicemail once its message is stored."""
    out: Counter[str] = Counter()
    out[INBOUND_CALLS] += 1
    if call.status in CALL_FINAL:
        if call.status == "completed" and call.team_member_id not in ("", "-"):
            talk = max(0, int(call.talk_seconds or 0))
            out[INBOUND_ANSWERED] += 1
            out[member(call.team_member_id, "inbound")] += 1
            out[TALK_SECONDS] += talk
            out[member(call.team_member_id, "talk")] += talk
        else:
            out[INBOUND_MISSED] += 1
    if call.recording_kind == "voicemail":
        out[INBOUND_VOICEMAILS] += 1
    if call.disposition:
        out[disposition(call.disposition)] += 1
        if call.disposition == MEETING_BOOKED and call.team_member_id not in ("", "-"):
            out[member(call.team_member_id, MEETINGS)] += 1
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
