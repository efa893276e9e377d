"""The store's contract: what services may ask of persistence, in their own words.

Two implementations keep it: `store.dynamo` (DynamoDB through PynamoDB) and `store.memory`
(dicts, for unit tests); the same contract tests run against both (tests/contract/).

Writes are operations (`Put`, `Update`, `Delete`, `Check`, `Count`), each named by the caller.
`Store.transact` applies them all or none; when a condition fails it raises `TransactionFailed`
naming the operations whose conditions failed, never by position. `Store.write` applies one
operation on its own (a single-item request, cheaper than a transaction).

This module imports no storage library: services import it freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from chalicelib.domain.records import (
    ApiKey,
    AuditEntry,
    Call,
    Callback,
    Campaign,
    CampaignLead,
    DialerSession,
    InboxItem,
    Lead,
    LeadPhone,
    LeadToken,
    LiveCall,
    Login,
    Message,
    MessageSid,
    Record,
    Session,
    Setting,
    Suppression,
    TeamMember,
)

T = TypeVar("T")
RecordKind = (
    type[TeamMember]
    | type[Lead]
    | type[LeadPhone]
    | type[LeadToken]
    | type[Call]
    | type[Message]
    | type[MessageSid]
    | type[Login]
    | type[Session]
    | type[ApiKey]
    | type[AuditEntry]
    | type[LiveCall]
    | type[Setting]
    | type[Suppression]
    | type[DialerSession]
    | type[Campaign]
    | type[CampaignLead]
    | type[Callback]
    | type[InboxItem]
)

# Lead fields the list indexes are derived from: they change only by a whole-record `Put`,
# so the store can keep the indexes in step (an `Update` of one of them is refused).
LEAD_INDEX_FIELDS = frozenset({"status", "assigned_to_id", "archived_at"})


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Eq:
    """The attribute exists and equals `value`."""

    value: Any


@dataclass(frozen=True)
class Ne:
    """The attribute is absent or differs from `value`."""

    value: Any


@dataclass(frozen=True)
class Before:
    """The attribute is absent or a string that sorts before `value` (ULIDs: an earlier one)."""

    value: str


@dataclass(frozen=True)
class _Presence:
    present: bool


ABSENT = _Presence(False)
PRESENT = _Presence(True)
Cond = Eq | Ne | Before | _Presence
When = Mapping[str, Cond]


# ---------------------------------------------------------------- operations


@dataclass(frozen=True)
class Put:
    """Write the whole record. `if_absent`: only if no record has its key. A record with a
    `version` is saved on the condition that the stored version is still `record.version`
    (absent when 0) and is stored with the next one, which is set on the record on success.
    `when`: more conditions on the stored record (fields others update without a version)."""

    name: str
    record: Record
    if_absent: bool = False
    when: When = field(default_factory=dict)


@dataclass(frozen=True)
class Update:
    """Set fields of an existing record (None removes one) without reading it. `when`: the
    conditions on the stored record; `bump_version` adds one to `version`; `add`: numbers
    added to number fields (counters kept on a record, e.g. a campaign's)."""

    name: str
    kind: RecordKind
    key: str
    set: Mapping[str, Any]
    when: When = field(default_factory=dict)
    bump_version: bool = False
    add: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Delete:
    name: str
    kind: RecordKind
    key: str
    when: When = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """A condition on another record, checked in the transaction; nothing is written."""

    name: str
    kind: RecordKind
    key: str
    when: When


@dataclass(frozen=True)
class Count:
    """Add `deltas` to the counters of a stats item (created on first use). `revise` also adds
    one to its revision (`rev`: the rollup overwrites a day only if no live update came)."""

    name: str
    scope: str
    day: str
    deltas: Mapping[str, int]
    revise: bool = False


Op = Put | Update | Delete | Check | Count


class TransactionFailed(Exception):
    """Nothing was written. `failed`: the names of the operations whose condition failed;
    `conflict`: another transaction was writing the same items (safe to retry)."""

    def __init__(self, failed: Iterable[str], conflict: bool = False) -> None:
        self.failed = frozenset(failed)
        self.conflict = conflict
        super().__init__(
            f"transaction cancelled: failed {sorted(self.failed)}"
            + (" (conflict)" if conflict else "")
        )


class ConditionFailed(Exception):
    """A single `Store.write` whose condition failed; nothing was written."""


# DynamoDB's largest item (attribute names and values together).
MAX_ITEM_BYTES = 400 * 1024
# DynamoDB's most operations in one transaction.
MAX_TRANSACTION_OPS = 100


class ItemTooLarge(Exception):
    """A write would have made an item larger than DynamoDB's 400 KB; nothing was written
    (in a transaction: none of it). `names`: the operations whose item was too large where
    the database says (it does for an update; a too-large Put is refused before any
    operation runs, without naming it: then every Put of the request)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        super().__init__(f"item over DynamoDB's 400 KB limit: {sorted(self.names)}")


# ---------------------------------------------------------------- reads


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


LeadList = Literal["all", "status", "assignee"]
LeadSort = Literal["createdAt", "name", "lastContactedAt"]


@dataclass(frozen=True)
class LeadFilter:
    """What a list of leads keeps, and its order. `visible_to`: a caller's list (their leads
    and unassigned ones); `never_called`: no `last_contacted_at`."""

    status: str | None = None
    assignee: str | None = None
    visible_to: str | None = None
    source: str | None = None
    never_called: bool = False
    campaign_id: str | None = None
    sort: LeadSort = "createdAt"
    descending: bool = True

    def keeps(self, lead: Lead) -> bool:
        """The filter checked on a lead as it is (search results, the opted-out list)."""
        return (
            lead.archived_at is None
            and (self.status is None or lead.status == self.status)
            and (self.assignee is None or lead.assigned_to_id == self.assignee)
            and (
                self.visible_to is None
                or lead.assigned_to_id is None
                or lead.assigned_to_id == self.visible_to
            )
            and (self.source is None or lead.source == self.source)
            and (not self.never_called or lead.last_contacted_at is None)
            and (self.campaign_id is None or lead.campaign_id == self.campaign_id)
        )


@dataclass(frozen=True)
class CallRow:
    """What the rollup needs of a call (a projection: fewer bytes read)."""

    team_member_id: str
    status: str
    lead_leg_status: str | None
    talk_seconds: int | None
    answered_by: str | None = None
    direction: str = "outbound"
    recording_kind: str | None = None
    disposition: str | None = None


@dataclass(frozen=True)
class MessageRow:
    team_member_id: str | None
    direction: str
    status: str


class MemberRepository(Protocol):
    def get(self, member_id: str) -> TeamMember | None: ...
    def all(self) -> list[TeamMember]:
        """Every member (the team table is small: one Scan, by design)."""
        ...


class LeadRepository(Protocol):
    def get(self, lead_id: str, *, consistent: bool = False) -> Lead | None: ...
    def id_by_phone(self, phone: str, *, consistent: bool = False) -> str | None:
        """The id of the lead holding this E.164 number (archived or not), from its guard."""
        ...

    def page(
        self,
        by: LeadList,
        key: str | None,
        limit: int,
        cursor: str | None,
        *,
        status: str | None = None,
    ) -> Page[Lead]:
        """Live leads, newest first: all, or by status, or by assignee (optionally of one
        status). A Query on a sparse index, never a Scan."""
        ...

    def page_visible(
        self, member_id: str, limit: int, cursor: str | None, *, status: str | None = None
    ) -> Page[Lead]:
        """A caller's list: live leads assigned to `member_id` or to nobody, newest first (two
        Queries on by-assignee, merged)."""
        ...

    def iter_live(self) -> Iterator[Lead]:
        """Every live lead, newest first, read page by page."""
        ...

    def taken_phones(self, phones: Sequence[str]) -> set[str]:
        """Which of these numbers already have a guard (batched reads)."""
        ...

    def count_live(self, status: str) -> int:
        """How many live (not archived) leads have this status: a count on the sparse by-status
        index, paged (it reads the index's items but returns none of them)."""
        ...

    def get_many(self, lead_ids: Sequence[str], *, consistent: bool = False) -> dict[str, Lead]:
        """The leads of these ids that exist, by id (BatchGetItem, 100 keys each)."""
        ...

    def ids_by_phones(self, phones: Sequence[str]) -> dict[str, str]:
        """The lead ids of these numbers' guards, by number (BatchGetItem, 100 keys each)."""
        ...

    def listing(self, spec: LeadFilter, limit: int, cursor: str | None) -> Page[Lead]:
        """Live leads kept by `spec`, in its order: a Query on the index that fits (by
        campaign, name, last contact, assignee, status or all), the rest of the filter as a
        filter expression; never a Scan."""
        ...

    def token_ids(
        self, token: str, after: str | None, limit: int, *, newest_first: bool = True
    ) -> tuple[list[str], bool]:
        """Lead ids of one search token's partition past `after` (a lead id), newest first: at
        most `limit`, and whether more follow (one consistent Query)."""
        ...

    def write_tokens(self, put: Sequence[LeadToken], delete: Sequence[LeadToken] = ()) -> None:
        """Search token items put and deleted outside any transaction (BatchWriteItem, 25 a
        request, several in flight): a bulk import writes its leads' tokens before the leads."""
        ...


class CallRepository(Protocol):
    def get(self, call_id: str, *, consistent: bool = False) -> Call | None: ...
    def page_by_lead(self, lead_id: str, limit: int, cursor: str | None) -> Page[Call]: ...
    def page_by_member(self, member_id: str, limit: int, cursor: str | None) -> Page[Call]: ...
    def unsettled_on(self, day: str) -> Iterator[Call]:
        """Calls of a business day with a leg not yet final."""
        ...

    def rows_on(self, day: str) -> Iterator[CallRow]: ...

    def on_day(self, day: str, before: str | None, limit: int) -> list[Call]:
        """At most `limit` calls of a business day whose id sorts before `before` (None: from
        the newest), newest first: ONE Query on by-day (the call log)."""
        ...

    def of_member_between(self, member_id: str, low: str, high: str, limit: int) -> list[Call]:
        """At most `limit` calls of a member with `low` <= id < `high`, newest first: ONE Query
        on by-member (ids are ULIDs: a range of ids is a range of time)."""
        ...


class MessageRepository(Protocol):
    def get(self, message_id: str, *, consistent: bool = False) -> Message | None: ...
    def page_by_lead(self, lead_id: str, limit: int, cursor: str | None) -> Page[Message]:
        """Oldest first (a conversation)."""
        ...

    def rows_on(self, day: str) -> Iterator[MessageRow]: ...
    def pending_on(self, day: str) -> Iterator[Message]:
        """Outbound messages of a business day whose status is not yet final (a Query on
        by-day, never a Scan)."""
        ...

    def id_by_sid(self, sid: str) -> str | None:
        """The id of the inbound message stored for this Twilio SID, from its guard."""
        ...


@dataclass
class CounterItem:
    counters: dict[str, int]
    revision: int | None  # None: the item has never been revised


class StatsRepository(Protocol):
    def item(self, scope: str, day: str, *, consistent: bool = False) -> CounterItem | None: ...
    def range(
        self, scope: str, start: str, end: str, *, consistent: bool = False
    ) -> dict[str, dict[str, int]]:
        """Counters of every item of `scope` with day in [start, end] (one Query, paged)."""
        ...

    def replace(
        self, scope: str, day: str, counters: Mapping[str, int], revision: int | None
    ) -> bool:
        """Store `counters` as the item's whole content with the next revision, on the condition
        that its revision is still `revision` (None: never revised). False on a lost race."""
        ...

    def replace_checked(
        self,
        scope: str,
        items: Mapping[str, Mapping[str, int]],
        guard: tuple[str, str],
        revision: int | None,
    ) -> bool:
        """Store each of `items` (day: counters) of `scope` as that item's whole content,
        without a revision, in transactions of at most MAX_TRANSACTION_OPS - 1 items, each also
        checking that the `guard` item's (scope, day) revision is still `revision` (None: never
        revised). False at the first transaction whose check fails; the ones before it stay
        written (each was checked on its own)."""
        ...


class LoginRepository(Protocol):
    def member_id(self, key: str) -> str | None:
        """The member a login guard (`email#...`, `sub#...`) names; a consistent read."""
        ...


class SessionRepository(Protocol):
    def get(self, token_hash: str) -> Session | None: ...


class ApiKeyRepository(Protocol):
    def get(self, key_id: str) -> ApiKey | None: ...
    def all(self) -> list[ApiKey]:
        """Every key, revoked ones included (a handful: one Scan, by design)."""
        ...


class AuditRepository(Protocol):
    def page(self, action: str | None, limit: int, cursor: str | None) -> Page[AuditEntry]:
        """Newest first; all entries, or one action's (a Query either way)."""
        ...


class ThrottleRepository(Protocol):
    def hit(self, key: str, expires_at: datetime) -> int:
        """Add one to the window's counter (created at 1) and return its new value."""
        ...

    def count(self, key: str) -> int:
        """The window's counter (0 when absent)."""
        ...


class LiveCallRepository(Protocol):
    def get(self, key: str) -> LiveCall | None:
        """The guard `member#<id>` / `lead#<id>` (a consistent read)."""
        ...

    def get_many(self, keys: Sequence[str]) -> dict[str, LiveCall]:
        """The guards that exist among `keys` (one consistent BatchGetItem per 100)."""
        ...


class SettingRepository(Protocol):
    def get(self, key: str) -> Setting | None:
        """The settings document named `key` (a consistent read: an edit applies from the next
        request)."""
        ...


class SuppressionRepository(Protocol):
    """The compliance ledger, one item per E.164 number (an item may list no channel: it keeps
    what last decided the SMS channel)."""

    def get(self, phone: str) -> Suppression | None:
        """The number's item (a consistent GetItem: a suppression added a moment ago counts)."""
        ...

    def get_many(self, phones: Sequence[str]) -> dict[str, Suppression]:
        """The items of these numbers that exist, by number (BatchGetItem, 100 keys each)."""
        ...

    def get_with_document(
        self, phone: str, document: str
    ) -> tuple[Suppression | None, Setting | None]:
        """The number's item and a settings document (the compliance rules) in ONE request
        (a BatchGetItem over both tables, consistent): what every outgoing call or text reads."""
        ...

    def page(self, limit: int, cursor: str | None) -> Page[Suppression]:
        """Suppressed numbers, newest first: a Query on the sparse by-listed index."""
        ...

    def put_many(self, items: Sequence[Suppression]) -> None:
        """Write whole items in batches (BatchWriteItem of 25, several in flight),
        unconditionally, each with the next version (the import's trade-off: see
        services/suppressions.import_numbers)."""
        ...


class DialerSessionRepository(Protocol):
    def get(self, session_id: str, *, consistent: bool = False) -> DialerSession | None: ...
    def page_by_member(self, member_id: str, limit: int, cursor: str | None) -> Page[DialerSession]:
        """A member's sessions, newest first."""
        ...

    def page_by_campaign(
        self, campaign_id: str, limit: int, cursor: str | None
    ) -> Page[DialerSession]:
        """A campaign's sessions, newest first."""


class CampaignRepository(Protocol):
    def get(self, campaign_id: str, *, consistent: bool = False) -> Campaign | None: ...
    def page(
        self, limit: int, cursor: str | None, *, member_id: str | None = None
    ) -> Page[Campaign]:
        """Campaigns newest first (a Query on the all-campaigns index); `member_id`: only those
        whose members include them (a filter: campaigns are few)."""
        ...


class CampaignLeadRepository(Protocol):
    def get(self, entry_id: str, *, consistent: bool = False) -> CampaignLead | None: ...
    def page_by_state(
        self, campaign_id: str, state: str, limit: int, cursor: str | None
    ) -> Page[CampaignLead]:
        """A campaign's leads in one state, by lead id (newest lead first): a Query on the
        by-state index."""
        ...

    def due(self, campaign_id: str, up_to: str, limit: int) -> list[CampaignLead]:
        """At most `limit` queue items of the campaign whose queue key is at most `up_to`,
        soonest first: ONE Query on the sparse queue index (eventually consistent: a write's
        condition is the guard)."""
        ...


class CallbackRepository(Protocol):
    def get(self, callback_id: str) -> Callback | None: ...
    def page(
        self, member_id: str | None, up_to: str | None, limit: int, cursor: str | None
    ) -> Page[Callback]:
        """Open callbacks, soonest first: a member's (by-member index) or everyone's (the
        all-open index); `up_to`: only those whose due key is at most it."""
        ...


class InboxRepository(Protocol):
    def get(self, lead_id: str) -> InboxItem | None:
        """The lead's thread (a consistent GetItem)."""
        ...

    def page(self, unread: bool, limit: int, cursor: str | None) -> Page[InboxItem]:
        """Threads newest first (by `item_id`): all of them (the `all` index) or the unread
        ones (the sparse `unread` index). A Query, never a Scan."""
        ...

    def cursor_after(self, item: InboxItem, unread: bool) -> str:
        """The cursor of `page` that continues right after `item`."""
        ...

    def unread_lead_ids(self) -> list[str]:
        """The leads of every unread thread, newest first (the sparse index, paged)."""
        ...


class Store(Protocol):
    @property
    def members(self) -> MemberRepository: ...
    @property
    def leads(self) -> LeadRepository: ...
    @property
    def calls(self) -> CallRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def stats(self) -> StatsRepository: ...
    @property
    def logins(self) -> LoginRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def throttles(self) -> ThrottleRepository: ...
    @property
    def live_calls(self) -> LiveCallRepository: ...
    @property
    def documents(self) -> SettingRepository: ...
    @property
    def suppressions(self) -> SuppressionRepository: ...
    @property
    def dialer_sessions(self) -> DialerSessionRepository: ...
    @property
    def campaigns(self) -> CampaignRepository: ...
    @property
    def campaign_leads(self) -> CampaignLeadRepository: ...
    @property
    def callbacks(self) -> CallbackRepository: ...
    @property
    def inbox(self) -> InboxRepository: ...

    def transact(self, ops: Sequence[Op]) -> None: ...
    def transact_each(self, batches: Sequence[Sequence[Op]]) -> list[TransactionFailed | None]:
        """Independent transactions, several at once: what each ended with (None: committed).
        Each is all or nothing on its own; nothing orders them."""
        ...

    def write(self, op: Put | Update | Delete | Count) -> Record | None:
        """One operation on its own; an `Update` returns the record as it is after it."""
        ...


def stamp_versions(ops: Sequence[Op]) -> None:
    """After a commit: the saved versioned records carry their new version."""
    for op in ops:
        if isinstance(op, Put) and hasattr(op.record, "version"):
            op.record.version += 1


def check_names(ops: Sequence[Op]) -> None:
    names = [op.name for op in ops]
    if len(set(names)) != len(names):
        raise ValueError(f"operation names must be unique in a transaction: {names}")
