"""The power dialer (API.md, "Campaigns and the dialer"; DESIGN.md, "The dialer"): its
sessions as the member sees them (`start`, `get`, `list_sessions`, `act`), and what time alone
moves (`tick`).

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

The dialer is three modules, imported one way (dialer -> dialer_hooks -> dialer_core):
this one; services/dialer_hooks.py, Twilio's webhooks (the member's leg, the conference, the
lead's call); services/dialer_core.py, the session machinery both share (reading and moving a
session, dialling the next lead, a dial's final status, ending a session).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import new_id
from chalicelib.domain import dialer as rules
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Call, DialerSession
from chalicelib.domain.statuses import CALL_FINAL
from chalicelib.errors import Conflict, Forbidden, TelephonyError, ValidationError, not_found
from chalicelib.services import access, audit, campaigns, compliance, queue, team, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.dialer_core import _end, _guard_key, _move, _read, _url, dial_next
from chalicelib.services.dialer_hooks import lead_status, member_status
from chalicelib.services.transitions import Change
from chalicelib.store.base import Before, Delete, Eq, Page, Put, TransactionFailed
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks
from chalicelib.telephony.base import TelephonyFailure

log = logging.getLogger("coldcall")

MEMBER_RING_SECONDS = 30
SESSION_LEASE = timedelta(hours=12)  # a session's guard outlives no session


# ---------------------------------------------------------------- reading


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
