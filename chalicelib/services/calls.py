"""Click-to-call: place the bridge, follow both legs through Twilio's status callbacks, wrap up.

Every status change is a conditional write on the value that was read, so a status only moves
forward, a final status never changes, duplicates and late callbacks change nothing, and
concurrent callbacks cannot lose each other's updates (a failed condition re-reads and
re-decides). The day's stat counters a transition moves are written in the same transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import phone as phones
from chalicelib.clock import business_day, new_id
from chalicelib.domain import counters
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.constants import DO_NOT_CALL
from chalicelib.domain.counters import MEETING_BOOKED
from chalicelib.domain.records import Call
from chalicelib.domain.statuses import (
    CALL_FINAL,
    CALL_PROGRESS,
    LEAD_LEG_FINAL,
    NOT_CONNECTED,
    NOT_PLACED,
    UNKNOWN_TO_TWILIO,
    call_rank,
    is_machine,
)
from chalicelib.errors import (
    Blocked,
    Conflict,
    Forbidden,
    NotFound,
    TelephonyError,
    ValidationError,
    found,
    not_found,
)
from chalicelib.services import (
    access,
    audit,
    compliance,
    leads,
    limits,
    numbers,
    suppressions,
    team,
    transitions,
)
from chalicelib.services.deps import Deps
from chalicelib.services.team import Patch
from chalicelib.services.transitions import Change
from chalicelib.store.base import (
    ABSENT,
    Eq,
    Op,
    Page,
    Put,
    TransactionFailed,
    Update,
    When,
)
from chalicelib.telephony import webhooks
from chalicelib.telephony.base import TelephonyFailure

RING_TIMEOUT_SECONDS = 30
# The lead leg's `errorCode` when compliance refused to dial it after the key press.
BLOCKED = "blocked"


@dataclass(frozen=True)
class PlaceCall:
    lead_id: str
    team_member_id: str | None  # None: the signed-in member
    caller_id: str


# ---------------------------------------------------------------- URLs


def connect_url(deps: Deps, call_id: str) -> str:
    return webhooks.url(deps.settings.public_base_url, webhooks.VOICE_CONNECT, call_id=call_id)


def gather_url(deps: Deps, call_id: str) -> str:
    return webhooks.url(deps.settings.public_base_url, webhooks.VOICE_GATHER, call_id=call_id)


def status_url(deps: Deps, call_id: str) -> str:
    return webhooks.url(deps.settings.public_base_url, webhooks.VOICE_STATUS, call_id=call_id)


def lead_status_url(deps: Deps, call_id: str) -> str:
    base = deps.settings.public_base_url
    return webhooks.url(base, webhooks.VOICE_LEAD_STATUS, call_id=call_id)


def recording_url(deps: Deps, call_id: str) -> str:
    base = deps.settings.public_base_url
    return webhooks.url(base, webhooks.VOICE_RECORDING, call_id=call_id)


def notice_url(deps: Deps) -> str:
    return webhooks.url(deps.settings.public_base_url, webhooks.VOICE_NOTICE)


def amd_url(deps: Deps, call_id: str) -> str:
    return webhooks.url(deps.settings.public_base_url, webhooks.VOICE_AMD, call_id=call_id)


# ---------------------------------------------------------------- place


def place(deps: Deps, cmd: PlaceCall, actor: Actor = SYSTEM) -> Call:
    s = deps.settings
    member_id = access.acting_member(actor, cmd.team_member_id)
    lead = leads.require_live(deps, cmd.lead_id, "leadId", actor)
    member = team.require_active(deps, member_id, "teamMemberId")
    caller_id = phones.normalize(cmd.caller_id, "callerId")
    # The number's suppressions and the rules (one BatchGetItem; a refusal is audited); the
    # member's phone and the caller ID are held to the restricted numbers too.
    compliance.check(
        deps,
        actor,
        phone=lead.phone,
        channel="voice",
        lead=lead,
        ours={"memberPhone": member.phone, "callerId": caller_id},
    )
    moment = deps.clock.now()
    numbers.require_own_number(deps, caller_id, "callerId", voice=True)
    limits.check_rate(deps, member.id)  # after every refusal: a refused call costs nothing

    call = Call(
        id=new_id(),
        lead_id=lead.id,
        team_member_id=member.id,
        caller_id=caller_id,
        lead_phone=lead.phone,
        lead_name=lead.name,
        lead_state=lead.state,
        status="queued",
        day=business_day(moment, s.stats_timezone),
        created_at=moment,
        updated_at=moment,
    )
    deltas = counters.of_call(call)
    ops: list[Op] = [Put("call", call, if_absent=True), *transitions.day_counts(call.day, deltas)]
    for attempt in range(2):
        try:
            deps.store.transact([*ops, *limits.hold_ops(call, moment)])
            break
        except TransactionFailed as exc:
            if attempt or not exc.failed & set(limits.GUARDS):
                if exc.failed & set(limits.GUARDS):
                    limits.clear_stale(deps, call, exc.failed)
                raise Conflict("the call could not be placed; try again") from None
            limits.clear_stale(deps, call, exc.failed)  # 409 unless the holder had ended
    try:
        sid = deps.telephony.place_call(
            to=member.phone,
            from_=caller_id,
            url=connect_url(deps, call.id),
            status_callback=status_url(deps, call.id),
            timeout_seconds=RING_TIMEOUT_SECONDS,
        )
    except TelephonyFailure as exc:
        fail(deps, call.id, exc)
        details: dict[str, Any] = {"callId": call.id, "twilioCode": exc.code}
        if exc.maybe_executed:
            details["mayHaveBeenPlaced"] = True
        if exc.invalid_number:
            raise ValidationError(f"Twilio refused the number: {exc.message}", details) from None
        raise TelephonyError(f"Twilio could not place the call: {exc.message}", details) from None
    # Only the SID: the webhooks may already have moved the status.
    deps.store.write(Update("sid", Call, call.id, {"twilio_sid": sid}))
    call.twilio_sid = sid
    return call


def fail(deps: Deps, call_id: str, exc: TelephonyFailure) -> None:
    """Settle a call Twilio refused: `failed`, with Twilio's code and message."""
    code = str(exc.code) if exc.code is not None else (f"http_{exc.http_status}")
    advance_member_leg(
        deps, call_id, "failed", extra={"error_code": code, "error_message": exc.message[:500]}
    )


# ---------------------------------------------------------------- transitions


def _apply(
    deps: Deps,
    call_id: str,
    decide: Callable[[Call], Change | None],
    also: Callable[[Call, Call], list[Op]] | None = None,
) -> tuple[Call, bool]:
    return transitions.apply(deps, Call, call_id, decide, also)


def advance_member_leg(
    deps: Deps,
    call_id: str,
    status: str,
    *,
    duration: int | None = None,
    at: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Move the member leg (the call's own status) forward to `status`; True if it moved.

    A member leg that ends while the lead leg was never dialled (busy, no answer, failed,
    canceled, or the member hung up during the whisper, when Twilio posts nothing from the
    Gather) settles the lead leg `not-connected` at once. A lead leg that was dialled is left
    to the Dial's own callbacks."""
    moment = at or deps.clock.now()

    def decide(call: Call) -> Change | None:
        if call_rank(status) <= call_rank(call.status):
            return None
        fields: dict[str, Any] = {"status": status, "updated_at": moment}
        if status in CALL_FINAL:
            fields["ended_at"] = moment
            if duration is not None:
                fields["duration_seconds"] = duration
        fields.update(extra or {})
        return Change(fields, {"status": Eq(call.status)})

    call, moved = _apply(deps, call_id, decide)
    if moved and status in CALL_FINAL:
        if call.lead_leg_status is None:
            settle_undialled_lead_leg(deps, call_id, at=moment)
        limits.release(deps, call)  # the member leg ended: so did the call
    return moved


def release(deps: Deps, call_id: str, actor: Actor) -> Call:
    """A manager frees the member and the lead held by a call stuck live (its end never
    reported): they can be called again at once. The call itself is left to the reconciler."""
    access.require(actor, "calls.release", "release calls")
    call = get(deps, call_id, actor)
    limits.release(deps, call)
    audit.record(deps, actor, "call.released", ("call", call.id), {"status": call.status})
    return call


def settle_undialled_lead_leg(deps: Deps, call_id: str, *, at: datetime | None = None) -> bool:
    """The lead leg `not-connected`, only if it was never dialled (no lead leg status at all:
    dialling records `queued` first), so a dialled lead leg is never settled here."""
    moment = at or deps.clock.now()

    def decide(call: Call) -> Change | None:
        if call.lead_leg_status is not None:
            return None
        fields = {"lead_leg_status": NOT_CONNECTED, "updated_at": moment}
        return Change(fields, {"lead_leg_status": ABSENT})

    return _apply(deps, call_id, decide)[1]


def start_dialling(deps: Deps, call_id: str) -> Call | None:
    """The member pressed 1: check the lead's number once more (compliance, right before the
    `<Dial>`: a number suppressed since the call was placed is not dialled), record the lead
    leg `queued` (we are asking Twilio to dial it) and return the call to dial, or None when it
    must not be dialled (the call is already final, or the lead leg was settled). A repeated key
    press dials again, as before: Twilio runs only the TwiML of the request it is waiting for.

    Refused by compliance: the lead leg is settled `not-connected` with `errorCode` `blocked`
    (and the refusal's words) in the same conditional write, and `Blocked` is raised."""
    moment = deps.clock.now()
    refused: list[Blocked | None] = []  # checked once, on the first read of a call to dial

    def decide(call: Call) -> Change | None:
        if call.status in CALL_FINAL or call.lead_leg_status is not None:
            return None
        if not refused:
            refused.append(_dial_refusal(deps, call))
        when: When = {"lead_leg_status": ABSENT, "status": Eq(call.status)}
        blocked = refused[0]
        if blocked is not None:
            fields: dict[str, Any] = {
                "lead_leg_status": NOT_CONNECTED,
                "error_code": BLOCKED,
                "error_message": blocked.message[:500],
                "updated_at": moment,
            }
            return Change(fields, when)
        return Change({"lead_leg_status": "queued", "updated_at": moment}, when)

    call, moved = _apply(deps, call_id, decide)
    if refused and refused[0] is not None:
        raise refused[0]
    if moved:
        return call
    if call.status in CALL_FINAL or call.lead_leg_status in LEAD_LEG_FINAL:
        return None
    return call


def _dial_refusal(deps: Deps, call: Call) -> Blocked | None:
    if not call.lead_phone:
        return None
    try:
        compliance.check(
            deps,
            SYSTEM,
            phone=call.lead_phone,
            channel="voice",
            lead=None,
            state=call.lead_state,
            lead_id=call.lead_id,
        )
    except Blocked as exc:
        return exc
    return None


def advance_lead_leg(
    deps: Deps,
    call_id: str,
    status: str,
    *,
    duration: int | None = None,
    at: datetime | None = None,
) -> bool:
    """Move the lead leg forward; a first connected call marks the lead contacted, unless a
    machine answered it (a voicemail is no contact)."""
    moment = at or deps.clock.now()

    def decide(call: Call) -> Change | None:
        if call_rank(status) <= call_rank(call.lead_leg_status):
            return None
        fields: dict[str, Any] = {"lead_leg_status": status, "updated_at": moment}
        if status == "in-progress" and call.answered_at is None:
            fields["answered_at"] = moment
        if status == "completed":
            talk = max(0, duration or 0)
            fields["talk_seconds"] = talk
            if call.answered_at is None:
                fields["answered_at"] = moment - timedelta(seconds=talk)
        # Both fields `counters.of_call` reads of the lead leg are conditions, so a verdict
        # landing meanwhile makes this re-read (and the counters follow both).
        return Change(fields, _lead_leg_as_read(call))

    call, moved = _apply(deps, call_id, decide)
    if moved and status == "completed" and not is_machine(call.answered_by):
        leads.mark_contacted(deps, call.lead_id, moment)
    return moved


def record_answered_by(
    deps: Deps, call_id: str, answered_by: str, *, at: datetime | None = None
) -> bool:
    """Twilio's answering-machine verdict on the lead leg: stored once (the first wins); the
    counters follow `counters.of_call` (a machine's completed leg is not `connected`).

    DetectMessageEnd posts it when the greeting ends, before the leg completes; should the
    completion land first, the counters still come right, but the lead stays contacted."""
    moment = at or deps.clock.now()

    def decide(call: Call) -> Change | None:
        if call.answered_by is not None:
            return None
        fields = {"answered_by": answered_by, "updated_at": moment}
        return Change(fields, _lead_leg_as_read(call))

    return _apply(deps, call_id, decide)[1]


def _lead_leg_as_read(call: Call) -> dict[str, Any]:
    leg, by = call.lead_leg_status, call.answered_by
    return {
        "lead_leg_status": ABSENT if leg is None else Eq(leg),
        "answered_by": ABSENT if by is None else Eq(by),
    }


# ---------------------------------------------------------------- read and wrap up


def get(deps: Deps, call_id: str, actor: Actor = SYSTEM) -> Call:
    call = found(deps.store.calls.get(call_id), "call", call_id)
    if not actor.sees_all_leads and call.team_member_id != actor.member_id:
        # A caller reads calls of leads they can read (and their own).
        lead = deps.store.leads.get(call.lead_id)
        if lead is None or not actor.sees_lead(lead.assigned_to_id):
            raise not_found("call", call_id)
    return call


def list_calls(
    deps: Deps,
    lead_id: str | None,
    member_id: str | None,
    limit: int,
    cursor: str | None,
    actor: Actor = SYSTEM,
) -> Page[Call]:
    if bool(lead_id) == bool(member_id):
        raise ValidationError("give exactly one of leadId or teamMemberId", {"field": "leadId"})
    if lead_id:
        if not actor.sees_all_leads:
            leads.get(deps, lead_id, actor)  # a lead the caller cannot read: 404
        return deps.store.calls.page_by_lead(lead_id, limit, cursor)
    assert member_id is not None
    if not actor.sees_all_leads and member_id != actor.member_id:
        raise Forbidden("a caller sees only their own calls by member", {"field": "teamMemberId"})
    return deps.store.calls.page_by_member(member_id, limit, cursor)


@dataclass(frozen=True)
class WrapUp:
    """The fields the client sent: `disposition`, `notes` (None clears one)."""

    values: Mapping[str, str | None]


def wrap_up(deps: Deps, call_id: str, cmd: WrapUp, actor: Actor = SYSTEM) -> Call:
    """Disposition and notes: updated in place (never a whole-item save, which could undo a
    status callback landing at the same moment), through `transitions.apply`: a disposition is
    counted (`counters.of_call`), so changing it moves the day's counters in the same
    transaction, on the condition that the disposition is still the one read (two wrap-ups at
    once never count twice). `meeting_booked` moves the lead to `qualified` (see
    `qualify_for_meeting`)."""
    if not actor.sees_all_leads:
        get(deps, call_id, actor)
    values = dict(cmd.values)

    def decide(call: Call) -> Change:
        read = call.disposition
        return Change(
            {"updated_at": deps.clock.now(), **values},
            {"disposition": ABSENT if read is None else Eq(read)},
        )

    before, _ = transitions.apply(deps, Call, call_id, decide)
    call = dataclasses.replace(before, **decide(before).set)
    disposition = values.get("disposition")
    if disposition == DO_NOT_CALL:
        # The person asked on the phone: their number is suppressed for calls and texts.
        phone = call.lead_phone or _lead_phone(deps, call.lead_id)
        if phone:
            suppressions.add(
                deps,
                actor,
                phone,
                ["voice", "sms"],
                source="disposition",
                reason="asked on the phone not to be contacted",
            )
    if disposition == MEETING_BOOKED and before.disposition != MEETING_BOOKED:
        qualify_for_meeting(deps, call.lead_id)
    return call


# A meeting booked means the lead is interested: it moves to `qualified` from `new`,
# `contacted` and `not_interested` (a booked meeting overrides an earlier "not interested");
# `qualified` and `converted` are already as far or further and stay.
_FURTHER_THAN_MEETING = frozenset({"qualified", "converted"})


def qualify_for_meeting(deps: Deps, lead_id: str) -> None:
    """A call wrapped up `meeting_booked`: the lead moves to `qualified` unless it is already
    there or further (or archived), with its funnel counters (`leads.update`, as the system:
    the member who booked it may no longer see the lead)."""
    lead = deps.store.leads.get(lead_id, consistent=True)
    if lead is None or lead.archived_at is not None or lead.status in _FURTHER_THAN_MEETING:
        return
    # archived or edited meanwhile by someone (a 409): their edit stands
    with contextlib.suppress(Conflict):
        leads.update(deps, lead_id, Patch({"status": "qualified"}, None))


def _lead_phone(deps: Deps, lead_id: str) -> str | None:
    lead = deps.store.leads.get(lead_id)
    return lead.phone if lead is not None else None


# ---------------------------------------------------------------- reconciler


@dataclass
class ReconcileReport:
    examined: int = 0
    settled: int = 0
    errors: int = 0


def reconcile_stale(deps: Deps, moment: datetime | None = None) -> ReconcileReport:
    """Settle calls still not final 15 minutes after creation (a lost or refused callback):
    fetch them from Twilio and apply what it says through the same transitions. Reads only
    today's and yesterday's by-day partitions (a Query each, never a Scan).

    A call Twilio answers 404 for (it does not know the SID) is settled once, `failed`
    (`twilio_404`), both legs final: it leaves the unsettled calls and is never asked about
    again."""
    at = moment or deps.clock.now()
    done = transitions.settle_stale(
        deps,
        at,
        deps.store.calls.unsettled_on,
        lambda call: _settle(deps, call, at),
        (TelephonyFailure, NotFound),
    )
    return ReconcileReport(done.examined, done.settled, done.errors)


def _settle(deps: Deps, call: Call, at: datetime) -> bool:
    if not call.twilio_sid:
        if call.status in CALL_FINAL:
            return False
        # Created but never handed to Twilio (the request died in between).
        return advance_member_leg(
            deps,
            call.id,
            "failed",
            at=at,
            extra={
                "error_code": NOT_PLACED,
                "error_message": "the call was never handed to Twilio",
            },
        )
    if call.error_code == UNKNOWN_TO_TWILIO:
        return _settle_unknown(deps, call, at)  # asked once already: never again
    try:
        state = deps.telephony.fetch_call(call.twilio_sid)
    except TelephonyFailure as exc:
        if not exc.not_found:
            raise
        return _settle_unknown(deps, call, at)
    changed = False
    for child in state.children:
        if child.status in CALL_FINAL or child.status in CALL_PROGRESS:
            changed |= advance_lead_leg(
                deps, call.id, child.status, duration=child.duration_seconds, at=at
            )
    if state.status in CALL_FINAL:
        changed |= advance_member_leg(
            deps, call.id, state.status, duration=state.duration_seconds, at=at
        )
        if not state.children and call.lead_leg_status in (None, "queued"):
            changed |= advance_lead_leg(deps, call.id, NOT_CONNECTED, at=at)
    return changed


def _settle_unknown(deps: Deps, call: Call, at: datetime) -> bool:
    """Twilio does not know the call: the member leg `failed` (with the reason) and a lead leg
    still open `not-connected` when it was never dialled, else `failed`: nothing will ever
    report on either, and nothing is claimed that Twilio cannot confirm."""
    changed = advance_member_leg(
        deps,
        call.id,
        "failed",
        at=at,
        extra={
            "error_code": UNKNOWN_TO_TWILIO,
            "error_message": f"Twilio does not know this call (404 for {call.twilio_sid})",
        },
    )
    leg = call.lead_leg_status
    if leg not in LEAD_LEG_FINAL:
        lead_leg = NOT_CONNECTED if leg in (None, "queued") else "failed"
        changed |= advance_lead_leg(deps, call.id, lead_leg, at=at)
    return changed
