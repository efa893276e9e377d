"""The power dialer's session machinery, shared by the member's actions (services/dialer.py)
and Twilio's webhooks (services/dialer_hooks.py): reading a session, moving it, dialling the
campaign's next lead, a dial's final status, and ending a session.

Every move of a session is a conditional write on the version read (`_move`): a duplicate or
out-of-order webhook finds the session moved on and changes nothing. Every dial is a Call
record (`campaign_id`, `session_id`), counted in the day's counters like any call; the
campaign's dial counters move in the same transaction as the call's final status
(`_finish_call`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chalicelib.clock import business_day, new_id
from chalicelib.domain import counters
from chalicelib.domain import dialer as rules
from chalicelib.domain.actors import SYSTEM
from chalicelib.domain.records import Call, Campaign, DialerSession
from chalicelib.domain.statuses import CALL_FINAL, is_machine
from chalicelib.errors import Conflict, not_found
from chalicelib.services import audit, campaigns, queue, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.transitions import Change
from chalicelib.store.base import ConditionFailed, Delete, Eq, Op, Put, TransactionFailed
from chalicelib.telephony import webhooks as hooks
from chalicelib.telephony.base import TelephonyFailure

log = logging.getLogger("coldcall")

LEAD_RING_SECONDS = 25
MACHINE_DETECTION = "DetectMessageEnd"  # a machine's verdict comes after its greeting (the beep)
MAX_DIALS_PER_STEP = 3  # lead calls Twilio refuses in a row before the session waits
MAX_MOVES = 5


# ---------------------------------------------------------------- reading


def _url(deps: Deps, path: str, **ids: str) -> str:
    return hooks.url(deps.settings.public_base_url, path, **ids)


def _guard_key(member_id: str) -> str:
    return f"session#{member_id}"


def _read(deps: Deps, session_id: str) -> DialerSession:
    session = deps.store.dialer_sessions.get(session_id, consistent=True)
    if session is None:
        raise not_found("dialer session", session_id)
    return session


# ---------------------------------------------------------------- moving a session


def _move(
    deps: Deps,
    session_id: str,
    decide: Callable[[DialerSession], dict[str, Any] | None],
    ops: Callable[[DialerSession, DialerSession], list[Op]] | None = None,
    *,
    read: DialerSession | None = None,
) -> tuple[DialerSession, bool]:
    """Apply `decide`'s changes to the session on the condition that its version is the one
    read (with `ops` in the same transaction); on a lost race read again and decide again.
    `read`: the session as the caller just read it, tried first (a request saved). Returns
    (the session as it is now, moved?)."""
    for attempt in range(MAX_MOVES):
        session = read if attempt == 0 and read is not None else _read(deps, session_id)
        changes = decide(session)
        if changes is None:
            return session, False
        after = dataclasses.replace(session, **changes)
        if "status" in changes and changes["status"] != session.status:
            after.status_since = changes.get("status_since", deps.clock.now())
        after.updated_at = deps.clock.now()
        extra = ops(session, after) if ops is not None else []
        try:
            if extra:
                deps.store.transact([Put("session", after), *extra])
            else:
                deps.store.write(Put("session", after))
        except ConditionFailed:
            continue
        except TransactionFailed as exc:
            if "session" in exc.failed or exc.conflict:
                continue
            raise
        return after, True
    raise Conflict("the session is changing too fast; try again", {"sessionId": session_id})


# ---------------------------------------------------------------- dialling


def dial_next(deps: Deps, session_id: str, read: DialerSession | None = None) -> DialerSession:
    """Take the campaign's next lead and ring it; `ready` (waiting, with a note) when no lead
    may be called now. Only from `ready`, `dialing` (the previous lead call is over) or
    `wrap_up`/`paused` (the member pressed Next or Resume). `read`: the session as the caller
    just read or wrote it (the dial's transaction is conditional on its version anyway)."""
    for attempt in range(MAX_DIALS_PER_STEP):
        session = read if attempt == 0 and read is not None else _read(deps, session_id)
        if session.status not in (rules.READY, rules.DIALING, rules.WRAP_UP, rules.PAUSED):
            return session
        campaign = deps.store.campaigns.get(session.campaign_id, consistent=True)
        if campaign is None or campaign.status != "active":
            return _end(deps, session_id, "campaign_not_active")
        taken = queue.take_next(deps, campaign, session.id, session.team_member_id)
        if taken is None:
            return _wait(deps, session)
        placed = _place_lead_call(deps, session, campaign, taken)
        if placed is not None:
            return placed
    return _move(
        deps,
        session_id,
        lambda s: (
            {"status": rules.READY, "note": "twilio_error"} if s.status != rules.ENDED else None
        ),
    )[0]


def _wait(deps: Deps, read: DialerSession) -> DialerSession:
    """No lead may be called now: the session waits in `ready` (and tries again when read
    DIALER_IDLE_RETRY_SECONDS later), unless it moved since it was read."""

    def decide(s: DialerSession) -> dict[str, Any] | None:
        if s.version != read.version:
            return None
        return {
            "status": rules.READY,
            "current_lead_id": None,
            "current_call_id": None,
            "note": "no_leads",
            "status_since": deps.clock.now(),
        }

    return _move(deps, read.id, decide, read=read)[0]


def _place_lead_call(
    deps: Deps, session: DialerSession, campaign: Campaign, taken: queue.Taken
) -> DialerSession | None:
    """Create the Call and point the session at it (one transaction, on the session's version
    as read), then ring the lead. None when Twilio refused (the attempt is recorded `failed`:
    try the next lead); the session as it is when another writer moved it first."""
    lead = taken.lead
    now = deps.clock.now()
    call = Call(
        id=new_id(),
        lead_id=lead.id,
        team_member_id=session.team_member_id,
        caller_id=campaign.caller_id or "",
        day=business_day(now, deps.settings.stats_timezone),
        created_at=now,
        updated_at=now,
        lead_phone=lead.phone,
        lead_name=lead.name,
        lead_state=lead.state,
        campaign_id=campaign.id,
        session_id=session.id,
    )
    after = dataclasses.replace(
        session,
        status=rules.DIALING,
        status_since=now,
        updated_at=now,
        current_lead_id=lead.id,
        current_call_id=call.id,
        note=None,
        dialed=session.dialed + 1,
    )
    ops: list[Op] = [
        Put("session", after),
        Put("call", call, if_absent=True),
        *transitions.day_counts(call.day, counters.of_call(call)),
    ]
    try:
        deps.store.transact(ops)
    except TransactionFailed as exc:
        queue.release(deps, campaign.id, lead.id, session.id)
        if "session" in exc.failed or exc.conflict:
            return _read(deps, session.id)
        raise
    try:
        sid = deps.telephony.place_call(
            to=lead.phone,
            from_=campaign.caller_id or "",
            url=_url(deps, hooks.DIALER_LEAD, session_id=session.id, call_id=call.id),
            status_callback=_url(
                deps, hooks.DIALER_LEAD_STATUS, session_id=session.id, call_id=call.id
            ),
            timeout_seconds=LEAD_RING_SECONDS,
            machine_detection=MACHINE_DETECTION if campaign.amd != "off" else None,
            # a recorded campaign: both channels from the answer (a machine's is not kept)
            recording_callback=(
                _url(deps, hooks.VOICE_RECORDING, call_id=call.id) if campaign.record else None
            ),
        )
    except TelephonyFailure as exc:
        log.warning("dialer: Twilio refused a lead call: %s", exc.message)
        _finish_call(deps, call.id, "failed", error=(str(exc.code or ""), exc.message))
        queue.finish_attempt(deps, campaign.id, lead.id, session.id, "failed")
        return None
    from chalicelib.store.base import Update

    deps.store.write(Update("sid", Call, call.id, {"twilio_sid": sid}))
    now_session = _read(deps, session.id)
    if now_session.status == rules.ENDED or now_session.current_call_id != call.id:
        # the session ended while Twilio placed the call (`_end` saw no SID to hang up): the
        # lead must not answer a session nobody is in; its final status records the attempt
        _hang_up(deps, sid)
        return now_session
    return after


# ---------------------------------------------------------------- a dial's final status


def _queue_outcome(kind: str) -> str:
    """The queue's word for an outcome (an abandoned call reached a person)."""
    return "human" if kind == "abandoned" else kind


def _of_session(call: Call, session_id: str | None) -> None:
    """404 for a call of another session (the webhook's URL names both)."""
    if session_id is not None and call.session_id != session_id:
        raise not_found("call", call.id)


def _finish_call(
    deps: Deps,
    call_id: str,
    status: str,
    *,
    duration: int | None = None,
    error: tuple[str, str] | None = None,
    session_id: str | None = None,
) -> Call:
    """The call's final status (first one wins), with the campaign's dial counters in the same
    transaction: a duplicate or late callback changes nothing and counts nothing."""
    now = deps.clock.now()

    def decide(call: Call) -> Change | None:
        _of_session(call, session_id)
        if call.status in CALL_FINAL:
            return None
        fields: dict[str, Any] = {
            "status": status,
            "lead_leg_status": status,
            "updated_at": now,
            "ended_at": now,
        }
        if duration is not None:
            fields["duration_seconds"] = duration
        if status == "completed":
            fields["talk_seconds"] = 0 if is_machine(call.answered_by) else max(0, duration or 0)
            if call.answered_at is None:
                fields["answered_at"] = now - timedelta(seconds=max(0, duration or 0))
        if error is not None:
            fields["error_code"], fields["error_message"] = error[0] or None, error[1][:500]
        if call.campaign_id is not None and call.disposition is None:
            # busy, no answer, a machine: the outcome says what the member would have chosen
            automatic = rules.outcome_of(
                status,
                call.answered_by,
                voicemail_left=call.voicemail_left,
                bridged=not call.abandoned,
            ).disposition
            if automatic is not None:
                fields["disposition"] = automatic
        return Change(fields, {"status": Eq(call.status)})

    written: list[Call] = []  # the call as the transition wrote it (no read again)

    def campaign_counts(before: Call, after: Call) -> list[Op]:
        written.append(after)
        if before.campaign_id is None:
            return []
        outcome = rules.outcome_of(
            status,
            after.answered_by,
            voicemail_left=after.voicemail_left,
            bridged=not after.abandoned,
        )
        # busy counts as no answer, as on the session (its disposition is `no_answer` too)
        kind = "no_answer" if outcome.kind == "busy" else _queue_outcome(outcome.kind)
        ops: list[Op] = [
            campaigns.dial_outcome_op(
                before.campaign_id,
                kind,
                talk_seconds=(after.talk_seconds or 0) if kind == "human" else 0,
                voicemail_dropped=after.voicemail_left,
                abandoned=after.abandoned,
            )
        ]
        if kind == "human":
            # the abandonment rule's window (30 days): answered by a person, and abandoned
            ops.append(campaigns.answered_day_op(before.campaign_id, after.day, after.abandoned))
        return ops

    call, moved = transitions.apply(deps, Call, call_id, decide, campaign_counts)
    return written[-1] if moved and written else call


# ---------------------------------------------------------------- ending


def _end(deps: Deps, session_id: str, reason: str, *, note: str | None = None) -> DialerSession:
    """The session ends: the member's call and a lead call still ringing are hung up (the
    conference ends with the member), the lead reserved and not dialled is given back, an
    unfinished conversation's attempt is recorded, and the member's guard is freed."""
    now = deps.clock.now()
    # What is cleaned up is decided on the session as it was when it ended (the version this
    # write replaced), never on an earlier read: a lead call's final status can move it to
    # wrap-up, or to the next lead, between the two.
    replaced: list[DialerSession] = []

    def decide(s: DialerSession) -> dict[str, Any] | None:
        if s.status == rules.ENDED:
            return None
        replaced[:] = [s]
        return {"status": rules.ENDED, "ended_at": now, "end_reason": reason, "note": note}

    session, moved = _move(deps, session_id, decide)
    if not moved:
        return session
    (before,) = replaced
    from chalicelib.domain.records import LiveCall

    with contextlib.suppress(ConditionFailed):
        deps.store.write(
            Delete(
                "guard", LiveCall, _guard_key(session.team_member_id), {"call_id": Eq(session.id)}
            )
        )
    for sid in (before.member_call_sid,):
        if sid:
            _hang_up(deps, sid)
    if before.current_call_id:
        call = deps.store.calls.get(before.current_call_id, consistent=True)
        if call is not None and call.status not in CALL_FINAL and call.twilio_sid:
            _hang_up(deps, call.twilio_sid)
    if before.current_lead_id:
        call = deps.store.calls.get(before.current_call_id or "", consistent=True)
        if before.status == rules.WRAP_UP:
            queue.finish_attempt(
                deps,
                before.campaign_id,
                before.current_lead_id,
                session.id,
                "human",
                disposition=call.disposition if call is not None else None,
            )
        elif call is None:
            # never placed: the lead goes back as it was
            queue.release(deps, before.campaign_id, before.current_lead_id, session.id)
        elif call.status in CALL_FINAL:
            # its final status landed, and the session ended before that callback moved it
            outcome = rules.outcome_of(
                call.status,
                call.answered_by,
                voicemail_left=call.voicemail_left,
                bridged=not call.abandoned,
            )
            queue.finish_attempt(
                deps,
                before.campaign_id,
                before.current_lead_id,
                session.id,
                _queue_outcome(outcome.kind),
                disposition=call.disposition or outcome.disposition,
            )
        # else: ringing or talking (hung up above), or being placed right now (no SID yet:
        # the placing request sees the session ended and hangs it up): the call's final
        # status records the attempt (lead_status); should Twilio never report it, the
        # reservation lapses
    audit.record(deps, SYSTEM, "dialer.ended", ("session", session.id), {"reason": reason})
    return session


def _hang_up(deps: Deps, sid: str) -> None:
    try:
        deps.telephony.update_call(sid, hang_up=True)
    except TelephonyFailure as exc:
        log.warning("dialer: could not hang up %s: %s", sid, exc.message)
