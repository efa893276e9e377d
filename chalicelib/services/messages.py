"""SMS: send through Twilio, follow delivery through status callbacks, keep inbound texts as the
lead's conversation thread, and honour opt-outs.

The same rules as calls: a status only moves forward (a conditional write on the value read; a
lost race reads again), a final status never changes, duplicates and late callbacks change
nothing, and the day's counters a change moves are written in the same transaction. We never
answer STOP/START/HELP ourselves: Twilio does, and refuses later sends with error 21610.

Twilio does not retry a webhook that answered 5xx or timed out (only a connection that failed,
once), so a lost status callback or inbound text is not redelivered. The scheduled job
(`stats.rollup`) recovers both: `reconcile_stale` settles outbound messages still not final 15
minutes on from what Twilio says, `recover_inbound` lists the texts Twilio received since a
stored watermark and ingests any we never stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import phone as phones
from chalicelib.clock import business_day, new_id
from chalicelib.domain import counters
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Lead, Message, MessageSid, TeamMember
from chalicelib.domain.sms import OptKeyword, opt_keyword
from chalicelib.domain.statuses import (
    INBOUND,
    NOT_PLACED,
    OUTBOUND,
    RECEIVED,
    UNKNOWN_TO_TWILIO,
    sms_rank,
)
from chalicelib.domain.twilio_errors import error_message
from chalicelib.errors import Blocked, NotFound, TelephonyError, ValidationError, found, not_found
from chalicelib.services import (
    access,
    audit,
    compliance,
    inbox,
    leads,
    limits,
    numbers,
    suppressions,
    transitions,
)
from chalicelib.services.deps import Deps
from chalicelib.services.transitions import Change
from chalicelib.store.base import (
    ABSENT,
    Check,
    Eq,
    Op,
    Page,
    Put,
    TransactionFailed,
    Update,
)
from chalicelib.telephony import webhooks
from chalicelib.telephony.base import UNSUBSCRIBED_CODE, ReceivedMessage, TelephonyFailure
from chalicelib.telephony.webhooks import InboundSms, SmsStatusEvent

log = logging.getLogger("coldcall")

_MAX_ATTEMPTS = transitions.MAX_ATTEMPTS
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(frozen=True)
class SendSms:
    lead_id: str
    body: str
    team_member_id: str | None = None
    from_: str | None = None


def status_url(deps: Deps, message_id: str) -> str:
    base = deps.settings.public_base_url
    return webhooks.url(base, webhooks.SMS_STATUS, message_id=message_id)


def _day_count(day: str, deltas: dict[str, int]) -> list[Op]:
    return transitions.day_counts(day, deltas)


# ---------------------------------------------------------------- send


def send(deps: Deps, cmd: SendSms, actor: Actor = SYSTEM) -> Message:
    """Create the message `queued` (with the day's counters), hand it to Twilio, store the SID.

    DynamoDB: the lead (1), the number's suppression item (2: `compliance.check`), the message
    with its counters and the member check (3), the SID (4). The lead is contacted only once
    the message is delivered (`advance`)."""
    s = deps.settings
    # A member texts as themselves; an admin (or an admin API key) may name another member.
    member_id: str | None = cmd.team_member_id
    if actor is not SYSTEM and (cmd.team_member_id or actor.member_id):
        member_id = access.acting_member(actor, cmd.team_member_id)
    lead = leads.require_live(deps, cmd.lead_id, "leadId", actor)
    service = s.twilio_messaging_service_sid
    sender = phones.normalize(cmd.from_, "from") if cmd.from_ is not None else None
    # The number's suppressions and the rules (one BatchGetItem; a refusal is audited); a
    # sender named is held to the restricted numbers too.
    ours = {"from": sender} if sender else None
    compliance.check(deps, actor, phone=lead.phone, channel="sms", lead=lead, ours=ours)
    twilio = deps.telephony  # before anything is written: unconfigured Twilio is a 502
    if sender is None and not service:
        # `from` is optional: without a Messaging Service, the account's first SMS number.
        sender = next((n.phone_number for n in numbers.account_numbers(deps) if n.sms), None)
        if sender is None:
            raise ValidationError(
                "no sender: the Twilio account has no SMS-capable number; buy one, or set "
                "TWILIO_MESSAGING_SERVICE_SID (or TWILIO_SERVICE_ID) to send through a "
                "Messaging Service",
                {"field": "from"},
            )
    elif sender is not None:
        numbers.require_own_number(deps, sender, "from", sms=True)

    limits.check_rate(deps, member_id or f"apikey#{actor.id}")  # after every refusal
    moment = deps.clock.now()
    message = Message(
        id=new_id(),
        lead_id=lead.id,
        team_member_id=member_id,
        direction=OUTBOUND,
        from_number=sender,
        to_number=lead.phone,
        body=cmd.body,
        status="queued",
        day=business_day(moment, s.stats_timezone),
        created_at=moment,
        updated_at=moment,
    )
    ops: list[Op] = []
    if member_id:
        # Checked in the transaction rather than read first: one request fewer.
        ops.append(Check("member", TeamMember, member_id, {"active": Eq(True)}))
    ops += [
        Put("message", message, if_absent=True),
        *_day_count(message.day, counters.of_message(message)),
    ]
    try:
        deps.store.transact(ops)
    except TransactionFailed as exc:
        if "member" in exc.failed:
            raise ValidationError(
                f"team member {member_id} does not exist or is deactivated",
                {"field": "teamMemberId"},
            ) from None
        raise

    try:
        sid = twilio.send_sms(
            to=lead.phone,
            body=cmd.body,
            status_callback=status_url(deps, message.id),
            from_=sender,
            messaging_service_sid=service,
        )
    except TelephonyFailure as exc:
        fail(deps, message.id, exc)
        details: dict[str, Any] = {"messageId": message.id, "twilioCode": exc.code}
        if exc.code == UNSUBSCRIBED_CODE:
            # The person's STOP, seen by Twilio: the number's SMS suppression from now on.
            suppressions.add(
                deps,
                SYSTEM,
                lead.phone,
                ["sms"],
                source="twilio_21610",
                reason="Twilio refused: the recipient unsubscribed",
            )
            details = {"reason": "opted_out", "channel": "sms", "leadId": lead.id, **details}
            audit.record(
                deps,
                actor,
                "compliance.blocked",
                ("lead", lead.id),
                {**details, "phone": lead.phone},
            )
            raise Blocked(
                "this number opted out of texts (Twilio refused: the recipient unsubscribed); "
                "only their START, texted to us, lets texts through again",
                details,
            ) from None
        if exc.maybe_executed:
            details["mayHaveBeenSent"] = True
        if exc.invalid_number:
            raise ValidationError(f"Twilio refused the number: {exc.message}", details) from None
        raise TelephonyError(f"Twilio could not send the SMS: {exc.message}", details) from None
    # Only the SID: status callbacks may already have moved the status.
    deps.store.write(Update("message", Message, message.id, {"twilio_sid": sid}))
    message.twilio_sid = sid
    return message


def fail(deps: Deps, message_id: str, exc: TelephonyFailure) -> None:
    """Settle a message Twilio refused: `failed`, with Twilio's code and message."""
    code = str(exc.code) if exc.code is not None else f"http_{exc.http_status}"
    advance(deps, message_id, SmsStatusEvent("failed", code, exc.message, None))


# ---------------------------------------------------------------- status callbacks


def _apply(
    deps: Deps, message_id: str, decide: Callable[[Message], Change | None]
) -> tuple[Message, bool]:
    return transitions.apply(deps, Message, message_id, decide)


def advance(deps: Deps, message_id: str, event: SmsStatusEvent, at: datetime | None = None) -> bool:
    """Move an outbound message forward to the event's status; True if it moved. Twilio's error
    is kept with the move that reports it; the sender a Messaging Service picked is filled in
    once. A status we do not track changes nothing (an unknown message is still a 404).

    A message that moves to `delivered` is the lead's contact (a `new` lead becomes
    `contacted`, `lastContactedAt` is stamped): not when Twilio accepts it, nor when it is
    `sent` (a carrier may still report it `undelivered`), never when it fails."""
    moment = at or deps.clock.now()
    status = event.status

    def decide(m: Message) -> Change | None:
        if status is None or m.direction != OUTBOUND or sms_rank(status) <= sms_rank(m.status):
            return None
        fields: dict[str, Any] = {"status": status, "updated_at": moment}
        if event.error_code:
            fields["error_code"] = event.error_code[:32]
            # A status callback carries the code alone: Twilio's words for it, from our table.
            text = event.error_message or error_message(event.error_code[:32])
            fields["error_message"] = text[:500]
        sender = event.from_number
        if sender and not m.from_number and _E164.match(sender):
            fields["from_number"] = sender
        return Change(fields, {"status": Eq(m.status)})

    message, moved = _apply(deps, message_id, decide)
    if moved and status == "delivered":
        leads.mark_contacted(deps, message.lead_id, moment)
    return moved


# ---------------------------------------------------------------- inbound


@dataclass
class Inbound:
    lead_id: str
    message_id: str | None  # None: a redelivery of a message already stored
    new_lead: bool
    keyword: OptKeyword | None


class InboundNotStored(TelephonyError):
    """The text could not be stored after the retries (it kept racing other writes). Twilio
    will not deliver it again; the scheduled recovery (`recover_inbound`) ingests it."""


def receive(deps: Deps, sms: InboundSms, at: datetime | None = None) -> Inbound:
    """Store a text a lead sent us (a new lead `inbound_sms` for an unknown number) and apply
    STOP/START. Twilio may deliver the same webhook twice: the MessageSid guard item, written
    in the message's transaction, keeps the second from storing anything. `at`: when Twilio
    received it, for a text ingested late by the recovery (its id, day and keyword order are
    then those of that moment, so a recovered STOP never undoes a later START).

    DynamoDB: the phone guard (1), the message with its SID guard, its counter and, for an
    unknown number, the new lead (2), and for STOP/START the number's suppression item, read
    and put back with the message's id as its order (3, 4; nothing is written when a later
    keyword decided already), with the audit entry when the ledger changed. A redelivered
    STOP/START also reads the SID guard, to apply as of the message first stored.

    A known lead must not be archived (a check in the message's transaction, no extra read):
    a text from an archived lead's number restores the lead (back in its lists and the
    funnel), then the message is stored."""
    keyword = opt_keyword(sms.body) or sms.opt_out_type
    now = deps.clock.now()
    moment = at or now
    day = business_day(moment, deps.settings.stats_timezone)

    with_thread = True  # the lead's inbox thread, unless it holds a newer item
    for _ in range(_MAX_ATTEMPTS):
        message_id = new_id(at)
        lead_id = deps.store.leads.id_by_phone(sms.sender, consistent=True)
        fresh = None
        if lead_id is None:
            fresh = leads.new_lead(deps, name=sms.sender, phone=sms.sender, source="inbound_sms")
            lead_id = fresh.id
        message = Message(
            id=message_id,
            lead_id=lead_id,
            direction=INBOUND,
            from_number=sms.sender,
            to_number=sms.to,
            body=sms.body,
            status=RECEIVED,
            twilio_sid=sms.sid,
            day=day,
            created_at=moment,
            updated_at=moment,
        )
        ops: list[Op] = (
            leads.insert_ops(fresh)
            if fresh is not None
            else [Check("live", Lead, lead_id, {"archived_at": ABSENT})]
        )
        ops += [
            Put("message", message, if_absent=True),
            Put("sid", MessageSid(sms.sid, message.id), if_absent=True),
            *_day_count(day, counters.of_message(message)),
        ]
        if with_thread:
            item = inbox.thread(lead_id, "text", message.id, moment, sms.body)
            ops += inbox.inbound_ops(item)
        try:
            deps.store.transact(ops)
        except TransactionFailed as exc:
            if "sid" in exc.failed:
                # Already stored: change nothing, but make sure the keyword took (the first
                # delivery may have died between its two writes), as decided by the stored
                # message: a keyword received since then (or an edit) wins, and a keyword that
                # took already changes nothing.
                if keyword in ("stop", "start"):
                    stored = deps.store.messages.id_by_sid(sms.sid)
                    if stored is not None:
                        _apply_keyword(deps, sms.sender, keyword, stored)
                return Inbound(lead_id, None, False, keyword)
            if "live" in exc.failed:
                leads.restore(deps, lead_id)  # then store the message
                continue
            if "inbox" in exc.failed:
                with_thread = False  # the thread shows a newer item: store the message alone
                continue
            if "phone" in exc.failed or exc.conflict:
                continue  # the number became a lead meanwhile: look it up again
            raise
        _apply_keyword(deps, sms.sender, keyword, message.id)
        return Inbound(lead_id, message.id, fresh is not None, keyword)
    raise InboundNotStored(
        "inbound message could not be stored now; the scheduled recovery will ingest it",
        {"messageSid": sms.sid},
    )


def _apply_keyword(deps: Deps, phone: str, keyword: OptKeyword | None, message_id: str) -> None:
    """STOP/START on the number's SMS suppression, as of the inbound message `message_id` (a
    ULID: keywords apply in the order they were first received, whatever order their
    deliveries and redeliveries come in; a redelivered one changes nothing). HELP: stored, and
    answered by Twilio."""
    if keyword in ("stop", "start"):
        suppressions.apply_keyword(deps, phone, keyword, message_id)


# ---------------------------------------------------------------- recovery (the scheduled job)

# The inbound watermark: a stats item of its own scope, `since` in epoch seconds.
WATERMARK_SCOPE = "recovery"
WATERMARK_KEY = "sms-inbound"
WATERMARK_FIELD = "since"
# Each pass looks a few minutes behind the watermark: a text Twilio received just before the
# last pass began may not have been listed by it yet.
INBOUND_OVERLAP = timedelta(minutes=5)
# With no watermark yet (the first run ever), look one day back.
FIRST_LOOKBACK = timedelta(days=1)
# The watermark is written only once it would move this far: a quiet run writes nothing (and
# each pass still checks at most this much plus the overlap of texts against their guards).
WATERMARK_STEP = timedelta(minutes=10)


@dataclass
class RecoveryReport:
    """Outbound: `examined` stale messages, `settled` of them. Inbound: `listed` texts Twilio
    received in the window, `ingested` of them that we had never stored. `errors`: messages or
    numbers that failed this time (tried again at the next run)."""

    examined: int = 0
    settled: int = 0
    listed: int = 0
    ingested: int = 0
    errors: int = 0

    def merge(self, other: RecoveryReport) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def reconcile_stale(deps: Deps, moment: datetime | None = None) -> RecoveryReport:
    """Settle outbound messages still not final 15 minutes after creation (a lost or refused
    status callback): fetch each from Twilio and apply its status through `advance`, the same
    transition as a callback (counters in the same transaction). Reads only today's and
    yesterday's by-day partitions (a Query each, never a Scan).

    A message never handed to Twilio (no SID: the request died) is settled `failed`
    (`not_placed`); one Twilio answers 404 for is settled `failed` once (`twilio_404`), so it
    is never asked about again."""
    at = moment or deps.clock.now()
    done = transitions.settle_stale(
        deps,
        at,
        deps.store.messages.pending_on,
        lambda message: _settle(deps, message, at),
        (TelephonyFailure, TelephonyError, NotFound),
    )
    return RecoveryReport(examined=done.examined, settled=done.settled, errors=done.errors)


def _settle(deps: Deps, message: Message, at: datetime) -> bool:
    if not message.twilio_sid:
        text = "the message was never handed to Twilio"
        return advance(deps, message.id, SmsStatusEvent("failed", NOT_PLACED, text, None), at)
    try:
        state = deps.telephony.fetch_message(message.twilio_sid)
    except TelephonyFailure as exc:
        if not exc.not_found:
            raise
        text = f"Twilio does not know this message (404 for {message.twilio_sid})"
        event = SmsStatusEvent("failed", UNKNOWN_TO_TWILIO, text, None)
        return advance(deps, message.id, event, at)
    event = SmsStatusEvent(
        webhooks.sms_status(state.status), state.error_code, state.error_message, state.from_number
    )
    return advance(deps, message.id, event, at)


def recover_inbound(deps: Deps, moment: datetime | None = None) -> RecoveryReport:
    """Ingest the texts Twilio received that we never stored (a webhook that answered 5xx or
    timed out is not redelivered): for each of the account's SMS numbers, list from Twilio the
    inbound texts since the watermark (less `INBOUND_OVERLAP`), and pass any whose SID has no
    guard item to `receive`, as of when Twilio received it (keywords included; a text stored
    meanwhile changes nothing: `receive` is idempotent on the SID).

    The watermark advances to the moment this pass began only when every number was listed and
    every missing text stored; otherwise the next run covers the same window again."""
    at = moment or deps.clock.now()
    report = RecoveryReport()
    mark, revision = _watermark(deps)
    since = (mark - INBOUND_OVERLAP) if mark is not None else at - FIRST_LOOKBACK
    for number in numbers.account_numbers(deps):
        if not number.sms:
            continue
        try:
            received = list(deps.telephony.list_inbound_messages(number.phone_number, since))
        except TelephonyFailure as exc:
            log.warning("recover inbound: listing %s failed: %s", number.sid, exc.message)
            report.errors += 1
            continue
        for text in received:
            report.listed += 1
            try:
                if _ingest(deps, text):
                    report.ingested += 1
            except (TelephonyError, NotFound, TransactionFailed) as exc:
                log.warning("recover inbound: %s not stored: %s", text.sid, type(exc).__name__)
                report.errors += 1
    if report.errors == 0 and (mark is None or at - mark >= WATERMARK_STEP):
        fields = {WATERMARK_FIELD: int(at.timestamp())}
        deps.store.stats.replace(WATERMARK_SCOPE, WATERMARK_KEY, fields, revision)
    return report


def _ingest(deps: Deps, text: ReceivedMessage) -> bool:
    if deps.store.messages.id_by_sid(text.sid) is not None:
        return False  # stored already (one read, where `receive` would try a transaction)
    try:
        sms = InboundSms(
            text.sid, phones.normalize(text.from_number, "From"), text.to, text.body, None
        )
    except ValidationError:
        # Not a phone number (an alphanumeric sender): its webhook is refused the same way.
        log.warning("recover inbound: %s has no phone number sender; skipped", text.sid)
        return False
    return receive(deps, sms, at=text.sent_at).message_id is not None


def _watermark(deps: Deps) -> tuple[datetime | None, int | None]:
    item = deps.store.stats.item(WATERMARK_SCOPE, WATERMARK_KEY, consistent=True)
    if item is None:
        return None, None
    since = item.counters.get(WATERMARK_FIELD)
    return (datetime.fromtimestamp(since, UTC) if since else None), item.revision


# ---------------------------------------------------------------- read


def get(deps: Deps, message_id: str, actor: Actor = SYSTEM) -> Message:
    message = found(deps.store.messages.get(message_id), "message", message_id)
    if not actor.sees_all_leads:
        lead = deps.store.leads.get(message.lead_id)
        if lead is None or not actor.sees_lead(lead.assigned_to_id):
            raise not_found("message", message_id)
    return message


def conversation(
    deps: Deps, lead_id: str | None, limit: int, cursor: str | None, actor: Actor = SYSTEM
) -> Page[Message]:
    """The lead's messages, both directions, oldest first: a Query on by-lead, never a Scan."""
    if not lead_id:
        raise ValidationError("leadId is required", {"field": "leadId"})
    if not actor.sees_all_leads:
        leads.get(deps, lead_id, actor)  # a lead the caller cannot read: 404
    return deps.store.messages.page_by_lead(lead_id, limit, cursor)
