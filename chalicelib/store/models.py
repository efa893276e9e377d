"""PynamoDB models, one table per entity (DESIGN.md, "Data model").

The classes here name no table: `bound(settings)` derives subclasses that carry the stage's
table names, region and endpoint (a subclass per configuration, each with its own connection),
so nothing reads settings or opens a connection at import time, and tests can move from moto to
DynamoDB Local in one process. GSI key attributes of leads are *sparse*: they are set only while
a lead is not archived, so archived leads drop out of every list index without a filter
expression.

`version` is a plain number: the store checks and bumps it itself (store/dynamo.py), the same
way the in-memory store does, rather than through PynamoDB's VersionAttribute.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.domain import campaigns as campaign_rules
from chalicelib.domain.search import fold

LEAD_LIST_KEY = "lead"
# The by-assignee key of a live lead nobody is assigned: callers list their leads and these.
UNASSIGNED_KEY = "-"


class _Meta:
    table_name = "unbound"
    billing_mode = "PAY_PER_REQUEST"
    region = "us-east-1"
    host: str | None = None
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5


def _gsi_meta(name: str, projection: Any = None) -> type:
    return type("Meta", (), {"index_name": name, "projection": projection or AllProjection()})


# ---------------------------------------------------------------- team members


class TeamMember(Model):
    class Meta(_Meta):
        entity = "team-members"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute(default="caller")
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    sessions_ended_at = UTCDateTimeAttribute(null=True)


# ---------------------------------------------------------------- identity


class Login(Model):
    """Guard item: `email#<address>` or `sub#<Cognito sub>` -> the member it signs in."""

    class Meta(_Meta):
        entity = "logins"

    key = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute()


class Session(Model):
    """A refresh token handed out (its SHA-256), kept until the token itself expires."""

    class Meta(_Meta):
        entity = "sessions"

    token_hash = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class ApiKey(Model):
    """API keys (a handful: listed with a Scan, like the team)."""

    class Meta(_Meta):
        entity = "api-keys"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    last_used_day = UnicodeAttribute(null=True)


class AuditByAction(GlobalSecondaryIndex["AuditEntry"]):
    Meta = _gsi_meta("by-action")
    action = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class AuditEntry(Model):
    """The audit log: one partition (`stream`), newest first by ULID; written once, never
    updated. An audit log's write rate (people's actions) stays far below a partition's."""

    class Meta(_Meta):
        entity = "audit"

    stream = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    actor_type = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_name = UnicodeAttribute()
    target_type = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute(null=True)
    details = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)

    by_action = AuditByAction()


class Throttle(Model):
    """Counters of one window (failed sign-ins, calls and texts per minute), expired by TTL."""

    class Meta(_Meta):
        entity = "throttles"

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class LiveCall(Model):
    """Guard item: `member#<id>` / `lead#<id>` -> the call live on it, until `expires_at`."""

    class Meta(_Meta):
        entity = "live-calls"

    key = UnicodeAttribute(hash_key=True)
    call_id = UnicodeAttribute()
    expires_at = UnicodeAttribute()


class Setting(Model):
    """Settings documents by name (`compliance-rules`), JSON, replaced whole (a handful)."""

    class Meta(_Meta):
        entity = "settings"

    key = UnicodeAttribute(hash_key=True)
    value = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()


# ---------------------------------------------------------------- compliance

# The by-list key of a suppressed number: every suppressed number is in one partition of the
# sparse `by-listed` index, newest first by `listed_id`.
SUPPRESSED_KEY = "suppressed"


class SuppressionsListed(GlobalSecondaryIndex["Suppression"]):
    Meta = _gsi_meta("by-listed")
    gsi_listed = UnicodeAttribute(hash_key=True)
    listed_id = UnicodeAttribute(range_key=True)


class Suppression(Model):
    """The suppression ledger: one item per E.164 number. `gsi_listed` is sparse: set only
    while a channel is suppressed, so the list index holds suppressed numbers only."""

    class Meta(_Meta):
        entity = "suppressions"

    phone = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    listed_id = UnicodeAttribute(null=True)
    voice_reason = UnicodeAttribute(null=True)
    voice_source = UnicodeAttribute(null=True)
    voice_by = UnicodeAttribute(null=True)
    voice_by_name = UnicodeAttribute(null=True)
    voice_at = UTCDateTimeAttribute(null=True)
    sms_reason = UnicodeAttribute(null=True)
    sms_source = UnicodeAttribute(null=True)
    sms_by = UnicodeAttribute(null=True)
    sms_by_name = UnicodeAttribute(null=True)
    sms_at = UTCDateTimeAttribute(null=True)
    sms_decided_by = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    gsi_listed = UnicodeAttribute(null=True)

    by_listed = SuppressionsListed()

    def sync_index_keys(self) -> None:
        self.gsi_listed = SUPPRESSED_KEY if self.listed_id else None


# ---------------------------------------------------------------- leads


class LeadsByStatus(GlobalSecondaryIndex["Lead"]):
    Meta = _gsi_meta("by-status")
    gsi_status = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class LeadsByAssignee(GlobalSecondaryIndex["Lead"]):
    Meta = _gsi_meta("by-assignee")
    gsi_assignee = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class LeadsAll(GlobalSecondaryIndex["Lead"]):
    Meta = _gsi_meta("all")
    gsi_all = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class LeadsByName(GlobalSecondaryIndex["Lead"]):
    """Live leads by folded name (sort=name)."""

    Meta = _gsi_meta("by-name")
    gsi_all = UnicodeAttribute(hash_key=True)
    gsi_name = UnicodeAttribute(range_key=True)


class LeadsByContact(GlobalSecondaryIndex["Lead"]):
    """Live leads by last contact (sort=lastContactedAt); never contacted: `0#<id>`, below
    every time, so they come last newest first and `neverCalled` is a key condition."""

    Meta = _gsi_meta("by-contact")
    gsi_all = UnicodeAttribute(hash_key=True)
    gsi_contacted = UnicodeAttribute(range_key=True)


class LeadsByCampaign(GlobalSecondaryIndex["Lead"]):
    """The leads a campaign holds (`campaign_id` is set only while it does: sparse)."""

    Meta = _gsi_meta("by-campaign")
    campaign_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


# The longest name prefix the by-name index sorts on (a cursor holds it).
NAME_KEY_CHARS = 100
NEVER_CONTACTED = "0#"


def name_key(name: str) -> str:
    return fold(name).strip()[:NAME_KEY_CHARS] or "-"


def contacted_key(lead_id: str, at: Any) -> str:
    """The by-contact sort key: the time as PynamoDB stores it, or `0#<id>` when never."""
    if at is None:
        return NEVER_CONTACTED + lead_id
    return str(UTCDateTimeAttribute().serialize(at))


class Lead(Model):
    class Meta(_Meta):
        entity = "leads"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    company = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="new")
    assigned_to_id = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="manual")
    sms_opt_out = BooleanAttribute(default=False)
    sms_opt_out_by = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    do_not_call = BooleanAttribute(default=False)
    timezone = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    last_contacted_at = UTCDateTimeAttribute(null=True)
    archived_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)
    search_version = NumberAttribute(null=True)
    # Sparse GSI keys, maintained by `sync_index_keys`.
    gsi_status = UnicodeAttribute(null=True)
    gsi_assignee = UnicodeAttribute(null=True)
    gsi_all = UnicodeAttribute(null=True)
    # Sort keys of the by-name and by-contact indexes (whose hash key, `gsi_all`, makes them
    # sparse); an Update of `last_contacted_at` sets `gsi_contacted` with it (store/dynamo.py).
    gsi_name = UnicodeAttribute(null=True)
    gsi_contacted = UnicodeAttribute(null=True)

    by_status = LeadsByStatus()
    by_assignee = LeadsByAssignee()
    all_leads = LeadsAll()
    by_name = LeadsByName()
    by_contact = LeadsByContact()
    by_campaign = LeadsByCampaign()

    def sync_index_keys(self) -> None:
        live = self.archived_at is None
        self.gsi_status = self.status if live else None
        self.gsi_assignee = (self.assigned_to_id or UNASSIGNED_KEY) if live else None
        self.gsi_all = LEAD_LIST_KEY if live else None
        self.gsi_name = name_key(self.name)
        self.gsi_contacted = contacted_key(self.id, self.last_contacted_at)


class LeadToken(Model):
    """The search index (domain/search.py): one item per token of a live lead, newest lead
    first in a token's partition."""

    class Meta(_Meta):
        entity = "lead-search"

    token = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute(range_key=True)


class LeadPhone(Model):
    """Guard item: one per phone number, written in the same transaction as its lead."""

    class Meta(_Meta):
        entity = "lead-phones"

    phone = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute()


# ---------------------------------------------------------------- calls


class CallsByLead(GlobalSecondaryIndex["Call"]):
    Meta = _gsi_meta("by-lead")
    lead_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class CallsByMember(GlobalSecondaryIndex["Call"]):
    Meta = _gsi_meta("by-member")
    team_member_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class CallsByDay(GlobalSecondaryIndex["Call"]):
    Meta = _gsi_meta("by-day")
    day = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class CallsBySid(GlobalSecondaryIndex["Call"]):
    Meta = _gsi_meta("by-sid", KeysOnlyProjection())
    twilio_sid = UnicodeAttribute(hash_key=True)


class Call(Model):
    class Meta(_Meta):
        entity = "calls"

    id = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute()
    team_member_id = UnicodeAttribute()
    caller_id = UnicodeAttribute()
    # Snapshot of the lead when the call was placed: the connect webhook answers from the call
    # alone (one read inside Twilio's 15 s), and a later edit of the lead cannot redirect it.
    lead_phone = UnicodeAttribute(null=True)
    lead_name = UnicodeAttribute(null=True)
    lead_state = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    session_id = UnicodeAttribute(null=True)
    abandoned = BooleanAttribute(default=False)
    voicemail_left = BooleanAttribute(default=False)
    direction = UnicodeAttribute(default="outbound")
    route_stage = NumberAttribute(default=0)
    recording_sid = UnicodeAttribute(null=True)
    recording_key = UnicodeAttribute(null=True)
    recording_seconds = NumberAttribute(null=True)
    recording_kind = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="queued")
    lead_leg_status = UnicodeAttribute(null=True)
    twilio_sid = UnicodeAttribute(null=True)
    lead_leg_sid = UnicodeAttribute(null=True)
    duration_seconds = NumberAttribute(null=True)
    talk_seconds = NumberAttribute(null=True)
    answered_by = UnicodeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    disposition = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    day = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_lead = CallsByLead()
    by_member = CallsByMember()
    by_day = CallsByDay()
    by_sid = CallsBySid()


# ---------------------------------------------------------------- messages


class MessagesByLead(GlobalSecondaryIndex["Message"]):
    Meta = _gsi_meta("by-lead")
    lead_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class MessagesByDay(GlobalSecondaryIndex["Message"]):
    Meta = _gsi_meta("by-day")
    day = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class MessagesBySid(GlobalSecondaryIndex["Message"]):
    Meta = _gsi_meta("by-sid", KeysOnlyProjection())
    twilio_sid = UnicodeAttribute(hash_key=True)


class Message(Model):
    class Meta(_Meta):
        entity = "messages"

    id = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute()
    team_member_id = UnicodeAttribute(null=True)
    direction = UnicodeAttribute()
    # Unknown until Twilio picks a sender when a send goes through a Messaging Service: filled
    # in from the first status callback that names it.
    from_number = UnicodeAttribute(null=True)
    to_number = UnicodeAttribute()
    body = UnicodeAttribute()
    status = UnicodeAttribute()
    twilio_sid = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    day = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_lead = MessagesByLead()
    by_day = MessagesByDay()
    by_sid = MessagesBySid()


class MessageSid(Model):
    """Guard item: one per inbound message's Twilio SID, written in the same transaction as the
    message, so a webhook Twilio delivers twice stores the message once."""

    class Meta(_Meta):
        entity = "message-sids"

    sid = UnicodeAttribute(hash_key=True)
    message_id = UnicodeAttribute()


# ---------------------------------------------------------------- the dialer


class DialerSessionsByMember(GlobalSecondaryIndex["DialerSession"]):
    Meta = _gsi_meta("by-member")
    team_member_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class DialerSessionsByCampaign(GlobalSecondaryIndex["DialerSession"]):
    Meta = _gsi_meta("by-campaign")
    campaign_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class DialerSession(Model):
    class Meta(_Meta):
        entity = "dialer-sessions"

    id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    team_member_id = UnicodeAttribute()
    status = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    status_since = UTCDateTimeAttribute()
    member_call_sid = UnicodeAttribute(null=True)
    current_lead_id = UnicodeAttribute(null=True)
    current_call_id = UnicodeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    end_reason = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    checked_at = UTCDateTimeAttribute(null=True)
    dialed = NumberAttribute(default=0)
    humans = NumberAttribute(default=0)
    machines = NumberAttribute(default=0)
    voicemails_dropped = NumberAttribute(default=0)
    no_answer = NumberAttribute(default=0)
    abandoned = NumberAttribute(default=0)
    talk_seconds = NumberAttribute(default=0)
    version = NumberAttribute(default=0)

    by_member = DialerSessionsByMember()
    by_campaign = DialerSessionsByCampaign()


# ---------------------------------------------------------------- stats


class Stats(Model):
    """Counters. Scope "all" holds one item per business day; scope "funnel", day "current"
    holds the live lead funnel. Counter attributes are added with ADD and are not declared
    here (their names carry statuses and member ids); read them with `counters()`."""

    class Meta(_Meta):
        entity = "stats"

    scope = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)


# ---------------------------------------------------------------- campaigns

CAMPAIGN_LIST_KEY = "campaign"
OPEN_CALLBACKS_KEY = campaign_rules.OPEN_CALLBACKS_KEY


class CampaignsAll(GlobalSecondaryIndex["Campaign"]):
    Meta = _gsi_meta("all")
    gsi_all = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class Campaign(Model):
    """Campaigns; the counters are added to with ADD (never rewritten by an edit)."""

    class Meta(_Meta):
        entity = "campaigns"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    caller_id = UnicodeAttribute(null=True)
    script = UnicodeAttribute(null=True)
    member_ids = ListAttribute(of=UnicodeAttribute, null=True)
    max_attempts = NumberAttribute(default=3)
    retry_after_minutes = NumberAttribute(default=240)
    amd = UnicodeAttribute(default="hangup")
    voicemail_message = UnicodeAttribute(null=True)
    auto_advance_seconds = NumberAttribute(default=0)
    record = BooleanAttribute(default=False)
    count_ready = NumberAttribute(default=0)
    count_scheduled = NumberAttribute(default=0)
    count_done = NumberAttribute(default=0)
    dials = NumberAttribute(default=0)
    humans = NumberAttribute(default=0)
    machines = NumberAttribute(default=0)
    voicemails = NumberAttribute(default=0)
    no_answer = NumberAttribute(default=0)
    abandoned = NumberAttribute(default=0)
    talk_seconds = NumberAttribute(default=0)
    conversions = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    gsi_all = UnicodeAttribute(default=CAMPAIGN_LIST_KEY)

    all_campaigns = CampaignsAll()


class CampaignLeadsQueue(GlobalSecondaryIndex["CampaignLead"]):
    """The queue: sparse (only leads not done), soonest due first."""

    Meta = _gsi_meta("queue")
    queue_pk = UnicodeAttribute(hash_key=True)
    queue_sk = UnicodeAttribute(range_key=True)


class CampaignLeadsByState(GlobalSecondaryIndex["CampaignLead"]):
    Meta = _gsi_meta("by-state")
    state_pk = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute(range_key=True)


class CampaignLead(Model):
    """A lead's place in a campaign, keyed `<campaignId>:<leadId>`."""

    class Meta(_Meta):
        entity = "campaign-leads"

    id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    lead_id = UnicodeAttribute()
    state = UnicodeAttribute()
    added_at = UTCDateTimeAttribute()
    next_attempt_at = UnicodeAttribute()
    queue_pk = UnicodeAttribute(null=True)
    queue_sk = UnicodeAttribute(null=True)
    state_pk = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    last_attempt_at = UnicodeAttribute(null=True)
    reserved_by = UnicodeAttribute(null=True)
    reserved_until = UnicodeAttribute(null=True)
    done_reason = UnicodeAttribute(null=True)
    last_outcome = UnicodeAttribute(null=True)

    queue = CampaignLeadsQueue()
    by_state = CampaignLeadsByState()


class CallbacksByMember(GlobalSecondaryIndex["Callback"]):
    Meta = _gsi_meta("by-member")
    member_pk = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class CallbacksOpen(GlobalSecondaryIndex["Callback"]):
    Meta = _gsi_meta("open")
    open_pk = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class Callback(Model):
    """Callbacks; the list keys are sparse (present while the callback is open)."""

    class Meta(_Meta):
        entity = "callbacks"

    id = UnicodeAttribute(hash_key=True)
    lead_id = UnicodeAttribute()
    lead_name = UnicodeAttribute()
    team_member_id = UnicodeAttribute()
    at = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    due_key = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    done_at = UTCDateTimeAttribute(null=True)
    member_pk = UnicodeAttribute(null=True)
    open_pk = UnicodeAttribute(null=True)

    by_member = CallbacksByMember()
    open_callbacks = CallbacksOpen()


# ---------------------------------------------------------------- the inbox


class InboxAll(GlobalSecondaryIndex["InboxItem"]):
    Meta = _gsi_meta("all")
    list_key = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)


class InboxUnread(GlobalSecondaryIndex["InboxItem"]):
    """Sparse: only unread threads (what the unread count and `?unread=true` read)."""

    Meta = _gsi_meta("unread")
    unread_key = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)


class InboxItem(Model):
    """One item per lead: its latest inbound text, missed call or voicemail."""

    class Meta(_Meta):
        entity = "inbox"

    lead_id = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    preview = UnicodeAttribute()
    list_key = UnicodeAttribute()
    unread_key = UnicodeAttribute(null=True)
    read_at = UTCDateTimeAttribute(null=True)

    all_threads = InboxAll()
    unread_threads = InboxUnread()


ALL_MODELS: tuple[type[Model], ...] = (
    TeamMember,
    Lead,
    LeadPhone,
    LeadToken,
    Call,
    Message,
    MessageSid,
    Stats,
    Login,
    Session,
    ApiKey,
    AuditEntry,
    Throttle,
    LiveCall,
    Setting,
    Suppression,
    DialerSession,
    Campaign,
    CampaignLead,
    Callback,
    InboxItem,
)


@dataclass(frozen=True)
class Bound:
    """The models of one configuration (table prefix, region, endpoint)."""

    TeamMember: Any
    Lead: Any
    LeadPhone: Any
    LeadToken: Any
    Call: Any
    Message: Any
    MessageSid: Any
    Stats: Any
    Login: Any
    Session: Any
    ApiKey: Any
    AuditEntry: Any
    Throttle: Any
    LiveCall: Any
    Setting: Any
    Suppression: Any
    DialerSession: Any
    Campaign: Any
    CampaignLead: Any
    Callback: Any
    InboxItem: Any


def _bind(model: type[Model], settings: Settings) -> Any:
    meta = type(
        "Meta",
        (model.Meta,),  # type: ignore[arg-type]
        {
            "table_name": settings.table_name(model.Meta.entity),  # type: ignore[attr-defined]
            "region": settings.region,
            "host": settings.dynamodb_endpoint,
        },
    )
    return type(model.__name__, (model,), {"Meta": meta, "__module__": __name__})


@functools.lru_cache(maxsize=8)
def _bound(app: str, stage: str, region: str, endpoint: str | None) -> Bound:
    settings = Settings(app_name=app, stage=stage, region=region, dynamodb_endpoint=endpoint)
    return Bound(*(_bind(m, settings) for m in ALL_MODELS))


def bound(settings: Settings) -> Bound:
    """Models bound to the configured tables (built once per configuration)."""
    return _bound(settings.app_name, settings.stage, settings.region, settings.dynamodb_endpoint)
