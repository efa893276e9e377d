"""The records the services work with: plain dataclasses, no storage library.

The store maps them to and from its tables (DynamoDB through PynamoDB, or memory in unit
tests). Field names are the stored attribute names. `version` counts saved edits of the
records people edit (optimistic locking, DESIGN.md): the store checks and bumps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class TeamMember:
    id: str
    name: str
    phone: str
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    role: str = "caller"
    active: bool = True
    version: int = 0
    # Sign-out, deactivation and password resets end every session begun before this instant:
    # access tokens issued earlier and refresh sessions started earlier are refused.
    sessions_ended_at: datetime | None = None


@dataclass
class Lead:
    id: str
    name: str
    phone: str
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    company: str | None = None
    notes: str | None = None
    status: str = "new"
    assigned_to_id: str | None = None
    source: str = "manual"
    sms_opt_out: bool = False
    do_not_call: bool = False
    timezone: str | None = None
    last_contacted_at: datetime | None = None
    archived_at: datetime | None = None
    version: int = 0
    # The lead's US state when someone set it (compliance: the stricter of its window and the
    # number's area code's applies).
    state: str | None = None
    # What last set `sms_opt_out`: the id (a ULID, time-ordered) of the inbound keyword message,
    # or a fresh ULID for an edit or Twilio's 21610. A redelivered keyword whose message is
    # older changes nothing (messages.receive).
    sms_opt_out_by: str | None = None
    # The campaign the lead is in (a lead is in one campaign that is not archived at a time):
    # set and cleared by conditional writes in the campaign's transactions, never by an edit.
    # A campaign archived since no longer holds it (services.campaigns).
    campaign_id: str | None = None
    # The version of the search tokens (domain/search.SEARCH_VERSION) this lead's tokens were
    # written with; None: written before search existed (the backfill writes its tokens).
    search_version: int | None = None

    @property
    def live(self) -> bool:
        return self.archived_at is None


@dataclass
class LeadPhone:
    """Guard: one per phone number, written in the same transaction as its lead."""

    phone: str
    lead_id: str


@dataclass
class LeadToken:
    """A search token of a live lead (domain/search.py), written in the lead's transaction."""

    token: str
    lead_id: str

    @property
    def key(self) -> str:
        return token_key(self.token, self.lead_id)


def token_key(token: str, lead_id: str) -> str:
    """The key of a token item as one string (a token never holds a space)."""
    return f"{token} {lead_id}"


@dataclass
class Call:
    id: str
    lead_id: str
    team_member_id: str
    caller_id: str
    day: str
    created_at: datetime
    updated_at: datetime
    # Snapshot of the lead when the call was placed: the connect webhook answers from the call
    # alone (one read inside Twilio's 15 s), and a later edit of the lead cannot redirect it.
    lead_phone: str | None = None
    lead_name: str | None = None
    # the lead's `state` field (compliance: the stricter of the number's state and this one)
    lead_state: str | None = None
    # A dialer call (the power dialer): its campaign and session. Such a call has no member
    # leg of its own: `status` follows the lead leg.
    campaign_id: str | None = None
    session_id: str | None = None
    abandoned: bool = False  # a person answered and was not bridged (domain/dialer.py)
    voicemail_left: bool = False
    # `inbound`: the lead called us (services/inbound.py); `team_member_id` is then the member
    # who took it, "-" until someone did. `route_stage`: which members are being rung.
    direction: str = "outbound"
    route_stage: int = 0
    # The call's audio, copied out of Twilio into the stack's storage (services/recordings.py):
    # `recording_kind` `voicemail` (the caller left a message) or `call` (the conversation).
    recording_sid: str | None = None
    recording_key: str | None = None
    recording_seconds: int | None = None
    recording_kind: str | None = None
    status: str = "queued"
    lead_leg_status: str | None = None
    twilio_sid: str | None = None
    lead_leg_sid: str | None = None
    duration_seconds: int | None = None
    talk_seconds: int | None = None
    # Twilio's answering-machine verdict on the lead leg (`AnsweredBy`: `human`,
    # `machine_end_beep`, ...); a machine's completed leg is not a conversation.
    answered_by: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    disposition: str | None = None
    notes: str | None = None


@dataclass
class DialerSession:
    """A member's power-dialer session on a campaign (domain/dialer.py: statuses). One
    conference holds the member; `current_call_id` is the lead call ringing or bridged."""

    id: str
    campaign_id: str
    team_member_id: str
    status: str
    started_at: datetime
    updated_at: datetime
    status_since: datetime  # when `status` was entered (wrap-up's auto-advance, idle retry)
    member_call_sid: str | None = None
    current_lead_id: str | None = None
    current_call_id: str | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    note: str | None = None  # why the session waits (`no_leads`, a Twilio error, ...)
    # when `tick` last asked Twilio about a call with no news (a lost status callback)
    checked_at: datetime | None = None
    dialed: int = 0
    humans: int = 0
    machines: int = 0
    voicemails_dropped: int = 0
    no_answer: int = 0
    abandoned: int = 0
    talk_seconds: int = 0
    version: int = 0


@dataclass
class Message:
    id: str
    lead_id: str
    direction: str
    to_number: str
    body: str
    status: str
    day: str
    created_at: datetime
    updated_at: datetime
    team_member_id: str | None = None
    # Unknown until Twilio picks a sender when a send goes through a Messaging Service: filled
    # in from the first status callback that names it.
    from_number: str | None = None
    twilio_sid: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class MessageSid:
    """Guard: one per inbound message's Twilio SID, written in the message's transaction, so a
    webhook Twilio delivers twice stores the message once."""

    sid: str
    message_id: str


@dataclass
class Login:
    """Guard: `email#<address>` or `sub#<Cognito sub>` to the member it signs in (e-mails are
    unique among members; an access token names its user by `sub`)."""

    key: str
    member_id: str


@dataclass
class Session:
    """A refresh token the app handed out (stored as a hash): refused once the member's
    sessions were ended after it began, or the member is deactivated."""

    token_hash: str
    member_id: str
    created_at: datetime
    expires_at: datetime  # DynamoDB's TTL removes the record some time after


@dataclass
class ApiKey:
    """An integration's key: `ck_<id>_<secret>` is shown once; only its hash is kept."""

    id: str
    name: str
    role: str
    secret_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_used_day: str | None = None


@dataclass
class AuditEntry:
    """One action, as it happened: never edited. `details` is JSON (no secrets, no message
    bodies, phones masked)."""

    id: str
    at: datetime
    action: str
    actor_type: str
    actor_id: str
    actor_name: str
    target_type: str | None = None
    target_id: str | None = None
    details: str | None = None
    request_id: str | None = None
    stream: str = "audit"


@dataclass
class LiveCall:
    """Guard: `member#<id>` or `lead#<id>` held by the call that is live on it, written in the
    call's transaction; taken over once `expires_at` (ISO time) has passed."""

    key: str
    call_id: str
    expires_at: str


@dataclass
class Setting:
    """A document of settings, by name (`compliance-rules`): JSON, replaced whole by its
    editor; who replaced it last, and when."""

    key: str
    value: str
    updated_at: datetime
    updated_by: str


@dataclass
class Suppression:
    """The compliance ledger's item for one E.164 number: which channels (`voice`, `sms`) it is
    suppressed on, and for each why (reason, source), by whom (`<type>:<id>` and a name) and
    when. One item per number, whichever lead holds it (or none): lead flags are views of it.

    `listed_id` (a ULID stamped when the number became suppressed) orders the list, newest
    first; None once no channel is suppressed (the item leaves the list but stays, for
    `sms_decided_by`). `sms_decided_by`: what last decided the SMS channel, the ULID of the
    inbound keyword message or a fresh ULID for anything else, so a redelivered old START
    never undoes a later STOP (and an old STOP never re-adds an opt-out lifted since)."""

    phone: str
    created_at: datetime
    updated_at: datetime
    listed_id: str | None = None
    voice_reason: str | None = None
    voice_source: str | None = None
    voice_by: str | None = None
    voice_by_name: str | None = None
    voice_at: datetime | None = None
    sms_reason: str | None = None
    sms_source: str | None = None
    sms_by: str | None = None
    sms_by_name: str | None = None
    sms_at: datetime | None = None
    sms_decided_by: str | None = None
    version: int = 0


@dataclass
class Campaign:
    """A list of leads worked by a team through the power dialer (API.md, "Campaigns and the
    dialer"). Edited by `Update`s of the changed fields only (with `version`): the counters
    below are added to by the queue's transactions and must never be overwritten by an edit.

    `count_*`: how many of its leads are in each state, moved in the same transaction as each
    lead's state. The dial counters (`dials`, `humans`, ...) are added to by the dialer
    (services.campaigns.record_dial_outcome)."""

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    created_by: str
    status: str = "active"
    caller_id: str | None = None
    script: str | None = None
    member_ids: list[str] | None = None
    max_attempts: int = 3
    retry_after_minutes: int = 240
    amd: str = "hangup"
    voicemail_message: str | None = None
    auto_advance_seconds: int = 0
    record: bool = False
    count_ready: int = 0
    count_scheduled: int = 0
    count_done: int = 0
    dials: int = 0
    humans: int = 0
    machines: int = 0
    voicemails: int = 0
    no_answer: int = 0
    abandoned: int = 0
    talk_seconds: int = 0
    conversions: int = 0
    version: int = 0
    # the all-campaigns list key (a constant), so campaigns list newest first by a Query
    gsi_all: str = "campaign"


@dataclass
class CampaignLead:
    """A lead's place in a campaign: `id` is `<campaignId>:<leadId>`.

    `state`: `ready` (waiting for its first attempt), `scheduled` (attempted or deferred, next
    attempt at `next_attempt_at`) or `done`. The index keys are fields, written explicitly by
    every write that changes what they derive from (domain.campaigns.index_keys):
    `queue_pk`/`queue_sk` (the sparse queue: campaign, `<when due>#<leadId>`, present only while
    not done; a reservation moves `queue_sk` to its expiry, so a reserved lead leaves the due
    range and a crashed session's lead comes back by itself) and `state_pk` (the per-state
    list: `<campaignId>#<state>`)."""

    id: str
    campaign_id: str
    lead_id: str
    state: str
    added_at: datetime
    next_attempt_at: str  # ISO (domain.campaigns.stamp): compared as a string
    queue_sk: str | None
    state_pk: str
    queue_pk: str | None = None
    attempts: int = 0
    last_attempt_at: str | None = None
    reserved_by: str | None = None
    reserved_until: str | None = None
    done_reason: str | None = None
    last_outcome: str | None = None


@dataclass
class Callback:
    """A promise to call a lead back at `at`, owned by a member. `due_key` is
    `<at>#<id>` (ISO, sortable); `member_pk` and `open_pk` are the sparse keys of the by-member
    and all-open lists, present while the callback is open (not done)."""

    id: str
    lead_id: str
    lead_name: str
    team_member_id: str
    at: str  # ISO (domain.campaigns.stamp)
    created_at: datetime
    created_by: str
    due_key: str
    note: str | None = None
    done_at: datetime | None = None
    member_pk: str | None = None
    open_pk: str | None = None


# The inbox's list key (every thread in one partition of the `all` index, newest first) and
# the sparse unread index's key (present only while the thread is unread).
INBOX_KEY = "inbox"
UNREAD_KEY = "unread"


@dataclass
class InboxItem:
    """A lead's thread in the inbox: its latest inbound item (a text, a missed call, a
    voicemail), one per lead. `item_id` is that item's ULID (a message's or a call's id): it
    orders the inbox newest first, and a write only replaces an older item (`Before`)."""

    lead_id: str
    item_id: str
    kind: str  # "text" | "missed_call" | "voicemail"
    at: datetime
    preview: str
    list_key: str = INBOX_KEY
    unread_key: str | None = UNREAD_KEY
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.unread_key is not None


Record = (
    TeamMember
    | Lead
    | LeadPhone
    | LeadToken
    | Call
    | Message
    | MessageSid
    | Login
    | Session
    | ApiKey
    | AuditEntry
    | LiveCall
    | Setting
    | Suppression
    | DialerSession
    | Campaign
    | CampaignLead
    | Callback
    | InboxItem
)
