"""The power dialer (API.md, "Campaigns and the dialer"; DESIGN.md, "The dialer").

A session rings the member once (`start`); after they press 1 they wait in a conference named
for the session (`member_gather`). When they join it (`conference_event`), the dialer takes the
campaign's next lead (services/queue.py: a reservation) and places the lead call through the
REST API with answering-machine detection; Twilio fetches the lead's TwiML once it knows who
answered (`lead_answered`): a person is bridged into the conference at once (the session is
`connected`), a machine gets the campaign's voicemail or is hung up on, and the dialer moves
to the next lead. A lead call that ends unanswered (`lead_status`) moves it on too. After a
conversation the session is in `wrap_up` until the member saves a disposition and presses Next
(`act`), or `autoAdvanceSeconds` pass (checked whenever the session is read: the dashboard
polls it). Ending the session, or the member hanging up, ends the conference and gives the
reservation back.

Every move of a session is a conditional write on the version read (`_move`): a duplicate or
out-of-order webhook finds the session moved on and changes nothing. Every dial is a Call
record (`campaign_id`, `session_id`), counted in the day's counters like any call; the
campaign's dial counters move in the same transaction as the call's final status.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import business_day, new_id
from chalicelib.domain import counters
from chalicelib.domain import dialer as rules
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Call, Campaign, DialerSession
from chalicelib.domain.statuses import CALL_FINAL, call_rank, is_machine
from chalicelib.errors import Conflict, Forbidden, TelephonyError, ValidationError, not_found
from chalicelib.services import access, audit, campaigns, compliance, queue, team, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.transitions import Change
from chalicelib.store.base import (
    Before,
    ConditionFailed,
    Delete,
    Eq,
    Op,
    Page,
    Put,
    TransactionFailed,
)
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks
from chalicelib.telephony.base import TelephonyFailure

log = logging.getLogger("coldcall")

MEMBER_RING_SECONDS = 30
LEAD_RING_SECONDS = 25
MACHINE_DETECTION = "DetectMessageEnd"  # a machine's verdict comes after its greeting (the beep)
MAX_DIALS_PER_STEP = 3  # lead calls Twilio refuses in a row before the session waits
SESSION_LEASE = timedelta(hours=12)  # a session's guard outlives no session
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


def _may_read(actor: Actor, session: DialerSession) -> bool:
    return actor.sees_all_leads or session.team_member_id == actor.member_id


def get(deps: Deps, actor: Actor, session_id: str) -> DialerSession:
    """The session (its owner, managers and admins; others 404), brought up to date first:
    a wrap-up past `autoAdvanceSeconds` moves on, a session idle in `ready` tries again."""
    session = _read(deps, session_id)
    if not _may_read(actor, session):
        raise not_found("dialer session", session_id)
    return tick(deps, session)


def list_sessions(
    deps: Deps,
    actor: Actor,
    campaign_id: str | None,
    member_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DialerSession]:
    """A campaign's sessions (managers and admins; a caller sees their own), or a member's."""
    if campaign_id:
        campaigns.get(deps, campaign_id, actor)  # 404 for a campaign the actor may not read
        page = deps.store.dialer_sessions.page_by_campaign(campaign_id, limit, cursor)
        if not actor.sees_all_leads:
            page.items = [s for s in page.items if s.team_member_id == actor.member_id]
        return page
    who = member_id or actor.member_id
    if who is None:
        raise ValidationError("campaignId or teamMemberId is required", {"field": "campaignId"})
    if who != actor.member_id and not actor.sees_all_leads:
        raise Forbidden("a caller lists only their own sessions", {"field": "teamMemberId"})
    return deps.store.dialer_sessions.page_by_member(who, limit, cursor)


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


# ---------------------------------------------------------------- starting


def start(
    deps: Deps, actor: Actor, campaign_id: str, team_member_id: str | None = None
) -> DialerSession:
    """A new session `connecting`: the member's phone rings once. 409 when the member already
    has a session that has not ended, or the campaign is not active."""
    member_id = access.acting_member(actor, team_member_id)
    campaign = campaigns.get(deps, campaign_id, actor)
    if campaign.status != "active":
        raise Conflict(f"the campaign is {campaign.status}", {"campaignId": campaign.id})
    if member_id not in (campaign.member_ids or []):
        raise ValidationError(
            "the team member is not in this campaign's members", {"field": "teamMemberId"}
        )
    member = team.require_active(deps, member_id, "teamMemberId")
    if not campaign.caller_id:
        raise ValidationError("the campaign has no caller ID", {"field": "callerId"})
    ours = {"memberPhone": member.phone, "callerId": campaign.caller_id}
    for field, number in ours.items():
        refused = compliance.restricted_number(deps, number)
        if refused is not None:
            raise ValidationError(f"{field}: {refused}", {"field": field})
    now = deps.clock.now()
    session = DialerSession(
        id=new_id(),
        campaign_id=campaign.id,
        team_member_id=member.id,
        status=rules.CONNECTING,
        started_at=now,
        updated_at=now,
        status_since=now,
    )
    guard = _guard(session, now)
    try:
        deps.store.transact([Put("session", session, if_absent=True), guard])
    except TransactionFailed as exc:
        if "guard" not in exc.failed:
            raise
        _take_over_stale_guard(deps, member.id, session, now)
    try:
        sid = deps.telephony.place_call(
            to=member.phone,
            from_=campaign.caller_id,
            url=_url(deps, hooks.DIALER_MEMBER, session_id=session.id),
            status_callback=_url(deps, hooks.DIALER_MEMBER_STATUS, session_id=session.id),
            timeout_seconds=MEMBER_RING_SECONDS,
        )
    except TelephonyFailure as exc:
        _end(deps, session.id, "twilio_error", note=exc.message[:200])
        raise TelephonyError(
            f"Twilio could not ring the member: {exc.message}",
            {"sessionId": session.id, "twilioCode": exc.code},
        ) from None
    session, _ = _move(deps, session.id, lambda s: {"member_call_sid": sid})
    audit.record(
        deps, actor, "dialer.started", ("session", session.id), {"campaignId": campaign.id}
    )
    return session


def _guard(session: DialerSession, now: datetime) -> Put:
    from chalicelib.clock import iso
    from chalicelib.domain.records import LiveCall

    until = iso(now + SESSION_LEASE) or ""
    return Put(
        "guard",
        LiveCall(_guard_key(session.team_member_id), session.id, until),
        when={"expires_at": Before(iso(now) or "")},
    )


def _take_over_stale_guard(
    deps: Deps, member_id: str, session: DialerSession, now: datetime
) -> None:
    """The member's guard is held: by a session that ended (its release was lost) it is taken
    over; by a live one, 409 naming it."""
    from chalicelib.domain.records import LiveCall

    holder = deps.store.live_calls.get(_guard_key(member_id))
    held = deps.store.dialer_sessions.get(holder.call_id, consistent=True) if holder else None
    if held is not None and held.status != rules.ENDED:
        raise Conflict(
            "this team member already has a dialer session that has not ended",
            {"reason": "session_live", "sessionId": held.id},
        )
    stale = {"call_id": Eq(holder.call_id)} if holder else {}
    try:
        deps.store.transact(
            [
                Delete("stale", LiveCall, _guard_key(member_id), stale),
                Put("session", session, if_absent=True),
                dataclasses.replace(_guard(session, now), when={}),
            ]
        ) if holder else deps.store.transact(
            [Put("session", session, if_absent=True), _guard(session, now)]
        )
    except TransactionFailed:
        raise Conflict(
            "this team member's dialer session is starting elsewhere; try again",
            {"reason": "session_live"},
        ) from None


# ---------------------------------------------------------------- the member's leg


def member_answered(deps: Deps, session_id: str) -> str:
    """The member's phone answered: press 1 to start (their voicemail never starts dialling)."""
    session = _read(deps, session_id)
    if session.status != rules.CONNECTING:
        return build.say_and_hang_up("This dialer session has ended. Goodbye.")
    campaign = deps.store.campaigns.get(session.campaign_id)
    name = campaign.name if campaign is not None else "your campaign"
    return build.session_greeting(
        name, _url(deps, hooks.DIALER_MEMBER_GATHER, session_id=session_id)
    )


def member_gather(deps: Deps, session_id: str, digits: str) -> str:
    """`1`: the member waits in the session's conference (`ready`); the first lead is dialled
    when they are in it (`conference_event`). Anything else ends the session."""
    if digits != "1":
        _end(deps, session_id, "member_did_not_start")
        return build.say_and_hang_up("No key pressed. The session has ended. Goodbye.")
    session, moved = _move(
        deps,
        session_id,
        lambda s: {"status": rules.READY} if s.status == rules.CONNECTING else None,
    )
    if not moved and session.status == rules.ENDED:
        return build.say_and_hang_up("This dialer session has ended. Goodbye.")
    return build.park_member(
        rules.conference_name(session_id),
        _url(deps, hooks.DIALER_CONFERENCE, session_id=session_id),
    )


def member_status(deps: Deps, session_id: str, status: str | None) -> None:
    """The member's leg: a final status (they hung up, or it never answered) ends the session."""
    _read(deps, session_id)  # 404 for an unknown session
    if status in CALL_FINAL:
        reason = "member_hung_up" if status == "completed" else f"member_{status}"
        _end(deps, session_id, reason.replace("-", "_"))


def conference_event(deps: Deps, session_id: str, event: hooks.ConferenceEvent) -> None:
    """The member joined the conference: dial. The conference ended: so did the session.
    Other events (a lead joining or leaving, the start) change nothing and read nothing."""
    if event.event not in ("participant-join", "conference-end"):
        return
    session = _read(deps, session_id)
    if event.event == "participant-join" and event.call_sid == session.member_call_sid:
        if session.status == rules.READY:
            dial_next(deps, session_id, session)
    elif event.event == "conference-end" and session.status != rules.ENDED:
        _end(deps, session_id, "conference_ended")


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


# ---------------------------------------------------------------- the lead's call


def lead_answered(deps: Deps, session_id: str, call_id: str, answered_by: str | None) -> str:
    """Twilio knows who answered the lead call (machine detection done): a person is bridged
    into the member's conference at once; a machine gets the voicemail (or is hung up on) and
    the dialer moves on. A person nobody can take (the session moved on, paused or ended) hears
    who called and how to opt out: an abandoned call."""
    session = _read(deps, session_id)
    call = _call(deps, call_id, session_id)
    if call.status in CALL_FINAL:
        return build.hang_up()  # a late or repeated fetch of a call that is over
    campaign = deps.store.campaigns.get(session.campaign_id)
    current = session.current_call_id == call_id
    if rules.is_person(answered_by) and answered_by is not None:
        _set_call(deps, call_id, {"answered_by": answered_by})
    if not rules.is_person(answered_by):
        leave = (
            campaign is not None
            and campaign.amd == "voicemail"
            and bool(campaign.voicemail_message)
            and answered_by != "fax"
        )
        verdict: dict[str, Any] = {"answered_by": answered_by}
        if leave:
            verdict |= {"voicemail_left": True, "disposition": "left_voicemail"}
        else:
            verdict |= {"disposition": "no_answer"}
        _set_call(deps, call_id, verdict)  # one write: the machine's answer waits on it
        if current:
            kind = "voicemail" if leave else "machine"
            _after_unanswered(deps, session_id, call_id, kind, read=session)
        if leave and campaign is not None:
            return build.voicemail(campaign.voicemail_message or "")
        return build.hang_up()
    bridged, moved = _move(
        deps,
        session_id,
        lambda s: (
            {"status": rules.CONNECTED, "humans": s.humans + 1}
            if s.status == rules.DIALING and s.current_call_id == call_id
            else None
        ),
        read=session,
    )
    if moved or (bridged.status == rules.CONNECTED and bridged.current_call_id == call_id):
        return build.bridge_lead(rules.conference_name(session_id))
    _set_call(deps, call_id, {"abandoned": True})
    company = deps.settings.company_name
    return build.abandoned(company, call.caller_id)


def lead_status(
    deps: Deps, session_id: str, call_id: str, status: str | None, duration: int | None
) -> None:
    """A status callback of a lead call. Its final status settles the call (and the campaign's
    dial counters, once); if it is the session's current call, the session moves on: to
    `wrap_up` after a conversation, to the next lead otherwise. A call of another session (or
    none) is 404. Progress (`initiated`, `ringing`, `in-progress`) touches the call alone: the
    session is not read."""
    if status is None:
        _call(deps, call_id, session_id)
        return
    if status not in CALL_FINAL:
        _advance_call(deps, call_id, status, duration, session_id)
        return
    session = _read(deps, session_id)
    call = _finish_call(deps, call_id, status, duration=duration, session_id=session_id)
    if session.current_call_id != call_id:
        return
    if session.status == rules.CONNECTED:
        talk = max(0, duration or 0)
        _move(
            deps,
            session_id,
            lambda s: (
                {"status": rules.WRAP_UP, "talk_seconds": s.talk_seconds + talk}
                if s.status == rules.CONNECTED and s.current_call_id == call_id
                else None
            ),
            read=session,
        )
        return
    if session.status == rules.DIALING:
        outcome = rules.outcome_of(
            status, call.answered_by, voicemail_left=call.voicemail_left, bridged=False
        )
        _after_unanswered(
            deps, session_id, call_id, outcome.kind, outcome.disposition, read=session
        )
    elif session.status == rules.ENDED and session.current_lead_id:
        # ended while this call rang or talked: the attempt is recorded, nothing is dialled
        outcome = rules.outcome_of(
            status,
            call.answered_by,
            voicemail_left=call.voicemail_left,
            bridged=not call.abandoned,
        )
        queue.finish_attempt(
            deps,
            session.campaign_id,
            session.current_lead_id,
            session.id,
            _queue_outcome(outcome.kind),
            disposition=call.disposition or outcome.disposition,
        )


def _after_unanswered(
    deps: Deps,
    session_id: str,
    call_id: str,
    kind: str,
    disposition: str | None = None,
    *,
    read: DialerSession | None = None,
) -> None:
    """The current lead call reached no person: record the attempt, count it on the session,
    and dial the next lead (from `dialing` only: a paused or ended session dials nothing)."""
    counts = {
        "machine": "machines",
        "voicemail": "machines",
        "no_answer": "no_answer",
        "busy": "no_answer",
    }

    lead_ids: list[str | None] = []

    def decide(s: DialerSession) -> dict[str, Any] | None:
        if s.current_call_id != call_id or s.status != rules.DIALING:
            return None
        lead_ids[:] = [s.current_lead_id]
        changes: dict[str, Any] = {"current_call_id": None, "current_lead_id": None}
        field = counts.get(kind)
        if field:
            changes[field] = getattr(s, field) + 1
        if kind == "voicemail":
            changes["voicemails_dropped"] = s.voicemails_dropped + 1
        return changes

    session = read or _read(deps, session_id)
    after, moved = _move(deps, session_id, decide, read=session)
    lead_id = lead_ids[0] if lead_ids else None
    if not moved or lead_id is None:
        return
    queue.finish_attempt(
        deps,
        session.campaign_id,
        lead_id,
        session_id,
        _queue_outcome(kind),
        disposition=disposition,
    )
    dial_next(deps, session_id, after)


def _queue_outcome(kind: str) -> str:
    """The queue's word for an outcome (an abandoned call reached a person)."""
    return "human" if kind == "abandoned" else kind


def _call(deps: Deps, call_id: str, session_id: str) -> Call:
    call = deps.store.calls.get(call_id, consistent=True)
    if call is None or call.session_id != session_id:
        raise not_found("call", call_id)
    return call


def _set_call(deps: Deps, call_id: str, fields: dict[str, Any]) -> None:
    """Fields of a dialer call that no counter reads twice (`answered_by` once: the first
    verdict wins), moved with the call's counters."""

    def decide(call: Call) -> Change | None:
        wanted = {k: v for k, v in fields.items() if getattr(call, k) in (None, False)}
        if not wanted:
            return None
        return Change({**wanted, "updated_at": deps.clock.now()}, {"status": Eq(call.status)})

    transitions.apply(deps, Call, call_id, decide)


def _of_session(call: Call, session_id: str | None) -> None:
    """404 for a call of another session (the webhook's URL names both)."""
    if session_id is not None and call.session_id != session_id:
        raise not_found("call", call.id)


def _advance_call(
    deps: Deps, call_id: str, status: str, duration: int | None, session_id: str | None = None
) -> None:
    """A dialer call's progress: the call and its lead leg are the same leg."""
    now = deps.clock.now()

    def decide(call: Call) -> Change | None:
        _of_session(call, session_id)
        if call_rank(status) <= call_rank(call.status):
            return None
        fields: dict[str, Any] = {"status": status, "lead_leg_status": status, "updated_at": now}
        if status == "in-progress" and call.answered_at is None:
            fields["answered_at"] = now
        return Change(fields, {"status": Eq(call.status)})

    transitions.apply(deps, Call, call_id, decide)


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
        return [
            campaigns.dial_outcome_op(
                before.campaign_id,
                kind,
                talk_seconds=after.talk_seconds or 0 if outcome.kind == "human" else 0,
                voicemail_dropped=after.voicemail_left,
                abandoned=after.abandoned,
            )
        ]

    call, moved = transitions.apply(deps, Call, call_id, decide, campaign_counts)
    return written[-1] if moved and written else call


# ---------------------------------------------------------------- the member's actions


def act(
    deps: Deps, actor: Actor, session_id: str, action: str, body: dict[str, Any] | None = None
) -> DialerSession:
    """`next`, `pause`, `resume`, `end`, `drop-voicemail` by the session's member (or a
    manager or admin); 409 when the session's status does not allow it."""
    session = _read(deps, session_id)
    if not _may_read(actor, session):
        raise not_found("dialer session", session_id)
    if action not in rules.ALLOWED:
        raise not_found("dialer action", action)
    if not (session.status == rules.WRAP_UP and session.status in rules.ALLOWED[action]):
        # (a member acting on their wrap-up is not overtaken by its auto-advance: their
        # disposition is the one saved)
        session = tick(deps, session)
    if session.status not in rules.ALLOWED[action]:
        raise Conflict(
            f"cannot {action} a session that is {session.status}",
            {"status": session.status, "sessionId": session.id},
        )
    body = body or {}
    if action == "end":
        return _end(
            deps,
            session_id,
            "ended_by_member" if actor.member_id == session.team_member_id else "ended_by_manager",
        )
    if action == "pause":
        if session.status == rules.WRAP_UP:
            _wrap_up(deps, actor, session, body)
        return _move(
            deps,
            session_id,
            lambda s: {"status": rules.PAUSED} if s.status in rules.ALLOWED["pause"] else None,
            read=session,
        )[0]
    if action == "drop-voicemail":
        return _drop_voicemail(deps, session)
    if session.status == rules.WRAP_UP:
        _wrap_up(deps, actor, session, body)
    return dial_next(deps, session_id, session)


def _wrap_up(deps: Deps, actor: Actor, session: DialerSession, body: dict[str, Any]) -> None:
    """The conversation's disposition (and notes, a callback) saved on the call, and the
    attempt recorded on the campaign lead."""
    from chalicelib.services import calls as call_service

    call_id, lead_id = session.current_call_id, session.current_lead_id
    if call_id is None or lead_id is None:
        return
    values = {k: body[k] for k in ("disposition", "notes") if body.get(k) is not None}
    if values:
        call_service.wrap_up(deps, call_id, call_service.WrapUp(values), actor)
    call = deps.store.calls.get(call_id, consistent=True)
    disposition = call.disposition if call is not None else None
    callback_at = body.get("callbackAt")
    when: datetime | None = None
    if callback_at:
        from chalicelib.services import callbacks

        when = _parse_at(callback_at)
        callbacks.create(
            deps, actor, lead_id, when, body.get("callbackNote"), session.team_member_id
        )
    queue.finish_attempt(
        deps,
        session.campaign_id,
        lead_id,
        session.id,
        "human",
        disposition=disposition,
        callback_at=when,
    )


def _parse_at(raw: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            "callbackAt must be an ISO 8601 date and time", {"field": "callbackAt"}
        ) from None
    if moment.tzinfo is None:
        raise ValidationError("callbackAt needs a UTC offset", {"field": "callbackAt"})
    return moment


def _drop_voicemail(deps: Deps, session: DialerSession) -> DialerSession:
    """The member hears a machine: the campaign's message is left on it (the lead call leaves
    the conference), and the dialer moves on."""
    campaign = deps.store.campaigns.get(session.campaign_id)
    message = campaign.voicemail_message if campaign is not None else None
    if not message:
        raise Conflict("the campaign has no voicemail message", {"field": "voicemailMessage"})
    call_id = session.current_call_id
    call = deps.store.calls.get(call_id, consistent=True) if call_id else None
    if call is None or not call.twilio_sid:
        raise Conflict("no lead call to leave a voicemail on", {"sessionId": session.id})
    try:
        deps.telephony.update_call(call.twilio_sid, twiml=build.voicemail(message))
    except TelephonyFailure as exc:
        raise TelephonyError(f"Twilio could not leave the voicemail: {exc.message}") from None
    # the member heard a machine: whatever AMD said, it is one (and not a conversation)
    fields = {"voicemail_left": True, "answered_by": "machine_end_beep"}

    def machine(c: Call) -> Change | None:
        if c.voicemail_left:
            return None
        changes = {**fields, "disposition": c.disposition or "left_voicemail"}
        return Change({**changes, "updated_at": deps.clock.now()}, {"status": Eq(c.status)})

    transitions.apply(deps, Call, call.id, machine)

    def decide(s: DialerSession) -> dict[str, Any] | None:
        if s.status != rules.CONNECTED or s.current_call_id != call.id:
            return None
        return {
            "status": rules.DIALING,
            "current_call_id": None,
            "current_lead_id": None,
            "humans": max(0, s.humans - 1),
            "machines": s.machines + 1,
            "voicemails_dropped": s.voicemails_dropped + 1,
        }

    _, moved = _move(deps, session.id, decide)
    if moved and session.current_lead_id:
        queue.finish_attempt(
            deps,
            session.campaign_id,
            session.current_lead_id,
            session.id,
            "voicemail",
            disposition="left_voicemail",
        )
    return dial_next(deps, session.id)


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


# ---------------------------------------------------------------- time


def tick(deps: Deps, session: DialerSession) -> DialerSession:
    """What time alone moves: a wrap-up past the campaign's `autoAdvanceSeconds` dials the
    next lead (with the disposition the member saved, if any); a session waiting in `ready`
    for DIALER_IDLE_RETRY_SECONDS tries again (no lead was callable, or the conference's join
    callback was lost); neither dials when Twilio says the member's call is over (its
    callbacks were lost too): the session ends instead. A
    session `connecting`, `dialing` or `connected` with no news of its call for
    DIALER_STALE_SECONDS asks Twilio (`_check_calls`): a status callback Twilio gave up on
    never leaves a session stuck."""
    now = deps.clock.now()
    waited = (now - session.status_since).total_seconds()
    if session.status == rules.WRAP_UP:
        campaign = deps.store.campaigns.get(session.campaign_id)
        auto = campaign.auto_advance_seconds if campaign is not None else 0
        if auto and waited >= auto:
            if _member_gone(deps, session):  # nobody would hear the next lead
                return _read(deps, session.id)
            _wrap_up(deps, SYSTEM, session, {})
            return dial_next(deps, session.id, session)
    elif session.status == rules.READY and waited >= deps.settings.dialer_idle_retry_seconds:
        if _member_gone(deps, session):
            return _read(deps, session.id)
        return dial_next(deps, session.id)
    elif session.status in (rules.CONNECTING, rules.DIALING, rules.CONNECTED):
        return _check_calls(deps, session)
    return session


def _member_gone(deps: Deps, session: DialerSession) -> bool:
    """Is the member's call over (Twilio says so)? Then the session ends as its callback
    would have ended it. A Twilio error: not known to be over."""
    if not session.member_call_sid:
        return False
    try:
        state = deps.telephony.fetch_call(session.member_call_sid)
    except TelephonyFailure as exc:
        log.warning("dialer: could not fetch the member's call: %s", exc.message)
        return False
    if state.status not in CALL_FINAL:
        return False
    member_status(deps, session.id, state.status)
    return True


def _check_calls(deps: Deps, session: DialerSession) -> DialerSession:
    """A session with no news of its call for DIALER_STALE_SECONDS (since its status moved, or
    since the last check): one reader claims the check (a conditional write of `checked_at`)
    and asks Twilio; a final status is applied as its lost callback would have been. A lead
    call never placed (no SID UNPLACED_AFTER_SECONDS after it was created: the request placing
    it died) is settled `failed`."""
    now = deps.clock.now()
    stale = deps.settings.dialer_stale_seconds
    since = max(session.status_since, session.checked_at or session.status_since)
    if (now - since).total_seconds() < stale:
        return session
    claimed, moved = _move(
        deps,
        session.id,
        lambda s: {"checked_at": now} if s.version == session.version else None,
    )
    if not moved:
        return claimed
    if session.status == rules.CONNECTING:
        _member_gone(deps, session)
        return _read(deps, session.id)
    call_id = session.current_call_id
    call = deps.store.calls.get(call_id, consistent=True) if call_id else None
    if call is None or call_id is None:
        return claimed
    status: str | None = call.status if call.status in CALL_FINAL else None
    duration = call.duration_seconds
    if status is None and not call.twilio_sid:
        age = (now - call.created_at).total_seconds()
        if age < rules.UNPLACED_AFTER_SECONDS:
            return claimed  # still being placed, perhaps
        status = "failed"
    elif status is None and call.twilio_sid:
        try:
            state = deps.telephony.fetch_call(call.twilio_sid)
        except TelephonyFailure as exc:
            log.warning("dialer: could not fetch a lead call: %s", exc.message)
            return claimed
        if state.status in CALL_FINAL:
            status, duration = state.status, state.duration_seconds
    if status is None:
        return claimed
    log.info("dialer: a lead call's lost final status recovered from Twilio: %s", status)
    lead_status(deps, session.id, call_id, status, duration)
    return _read(deps, session.id)
