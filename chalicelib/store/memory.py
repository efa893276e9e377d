"""The store's contract in memory: unit tests run the services on it in milliseconds.

It keeps the contract exactly as the DynamoDB store does (the same contract tests run on both):
conditions, versions, all-or-nothing transactions that name the failed operations, sparse
lead lists, newest-first pages with the same opaque cursors, and DynamoDB's 400 KB item limit
(`item_size`: an item that would outgrow it is refused with `ItemTooLarge`, as DynamoDB
refuses it). It is not shipped as a way to run the product; nothing but tests builds it.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from chalicelib.domain.counters import REVISION
from chalicelib.domain.records import (
    INBOX_KEY,
    UNREAD_KEY,
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
    Session,
    Setting,
    Suppression,
    TeamMember,
)
from chalicelib.domain.statuses import CALL_PROGRESS, OUTBOUND, SMS_FINAL
from chalicelib.errors import ValidationError
from chalicelib.store import cursor as cursors
from chalicelib.store.base import (
    LEAD_INDEX_FIELDS,
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_OPS,
    Before,
    CallRow,
    Check,
    ConditionFailed,
    Count,
    CounterItem,
    Delete,
    Eq,
    ItemTooLarge,
    LeadFilter,
    LeadList,
    MessageRow,
    Ne,
    Op,
    Page,
    Put,
    TransactionFailed,
    Update,
    When,
    check_names,
    stamp_versions,
)
from chalicelib.store.models import (
    CAMPAIGN_LIST_KEY,
    LEAD_LIST_KEY,
    OPEN_CALLBACKS_KEY,
    SUPPRESSED_KEY,
    UNASSIGNED_KEY,
    contacted_key,
    name_key,
)
from chalicelib.store.pagination import merged_page

R = TypeVar("R")
_KEY = {
    TeamMember: "id",
    Lead: "id",
    LeadPhone: "phone",
    LeadToken: "key",
    Call: "id",
    Message: "id",
    MessageSid: "sid",
    Login: "key",
    Session: "token_hash",
    ApiKey: "id",
    AuditEntry: "id",
    LiveCall: "key",
    Setting: "key",
    Suppression: "phone",
    DialerSession: "id",
    Campaign: "id",
    CampaignLead: "id",
    Callback: "id",
    InboxItem: "lead_id",
}
# DynamoDB's batch sizes: the memory store counts a batch as the one request DynamoDB would get.
BATCH_GET = 100
BATCH_WRITE = 25
_UNSETTLED_LEG = ("initiated", "ringing", "in-progress")


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int):
        # DynamoDB: about one byte per two significant digits, plus one.
        digits = len(str(abs(value)).strip("0")) or 1
        return (digits + 1) // 2 + 1
    if isinstance(value, datetime):
        return 31  # PynamoDB's UTCDateTimeAttribute: "2026-11-23T10:00:00.000000+0000"
    return len(str(value).encode())


def item_size(attributes: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it against its 400 KB limit: every attribute's name
    (UTF-8 bytes) plus its value (a string's UTF-8 bytes, a number one byte per two
    significant digits plus one, a boolean one byte). Absent (None) fields are not stored.
    An approximation within a few percent: DynamoDB's exact rules differ for negative
    numbers and for types the store does not write (lists, maps, sets)."""
    return sum(
        len(name.encode()) + _value_size(value)
        for name, value in attributes.items()
        if value is not None
    )


def _record_size(record: Any) -> int:
    return item_size({f.name: getattr(record, f.name) for f in dataclasses.fields(record)})


def _counter_size(scope: str, day: str, values: Mapping[str, int]) -> int:
    return item_size({"scope": scope, "day": day, **values})


def _key_of(record: Any) -> str:
    return str(getattr(record, _KEY[type(record)]))


def _changes(stored: Any, op: Update) -> dict[str, Any]:
    changes = dict(op.set)
    for name, delta in op.add.items():
        changes[name] = (getattr(stored, name) or 0) + delta
    if op.bump_version:
        changes["version"] = stored.version + 1
    return changes


def _holds(stored: Any, when: When) -> bool:
    for name, cond in when.items():
        value = None if stored is None else getattr(stored, name)
        if isinstance(cond, Eq):
            ok = value is not None and value == cond.value
        elif isinstance(cond, Ne):
            ok = value is None or value != cond.value
        elif isinstance(cond, Before):
            ok = value is None or value < cond.value
        else:
            ok = (value is not None) == cond.present
        if not ok:
            return False
    return True


class MemoryStore:
    """The store's contract on dicts (see store/base.py)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.tables: dict[type, dict[str, Any]] = {kind: {} for kind in _KEY}
        self.counters: dict[tuple[str, str], dict[str, int]] = {}
        self.requests = 0  # every call into the store, for tests that bound the work
        self.members = _Members(self)
        self.leads = _Leads(self)
        self.calls = _Calls(self)
        self.messages = _Messages(self)
        self.stats = _Stats(self)
        self.throttle_counts: dict[str, int] = {}
        self.logins = _Logins(self)
        self.sessions = _Sessions(self)
        self.api_keys = _ApiKeys(self)
        self.audit = _Audit(self)
        self.throttles = _Throttles(self)
        self.live_calls = _LiveCalls(self)
        self.documents = _Settings(self)
        self.suppressions = _Suppressions(self)
        self.dialer_sessions = _DialerSessions(self)
        self.campaigns = _Campaigns(self)
        self.campaign_leads = _CampaignLeads(self)
        self.callbacks = _Callbacks(self)
        self.inbox = _Inbox(self)

    def read(self, kind: type[R], key: str) -> R | None:
        with self._lock:
            self.requests += 1
            stored = self.tables[kind].get(key)
            return copy.deepcopy(stored)

    def rows(self, kind: type[R], keep: Callable[[R], bool]) -> list[R]:
        with self._lock:
            self.requests += 1
            return [copy.deepcopy(r) for r in self.tables[kind].values() if keep(r)]

    # ---------------------------------------------------------------- writes

    def _failed(self, op: Op) -> bool:
        if isinstance(op, Put):
            record: Any = op.record
            stored = self.tables[type(record)].get(_key_of(record))
            if op.if_absent and stored is not None:
                return True
            if op.when and not _holds(stored, op.when):
                return True
            if hasattr(record, "version"):
                have = stored.version if stored is not None else None
                return have != (record.version or None)
            return False
        if isinstance(op, Count):
            return False
        if isinstance(op, Update) and op.kind is Lead and LEAD_INDEX_FIELDS & set(op.set):
            raise ValueError("a lead's status, assignee or archive time changes only by a Put")
        stored = self.tables[op.kind].get(op.key)
        if isinstance(op, (Update, Check)) and stored is None:
            return True
        return not _holds(stored, op.when)

    def _after(self, op: Op) -> int:
        """The size of the item `op` writes, as it would be after it (0: nothing written)."""
        if isinstance(op, Put):
            return _record_size(op.record)
        if isinstance(op, Update):
            stored = self.tables[op.kind][op.key]
            return _record_size(dataclasses.replace(stored, **_changes(stored, op)))
        if isinstance(op, Count):
            item = dict(self.counters.get((op.scope, op.day), {}))
            for name, delta in op.deltas.items():
                item[name] = item.get(name, 0) + delta
            if op.revise:
                item[REVISION] = item.get(REVISION, 0) + 1
            return _counter_size(op.scope, op.day, item)
        return 0

    def _check_sizes(self, ops: Sequence[Op]) -> None:
        large = [op.name for op in ops if self._after(op) > MAX_ITEM_BYTES]
        if large:
            raise ItemTooLarge(large)

    def _apply(self, op: Op) -> None:
        if isinstance(op, Put):
            record: Any = copy.deepcopy(op.record)
            if hasattr(record, "version"):
                record.version += 1
            self.tables[type(record)][_key_of(record)] = record
        elif isinstance(op, Update):
            stored = self.tables[op.kind][op.key]
            self.tables[op.kind][op.key] = dataclasses.replace(stored, **_changes(stored, op))
        elif isinstance(op, Delete):
            self.tables[op.kind].pop(op.key, None)
        elif isinstance(op, Count):
            item = self.counters.setdefault((op.scope, op.day), {})
            for name, delta in op.deltas.items():
                if delta:
                    item[name] = item.get(name, 0) + delta
            if op.revise:
                item[REVISION] = item.get(REVISION, 0) + 1

    def transact(self, ops: Sequence[Op]) -> None:
        check_names(ops)
        with self._lock:
            self.requests += 1
            failed = [op.name for op in ops if self._failed(op)]
            if failed:
                raise TransactionFailed(failed)
            self._check_sizes(ops)
            for op in ops:
                self._apply(op)
        stamp_versions(ops)

    def transact_each(self, batches: Sequence[Sequence[Op]]) -> list[TransactionFailed | None]:
        out: list[TransactionFailed | None] = []
        for ops in batches:
            try:
                self.transact(ops)
                out.append(None)
            except TransactionFailed as exc:
                out.append(exc)
        return out

    def write(self, op: Put | Update | Delete | Count) -> Any:
        with self._lock:
            self.requests += 1
            if self._failed(op):
                raise ConditionFailed(op.name)
            self._check_sizes([op])
            self._apply(op)
            result = None
            if isinstance(op, Update):
                result = copy.deepcopy(self.tables[op.kind][op.key])
        stamp_versions([op])
        return result


def _page(
    rows: list[Any],
    names: tuple[str, str],
    partition: str,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
) -> Page[Any]:
    """Rows of one partition ordered by id, after the cursor; the cursor of the last row when
    more follow (the DynamoDB store's cursor format: the index's key names)."""
    index_key, _ = names
    start = cursors.decode(cursor, set(names), (index_key, partition))
    rows = sorted(rows, key=lambda r: r.id, reverse=newest_first)
    if start is not None:
        after = start["id"]["S"]
        rows = [r for r in rows if (r.id < after if newest_first else r.id > after)]
    page = rows[:limit]
    if len(rows) <= limit or not page:
        return Page(page, None)
    return Page(page, cursors.encode({index_key: {"S": partition}, "id": {"S": page[-1].id}}))


class _Members:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, member_id: str) -> TeamMember | None:
        return self.s.read(TeamMember, member_id)

    def all(self) -> list[TeamMember]:
        return sorted(self.s.rows(TeamMember, lambda m: True), key=lambda m: m.id)


class _Leads:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, lead_id: str, *, consistent: bool = False) -> Lead | None:
        return self.s.read(Lead, lead_id)

    def id_by_phone(self, phone: str, *, consistent: bool = False) -> str | None:
        guard = self.s.read(LeadPhone, phone)
        return None if guard is None else guard.lead_id

    def page(
        self,
        by: LeadList,
        key: str | None,
        limit: int,
        cursor: str | None,
        *,
        status: str | None = None,
    ) -> Page[Lead]:
        if by == "assignee":
            rows = self.s.rows(
                Lead,
                lambda r: (
                    r.live
                    and (r.assigned_to_id or UNASSIGNED_KEY) == key
                    and (status is None or r.status == status)
                ),
            )
            return _page(rows, ("gsi_assignee", "id"), str(key), limit, cursor)
        if by == "status":
            rows = self.s.rows(Lead, lambda r: r.live and r.status == key)
            return _page(rows, ("gsi_status", "id"), str(key), limit, cursor)
        rows = self.s.rows(Lead, lambda r: r.live)
        return _page(rows, ("gsi_all", "id"), LEAD_LIST_KEY, limit, cursor)

    def page_visible(
        self, member_id: str, limit: int, cursor: str | None, *, status: str | None = None
    ) -> Page[Lead]:
        def fetch(part: str, pos: str | None, n: int) -> Page[Lead]:
            return self.page("assignee", part, n, pos, status=status)

        parts = [member_id, UNASSIGNED_KEY]
        return merged_page(fetch, parts, "gsi_assignee", limit, cursor)

    def iter_live(self) -> Iterator[Lead]:
        yield from sorted(self.s.rows(Lead, lambda r: r.live), key=lambda r: r.id, reverse=True)

    def taken_phones(self, phones: Sequence[str]) -> set[str]:
        wanted = set(phones)
        return {g.phone for g in self.s.rows(LeadPhone, lambda g: g.phone in wanted)}

    def count_live(self, status: str) -> int:
        with self.s._lock:
            self.s.requests += 1
            return sum(1 for r in self.s.tables[Lead].values() if r.live and r.status == status)

    def get_many(self, lead_ids: Sequence[str], *, consistent: bool = False) -> dict[str, Lead]:
        wanted = list(dict.fromkeys(lead_ids))
        with self.s._lock:
            self.s.requests += -(-len(wanted) // BATCH_GET)
            table = self.s.tables[Lead]
            return {i: copy.deepcopy(table[i]) for i in wanted if i in table}

    def ids_by_phones(self, phones: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(phones))
        with self.s._lock:
            self.s.requests += -(-len(wanted) // BATCH_GET)
            table = self.s.tables[LeadPhone]
            return {p: table[p].lead_id for p in wanted if p in table}

    def token_ids(
        self, token: str, after: str | None, limit: int, *, newest_first: bool = True
    ) -> tuple[list[str], bool]:
        rows = self.s.rows(LeadToken, lambda t: t.token == token)
        ids = sorted((t.lead_id for t in rows), reverse=newest_first)
        if after:
            ids = [i for i in ids if (i < after if newest_first else i > after)]
        return ids[:limit], len(ids) > limit

    def write_tokens(self, put: Sequence[LeadToken], delete: Sequence[LeadToken] = ()) -> None:
        with self.s._lock:
            self.s.requests += -(-(len(put) + len(delete)) // BATCH_WRITE)
            table = self.s.tables[LeadToken]
            for token in delete:
                table.pop(token.key, None)
            for token in put:
                table[token.key] = copy.deepcopy(token)

    def listing(self, spec: LeadFilter, limit: int, cursor: str | None) -> Page[Lead]:
        """The DynamoDB store's orders: by campaign or creation, the id; by name, the folded
        name; by last contact, the time (never contacted below every time, by id)."""

        def key(lead: Lead) -> tuple[str, str]:
            if spec.campaign_id or spec.sort == "createdAt":
                return (lead.id, lead.id)
            if spec.sort == "name":
                return (name_key(lead.name), lead.id)
            return (contacted_key(lead.id, lead.last_contacted_at), lead.id)

        rows = sorted(self.s.rows(Lead, spec.keeps), key=key, reverse=spec.descending)
        if cursor:
            position = cursors.load(cursor)
            if (
                not isinstance(position, list)
                or len(position) != 2
                or not all(isinstance(p, str) for p in position)
            ):
                raise ValidationError("cursor is not valid", {"field": "cursor"})
            after = (position[0], position[1])
            rows = [r for r in rows if (key(r) < after if spec.descending else key(r) > after)]
        page = rows[:limit]
        if len(rows) <= limit or not page:
            return Page(page, None)
        return Page(page, cursors.dump(list(key(page[-1]))))


class _Calls:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, call_id: str, *, consistent: bool = False) -> Call | None:
        return self.s.read(Call, call_id)

    def page_by_lead(self, lead_id: str, limit: int, cursor: str | None) -> Page[Call]:
        rows = self.s.rows(Call, lambda c: c.lead_id == lead_id)
        return _page(rows, ("lead_id", "id"), lead_id, limit, cursor)

    def page_by_member(self, member_id: str, limit: int, cursor: str | None) -> Page[Call]:
        rows = self.s.rows(Call, lambda c: c.team_member_id == member_id)
        return _page(rows, ("team_member_id", "id"), member_id, limit, cursor)

    def unsettled_on(self, day: str) -> Iterator[Call]:
        def unsettled(c: Call) -> bool:
            return c.day == day and (
                c.status in CALL_PROGRESS
                or c.lead_leg_status is None
                or c.lead_leg_status in _UNSETTLED_LEG
            )

        yield from sorted(self.s.rows(Call, unsettled), key=lambda c: c.id)

    def rows_on(self, day: str) -> Iterator[CallRow]:
        for c in self.s.rows(Call, lambda c: c.day == day):
            yield CallRow(
                c.team_member_id,
                c.status,
                c.lead_leg_status,
                c.talk_seconds,
                c.answered_by,
                c.direction,
                c.recording_kind,
                c.disposition,
            )

    def on_day(self, day: str, before: str | None, limit: int) -> list[Call]:
        rows = self.s.rows(Call, lambda c: c.day == day and (before is None or c.id < before))
        return sorted(rows, key=lambda c: c.id, reverse=True)[:limit]

    def of_member_between(self, member_id: str, low: str, high: str, limit: int) -> list[Call]:
        rows = self.s.rows(Call, lambda c: c.team_member_id == member_id and low <= c.id < high)
        return sorted(rows, key=lambda c: c.id, reverse=True)[:limit]


class _Messages:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, message_id: str, *, consistent: bool = False) -> Message | None:
        return self.s.read(Message, message_id)

    def page_by_lead(self, lead_id: str, limit: int, cursor: str | None) -> Page[Message]:
        rows = self.s.rows(Message, lambda m: m.lead_id == lead_id)
        return _page(rows, ("lead_id", "id"), lead_id, limit, cursor, newest_first=False)

    def rows_on(self, day: str) -> Iterator[MessageRow]:
        for m in self.s.rows(Message, lambda m: m.day == day):
            yield MessageRow(m.team_member_id, m.direction, m.status)

    def pending_on(self, day: str) -> Iterator[Message]:
        def pending(m: Message) -> bool:
            return m.day == day and m.direction == OUTBOUND and m.status not in SMS_FINAL

        yield from sorted(self.s.rows(Message, pending), key=lambda m: m.id)

    def id_by_sid(self, sid: str) -> str | None:
        guard = self.s.read(MessageSid, sid)
        return None if guard is None else guard.message_id


class _Stats:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def item(self, scope: str, day: str, *, consistent: bool = False) -> CounterItem | None:
        with self.s._lock:
            self.s.requests += 1
            raw = self.s.counters.get((scope, day))
            if raw is None:
                return None
            values = dict(raw)
        revision = values.pop(REVISION, None)
        return CounterItem(values, revision)

    def range(
        self, scope: str, start: str, end: str, *, consistent: bool = False
    ) -> dict[str, dict[str, int]]:
        with self.s._lock:
            self.s.requests += 1
            return {
                day: {k: v for k, v in values.items() if k != REVISION}
                for (sc, day), values in sorted(self.s.counters.items())
                if sc == scope and start <= day <= end
            }

    def replace(
        self, scope: str, day: str, counters: Mapping[str, int], revision: int | None
    ) -> bool:
        with self.s._lock:
            self.s.requests += 1
            current = self.s.counters.get((scope, day), {}).get(REVISION)
            if current != revision:
                return False
            new = {k: v for k, v in counters.items() if k != REVISION}
            new[REVISION] = (revision or 0) + 1
            if _counter_size(scope, day, new) > MAX_ITEM_BYTES:
                raise ItemTooLarge(["replace"])
            self.s.counters[(scope, day)] = new
            return True

    def replace_checked(
        self,
        scope: str,
        items: Mapping[str, Mapping[str, int]],
        guard: tuple[str, str],
        revision: int | None,
    ) -> bool:
        days = sorted(items)
        per = MAX_TRANSACTION_OPS - 1
        for start in range(0, len(days), per):
            with self.s._lock:
                self.s.requests += 1
                if self.s.counters.get(guard, {}).get(REVISION) != revision:
                    return False
                chunk = {
                    day: {k: v for k, v in items[day].items() if k != REVISION}
                    for day in days[start : start + per]
                }
                large = [d for d, c in chunk.items() if _counter_size(scope, d, c) > MAX_ITEM_BYTES]
                if large:
                    raise ItemTooLarge(large)
                for day, values in chunk.items():
                    self.s.counters[(scope, day)] = values
        return True


class _Logins:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def member_id(self, key: str) -> str | None:
        guard = self.s.read(Login, key)
        return None if guard is None else guard.member_id


class _Sessions:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, token_hash: str) -> Session | None:
        return self.s.read(Session, token_hash)


class _ApiKeys:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, key_id: str) -> ApiKey | None:
        return self.s.read(ApiKey, key_id)

    def all(self) -> list[ApiKey]:
        return sorted(self.s.rows(ApiKey, lambda k: True), key=lambda k: k.id)


class _Audit:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def page(self, action: str | None, limit: int, cursor: str | None) -> Page[AuditEntry]:
        if action:
            rows = self.s.rows(AuditEntry, lambda e: e.action == action)
            return _page(rows, ("action", "id"), action, limit, cursor)
        rows = self.s.rows(AuditEntry, lambda e: True)
        return _page(rows, ("stream", "id"), "audit", limit, cursor)


class _Throttles:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def hit(self, key: str, expires_at: datetime) -> int:
        with self.s._lock:
            self.s.requests += 1
            self.s.throttle_counts[key] = self.s.throttle_counts.get(key, 0) + 1
            return self.s.throttle_counts[key]

    def count(self, key: str) -> int:
        with self.s._lock:
            self.s.requests += 1
            return self.s.throttle_counts.get(key, 0)


class _LiveCalls:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, key: str) -> LiveCall | None:
        return self.s.read(LiveCall, key)

    def get_many(self, keys: Sequence[str]) -> dict[str, LiveCall]:
        with self.s._lock:
            self.s.requests += 1
            table = self.s.tables[LiveCall]
            return {k: copy.deepcopy(table[k]) for k in dict.fromkeys(keys) if k in table}


class _Settings:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, key: str) -> Setting | None:
        return self.s.read(Setting, key)


class _Suppressions:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, phone: str) -> Suppression | None:
        return self.s.read(Suppression, phone)

    def get_with_document(
        self, phone: str, document: str
    ) -> tuple[Suppression | None, Setting | None]:
        with self.s._lock:
            self.s.requests += 1
            item = copy.deepcopy(self.s.tables[Suppression].get(phone))
            doc = copy.deepcopy(self.s.tables[Setting].get(document))
        return item, doc

    def get_many(self, phones: Sequence[str]) -> dict[str, Suppression]:
        wanted = list(dict.fromkeys(phones))
        with self.s._lock:
            self.s.requests += -(-len(wanted) // BATCH_GET)
            table = self.s.tables[Suppression]
            return {p: copy.deepcopy(table[p]) for p in wanted if p in table}

    def page(self, limit: int, cursor: str | None) -> Page[Suppression]:
        names = {"gsi_listed", "listed_id", "phone"}
        start = cursors.decode(cursor, names, ("gsi_listed", SUPPRESSED_KEY))
        rows = self.s.rows(Suppression, lambda r: r.listed_id is not None)
        rows.sort(key=lambda r: (r.listed_id, r.phone), reverse=True)
        if start is not None:
            after = (start["listed_id"]["S"], start["phone"]["S"])
            rows = [r for r in rows if (r.listed_id, r.phone) < after]
        page = rows[:limit]
        if len(rows) <= limit or not page:
            return Page(page, None)
        last = page[-1]
        key = {
            "gsi_listed": {"S": SUPPRESSED_KEY},
            "listed_id": {"S": str(last.listed_id)},
            "phone": {"S": last.phone},
        }
        return Page(page, cursors.encode(key))

    def put_many(self, items: Sequence[Suppression]) -> None:
        with self.s._lock:
            self.s.requests += -(-len(items) // BATCH_WRITE)
            for item in items:
                item.version += 1
                self.s.tables[Suppression][item.phone] = copy.deepcopy(item)


class _DialerSessions:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, session_id: str, *, consistent: bool = False) -> DialerSession | None:
        return self.s.read(DialerSession, session_id)

    def page_by_member(self, member_id: str, limit: int, cursor: str | None) -> Page[DialerSession]:
        rows = self.s.rows(DialerSession, lambda d: d.team_member_id == member_id)
        return _page(rows, ("team_member_id", "id"), member_id, limit, cursor)

    def page_by_campaign(
        self, campaign_id: str, limit: int, cursor: str | None
    ) -> Page[DialerSession]:
        rows = self.s.rows(DialerSession, lambda d: d.campaign_id == campaign_id)
        return _page(rows, ("campaign_id", "id"), campaign_id, limit, cursor)


class _Campaigns:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, campaign_id: str, *, consistent: bool = False) -> Campaign | None:
        return self.s.read(Campaign, campaign_id)

    def page(
        self, limit: int, cursor: str | None, *, member_id: str | None = None
    ) -> Page[Campaign]:
        rows = self.s.rows(
            Campaign, lambda c: member_id is None or member_id in (c.member_ids or [])
        )
        return _page(rows, ("gsi_all", "id"), CAMPAIGN_LIST_KEY, limit, cursor)


def _keyed_page(
    rows: list[Any],
    names: tuple[str, str, str],
    partition: str,
    limit: int,
    cursor: str | None,
    *,
    newest_first: bool,
) -> Page[Any]:
    """Rows of one index partition ordered by the index's range key (then the item's id), after
    the cursor; the DynamoDB store's cursor format (index hash, index range, table key)."""
    hash_name, range_name, id_name = names
    start = cursors.decode(cursor, set(names), (hash_name, partition))

    def order(r: Any) -> tuple[str, str]:
        return (getattr(r, range_name), getattr(r, id_name))

    rows = sorted(rows, key=order, reverse=newest_first)
    if start is not None:
        after = (start[range_name]["S"], start[id_name]["S"])
        rows = [r for r in rows if (order(r) < after if newest_first else order(r) > after)]
    page = rows[:limit]
    if len(rows) <= limit or not page:
        return Page(page, None)
    last = page[-1]
    key = {n: {"S": str(getattr(last, n))} for n in names}
    return Page(page, cursors.encode(key))


class _CampaignLeads:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, entry_id: str, *, consistent: bool = False) -> CampaignLead | None:
        return self.s.read(CampaignLead, entry_id)

    def page_by_state(
        self, campaign_id: str, state: str, limit: int, cursor: str | None
    ) -> Page[CampaignLead]:
        part = f"{campaign_id}#{state}"
        rows = self.s.rows(CampaignLead, lambda r: r.state_pk == part)
        names = ("state_pk", "lead_id", "id")
        return _keyed_page(rows, names, part, limit, cursor, newest_first=True)

    def due(self, campaign_id: str, up_to: str, limit: int) -> list[CampaignLead]:
        rows = self.s.rows(
            CampaignLead,
            lambda r: r.queue_pk == campaign_id and r.queue_sk is not None and r.queue_sk <= up_to,
        )
        return sorted(rows, key=lambda r: str(r.queue_sk))[:limit]


class _Callbacks:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, callback_id: str) -> Callback | None:
        return self.s.read(Callback, callback_id)

    def page(
        self, member_id: str | None, up_to: str | None, limit: int, cursor: str | None
    ) -> Page[Callback]:
        if member_id is not None:
            names, part = ("member_pk", "due_key", "id"), member_id
            rows = self.s.rows(Callback, lambda c: c.member_pk == member_id)
        else:
            names, part = ("open_pk", "due_key", "id"), OPEN_CALLBACKS_KEY
            rows = self.s.rows(Callback, lambda c: c.open_pk == OPEN_CALLBACKS_KEY)
        if up_to is not None:
            rows = [c for c in rows if c.due_key <= up_to]
        return _keyed_page(rows, names, part, limit, cursor, newest_first=False)


_INBOX_NAMES = {
    False: ("list_key", "item_id", "lead_id"),
    True: ("unread_key", "item_id", "lead_id"),
}


class _Inbox:
    def __init__(self, store: MemoryStore) -> None:
        self.s = store

    def get(self, lead_id: str) -> InboxItem | None:
        return self.s.read(InboxItem, lead_id)

    def page(self, unread: bool, limit: int, cursor: str | None) -> Page[InboxItem]:
        names = _INBOX_NAMES[unread]
        part = UNREAD_KEY if unread else INBOX_KEY
        rows = self.s.rows(InboxItem, lambda r: getattr(r, names[0]) == part)
        return _keyed_page(rows, names, part, limit, cursor, newest_first=True)

    def cursor_after(self, item: InboxItem, unread: bool) -> str:
        names = _INBOX_NAMES[unread]
        part = UNREAD_KEY if unread else INBOX_KEY
        key = {
            names[0]: {"S": part},
            "item_id": {"S": item.item_id},
            "lead_id": {"S": item.lead_id},
        }
        return str(cursors.encode(key))

    def unread_lead_ids(self) -> list[str]:
        rows = self.s.rows(InboxItem, lambda r: r.unread_key == UNREAD_KEY)
        return [r.lead_id for r in sorted(rows, key=lambda r: r.item_id, reverse=True)]
