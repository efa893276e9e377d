"""SMS: send through Twilio, follow delivery through status callbacks, keep inbound texts as the
lead's conversation thread, and honour opt-outs.

The same rules as calls: a status only moves forward (a conditional write on the value read; a
lost race reads again), a final status never changes, duplicates and late callbacks change
nothing, and the day's counters a change moves are written in the same transaction. We never
answer STOP/START/HELP ourselves: Twilio does, and refuses later sends with error 21610.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib import phone as phones
from chalicelib import providers
from chalicelib.clock import business_day, new_id, now
from chalicelib.db import counters
from chalicelib.db import cursor as cursors
from chalicelib.db.models import Lead, LeadPhone, Message, MessageSid, TeamMember
from chalicelib.db.pagination import Page, query_page
from chalicelib.errors import Blocked, TelephonyError, ValidationError, not_found
from chalicelib.services import leads, numbers, transitions
from chalicelib.services.transitions import Change
from chalicelib.telephony.base import UNSUBSCRIBED_CODE, TelephonyFailure

if TYPE_CHECKING:
    from chalicelib.api.schemas import MessageCreate

OUTBOUND = "outbound"
INBOUND = "inbound"
RECEIVED = "received"
FINAL = frozenset({"delivered", "undelivered", "failed"})
_PROGRESS = {"queued": 0, "sending": 1, "sent": 2}
# Twilio's other names: a send through a Messaging Service starts `accepted` (and a scheduled
# one `scheduled`), both before `queued`; `read` (channels with read receipts) is after delivery.
_ALIASES = {"accepted": "queued", "scheduled": "queued", "read": "delivered"}
_MAX_ATTEMPTS = transitions.MAX_ATTEMPTS

# Twilio's default opt-out keywords (the whole message, any case, edge punctuation ignored).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$", re.IGNORECASE)
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")

OptKeyword = Literal["stop", "start", "help"]


# ---------------------------------------------------------------- pure rules


def opt_keyword(body: str) -> OptKeyword | None:
    """`stop`, `start` or `help` when the message, as a whole, is one of Twilio's keywords."""
    word = _EDGE_PUNCT.sub("", body.strip())
    # ASCII only, checked before `.upper()`, which maps a few other letters onto ASCII ones
    # (the long s onto S).
    if not word.isascii():
        return None
    word = word.upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def twilio_status(raw: str) -> str | None:
    """Our status for one Twilio reports (`accepted` is `queued`); None for one we do not
    track (`receiving`, `canceled`, anything new)."""
    status = raw.strip().lower()
    status = _ALIASES.get(status, status)
    return status if status in FINAL or status in _PROGRESS else None


def rank(status: str | None) -> int:
    if status is None:
        return -1
    if status in FINAL:
        return 3
    return _PROGRESS.get(status, -1)


def status_url(message_id: str) -> str:
    return f"{providers.settings().public_base_url}/twilio/sms/status/{message_id}"


_reasons = transitions.cancel_reasons


# ---------------------------------------------------------------- send


def send(body: MessageCreate) -> Message:
    """Create the message `queued` (with the day's counters), hand it to Twilio, store the SID.

    DynamoDB: the lead (1), the message with its counters and the member check (2), the SID
    with the lead's contact (3)."""
    s = providers.settings()
    lead = leads.require_live(body.lead_id, "leadId")
    if lead.sms_opt_out:
        raise Blocked(
            "this lead opted out of SMS (they texted STOP); they can text START to opt back in",
            {"reason": "sms_opt_out", "leadId": lead.id},
        )
    service = s.twilio_messaging_service_sid
    sender = phones.normalize(body.from_, "from") if body.from_ is not None else None
    twilio = providers.telephony()  # before anything is written: unconfigured Twilio is a 502
    if sender is None and not service:
        # `from` is optional: without a Messaging Service, the account's first SMS number.
        sender = next((n.phone_number for n in numbers.account_numbers() if n.sms), None)
        if sender is None:
            raise ValidationError(
                "no sender: the Twilio account has no SMS-capable number; buy one, or set "
                "TWILIO_MESSAGING_SERVICE_SID (or TWILIO_SERVICE_ID) to send through a "
                "Messaging Service",
                {"field": "from"},
            )
    elif sender is not None:
        numbers.require_own_number(sender, "from", sms=True)

    moment = now()
    message = Message(
        id=new_id(),
        lead_id=lead.id,
        team_member_id=body.team_member_id,
        direction=OUTBOUND,
        from_number=sender,
        to_number=lead.phone,
        body=body.body,
        status="queued",
        day=business_day(moment, s.stats_timezone),
        created_at=moment,
        updated_at=moment,
    )
    deltas = {counters.SMS_SENT: 1}
    if body.team_member_id:
        deltas[counters.member(body.team_member_id, "sms")] = 1
    try:
        with providers.transaction() as tx:
            if body.team_member_id:
                # Checked in the transaction rather than read first: one request fewer.
                tx.condition_check(
                    TeamMember,
                    body.team_member_id,
                    condition=TeamMember.active == True,  # noqa: E712 (a condition, not a test)
                )
            tx.save(message, condition=Message.id.does_not_exist())
            tx.update(counters.day_item(message.day), counters.day_actions(deltas))
    except TransactWriteError as exc:
        if body.team_member_id and _reasons(exc)[:1] == ["ConditionalCheckFailed"]:
            raise ValidationError(
                f"team member {body.team_member_id} does not exist or is deactivated",
                {"field": "teamMemberId"},
            ) from None
        raise

    try:
        sid = twilio.send_sms(
            to=lead.phone,
            body=body.body,
            status_callback=status_url(message.id),
            from_=sender,
            messaging_service_sid=service,
        )
    except TelephonyFailure as exc:
        fail(message.id, exc)
        details: dict[str, Any] = {"messageId": message.id, "twilioCode": exc.code}
        if exc.code == UNSUBSCRIBED_CODE:
            leads.set_sms_opt_out(lead.id, True, now())
            raise Blocked(
                "this lead opted out of SMS (Twilio refused: the recipient unsubscribed); "
                "they can text START to opt back in",
                {"reason": "sms_opt_out", "leadId": lead.id, **details},
            ) from None
        if exc.maybe_executed:
            details["mayHaveBeenSent"] = True
        if exc.invalid_number:
            raise ValidationError(f"Twilio refused the number: {exc.message}", details) from None
        raise TelephonyError(f"Twilio could not send the SMS: {exc.message}", details) from None
    _record_sent(message, lead, sid, moment)
    message.twilio_sid = sid
    return message


def _record_sent(message: Message, lead: Lead, sid: str, at: datetime) -> None:
    """The SID (only the SID: status callbacks may already have moved the status) and the
    lead's contact (a `new` lead becomes `contacted`), in one transaction; if the lead changed
    since it was read, or a callback raced us, the SID alone, then the contact from a fresh
    read."""
    try:
        with providers.transaction() as tx:
            tx.update(Message(id=message.id), [Message.twilio_sid.set(sid)])
            leads.contact_in(tx, lead, at)
    except TransactWriteError:
        Message(id=message.id).update(actions=[Message.twilio_sid.set(sid)])
        leads.mark_contacted(lead.id, at)


def fail(message_id: str, exc: TelephonyFailure) -> None:
    """Settle a message Twilio refused: `failed`, with Twilio's code and message."""
    code = str(exc.code) if exc.code is not None else f"http_{exc.http_status}"
    advance(message_id, "failed", error_code=code, error_message=exc.message)


# ---------------------------------------------------------------- status callbacks


def _apply(message_id: str, decide: Callable[[Message], Change | None]) -> tuple[Message, bool]:
    return transitions.apply(Message, message_id, "message", decide)


def advance(
    message_id: str,
    status: str,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    from_number: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Move an outbound message forward to `status`; True if it moved. Twilio's error is kept
    with the move that reports it; the sender a Messaging Service picked is filled in once."""
    moment = at or now()

    def decide(m: Message) -> Change | None:
        if m.direction != OUTBOUND or rank(status) <= rank(m.status):
            return None
        actions: list[Action] = [Message.status.set(status), Message.updated_at.set(moment)]
        deltas: dict[str, int] = {}
        if status in FINAL:
            deltas[counters.sms_status(status)] = 1
        if error_code:
            actions.append(Message.error_code.set(error_code[:32]))
            if error_message:
                actions.append(Message.error_message.set(error_message[:500]))
        if from_number and not m.from_number and _E164.match(from_number):
            actions.append(Message.from_number.set(from_number))
        return Change(actions, Message.status == m.status, deltas)

    return _apply(message_id, decide)[1]


# ---------------------------------------------------------------- inbound


@dataclass
class Inbound:
    lead_id: str
    message_id: str | None  # None: a redelivery of a message already stored
    new_lead: bool
    keyword: OptKeyword | None


def receive(params: dict[str, str]) -> Inbound:
    """Store a text a lead sent us (a new lead `inbound_sms` for an unknown number) and apply
    STOP/START. Twilio may deliver the same webhook twice: the MessageSid guard item, written
    in the message's transaction, keeps the second from storing anything.

    DynamoDB: the phone guard (1), the message with its SID guard, its counter and, for an
    unknown number, the new lead (2), and for STOP/START from a known lead the flag (3)."""
    s = providers.settings()
    sid = (params.get("MessageSid") or params.get("SmsMessageSid") or "").strip()
    if not _SID.match(sid):
        raise ValidationError("MessageSid is missing or malformed", {"field": "MessageSid"})
    sender = phones.normalize(params.get("From", ""), "From")
    to = _our_number(params.get("To", ""))
    text = params.get("Body", "")
    keyword = opt_keyword(text) or _opt_out_type(params.get("OptOutType", ""))
    moment = now()
    day = business_day(moment, s.stats_timezone)

    for _ in range(_MAX_ATTEMPTS):
        lead_id = _lead_id_by_phone(sender)
        fresh = None
        if lead_id is None:
            fresh = leads.new_lead(
                name=sender, phone=sender, source="inbound_sms", sms_opt_out=keyword == "stop"
            )
            lead_id = fresh.id
        message = Message(
            id=new_id(),
            lead_id=lead_id,
            direction=INBOUND,
            from_number=sender,
            to_number=to,
            body=text,
            status=RECEIVED,
            twilio_sid=sid,
            day=day,
            created_at=moment,
            updated_at=moment,
        )
        try:
            with providers.transaction() as tx:
                if fresh is not None:
                    leads.insert_in(tx, fresh)  # puts 0, 1 (lead, phone guard)
                tx.save(message, condition=Message.id.does_not_exist())
                tx.save(
                    MessageSid(sid=sid, message_id=message.id),
                    condition=MessageSid.sid.does_not_exist(),
                )
                tx.update(counters.day_item(day), counters.day_actions({counters.SMS_INBOUND: 1}))
        except TransactWriteError as exc:
            # Puts come first, in the order added: [lead, phone guard,] message, SID guard.
            reasons = _reasons(exc)
            offset = 2 if fresh is not None else 0
            if _failed(reasons, offset + 1):
                # Already stored: change nothing, but make sure the opt-out took (the first
                # delivery may have died between its two writes).
                if fresh is None:
                    _apply_keyword(lead_id, keyword, moment)
                return Inbound(lead_id, None, False, keyword)
            if fresh is not None and _failed(reasons, 1):
                continue  # the number became a lead meanwhile: look it up again
            if "TransactionConflict" in reasons:
                continue
            raise
        if fresh is None:
            _apply_keyword(lead_id, keyword, moment)
        return Inbound(lead_id, message.id, fresh is not None, keyword)
    raise TelephonyError("inbound message could not be stored; Twilio will retry")


def _our_number(raw: str) -> str:
    """The number the text was sent to (ours): E.164 when it is a phone number, else as Twilio
    gave it (a short code)."""
    text = raw.strip()
    if not text or len(text) > 40:
        raise ValidationError("To is missing or malformed", {"field": "To"})
    try:
        return phones.normalize(text, "To")
    except ValidationError:
        return text


def _failed(reasons: list[str | None], index: int) -> bool:
    return len(reasons) > index and reasons[index] == "ConditionalCheckFailed"


def _lead_id_by_phone(phone: str) -> str | None:
    """The lead's id from the phone guard alone: one read, the lead itself is not needed."""
    try:
        return LeadPhone.get(phone, consistent_read=True).lead_id
    except DoesNotExist:
        return None


def _opt_out_type(value: str) -> OptKeyword | None:
    """Twilio's own verdict (Advanced Opt-Out sends OptOutType), which also covers keywords
    an account configured beyond the defaults."""
    kind = value.strip().upper()
    if kind == "STOP":
        return "stop"
    if kind == "START":
        return "start"
    return None


def _apply_keyword(lead_id: str, keyword: OptKeyword | None, at: datetime) -> None:
    if keyword == "stop":
        leads.set_sms_opt_out(lead_id, True, at)
    elif keyword == "start":
        leads.set_sms_opt_out(lead_id, False, at)
    # HELP: stored, and answered by Twilio.


# ---------------------------------------------------------------- read


def get(message_id: str) -> Message:
    providers.settings()
    try:
        return Message.get(message_id)
    except DoesNotExist:
        raise not_found("message", message_id) from None


def conversation(lead_id: str | None, limit: int, cursor: str | None) -> Page[Message]:
    """The lead's messages, both directions, oldest first: a Query on by-lead, never a Scan."""
    providers.settings()
    if not lead_id:
        raise ValidationError("leadId is required", {"field": "leadId"})
    keys = {"id", "lead_id"}
    start = cursors.decode(cursor, keys)
    return query_page(Message.by_lead, lead_id, keys, limit, start, newest_first=False)
