"""The power dialer's Twilio webhooks (API.md, "Campaigns and the dialer"; DESIGN.md, "The
dialer"): the member's leg (`member_answered`, `member_gather`, `member_status`), the session's
conference (`conference_event`) and the lead's call (`lead_answered`, `lead_status`).

The member's phone answers and they press 1 (`member_gather`): they wait in a conference named
for the session. When they join it (`conference_event`), the dialer dials the campaign's next
lead (services/dialer_core.py). Twilio fetches the lead's TwiML once it knows who answered
(`lead_answered`): a person is bridged into the conference at once (the session is
`connected`), a machine gets the campaign's voicemail or is hung up on, and the dialer moves
to the next lead. A lead call that ends unanswered (`lead_status`) moves it on too; one that
ends after a conversation puts the session in `wrap_up`. The member hanging up, or the
conference ending, ends the session. Every handler moves the session with `_move` (a
conditional write): a duplicate or out-of-order webhook changes nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain import dialer as rules
from chalicelib.domain.records import Call, DialerSession
from chalicelib.domain.statuses import CALL_FINAL, call_rank
from chalicelib.errors import not_found
from chalicelib.services import queue, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.dialer_core import (
    _end,
    _finish_call,
    _move,
    _of_session,
    _queue_outcome,
    _read,
    _url,
    dial_next,
)
from chalicelib.services.transitions import Change
from chalicelib.store.base import Eq
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

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
        recorded = campaign is not None and campaign.record
        notice = build.RECORDING_NOTICE if recorded else None
        return build.bridge_lead(rules.conference_name(session_id), notice)
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
