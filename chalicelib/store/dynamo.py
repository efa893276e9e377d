"""The store on DynamoDB, through PynamoDB's public API (and botocore's client, through
PynamoDB's public `Connection.client`, for what PynamoDB does not model: counters whose names
are data, batch requests, and transactions whose items keep the caller's order).

Transactions are sent with the items in the order the operations were given, so a
cancellation reason maps to the operation's name, never to a position someone must remember.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from chalicelib.config import Settings
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
from chalicelib.domain.statuses import OUTBOUND, SMS_FINAL
from chalicelib.store import cursor as cursors
from chalicelib.store.base import (
    LEAD_INDEX_FIELDS,
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
    NEVER_CONTACTED,
    OPEN_CALLBACKS_KEY,
    SUPPRESSED_KEY,
    UNASSIGNED_KEY,
    Bound,
    bound,
    contacted_key,
)
from chalicelib.store.pagination import merged_page, query_page

REVISION = "rev"
_BATCH_GET = 100
_BATCH_WRITE = 25
_WRITERS = 8
_UNSETTLED_LEG = ("initiated", "ringing", "in-progress")
_UNSETTLED_CALL = ("queued", "initiated", "ringing", "in-progress")


def _backoff(attempt: int) -> int:
    time.sleep(min(0.05 * (2**attempt), 2.0))
    return attempt + 1


_TOO_LARGE = "maximum allowed size"


def _too_large(message: str | None) -> bool:
    """DynamoDB's message for an item over 400 KB ("Item size has exceeded the maximum allowed
    size", "Item size to update has exceeded ..."), as a ValidationException on its own or a
    ValidationError reason of a cancelled transaction."""
    return _TOO_LARGE in (message or "")


def counters_of(raw_item: Mapping[str, Any] | None) -> dict[str, int]:
    """Numeric attributes of a raw stats item, as ints."""
    if not raw_item:
        return {}
    return {
        name: int(value["N"])
        for name, value in raw_item.items()
        if isinstance(value, dict) and "N" in value
    }


class _Tables:
    """Records to models and back, and the conditions of the store's contract."""

    def __init__(self, models: Bound) -> None:
        self.m = models
        self.by_kind: dict[type, Any] = {
            TeamMember: models.TeamMember,
            Lead: models.Lead,
            LeadPhone: models.LeadPhone,
            LeadToken: models.LeadToken,
            Call: models.Call,
            Message: models.Message,
            MessageSid: models.MessageSid,
            Login: models.Login,
            Session: models.Session,
            ApiKey: models.ApiKey,
            AuditEntry: models.AuditEntry,
            LiveCall: models.LiveCall,
            Setting: models.Setting,
            Suppression: models.Suppression,
            DialerSession: models.DialerSession,
            Campaign: models.Campaign,
            CampaignLead: models.CampaignLead,
            Callback: models.Callback,
            InboxItem: models.InboxItem,
        }
        self._fields = {kind: [f.name for f in dataclasses.fields(kind)] for kind in self.by_kind}

    def model(self, record: Any, version: int | None = None) -> Any:
        cls = self.by_kind[type(record)]
        values = dataclasses.asdict(record)
        if version is not None:
            values["version"] = version
        item = cls(**values)
        if isinstance(record, (Lead, Suppression)):
            item.sync_index_keys()
        return item

    def record(self, kind: type, item: Any) -> Any:
        return kind(**{name: getattr(item, name) for name in self._fields[kind]})

    def key(self, kind: type, key: str) -> Any:
        cls = self.by_kind[kind]
        if kind is LeadToken:  # hash and range key in one string (records.token_key)
            token, lead_id = key.split(" ", 1)
            return cls(token, lead_id)
        return cls(key)  # the hash key is every model's first argument

    def condition(self, kind: type, when: When, must_exist: bool) -> Condition | None:
        cls = self.by_kind[kind]
        parts: list[Condition] = []
        if must_exist:
            hash_name = next(n for n, a in cls.get_attributes().items() if a.is_hash_key)
            parts.append(getattr(cls, hash_name).exists())
        for name, cond in when.items():
            attr = getattr(cls, name)
            if isinstance(cond, Eq):
                parts.append(attr == cond.value)
            elif isinstance(cond, Ne):
                parts.append(attr.does_not_exist() | (attr != cond.value))
            elif isinstance(cond, Before):
                parts.append(attr.does_not_exist() | (attr < cond.value))
            elif cond.present:
                parts.append(attr.exists())
            else:
                parts.append(attr.does_not_exist())
        out: Condition | None = None
        for part in parts:
            out = part if out is None else out & part
        return out

    def put(self, op: Put) -> tuple[Any, Condition | None]:
        record: Any = op.record
        cls = self.by_kind[type(record)]
        parts: list[Condition] = []
        if op.if_absent:
            hash_name = next(n for n, a in cls.get_attributes().items() if a.is_hash_key)
            parts.append(getattr(cls, hash_name).does_not_exist())
        version = None
        if hasattr(record, "version"):
            version = record.version + 1
            parts.append(
                cls.version == record.version if record.version else cls.version.does_not_exist()
            )
        extra = self.condition(type(record), op.when, False)
        if extra is not None:
            parts.append(extra)
        condition: Condition | None = None
        for part in parts:
            condition = part if condition is None else condition & part
        return self.model(record, version), condition

    def actions(self, op: Update) -> list[Action]:
        if op.kind is Lead and LEAD_INDEX_FIELDS & set(op.set):
            raise ValueError("a lead's status, assignee or archive time changes only by a Put")
        cls = self.by_kind[op.kind]
        actions: list[Action] = []
        for name, value in op.set.items():
            attr = getattr(cls, name)
            actions.append(attr.remove() if value is None else attr.set(value))
        if op.kind is Lead and "last_contacted_at" in op.set:
            # the by-contact index's sort key moves with the field
            at = op.set["last_contacted_at"]
            actions.append(cls.gsi_contacted.set(contacted_key(op.key, at)))
        for name, delta in op.add.items():
            actions.append(getattr(cls, name).add(delta))
        if op.bump_version:
            actions.append(cls.version.add(1))
        return actions

    def counter_actions(self, op: Count) -> list[Action]:
        deltas = {name: delta for name, delta in op.deltas.items() if delta}
        if op.revise:
            deltas[REVISION] = deltas.get(REVISION, 0) + 1
        # A list path, so a name may contain dots.
        return [Path([name]).add(delta) for name, delta in sorted(deltas.items())]


class DynamoStore:
    """The store's contract on DynamoDB (see store/base.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tables = _Tables(bound(settings))
        self._conn: Connection | None = None
        m = self.tables.m
        self.members = _Members(self.tables)
        self.leads = _Leads(self.tables, self)
        self.calls = _Calls(self.tables)
        self.messages = _Messages(self.tables)
        self.stats = _Stats(m.Stats, self)
        self.logins = _Logins(self.tables)
        self.sessions = _Sessions(self.tables)
        self.api_keys = _ApiKeys(self.tables)
        self.audit = _Audit(self.tables)
        self.throttles = _Throttles(self.tables, self)
        self.live_calls = _LiveCalls(self.tables)
        self.documents = _Settings(self.tables)
        self.suppressions = _Suppressions(self.tables, self)
        self.dialer_sessions = _DialerSessions(self.tables)
        self.campaigns = _Campaigns(self.tables)
        self.campaign_leads = _CampaignLeads(self.tables)
        self.callbacks = _Callbacks(self.tables)
        self.inbox = _Inbox(self.tables, self)

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(
                region=self.settings.region,
                host=self.settings.dynamodb_endpoint,
                max_retry_attempts=3,
            )
        return self._conn

    @property
    def client(self) -> Any:
        return self.connection.client

    # ---------------------------------------------------------------- writes

    def _item(self, op: Op) -> dict[str, Any]:
        """One TransactItems entry for `op`, in botocore's shape."""
        t = self.tables
        if isinstance(op, Put):
            item, condition = t.put(op)
            return {"Put": item.get_save_kwargs_from_instance(condition=condition)}
        if isinstance(op, Update):
            kwargs = t.key(op.kind, op.key).get_update_kwargs_from_instance(
                actions=t.actions(op), condition=t.condition(op.kind, op.when, True)
            )
            return {"Update": kwargs}
        if isinstance(op, Delete):
            kwargs = t.key(op.kind, op.key).get_delete_kwargs_from_instance(
                condition=t.condition(op.kind, op.when, False)
            )
            return {"Delete": kwargs}
        if isinstance(op, Check):
            cls = t.by_kind[op.kind]
            kwargs = cls.get_operation_kwargs_from_class(
                op.key, condition=t.condition(op.kind, op.when, True)
            )
            return {"ConditionCheck": kwargs}
        stats = t.m.Stats(scope=op.scope, day=op.day)
        return {"Update": stats.get_update_kwargs_from_instance(actions=t.counter_actions(op))}

    def transact(self, ops: Sequence[Op]) -> None:
        check_names(ops)
        items = [self._item(op) for op in ops]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ValidationException" and _too_large(error.get("Message")):
                raise ItemTooLarge(op.name for op in ops if isinstance(op, Put)) from None
            if error.get("Code") != "TransactionCanceledException":
                raise
            raw_reasons = exc.response.get("CancellationReasons", [])
            large = [
                op.name
                for op, r in zip(ops, raw_reasons, strict=False)
                if r.get("Code") == "ValidationError" and _too_large(r.get("Message"))
            ]
            if large:
                raise ItemTooLarge(large) from None
            reasons = [r.get("Code") for r in raw_reasons]
            failed = [
                op.name
                for op, code in zip(ops, reasons, strict=False)
                if code == "ConditionalCheckFailed"
            ]
            raise TransactionFailed(failed, conflict="TransactionConflict" in reasons) from None
        stamp_versions(ops)

    def transact_each(self, batches: Sequence[Sequence[Op]]) -> list[TransactionFailed | None]:
        """Up to eight transactions in flight (each waits ~10-30 ms on DynamoDB: one after
        another, a 10,000-row import would not fit API Gateway's 29 s)."""

        def run(ops: Sequence[Op]) -> TransactionFailed | None:
            try:
                self.transact(ops)
            except TransactionFailed as exc:
                return exc
            return None

        if len(batches) <= 1:
            return [run(ops) for ops in batches]
        with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
            return list(pool.map(run, batches))

    def write(self, op: Put | Update | Delete | Count) -> Any:
        t = self.tables
        result = None
        try:
            if isinstance(op, Put):
                item, condition = t.put(op)
                item.save(condition=condition)
            elif isinstance(op, Update):
                item = t.key(op.kind, op.key)
                item.update(actions=t.actions(op), condition=t.condition(op.kind, op.when, True))
                result = t.record(op.kind, item)  # UpdateItem returned the whole item
            elif isinstance(op, Delete):
                t.key(op.kind, op.key).delete(condition=t.condition(op.kind, op.when, False))
            else:
                t.m.Stats(scope=op.scope, day=op.day).update(actions=t.counter_actions(op))
        except (PutError, UpdateError, DeleteError) as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConditionFailed(op.name) from None
            if exc.cause_response_code == "ValidationException" and _too_large(
                exc.cause_response_message
            ):
                raise ItemTooLarge([op.name]) from None
            raise
        stamp_versions([op])
        return result


def _get(cls: Any, key: str, consistent: bool) -> Any:
    try:
        return cls.get(key, consistent_read=consistent)
    except DoesNotExist:
        return None


class _Members:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, member_id: str) -> TeamMember | None:
        item = _get(self.t.m.TeamMember, member_id, False)
        return None if item is None else self.t.record(TeamMember, item)

    def all(self) -> list[TeamMember]:
        rows = [self.t.record(TeamMember, item) for item in self.t.m.TeamMember.scan()]
        return sorted(rows, key=lambda m: m.id)


class _Leads:
    def __init__(self, t: _Tables, store: DynamoStore) -> None:
        self.t = t
        self.store = store

    def get(self, lead_id: str, *, consistent: bool = False) -> Lead | None:
        item = _get(self.t.m.Lead, lead_id, consistent)
        return None if item is None else self.t.record(Lead, item)

    def id_by_phone(self, phone: str, *, consistent: bool = False) -> str | None:
        guard = _get(self.t.m.LeadPhone, phone, consistent)
        return None if guard is None else str(guard.lead_id)

    def page(
        self,
        by: LeadList,
        key: str | None,
        limit: int,
        cursor: str | None,
        *,
        status: str | None = None,
    ) -> Page[Lead]:
        m = self.t.m.Lead
        filter_condition = None
        if by == "assignee":
            index, hash_name, hash_key = m.by_assignee, "gsi_assignee", key
            filter_condition = (m.status == status) if status else None
        elif by == "status":
            index, hash_name, hash_key = m.by_status, "gsi_status", key
        else:
            index, hash_name, hash_key = m.all_leads, "gsi_all", LEAD_LIST_KEY
        names = {"id", hash_name}
        start = cursors.decode(cursor, names, (hash_name, str(hash_key)))
        page = query_page(index, str(hash_key), names, limit, start, filter_condition)
        return Page([self.t.record(Lead, i) for i in page.items], page.next_cursor)

    def get_many(self, lead_ids: Sequence[str], *, consistent: bool = False) -> dict[str, Lead]:
        wanted = list(dict.fromkeys(lead_ids))
        out: dict[str, Lead] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            chunk = wanted[start : start + _BATCH_GET]
            for item in self.t.m.Lead.batch_get(chunk, consistent_read=consistent):
                out[str(item.id)] = self.t.record(Lead, item)
        return out

    def ids_by_phones(self, phones: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(phones))
        out: dict[str, str] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            for guard in self.t.m.LeadPhone.batch_get(wanted[start : start + _BATCH_GET]):
                out[str(guard.phone)] = str(guard.lead_id)
        return out

    def token_ids(
        self, token: str, after: str | None, limit: int, *, newest_first: bool = True
    ) -> tuple[list[str], bool]:
        """The base table's partition, read consistently (the index is never behind the lead
        a search then fetches), keys only."""
        m = self.t.m.LeadToken
        request: dict[str, Any] = {
            "TableName": m.Meta.table_name,
            "KeyConditionExpression": "#t = :t",
            "ExpressionAttributeNames": {"#t": "token", "#l": "lead_id"},
            "ExpressionAttributeValues": {":t": {"S": token}},
            "ProjectionExpression": "#l",
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
            "Limit": limit + 1,
        }
        if after:
            request["ExclusiveStartKey"] = {"token": {"S": token}, "lead_id": {"S": after}}
        resp = self.store.client.query(**request)
        ids = [item["lead_id"]["S"] for item in resp.get("Items", [])]
        return ids[:limit], len(ids) > limit

    def write_tokens(self, put: Sequence[LeadToken], delete: Sequence[LeadToken] = ()) -> None:
        def key(token: LeadToken) -> dict[str, Any]:
            return {"token": {"S": token.token}, "lead_id": {"S": token.lead_id}}

        writes = [{"PutRequest": {"Item": key(t)}} for t in put]
        writes += [{"DeleteRequest": {"Key": key(t)}} for t in delete]
        _send_batches(self.store.client, self.t.m.LeadToken.Meta.table_name, writes)

    def listing(self, spec: LeadFilter, limit: int, cursor: str | None) -> Page[Lead]:
        m = self.t.m.Lead
        # The index: the most selective key the filter gives, then the order asked for.
        used: set[str] = set()
        range_condition = None
        if spec.campaign_id:
            index, hash_name, hash_key, range_name = (
                m.by_campaign,
                "campaign_id",
                spec.campaign_id,
                "id",
            )
            used.add("campaign")
        elif spec.sort == "name":
            index, hash_name, hash_key, range_name = m.by_name, "gsi_all", LEAD_LIST_KEY, "gsi_name"
        elif spec.sort == "lastContactedAt":
            index, hash_name, hash_key, range_name = (
                m.by_contact,
                "gsi_all",
                LEAD_LIST_KEY,
                "gsi_contacted",
            )
        elif spec.assignee or spec.visible_to:
            if spec.visible_to and not spec.assignee:
                return self._visible(spec, limit, cursor)
            index, hash_name, hash_key, range_name = (
                m.by_assignee,
                "gsi_assignee",
                str(spec.assignee),
                "id",
            )
            used.add("assignee")
        elif spec.status:
            index, hash_name, hash_key, range_name = m.by_status, "gsi_status", spec.status, "id"
            used.add("status")
        elif spec.never_called:
            index, hash_name, hash_key, range_name = (
                m.by_contact,
                "gsi_all",
                LEAD_LIST_KEY,
                "gsi_contacted",
            )
            range_condition = m.gsi_contacted.startswith(NEVER_CONTACTED)
            used.add("never_called")
        else:
            index, hash_name, hash_key, range_name = m.all_leads, "gsi_all", LEAD_LIST_KEY, "id"
        if spec.sort == "lastContactedAt" and spec.never_called:
            range_condition = m.gsi_contacted.startswith(NEVER_CONTACTED)
            used.add("never_called")
        return self._query(
            spec, used, index, hash_name, str(hash_key), range_name, range_condition, limit, cursor
        )

    def _filter(self, spec: LeadFilter, used: set[str]) -> Any:
        m = self.t.m.Lead
        parts: list[Any] = []
        if "campaign" in used:
            parts.append(m.archived_at.does_not_exist())
        if spec.status and "status" not in used:
            parts.append(m.status == spec.status)
        if spec.assignee and "assignee" not in used:
            parts.append(m.assigned_to_id == spec.assignee)
        if spec.visible_to and not spec.assignee and "assignee" not in used:
            parts.append(m.assigned_to_id.does_not_exist() | (m.assigned_to_id == spec.visible_to))
        if spec.source:
            parts.append(m.source == spec.source)
        if spec.never_called and "never_called" not in used:
            parts.append(m.last_contacted_at.does_not_exist())
        out = None
        for part in parts:
            out = part if out is None else out & part
        return out

    def _query(
        self,
        spec: LeadFilter,
        used: set[str],
        index: Any,
        hash_name: str,
        hash_key: str,
        range_name: str,
        range_condition: Any,
        limit: int,
        cursor: str | None,
    ) -> Page[Lead]:
        names = {"id", hash_name, range_name}
        start = cursors.decode(cursor, names, (hash_name, hash_key))
        page = query_page(
            index,
            hash_key,
            names,
            limit,
            start,
            self._filter(spec, used),
            newest_first=spec.descending,
            range_key_condition=range_condition,
        )
        return Page([self.t.record(Lead, i) for i in page.items], page.next_cursor)

    def _visible(self, spec: LeadFilter, limit: int, cursor: str | None) -> Page[Lead]:
        """A caller's list by creation: their partition and the unassigned one, merged."""
        m = self.t.m.Lead
        used = {"assignee"}

        def fetch(part: str, pos: str | None, n: int) -> Page[Lead]:
            return self._query(spec, used, m.by_assignee, "gsi_assignee", part, "id", None, n, pos)

        parts = [str(spec.visible_to), UNASSIGNED_KEY]
        return merged_page(
            fetch, parts, "gsi_assignee", limit, cursor, newest_first=spec.descending
        )

    def page_visible(
        self, member_id: str, limit: int, cursor: str | None, *, status: str | None = None
    ) -> Page[Lead]:
        def fetch(part: str, pos: str | None, n: int) -> Page[Lead]:
            return self.page("assignee", part, n, pos, status=status)

        parts = [member_id, UNASSIGNED_KEY]
        return merged_page(fetch, parts, "gsi_assignee", limit, cursor)

    def iter_live(self) -> Iterator[Lead]:
        for item in self.t.m.Lead.all_leads.query(
            LEAD_LIST_KEY, scan_index_forward=False, page_size=500
        ):
            yield self.t.record(Lead, item)

    def taken_phones(self, phones: Sequence[str]) -> set[str]:
        found: set[str] = set()
        client = self.store.client
        table = self.t.m.LeadPhone.Meta.table_name
        for start in range(0, len(phones), _BATCH_GET):
            keys: list[dict[str, Any]] = [
                {"phone": {"S": p}} for p in phones[start : start + _BATCH_GET]
            ]
            attempt = 0
            while keys:
                resp = client.batch_get_item(
                    RequestItems={table: {"Keys": keys, "ProjectionExpression": "phone"}}
                )
                found.update(i["phone"]["S"] for i in resp.get("Responses", {}).get(table, []))
                keys = resp.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
                attempt = _backoff(attempt) if keys else 0
        return found

    def count_live(self, status: str) -> int:
        """Select=COUNT on the sparse by-status index (archived leads have no `gsi_status`),
        paged: each page reads up to 1 MB of the index and returns only a number."""
        m = self.t.m.Lead
        request: dict[str, Any] = {
            "TableName": m.Meta.table_name,
            "IndexName": m.by_status.Meta.index_name,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "gsi_status"},
            "ExpressionAttributeValues": {":s": {"S": status}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            resp = self.store.client.query(**request)
            total += int(resp.get("Count", 0))
            if "LastEvaluatedKey" not in resp:
                return total
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


class _Calls:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, call_id: str, *, consistent: bool = False) -> Call | None:
        item = _get(self.t.m.Call, call_id, consistent)
        return None if item is None else self.t.record(Call, item)

    def _page(
        self, index: Any, hash_name: str, key: str, limit: int, cursor: str | None
    ) -> Page[Call]:
        names = {"id", hash_name}
        start = cursors.decode(cursor, names, (hash_name, key))
        page = query_page(index, key, names, limit, start)
        return Page([self.t.record(Call, i) for i in page.items], page.next_cursor)

    def page_by_lead(self, lead_id: str, limit: int, cursor: str | None) -> Page[Call]:
        return self._page(self.t.m.Call.by_lead, "lead_id", lead_id, limit, cursor)

    def page_by_member(self, member_id: str, limit: int, cursor: str | None) -> Page[Call]:
        return self._page(self.t.m.Call.by_member, "team_member_id", member_id, limit, cursor)

    def unsettled_on(self, day: str) -> Iterator[Call]:
        m = self.t.m.Call
        unsettled = (
            m.status.is_in(*_UNSETTLED_CALL)
            | m.lead_leg_status.does_not_exist()
            | m.lead_leg_status.is_in(*_UNSETTLED_LEG)
        )
        for item in m.by_day.query(day, filter_condition=unsettled):
            yield self.t.record(Call, item)

    def rows_on(self, day: str) -> Iterator[CallRow]:
        fields = [
            *("id", "day", "team_member_id", "status", "lead_leg_status", "talk_seconds"),
            *("answered_by", "direction", "recording_kind", "disposition"),
        ]
        for item in self.t.m.Call.by_day.query(day, attributes_to_get=fields):
            talk = item.talk_seconds
            yield CallRow(
                item.team_member_id,
                item.status,
                item.lead_leg_status,
                int(talk) if talk is not None else None,
                item.answered_by,
                item.direction or "outbound",
                item.recording_kind,
                item.disposition,
            )

    def on_day(self, day: str, before: str | None, limit: int) -> list[Call]:
        m = self.t.m.Call
        result = m.by_day.query(
            day,
            range_key_condition=(m.id < before) if before is not None else None,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
        )
        return [self.t.record(Call, i) for i in result]

    def of_member_between(self, member_id: str, low: str, high: str, limit: int) -> list[Call]:
        m = self.t.m.Call
        # BETWEEN is inclusive: one more, and the `high` id itself (a cursor's) left out
        result = m.by_member.query(
            member_id,
            range_key_condition=m.id.between(low, high),
            scan_index_forward=False,
            limit=limit + 1,
            page_size=limit + 1,
        )
        rows = [self.t.record(Call, i) for i in result]
        return [c for c in rows if c.id != high][:limit]


class _Messages:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, message_id: str, *, consistent: bool = False) -> Message | None:
        item = _get(self.t.m.Message, message_id, consistent)
        return None if item is None else self.t.record(Message, item)

    def page_by_lead(self, lead_id: str, limit: int, cursor: str | None) -> Page[Message]:
        names = {"id", "lead_id"}
        start = cursors.decode(cursor, names, ("lead_id", lead_id))
        page = query_page(
            self.t.m.Message.by_lead, lead_id, names, limit, start, newest_first=False
        )
        return Page([self.t.record(Message, i) for i in page.items], page.next_cursor)

    def rows_on(self, day: str) -> Iterator[MessageRow]:
        fields = ["id", "day", "team_member_id", "direction", "status"]
        for item in self.t.m.Message.by_day.query(day, attributes_to_get=fields):
            yield MessageRow(item.team_member_id, item.direction, item.status)

    def pending_on(self, day: str) -> Iterator[Message]:
        m = self.t.m.Message
        pending = (m.direction == OUTBOUND) & ~m.status.is_in(*sorted(SMS_FINAL))
        for item in m.by_day.query(day, filter_condition=pending):
            yield self.t.record(Message, item)

    def id_by_sid(self, sid: str) -> str | None:
        guard = _get(self.t.m.MessageSid, sid, True)
        return None if guard is None else str(guard.message_id)


class _Stats:
    """Counter items: their attributes are data (names carry statuses and member ids), so they
    are read and written as raw items, not as a model's declared attributes."""

    def __init__(self, model: Any, store: DynamoStore) -> None:
        self.model = model
        self.store = store

    @property
    def _table(self) -> str:
        return str(self.model.Meta.table_name)

    def item(self, scope: str, day: str, *, consistent: bool = False) -> CounterItem | None:
        resp = self.store.client.get_item(
            TableName=self._table,
            Key={"scope": {"S": scope}, "day": {"S": day}},
            ConsistentRead=consistent,
        )
        raw = resp.get("Item")
        if raw is None:
            return None
        values = counters_of(raw)
        revision = values.pop(REVISION, None)
        return CounterItem(values, revision)

    def range(
        self, scope: str, start: str, end: str, *, consistent: bool = False
    ) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#s = :s AND #d BETWEEN :a AND :b",
            "ExpressionAttributeNames": {"#s": "scope", "#d": "day"},
            "ExpressionAttributeValues": {":s": {"S": scope}, ":a": {"S": start}, ":b": {"S": end}},
            "ConsistentRead": consistent,
        }
        while True:
            resp = self.store.client.query(**request)
            for raw in resp.get("Items", []):
                values = counters_of(raw)
                values.pop(REVISION, None)
                out[raw["day"]["S"]] = values
            if "LastEvaluatedKey" not in resp:
                return out
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def replace(
        self, scope: str, day: str, counters: Mapping[str, int], revision: int | None
    ) -> bool:
        """A whole-item Put, not an UpdateExpression: a day of a large team has hundreds of
        counters, more than an update expression's 4 KB allow."""
        item: dict[str, Any] = {
            "scope": {"S": scope},
            "day": {"S": day},
            **{k: {"N": str(v)} for k, v in sorted(counters.items()) if k != REVISION},
            REVISION: {"N": str((revision or 0) + 1)},
        }
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ExpressionAttributeNames": {"#rev": REVISION},
        }
        if revision is None:
            request["ConditionExpression"] = "attribute_not_exists(#rev)"
        else:
            request["ConditionExpression"] = "#rev = :rev"
            request["ExpressionAttributeValues"] = {":rev": {"N": str(revision)}}
        try:
            self.store.client.put_item(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ConditionalCheckFailedException":
                return False
            if error.get("Code") == "ValidationException" and _too_large(error.get("Message")):
                raise ItemTooLarge(["replace"]) from None
            raise
        return True

    def _guard(self, guard: tuple[str, str], revision: int | None) -> dict[str, Any]:
        check: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"scope": {"S": guard[0]}, "day": {"S": guard[1]}},
            "ExpressionAttributeNames": {"#rev": REVISION},
        }
        if revision is None:
            check["ConditionExpression"] = "attribute_not_exists(#rev)"
        else:
            check["ConditionExpression"] = "#rev = :rev"
            check["ExpressionAttributeValues"] = {":rev": {"N": str(revision)}}
        return {"ConditionCheck": check}

    def replace_checked(
        self,
        scope: str,
        items: Mapping[str, Mapping[str, int]],
        guard: tuple[str, str],
        revision: int | None,
    ) -> bool:
        """TransactWriteItems of whole-item Puts, the guard's ConditionCheck first in each."""
        days = sorted(items)
        per = MAX_TRANSACTION_OPS - 1
        for start in range(0, len(days), per):
            chunk = days[start : start + per]
            puts = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "scope": {"S": scope},
                            "day": {"S": day},
                            **{
                                k: {"N": str(v)}
                                for k, v in sorted(items[day].items())
                                if k != REVISION
                            },
                        },
                    }
                }
                for day in chunk
            ]
            try:
                self.store.client.transact_write_items(
                    TransactItems=[self._guard(guard, revision), *puts]
                )
            except ClientError as exc:
                error = exc.response.get("Error", {})
                if error.get("Code") == "ValidationException" and _too_large(error.get("Message")):
                    raise ItemTooLarge(chunk) from None
                if error.get("Code") != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons", [])
                large = [
                    day
                    for day, r in zip(chunk, reasons[1:], strict=False)
                    if r.get("Code") == "ValidationError" and _too_large(r.get("Message"))
                ]
                if large:
                    raise ItemTooLarge(large) from None
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    return False
                if any(r.get("Code") == "TransactionConflict" for r in reasons):
                    return False  # a live update on the guard or an item: start again
                raise
        return True


class _Logins:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def member_id(self, key: str) -> str | None:
        guard = _get(self.t.m.Login, key, True)
        return None if guard is None else str(guard.member_id)


class _Sessions:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, token_hash: str) -> Session | None:
        item = _get(self.t.m.Session, token_hash, True)
        return None if item is None else self.t.record(Session, item)


class _ApiKeys:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, key_id: str) -> ApiKey | None:
        # Consistent: a key revoked a moment ago must not open a request (API.md: "at once").
        item = _get(self.t.m.ApiKey, key_id, True)
        return None if item is None else self.t.record(ApiKey, item)

    def all(self) -> list[ApiKey]:
        rows = [self.t.record(ApiKey, item) for item in self.t.m.ApiKey.scan()]
        return sorted(rows, key=lambda k: k.id)


class _Audit:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def page(self, action: str | None, limit: int, cursor: str | None) -> Page[AuditEntry]:
        m = self.t.m.AuditEntry
        index, hash_name, hash_key = (
            (m.by_action, "action", action) if action else (m, "stream", "audit")
        )
        names = {"id", "stream", "action"} if action else {"id", "stream"}
        start = cursors.decode(cursor, names, (hash_name, str(hash_key)))
        page = query_page(index, str(hash_key), names, limit, start)
        return Page([self.t.record(AuditEntry, i) for i in page.items], page.next_cursor)


class _Throttles:
    def __init__(self, t: _Tables, store: DynamoStore) -> None:
        self.t = t
        self.store = store

    @property
    def _table(self) -> str:
        return str(self.t.m.Throttle.Meta.table_name)

    def hit(self, key: str, expires_at: datetime) -> int:
        resp = self.store.client.update_item(
            TableName=self._table,
            Key={"key": {"S": key}},
            UpdateExpression="ADD #c :one SET #e = if_not_exists(#e, :e)",
            ExpressionAttributeNames={"#c": "hits", "#e": "expires_at"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":e": {"N": str(int(expires_at.timestamp()))},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["hits"]["N"])

    def count(self, key: str) -> int:
        resp = self.store.client.get_item(
            TableName=self._table, Key={"key": {"S": key}}, ConsistentRead=True
        )
        item = resp.get("Item")
        return int(item["hits"]["N"]) if item else 0


class _LiveCalls:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, key: str) -> LiveCall | None:
        item = _get(self.t.m.LiveCall, key, True)
        return None if item is None else self.t.record(LiveCall, item)

    def get_many(self, keys: Sequence[str]) -> dict[str, LiveCall]:
        wanted = list(dict.fromkeys(keys))
        out: dict[str, LiveCall] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            for item in self.t.m.LiveCall.batch_get(
                wanted[start : start + _BATCH_GET], consistent_read=True
            ):
                record = self.t.record(LiveCall, item)
                out[record.key] = record
        return out


class _Settings:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, key: str) -> Setting | None:
        item = _get(self.t.m.Setting, key, True)
        return None if item is None else self.t.record(Setting, item)


def _send_batches(client: Any, table: str, writes: Sequence[dict[str, Any]]) -> None:
    """Write requests (PutRequest/DeleteRequest) on one table, in BatchWriteItems of
    _BATCH_WRITE, several in flight, each retried on its unprocessed items."""

    def send(request: dict[str, list[dict[str, Any]]]) -> None:
        attempt = 0
        while request:
            resp = client.batch_write_item(RequestItems=request)
            request = resp.get("UnprocessedItems") or {}
            attempt = _backoff(attempt) if request else 0

    requests = [
        {table: list(writes[start : start + _BATCH_WRITE])}
        for start in range(0, len(writes), _BATCH_WRITE)
    ]
    if len(requests) <= 1:
        for request in requests:
            send(request)
        return
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        list(pool.map(send, requests))


class _Suppressions:
    def __init__(self, t: _Tables, store: DynamoStore) -> None:
        self.t = t
        self.store = store

    def get(self, phone: str) -> Suppression | None:
        item = _get(self.t.m.Suppression, phone, True)
        return None if item is None else self.t.record(Suppression, item)

    def get_with_document(
        self, phone: str, document: str
    ) -> tuple[Suppression | None, Setting | None]:
        m = self.t.m
        ledger, settings = m.Suppression.Meta.table_name, m.Setting.Meta.table_name
        request: dict[str, Any] = {
            ledger: {"Keys": [{"phone": {"S": phone}}], "ConsistentRead": True},
            settings: {"Keys": [{"key": {"S": document}}], "ConsistentRead": True},
        }
        found: dict[str, list[dict[str, Any]]] = {ledger: [], settings: []}
        attempt = 0
        while request:
            resp = self.store.client.batch_get_item(RequestItems=request)
            for table, items in resp.get("Responses", {}).items():
                found[table].extend(items)
            request = resp.get("UnprocessedKeys") or {}
            attempt = _backoff(attempt) if request else 0
        item = (
            self.t.record(Suppression, m.Suppression.from_raw_data(found[ledger][0]))
            if found[ledger]
            else None
        )
        doc = (
            self.t.record(Setting, m.Setting.from_raw_data(found[settings][0]))
            if found[settings]
            else None
        )
        return item, doc

    def get_many(self, phones: Sequence[str]) -> dict[str, Suppression]:
        wanted = list(dict.fromkeys(phones))
        out: dict[str, Suppression] = {}
        for start in range(0, len(wanted), _BATCH_GET):
            # PynamoDB's batch_get: one BatchGetItem per 100 keys, unprocessed keys retried.
            for item in self.t.m.Suppression.batch_get(
                wanted[start : start + _BATCH_GET], consistent_read=True
            ):
                record = self.t.record(Suppression, item)
                out[record.phone] = record
        return out

    def page(self, limit: int, cursor: str | None) -> Page[Suppression]:
        names = {"gsi_listed", "listed_id", "phone"}
        start = cursors.decode(cursor, names, ("gsi_listed", SUPPRESSED_KEY))
        page = query_page(self.t.m.Suppression.by_listed, SUPPRESSED_KEY, names, limit, start)
        return Page([self.t.record(Suppression, i) for i in page.items], page.next_cursor)

    def put_many(self, items: Sequence[Suppression]) -> None:
        writes = [
            {"PutRequest": {"Item": self.t.model(item, item.version + 1).serialize()}}
            for item in items
        ]
        _send_batches(self.store.client, self.t.m.Suppression.Meta.table_name, writes)
        for item in items:
            item.version += 1


class _DialerSessions:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, session_id: str, *, consistent: bool = False) -> DialerSession | None:
        item = _get(self.t.m.DialerSession, session_id, consistent)
        return None if item is None else self.t.record(DialerSession, item)

    def _page(
        self, index: Any, hash_name: str, key: str, limit: int, cursor: str | None
    ) -> Page[DialerSession]:
        names = {"id", hash_name}
        start = cursors.decode(cursor, names, (hash_name, key))
        page = query_page(index, key, names, limit, start)
        return Page([self.t.record(DialerSession, i) for i in page.items], page.next_cursor)

    def page_by_member(self, member_id: str, limit: int, cursor: str | None) -> Page[DialerSession]:
        m = self.t.m.DialerSession
        return self._page(m.by_member, "team_member_id", member_id, limit, cursor)

    def page_by_campaign(
        self, campaign_id: str, limit: int, cursor: str | None
    ) -> Page[DialerSession]:
        m = self.t.m.DialerSession
        return self._page(m.by_campaign, "campaign_id", campaign_id, limit, cursor)


class _Campaigns:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, campaign_id: str, *, consistent: bool = False) -> Campaign | None:
        item = _get(self.t.m.Campaign, campaign_id, consistent)
        return None if item is None else self.t.record(Campaign, item)

    def page(
        self, limit: int, cursor: str | None, *, member_id: str | None = None
    ) -> Page[Campaign]:
        m = self.t.m.Campaign
        names = {"id", "gsi_all"}
        start = cursors.decode(cursor, names, ("gsi_all", CAMPAIGN_LIST_KEY))
        condition = m.member_ids.contains(member_id) if member_id is not None else None
        page = query_page(m.all_campaigns, CAMPAIGN_LIST_KEY, names, limit, start, condition)
        return Page([self.t.record(Campaign, i) for i in page.items], page.next_cursor)


def _range_page(
    index: Any,
    hash_key: str,
    names: tuple[str, str, str],
    limit: int,
    start: dict[str, Any] | None,
    range_condition: Any = None,
    *,
    newest_first: bool,
) -> tuple[list[Any], str | None]:
    """One page of a Query on an index whose range key is not the table's key: reads one item
    past `limit` to know whether a next page exists; the cursor holds the index's and the
    table's keys (`names`)."""
    result = index.query(
        hash_key,
        range_key_condition=range_condition,
        scan_index_forward=not newest_first,
        limit=limit + 1,
        last_evaluated_key=start,
        page_size=limit + 1,
    )
    items = list(result)
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = items[-1]
    return items, cursors.encode({n: {"S": str(getattr(last, n))} for n in names})


class _CampaignLeads:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, entry_id: str, *, consistent: bool = False) -> CampaignLead | None:
        item = _get(self.t.m.CampaignLead, entry_id, consistent)
        return None if item is None else self.t.record(CampaignLead, item)

    def page_by_state(
        self, campaign_id: str, state: str, limit: int, cursor: str | None
    ) -> Page[CampaignLead]:
        part = f"{campaign_id}#{state}"
        names = ("state_pk", "lead_id", "id")
        start = cursors.decode(cursor, set(names), ("state_pk", part))
        m = self.t.m.CampaignLead
        items, nxt = _range_page(m.by_state, part, names, limit, start, newest_first=True)
        return Page([self.t.record(CampaignLead, i) for i in items], nxt)

    def due(self, campaign_id: str, up_to: str, limit: int) -> list[CampaignLead]:
        m = self.t.m.CampaignLead
        result = m.queue.query(
            campaign_id,
            range_key_condition=m.queue_sk <= up_to,
            limit=limit,
            page_size=limit,
        )
        return [self.t.record(CampaignLead, i) for i in result]


class _Callbacks:
    def __init__(self, t: _Tables) -> None:
        self.t = t

    def get(self, callback_id: str) -> Callback | None:
        item = _get(self.t.m.Callback, callback_id, True)
        return None if item is None else self.t.record(Callback, item)

    def page(
        self, member_id: str | None, up_to: str | None, limit: int, cursor: str | None
    ) -> Page[Callback]:
        m = self.t.m.Callback
        if member_id is not None:
            index, names, part = m.by_member, ("member_pk", "due_key", "id"), member_id
        else:
            index, names = m.open_callbacks, ("open_pk", "due_key", "id")
            part = OPEN_CALLBACKS_KEY
        start = cursors.decode(cursor, set(names), (names[0], part))
        condition = (m.due_key <= up_to) if up_to is not None else None
        items, nxt = _range_page(index, part, names, limit, start, condition, newest_first=False)
        return Page([self.t.record(Callback, i) for i in items], nxt)


_INBOX_NAMES = {
    False: ("list_key", "item_id", "lead_id"),
    True: ("unread_key", "item_id", "lead_id"),
}


class _Inbox:
    def __init__(self, t: _Tables, store: DynamoStore) -> None:
        self.t = t
        self.store = store

    def get(self, lead_id: str) -> InboxItem | None:
        item = _get(self.t.m.InboxItem, lead_id, True)
        return None if item is None else self.t.record(InboxItem, item)

    def page(self, unread: bool, limit: int, cursor: str | None) -> Page[InboxItem]:
        m = self.t.m.InboxItem
        names = _INBOX_NAMES[unread]
        part = UNREAD_KEY if unread else INBOX_KEY
        index = m.unread_threads if unread else m.all_threads
        start = cursors.decode(cursor, set(names), (names[0], part))
        items, nxt = _range_page(index, part, names, limit, start, newest_first=True)
        return Page([self.t.record(InboxItem, i) for i in items], nxt)

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
        """A Query of the sparse unread index projecting the lead ids only, paged."""
        m = self.t.m.InboxItem
        request: dict[str, Any] = {
            "TableName": m.Meta.table_name,
            "IndexName": m.unread_threads.Meta.index_name,
            "KeyConditionExpression": "#u = :u",
            "ExpressionAttributeNames": {"#u": "unread_key", "#l": "lead_id"},
            "ExpressionAttributeValues": {":u": {"S": UNREAD_KEY}},
            "ProjectionExpression": "#l",
            "ScanIndexForward": False,
        }
        out: list[str] = []
        while True:
            resp = self.store.client.query(**request)
            out.extend(i["lead_id"]["S"] for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return out
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
