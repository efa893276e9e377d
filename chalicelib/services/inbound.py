"""Leads who call back (API.md, "Inbound calls and recordings").

Twilio posts the number's "A call comes in" webhook (`incoming`): the caller is found by their
number (a new lead `inbound_call` when unknown; an archived lead is restored) and an inbound
Call is stored (once per CallSid, whatever Twilio redelivers). Then members are rung in
stages, each for RING_SECONDS: the lead's assignee; else (busy, failed, no answer, or not
available) the member who last called them; every available member at once (at most
MAX_RING, Twilio's limit for one `<Dial>`) only when the lead has neither. Available = active,
not on a live call (its guard) and not in a dialer session. Each rung member hears "Call from
<lead>, press 1" (`whisper`); the first to press 1 takes the call (`accept`). Nobody: the
caller hears a short greeting and leaves a voicemail (`<Record>`, at most two minutes), stored
on the call (services/recordings.py) for the lead's timeline, the inbox and the dashboard.

The Call: `direction` `inbound`; `team_member_id` the member who took it (UNANSWERED until
then); `status` the member side (`ringing`, `in-progress` once taken, then `completed`, or
`no-answer` when nobody took it) and `lead_leg_status` the caller's leg; `route_stage` the
stage being rung, moved by a conditional write so a duplicated `<Dial action>` rings nobody
twice.
"""

from __future__ import annotations

from typing import Any

from chalicelib.clock import business_day, iso, new_id
from chalicelib.domain import counters
from chalicelib.domain.records import Call, Lead, MessageSid, TeamMember
from chalicelib.domain.statuses import CALL_FINAL, INBOUND
from chalicelib.errors import not_found
from chalicelib.services import leads, transitions
from chalicelib.services.deps import Deps
from chalicelib.services.transitions import Change
from chalicelib.store.base import ABSENT, Check, Eq, Op, Put, TransactionFailed
from chalicelib.telephony import twiml as build
from chalicelib.telephony import webhooks as hooks

UNANSWERED = "-"
RING_SECONDS = 15
MAX_RING = 10  # numbers one <Dial> rings at once
STAGES = ("assignee", "last_caller", "everyone")
VOICEMAIL_STAGE = len(STAGES)
_MAX_ATTEMPTS = 5


def _url(deps: Deps, path: str, **ids: str) -> str:
    return hooks.url(deps.settings.public_base_url, path, **ids)


# ---------------------------------------------------------------- the call comes in


def incoming(deps: Deps, call_sid: str, sender: str, to: str) -> str:
    """The TwiML for a call to our number `to` from `sender` (E.164)."""
    call, lead = _store(deps, call_sid, sender, to)
    if call.route_stage >= VOICEMAIL_STAGE or call.status in CALL_FINAL:
        return _voicemail_twiml(deps, call)
    return _ring_from(deps, call, lead, call.route_stage)


def _store(deps: Deps, call_sid: str, sender: str, to: str) -> tuple[Call, Lead]:
    """The inbound call of this CallSid (stored once: a guard in its transaction) and its
    lead (created or restored as needed)."""
    now = deps.clock.now()
    for _ in range(_MAX_ATTEMPTS):
        known = deps.store.messages.id_by_sid(call_sid)
        if known is not None:
            call = deps.store.calls.get(known, consistent=True)
            if call is not None:
                lead = deps.store.leads.get(call.lead_id, consistent=True)
                if lead is not None:
                    return call, lead
        lead_id = deps.store.leads.id_by_phone(sender, consistent=True)
        fresh: Lead | None = None
        if lead_id is None:
            fresh = leads.new_lead(deps, name=sender, phone=sender, source="inbound_call")
            lead_id = fresh.id
        lead = fresh or deps.store.leads.get(lead_id, consistent=True)
        if lead is None:
            continue
        call = Call(
            id=new_id(),
            lead_id=lead.id,
            team_member_id=UNANSWERED,
            caller_id=to,
            day=business_day(now, deps.settings.stats_timezone),
            created_at=now,
            updated_at=now,
            lead_phone=sender,
            lead_name=lead.name,
            lead_state=lead.state,
            direction=INBOUND,
            status="ringing",
            lead_leg_status="in-progress",
            twilio_sid=call_sid,
        )
        ops: list[Op] = (
            leads.insert_ops(fresh)
            if fresh is not None
            else [Check("live", Lead, lead.id, {"archived_at": ABSENT})]
        )
        ops += [
            Put("call", call, if_absent=True),
            Put("sid", MessageSid(call_sid, call.id), if_absent=True),
            *transitions.day_counts(call.day, counters.of_call(call)),
        ]
        try:
            deps.store.transact(ops)
        except TransactionFailed as exc:
            if "live" in exc.failed:
                leads.restore(deps, lead.id)  # an archived lead's number: it comes back
                continue
            if exc.failed & {"sid", "phone"} or exc.conflict:
                continue  # stored meanwhile, or the number became a lead: read again
            raise
        return call, lead
    raise TransactionFailed(["call"], conflict=True)


# ---------------------------------------------------------------- who is rung


def _available(deps: Deps, members: list[TeamMember]) -> list[TeamMember]:
    """Active members not on a live call and not in a dialer session."""
    active = [m for m in members if m.active]
    if not active:
        return []
    keys = [k for m in active for k in (f"member#{m.id}", f"session#{m.id}")]
    held = deps.store.live_calls.get_many(keys)
    now = iso(deps.clock.now()) or ""
    busy = {k.split("#", 1)[1] for k, g in held.items() if (g.expires_at or "") > now}
    return [m for m in active if m.id not in busy]


def _last_caller(deps: Deps, lead: Lead) -> str | None:
    """The member who last called the lead (their newest call with a member)."""
    page = deps.store.calls.page_by_lead(lead.id, 20, None)
    for call in page.items:
        if call.direction != INBOUND and call.team_member_id not in ("", UNANSWERED):
            return call.team_member_id
    return None


def _stage_members(deps: Deps, lead: Lead, stage: int) -> list[TeamMember]:
    """Who stage `stage` rings (available members only; may be nobody)."""
    if stage == 0:
        member = deps.store.members.get(lead.assigned_to_id) if lead.assigned_to_id else None
        return _available(deps, [member] if member else [])
    if stage == 1:
        last = _last_caller(deps, lead)
        if last is None or last == lead.assigned_to_id:
            return []
        member = deps.store.members.get(last)
        return _available(deps, [member] if member else [])
    if lead.assigned_to_id or _last_caller(deps, lead):
        return []  # everyone only when the lead has neither an assignee nor a previous caller
    members = sorted(deps.store.members.all(), key=lambda m: m.id)
    return _available(deps, members)[:MAX_RING]


def _ring_from(deps: Deps, call: Call, lead: Lead, stage: int) -> str:
    """Ring the first stage from `stage` on that has someone available, else the voicemail."""
    for current in range(stage, VOICEMAIL_STAGE):
        members = _stage_members(deps, lead, current)
        if not members:
            continue
        if not _move_stage(deps, call.id, call.route_stage, current):
            return build.hang_up()  # another delivery moved the routing on meanwhile
        return build.inbound_ring(
            [
                (m.phone, _url(deps, hooks.VOICE_INCOMING_WHISPER, call_id=call.id, member_id=m.id))
                for m in members
            ],
            caller_id=lead.phone,
            action_url=_url(deps, hooks.VOICE_INCOMING_NEXT, call_id=call.id, stage=str(current)),
            timeout=RING_SECONDS,
            notice=_notice(deps),
            recording_url=_recording_url(deps, call.id),
        )
    _move_stage(deps, call.id, call.route_stage, VOICEMAIL_STAGE)
    return _voicemail_twiml(deps, call)


def _notice(deps: Deps) -> str | None:
    return build.RECORDING_NOTICE if deps.settings.record_calls else None


def _recording_url(deps: Deps, call_id: str) -> str | None:
    if not deps.settings.record_calls:
        return None
    return _url(deps, hooks.VOICE_RECORDING, call_id=call_id)


def _move_stage(deps: Deps, call_id: str, read: int, stage: int) -> bool:
    if stage == read:
        return True

    def decide(call: Call) -> Change | None:
        if call.route_stage != read:
            return None
        return Change(
            {"route_stage": stage, "updated_at": deps.clock.now()},
            {"route_stage": Eq(read)},
        )

    return transitions.apply(deps, Call, call_id, decide)[1]


def _voicemail_twiml(deps: Deps, call: Call) -> str:
    return build.voicemail_prompt(
        deps.settings.company_name,
        action_url=_url(deps, hooks.VOICE_VOICEMAIL, call_id=call.id),
        recording_url=_url(deps, hooks.VOICE_RECORDING, call_id=call.id),
    )


# ---------------------------------------------------------------- the members' answers


def _inbound(deps: Deps, call_id: str) -> Call:
    call = deps.store.calls.get(call_id, consistent=True)
    if call is None or call.direction != INBOUND:
        raise not_found("call", call_id)
    return call


def whisper(deps: Deps, call_id: str, member_id: str) -> str:
    """What a rung member hears on answering: who calls, press 1 to take it."""
    call = _inbound(deps, call_id)
    if call.team_member_id != UNANSWERED or call.status in CALL_FINAL:
        return build.hang_up()
    action = _url(deps, hooks.VOICE_INCOMING_ACCEPT, call_id=call_id, member_id=member_id)
    return build.inbound_whisper(call.lead_name or "a lead", action)


def accept(deps: Deps, call_id: str, member_id: str, digits: str) -> str:
    """`1`: the member takes the call (the first one wins; Twilio then bridges them and hangs
    up the others). Anything else: this member's leg hangs up, the others ring on."""
    _inbound(deps, call_id)
    if digits != "1" or deps.store.members.get(member_id) is None:
        return build.hang_up()
    now = deps.clock.now()

    def decide(call: Call) -> Change | None:
        if call.team_member_id != UNANSWERED or call.status in CALL_FINAL:
            return None
        fields = {
            "team_member_id": member_id,
            "status": "in-progress",
            "answered_at": now,
            "updated_at": now,
        }
        return Change(fields, {"team_member_id": Eq(UNANSWERED)})

    call, took = transitions.apply(deps, Call, call_id, decide)
    if took or call.team_member_id == member_id:
        return build.empty()  # bridged
    return build.hang_up()  # someone else took it


def dial_result(
    deps: Deps, call_id: str, stage: int, status: str | None, duration: int | None
) -> str:
    """The `<Dial action>` of stage `stage`: the call was taken and is over, or nobody took it
    (busy, no answer, failed, every member hung up): the next stage, else the voicemail."""
    call = _inbound(deps, call_id)
    if call.team_member_id != UNANSWERED:
        _finish(deps, call_id, "completed", talk=duration)
        return build.hang_up()
    if call.status in CALL_FINAL or call.route_stage != stage:
        return build.hang_up()  # a repeated or late action: the routing moved on
    lead = deps.store.leads.get(call.lead_id, consistent=True)
    if lead is None:
        return build.hang_up()
    return _ring_from(deps, call, lead, stage + 1)


def voicemail_done(deps: Deps, call_id: str, duration: int | None) -> str:
    """The `<Record action>`: the caller finished (or left nothing). The audio itself arrives
    on the recording status callback."""
    _inbound(deps, call_id)
    _finish(deps, call_id, "no-answer")
    return build.say_and_hang_up("Thank you. Goodbye.")


def caller_hung_up(deps: Deps, call_sid: str, duration: int | None) -> None:
    """The caller's leg ended (the number's status callback): settle what is still open."""
    call_id = deps.store.messages.id_by_sid(call_sid)
    if call_id is None:
        return
    call = deps.store.calls.get(call_id, consistent=True)
    if call is None or call.direction != INBOUND:
        return
    taken = call.team_member_id != UNANSWERED
    _finish(deps, call_id, "completed" if taken else "no-answer", caller_leg=True)


def _finish(
    deps: Deps,
    call_id: str,
    status: str,
    *,
    talk: int | None = None,
    caller_leg: bool = False,
) -> None:
    now = deps.clock.now()

    def decide(call: Call) -> Change | None:
        fields: dict[str, Any] = {"updated_at": now}
        if call.status not in CALL_FINAL:
            fields["status"] = status
            fields["ended_at"] = now
            if status == "completed":
                fields["talk_seconds"] = max(0, talk or 0)
        if caller_leg and call.lead_leg_status != "completed":
            fields["lead_leg_status"] = "completed"
        if len(fields) == 1:
            return None
        return Change(fields, {"status": Eq(call.status)})

    call, moved = transitions.apply(deps, Call, call_id, decide)
    if moved and status == "no-answer" and call.status not in CALL_FINAL:
        # nobody took it: the lead's thread in the inbox shows the missed call, unread
        from chalicelib.services import inbox

        inbox.record_inbound(
            deps, call.lead_id, "missed_call", call.created_at, "Missed call", item_id=call.id
        )
