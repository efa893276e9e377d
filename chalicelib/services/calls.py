"""Click-to-call: place the bridge, follow both legs through Twilio's status callbacks, wrap up.

Every status change is a conditional write on the value that was read, so a status only moves
forward, a final status never changes, duplicates and late callbacks change nothing, and
concurrent callbacks cannot lose each other's updates (a failed condition re-reads and
re-decides). The day's stat counters a transition moves are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import phone as phones
from chalicelib import providers
from chalicelib.clock import business_day, new_id, now
from chalicelib.db import counters
from chalicelib.db.models import Call
from chalicelib.db.pagination import Page, query_page
from chalicelib.errors import Blocked, NotFound, TelephonyError, ValidationError, not_found
from chalicelib.services import calling_hours, leads, numbers, team, transitions
from chalicelib.services.transitions import Change
from chalicelib.telephony.base import TelephonyFailure

if TYPE_CHECKING:
    from chalicelib.api.schemas import CallCreate, CallUpdate

FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
_PROGRESS = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
# The lead leg has one more final state: the member never pressed 1, so it was never dialled.
NOT_CONNECTED = "not-connected"
LEAD_FINAL = FINAL | {NOT_CONNECTED}
STALE_AFTER = timedelta(minutes=15)
RING_TIMEOUT_SECONDS = 30


def rank(status: str | None) -> int:
    if status is None:
        return -1
    if status in FINAL or status == NOT_CONNECTED:
        return 4
    return _PROGRESS.get(status, -1)


def is_known_status(status: str) -> bool:
    return status in FINAL or status in _PROGRESS


# ---------------------------------------------------------------- URLs


def connect_url(call_id: str) -> str:
    return f"{providers.settings().public_base_url}/twilio/voice/connect/{call_id}"


def status_url(call_id: str) -> str:
    return f"{providers.settings().public_base_url}/twilio/voice/status/{call_id}"


def lead_status_url(call_id: str) -> str:
    return f"{providers.settings().public_base_url}/twilio/voice/lead-status/{call_id}"


# ---------------------------------------------------------------- place


def place(body: CallCreate) -> Call:
    s = providers.settings()
    lead = leads.require_live(body.lead_id, "leadId")
    if lead.do_not_call:
        raise Blocked(
            "this lead is marked do-not-call", {"reason": "do_not_call", "leadId": lead.id}
        )
    member = team.require_active(body.team_member_id, "teamMemberId")
    caller_id = phones.normalize(body.caller_id, "callerId")
    moment = now()
    zones = phones.timezones(lead.phone) or ([lead.timezone] if lead.timezone else [])
    verdict = calling_hours.check(zones, moment, s.calling_hours)
    if not verdict.allowed:
        start, end = (t.strftime("%H:%M") for t in s.calling_hours)
        raise Blocked(
            verdict.explain(s.calling_hours),
            {
                "reason": "calling_hours",
                "leadLocalTime": verdict.local_times,
                "timezones": verdict.zones,
                "allowedHours": f"{start}-{end}",
                "opensAt": verdict.opens_at.isoformat().replace("+00:00", "Z")
                if verdict.opens_at
                else None,
            },
        )
    numbers.require_own_number(caller_id, "callerId", voice=True)

    call = Call(
        id=new_id(),
        lead_id=lead.id,
        team_member_id=member.id,
        caller_id=caller_id,
        lead_phone=lead.phone,
        lead_name=lead.name,
        status="queued",
        day=business_day(moment, s.stats_timezone),
        created_at=moment,
        updated_at=moment,
    )
    with providers.transaction() as tx:
        tx.save(call, condition=Call.id.does_not_exist())
        tx.update(
            counters.day_item(call.day),
            counters.day_actions(
                {counters.CALLS_PLACED: 1, counters.member(member.id, "calls"): 1}
            ),
        )
    try:
        sid = providers.telephony().place_call(
            to=member.phone,
            from_=caller_id,
            url=connect_url(call.id),
            status_callback=status_url(call.id),
            timeout_seconds=RING_TIMEOUT_SECONDS,
        )
    except TelephonyFailure as exc:
        fail(call.id, exc)
        details: dict[str, Any] = {"callId": call.id, "twilioCode": exc.code}
        if exc.maybe_executed:
            details["mayHaveBeenPlaced"] = True
        if exc.invalid_number:
            raise ValidationError(f"Twilio refused the number: {exc.message}", details) from None
        raise TelephonyError(f"Twilio could not place the call: {exc.message}", details) from None
    # Only the SID: the webhooks may already have moved the status.
    call.update(actions=[Call.twilio_sid.set(sid)])
    return call


def fail(call_id: str, exc: TelephonyFailure) -> None:
    """Settle a call Twilio refused: `failed`, with Twilio's code and message."""
    code = str(exc.code) if exc.code is not None else (f"http_{exc.http_status}")
    advance_member_leg(
        call_id,
        "failed",
        extra=[Call.error_code.set(code), Call.error_message.set(exc.message[:500])],
    )


# ---------------------------------------------------------------- transitions


def _apply(call_id: str, decide: Callable[[Call], Change | None]) -> tuple[Call, bool]:
    return transitions.apply(Call, call_id, "call", decide)


def _same(attr: Any, value: Any) -> Condition:
    return attr.does_not_exist() if value is None else attr == value


def advance_member_leg(
    call_id: str,
    status: str,
    *,
    duration: int | None = None,
    at: datetime | None = None,
    extra: list[Action] | None = None,
) -> bool:
    """Move the member leg (the call's own status) forward to `status`; True if it moved."""
    moment = at or now()

    def decide(call: Call) -> Change | None:
        if rank(status) <= rank(call.status):
            return None
        actions: list[Action] = [Call.status.set(status), Call.updated_at.set(moment)]
        deltas: dict[str, int] = {}
        if status in FINAL:
            actions.append(Call.ended_at.set(moment))
            if duration is not None:
                actions.append(Call.duration_seconds.set(duration))
            deltas[counters.call_status(status)] = 1
        actions += extra or []
        return Change(actions, Call.status == call.status, deltas)

    return _apply(call_id, decide)[1]


def advance_lead_leg(
    call_id: str, status: str, *, duration: int | None = None, at: datetime | None = None
) -> bool:
    """Move the lead leg forward; a first connected call marks the lead contacted."""
    moment = at or now()

    def decide(call: Call) -> Change | None:
        if rank(status) <= rank(call.lead_leg_status):
            return None
        actions: list[Action] = [Call.lead_leg_status.set(status), Call.updated_at.set(moment)]
        deltas: dict[str, int] = {}
        if status == "in-progress" and call.answered_at is None:
            actions.append(Call.answered_at.set(moment))
        if status in LEAD_FINAL:
            deltas[counters.lead_leg_status(status)] = 1
            if status == "completed":
                talk = max(0, duration or 0)
                actions.append(Call.talk_seconds.set(talk))
                if call.answered_at is None:
                    actions.append(Call.answered_at.set(moment - timedelta(seconds=talk)))
                deltas[counters.CALLS_CONNECTED] = 1
                deltas[counters.member(call.team_member_id, "connected")] = 1
                if talk:
                    deltas[counters.TALK_SECONDS] = talk
                    deltas[counters.member(call.team_member_id, "talk")] = talk
        return Change(actions, _same(Call.lead_leg_status, call.lead_leg_status), deltas)

    call, moved = _apply(call_id, decide)
    if moved and status == "completed":
        leads.mark_contacted(call.lead_id, moment)
    return moved


# ---------------------------------------------------------------- read and wrap up


def get(call_id: str) -> Call:
    providers.settings()
    try:
        return Call.get(call_id)
    except DoesNotExist:
        raise not_found("call", call_id) from None


def list_calls(
    lead_id: str | None, member_id: str | None, limit: int, cursor: str | None
) -> Page[Call]:
    from chalicelib.db import cursor as cursors

    providers.settings()
    if bool(lead_id) == bool(member_id):
        raise ValidationError("give exactly one of leadId or teamMemberId", {"field": "leadId"})
    if lead_id:
        start = cursors.decode(cursor, {"id", "lead_id"})
        return query_page(Call.by_lead, lead_id, {"id", "lead_id"}, limit, start)
    assert member_id is not None
    start = cursors.decode(cursor, {"id", "team_member_id"})
    return query_page(Call.by_member, member_id, {"id", "team_member_id"}, limit, start)


def wrap_up(call_id: str, body: CallUpdate) -> Call:
    """Disposition and notes: updated in place (never a whole-item save, which could undo a
    status callback landing at the same moment)."""
    providers.settings()
    actions: list[Action] = [Call.updated_at.set(now())]
    for name in ("disposition", "notes"):
        if name in body.model_fields_set:
            value = getattr(body, name)
            attr = getattr(Call, name)
            actions.append(attr.set(value) if value is not None else attr.remove())
    call = Call(id=call_id)
    try:
        call.update(actions=actions, condition=Call.id.exists())
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            raise not_found("call", call_id) from None
        raise
    return call


# ---------------------------------------------------------------- reconciler


@dataclass
class ReconcileReport:
    examined: int = 0
    settled: int = 0
    errors: int = 0


def reconcile_stale(moment: datetime | None = None) -> ReconcileReport:
    """Settle calls still not final 15 minutes after creation (a lost or refused callback):
    fetch them from Twilio and apply what it says through the same transitions. Reads only
    today's and yesterday's by-day partitions (a Query each, never a Scan)."""
    s = providers.settings()
    at = moment or now()
    report = ReconcileReport()
    days = {
        business_day(at, s.stats_timezone),
        business_day(at - timedelta(days=1), s.stats_timezone),
    }
    unsettled = (
        Call.status.is_in(*_PROGRESS)
        | Call.lead_leg_status.does_not_exist()
        | (Call.lead_leg_status.is_in("initiated", "ringing", "in-progress"))
    )
    for day in sorted(days):
        for call in Call.by_day.query(day, filter_condition=unsettled):
            if call.created_at > at - STALE_AFTER:
                continue
            report.examined += 1
            try:
                if _settle(call, at):
                    report.settled += 1
            except (TelephonyFailure, NotFound):
                report.errors += 1
    return report


def _settle(call: Call, at: datetime) -> bool:
    if not call.twilio_sid:
        if call.status in FINAL:
            return False
        # Created but never handed to Twilio (the request died in between).
        return advance_member_leg(
            call.id,
            "failed",
            at=at,
            extra=[
                Call.error_code.set("not_placed"),
                Call.error_message.set("the call was never handed to Twilio"),
            ],
        )
    state = providers.telephony().fetch_call(call.twilio_sid)
    changed = False
    for child in state.children:
        if child.status in FINAL or child.status in _PROGRESS:
            changed |= advance_lead_leg(
                call.id, child.status, duration=child.duration_seconds, at=at
            )
    if state.status in FINAL:
        changed |= advance_member_leg(call.id, state.status, duration=state.duration_seconds, at=at)
        if not state.children and call.lead_leg_status is None:
            changed |= advance_lead_leg(call.id, NOT_CONNECTED, at=at)
    return changed
