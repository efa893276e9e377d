"""The store's contract (chalicelib/store/base.py), one suite for every implementation: the
in-memory store (tests/unit/test_store_memory.py) and DynamoDB through PynamoDB on DynamoDB
Local (tests/integration/test_store_dynamo.py). A subclass provides the `store` fixture."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.clock import new_id
from chalicelib.domain.actors import SYSTEM as SYSTEM_ACTOR
from chalicelib.domain.records import (
    ApiKey,
    AuditEntry,
    Call,
    Callback,
    Campaign,
    CampaignLead,
    Lead,
    LeadPhone,
    LeadToken,
    Login,
    Message,
    MessageSid,
    Session,
    Setting,
    Suppression,
    TeamMember,
    token_key,
)
from chalicelib.errors import ValidationError
from chalicelib.store.base import (
    ABSENT,
    PRESENT,
    Before,
    Check,
    ConditionFailed,
    Count,
    Delete,
    Eq,
    ItemTooLarge,
    LeadFilter,
    Ne,
    Put,
    TransactionFailed,
    Update,
)

T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def lead(**over: Any) -> Lead:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": "Jane Doe",
        "phone": "+12125550142",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(over)
    return Lead(**values)


def member(**over: Any) -> TeamMember:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": "Ann",
        "phone": "+14155550100",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(over)
    return TeamMember(**values)


def call(**over: Any) -> Call:
    values: dict[str, Any] = {
        "id": new_id(),
        "lead_id": "L1",
        "team_member_id": "M1",
        "caller_id": "+15005550006",
        "day": "2026-11-23",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(over)
    return Call(**values)


def message(**over: Any) -> Message:
    values: dict[str, Any] = {
        "id": new_id(),
        "lead_id": "L1",
        "direction": "outbound",
        "to_number": "+12125550142",
        "body": "hi",
        "status": "queued",
        "day": "2026-11-23",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(over)
    return Message(**values)


class StoreContract:
    @pytest.fixture
    def store(self) -> Any:
        raise NotImplementedError

    # ---------------------------------------------------------------- puts and versions

    def test_a_put_record_reads_back_equal(self, store):
        new = lead(email="j@example.com", timezone="America/New_York", last_contacted_at=T0)
        store.write(Put("lead", new, if_absent=True))
        assert new.version == 1
        assert store.leads.get(new.id) == new
        assert store.leads.get(new.id, consistent=True) == new
        assert store.leads.get("nope") is None

    def test_if_absent_refuses_a_taken_key(self, store):
        guard = LeadPhone("+12125550142", "L1")
        store.write(Put("guard", guard, if_absent=True))
        with pytest.raises(ConditionFailed):
            store.write(Put("guard", LeadPhone("+12125550142", "L2"), if_absent=True))
        assert store.leads.id_by_phone("+12125550142") == "L1"

    def test_a_versioned_put_needs_the_version_it_read(self, store):
        mine = member()
        store.write(Put("m", mine, if_absent=True))
        theirs = store.members.get(mine.id)
        theirs.name = "Theirs"
        store.write(Put("m", theirs))
        assert theirs.version == 2
        mine.name = "Mine"
        with pytest.raises(ConditionFailed):
            store.write(Put("m", mine))
        assert mine.version == 1  # unchanged by a failed write
        assert store.members.get(mine.id).name == "Theirs"

    def test_a_new_versioned_record_cannot_overwrite_an_existing_one(self, store):
        first = member()
        store.write(Put("m", first))
        clone = dataclasses.replace(first, version=0, name="Clone")
        with pytest.raises(ConditionFailed):
            store.write(Put("m", clone))

    def test_a_put_can_require_fields_as_they_were_read(self, store):
        new = lead()
        store.write(Put("l", new, if_absent=True))
        read = store.leads.get(new.id)
        store.write(Update("stamp", Lead, new.id, {"last_contacted_at": T0}))  # no version bump
        read.notes = "edited"
        with pytest.raises(ConditionFailed):
            store.write(Put("l", read, when={"last_contacted_at": ABSENT}))
        assert store.leads.get(new.id).last_contacted_at == T0
        store.write(Put("l", read, when={"last_contacted_at": Eq(T0)}))
        assert store.leads.get(new.id).notes == "edited"

    # ---------------------------------------------------------------- updates

    def test_update_sets_and_removes_fields_and_returns_the_record(self, store):
        c = call(notes="old")
        store.write(Put("c", c, if_absent=True))
        after = store.write(
            Update("u", Call, c.id, {"status": "ringing", "notes": None, "talk_seconds": 7})
        )
        assert after.status == "ringing" and after.notes is None and after.talk_seconds == 7
        assert store.calls.get(c.id) == after

    def test_update_conditions(self, store):
        c = call()
        store.write(Put("c", c, if_absent=True))
        with pytest.raises(ConditionFailed):
            store.write(Update("u", Call, c.id, {"status": "ringing"}, {"status": Eq("busy")}))
        with pytest.raises(ConditionFailed):
            store.write(Update("u", Call, c.id, {"status": "x"}, {"lead_leg_status": PRESENT}))
        store.write(
            Update("u", Call, c.id, {"lead_leg_status": "ringing"}, {"lead_leg_status": ABSENT})
        )
        with pytest.raises(ConditionFailed):
            store.write(
                Update("u", Call, c.id, {"lead_leg_status": "x"}, {"lead_leg_status": ABSENT})
            )
        store.write(Update("u", Call, c.id, {"status": "ringing"}, {"status": Eq("queued")}))
        assert store.calls.get(c.id).status == "ringing"

    def test_ne_holds_when_absent_or_different(self, store):
        new = lead()
        store.write(Put("l", new, if_absent=True))
        store.write(
            Update("u", Lead, new.id, {"sms_opt_out": True}, {"sms_opt_out": Ne(True)}, True)
        )
        with pytest.raises(ConditionFailed):
            store.write(
                Update("u", Lead, new.id, {"sms_opt_out": True}, {"sms_opt_out": Ne(True)}, True)
            )
        assert store.leads.get(new.id).version == 2  # bumped once

    def test_update_never_creates_a_record(self, store):
        with pytest.raises(ConditionFailed):
            store.write(Update("u", Call, "missing", {"status": "ringing"}))
        assert store.calls.get("missing") is None

    def test_a_lead_index_field_changes_only_by_a_put(self, store):
        new = lead()
        store.write(Put("l", new, if_absent=True))
        with pytest.raises(ValueError):
            store.write(Update("u", Lead, new.id, {"status": "contacted"}))

    def test_delete_with_a_condition(self, store):
        store.write(Put("g", LeadPhone("+12125550142", "L1")))
        with pytest.raises(ConditionFailed):
            store.write(Delete("d", LeadPhone, "+12125550142", {"lead_id": Eq("L2")}))
        store.write(Delete("d", LeadPhone, "+12125550142", {"lead_id": Eq("L1")}))
        assert store.leads.id_by_phone("+12125550142") is None

    # ---------------------------------------------------------------- transactions

    def test_a_transaction_is_all_or_nothing_and_names_what_failed(self, store):
        taken = LeadPhone("+12125550142", "L1")
        store.write(Put("g", taken, if_absent=True))
        fresh = lead()
        with pytest.raises(TransactionFailed) as info:
            store.transact(
                [
                    Put("lead", fresh, if_absent=True),
                    Put("phone", LeadPhone(fresh.phone, fresh.id), if_absent=True),
                    Count("funnel", "funnel", "current", {"total": 1}),
                ]
            )
        assert info.value.failed == {"phone"}
        assert store.leads.get(fresh.id) is None
        assert store.stats.item("funnel", "current") is None
        assert fresh.version == 0

    def test_several_failed_conditions_are_all_named(self, store):
        m = member(active=False)
        store.write(Put("m", m, if_absent=True))
        c = call()
        store.write(Put("c", c, if_absent=True))
        with pytest.raises(TransactionFailed) as info:
            store.transact(
                [
                    Check("member", TeamMember, m.id, {"active": Eq(True)}),
                    Update("call", Call, c.id, {"status": "busy"}, {"status": Eq("ringing")}),
                    Put("message", message(), if_absent=True),
                ]
            )
        assert info.value.failed == {"member", "call"}

    def test_a_committed_transaction_writes_everything(self, store):
        m = member()
        store.write(Put("m", m, if_absent=True))
        fresh = lead()
        store.transact(
            [
                Check("member", TeamMember, m.id, {"active": Eq(True)}),
                Put("lead", fresh, if_absent=True),
                Put("sid", MessageSid("SM" + "a" * 32, "X"), if_absent=True),
                Count("day", "all", "2026-11-23", {"calls": 2, "talk": 30}, revise=True),
            ]
        )
        assert fresh.version == 1 and store.leads.get(fresh.id) == fresh
        item = store.stats.item("all", "2026-11-23", consistent=True)
        assert item.counters == {"calls": 2, "talk": 30} and item.revision == 1

    def test_operation_names_are_unique(self, store):
        with pytest.raises(ValueError):
            store.transact([Count("x", "a", "d", {"n": 1}), Count("x", "a", "e", {"n": 1})])

    # ---------------------------------------------------------------- counters

    def test_counters_add_and_ranges_read_a_scope(self, store):
        for day, n in (("2026-11-21", 1), ("2026-11-22", 2), ("2026-11-23", 3)):
            store.write(Count("c", "all", day, {"calls": n, "m#M1#calls": n}, revise=True))
        store.write(Count("c", "all", "2026-11-22", {"calls": 5, "zero": 0}))
        store.write(Count("c", "funnel", "current", {"total": 9}))
        got = store.stats.range("all", "2026-11-22", "2026-11-23")
        assert got == {
            "2026-11-22": {"calls": 7, "m#M1#calls": 2},
            "2026-11-23": {"calls": 3, "m#M1#calls": 3},
        }
        assert store.stats.item("all", "2026-11-22").revision == 1
        assert store.stats.item("funnel", "current").revision is None

    def test_replace_needs_the_revision_it_read(self, store):
        assert store.stats.replace("all", "2026-11-23", {"calls": 4}, None)
        assert not store.stats.replace("all", "2026-11-23", {"calls": 5}, None)
        item = store.stats.item("all", "2026-11-23", consistent=True)
        assert item.counters == {"calls": 4} and item.revision == 1
        store.write(Count("c", "all", "2026-11-23", {"calls": 1}, revise=True))
        assert not store.stats.replace("all", "2026-11-23", {"calls": 9}, 1)
        assert store.stats.replace("all", "2026-11-23", {"calls": 9, "x": 1}, 2)
        item = store.stats.item("all", "2026-11-23", consistent=True)
        assert item.counters == {"calls": 9, "x": 1} and item.revision == 3

    def test_replace_checked_writes_whole_items_while_the_guard_holds(self, store):
        # 150 items: two transactions (at most 99 items and the guard's check in each)
        items = {f"2026-11-23#M{i:03d}": {"calls": i + 1, "talk": 2 * i + 1} for i in range(150)}
        guard = ("all", "2026-11-23")
        assert store.stats.replace_checked("members", items, guard, None)
        got = store.stats.range("members", "2026-11-23#", "2026-11-23#~", consistent=True)
        assert got == items
        # a live update moved the guard's revision: nothing of the chunk is written
        store.write(Count("c", "all", "2026-11-23", {"calls": 1}, revise=True))
        stale = {"2026-11-23#M000": {"calls": 50}}
        assert not store.stats.replace_checked("members", stale, guard, None)
        assert store.stats.item("members", "2026-11-23#M000").counters == {"calls": 1, "talk": 1}
        # the revision it read: the item is replaced whole (counters left out are gone)
        assert store.stats.replace_checked("members", {"2026-11-23#M001": {"sms": 3}}, guard, 1)
        assert store.stats.item("members", "2026-11-23#M001").counters == {"sms": 3}
        assert store.stats.item("all", "2026-11-23").revision == 1  # the guard is only read

    def test_an_item_over_400_kb_is_refused_and_nothing_is_written(self, store):
        # ~381 KB of counters (DynamoDB counts attribute names with the values)
        big = {f"{'a' * 1000}{i:03d}": 1 for i in range(380)}
        assert store.stats.replace("all", "big", big, None)
        grow = Count("grow", "all", "big", {"b" * 30_000: 1})  # past 400 KB
        with pytest.raises(ItemTooLarge) as refused:
            store.write(grow)
        assert refused.value.names == {"grow"}  # DynamoDB names it when it can
        fresh = lead()
        with pytest.raises(ItemTooLarge) as refused:
            store.transact([Put("lead", fresh, if_absent=True), grow])
        assert refused.value.names == {"grow"}
        assert store.leads.get(fresh.id, consistent=True) is None  # all or nothing
        item = store.stats.item("all", "big", consistent=True)
        assert item.counters == big and item.revision == 1
        with pytest.raises(ItemTooLarge):
            store.stats.replace("all", "big", {**big, "c" * 30_000: 1}, 1)
        with pytest.raises(ItemTooLarge):
            store.stats.replace_checked(
                "members", {"d#M": {**big, "c" * 30_000: 1}}, ("x", "y"), None
            )
        assert store.stats.item("members", "d#M") is None
        # a lead too large to store
        with pytest.raises(ItemTooLarge):
            store.write(Put("lead", lead(notes="n" * 410_000), if_absent=True))

    def test_count_live_counts_a_status_without_archived_leads(self, store):
        for status in ("new", "new", "contacted"):
            store.write(Put("l", lead(phone=f"+1212555{new_id()[-4:]}", status=status)))
        store.write(Put("l", lead(status="new", archived_at=T0)))
        assert store.leads.count_live("new") == 2
        assert store.leads.count_live("contacted") == 1
        assert store.leads.count_live("converted") == 0

    # ---------------------------------------------------------------- lists

    def _leads(self, store, n: int, **over: Any) -> list[Lead]:
        out = []
        for i in range(n):
            new = lead(phone=f"+1212555{i:04d}", **over)
            store.write(Put("l", new, if_absent=True))
            out.append(new)
        return out

    def _all_pages(self, store, by: str, key: str | None, limit: int, **kw: Any) -> list[str]:
        ids, cursor = [], None
        while True:
            page = store.leads.page(by, key, limit, cursor, **kw)
            assert len(page.items) <= limit
            ids += [x.id for x in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return ids

    def test_lead_lists_are_newest_first_sparse_and_paged(self, store):
        mine = self._leads(store, 5, assigned_to_id="M1")
        qualified = self._leads(store, 3, status="qualified")
        gone = lead(phone="+13105550100", archived_at=T0, assigned_to_id="M1")
        store.write(Put("l", gone, if_absent=True))
        everyone = sorted((x.id for x in mine + qualified), reverse=True)
        assert self._all_pages(store, "all", None, 3) == everyone
        assert self._all_pages(store, "all", None, 8) == everyone  # exact fit: no empty page
        assert self._all_pages(store, "status", "qualified", 2) == sorted(
            (x.id for x in qualified), reverse=True
        )
        assert self._all_pages(store, "assignee", "M1", 2) == sorted(
            (x.id for x in mine), reverse=True
        )
        assert self._all_pages(store, "assignee", "M1", 2, status="qualified") == []
        assert [x.id for x in store.leads.iter_live()] == everyone

    def test_a_cursor_of_another_partition_is_refused(self, store):
        self._leads(store, 3)
        self._leads(store, 3, status="qualified", assigned_to_id="M2")
        self._leads(store, 3, assigned_to_id="M1")
        new = store.leads.page("status", "new", 1, None).next_cursor
        assert new
        with pytest.raises(ValidationError):
            store.leads.page("status", "qualified", 1, new)
        mine = store.leads.page("assignee", "M1", 1, None).next_cursor
        assert mine
        with pytest.raises(ValidationError):
            store.leads.page("assignee", "M2", 1, mine)
        with pytest.raises(ValidationError):
            store.leads.page("assignee", "M2", 1, mine, status="qualified")
        # the same cursors still work on their own partitions
        assert len(store.leads.page("status", "new", 5, new).items) == 5
        assert len(store.leads.page("assignee", "M1", 5, mine).items) == 2

    def test_a_cursor_of_another_lead_or_member_is_refused(self, store):
        for lead_id, member_id in (("LA", "M1"), ("LA", "M1"), ("LB", "M2"), ("LB", "M2")):
            store.write(Put("c", call(lead_id=lead_id, team_member_id=member_id)))
            store.write(Put("m", message(lead_id=lead_id)))
        by_lead = store.calls.page_by_lead("LA", 1, None).next_cursor
        by_member = store.calls.page_by_member("M1", 1, None).next_cursor
        conversation = store.messages.page_by_lead("LA", 1, None).next_cursor
        assert by_lead and by_member and conversation
        with pytest.raises(ValidationError):
            store.calls.page_by_lead("LB", 1, by_lead)
        with pytest.raises(ValidationError):
            store.calls.page_by_member("M2", 1, by_member)
        with pytest.raises(ValidationError):
            store.messages.page_by_lead("LB", 1, conversation)
        assert len(store.calls.page_by_lead("LA", 5, by_lead).items) == 1
        assert len(store.messages.page_by_lead("LA", 5, conversation).items) == 1

    def test_archiving_by_put_takes_a_lead_out_of_its_lists(self, store):
        (one,) = self._leads(store, 1, assigned_to_id="M1")
        one.archived_at = T0
        store.write(Put("l", one))
        assert store.leads.page("all", None, 10, None).items == []
        assert store.leads.page("assignee", "M1", 10, None).items == []
        assert store.leads.get(one.id).archived_at == T0

    def test_independent_transactions_and_taken_phones(self, store):
        fresh = [lead(phone=f"+1646555{i:04d}") for i in range(30)]
        batches = [
            [
                Put(f"l{i}", x, if_absent=True),
                Put(f"p{i}", LeadPhone(x.phone, x.id), if_absent=True),
            ]
            for i, x in enumerate(fresh)
        ]
        outcomes = store.transact_each(batches)
        assert outcomes == [None] * 30
        # a batch claiming a taken number is refused alone, naming its guard, while the other
        # batches of the same call commit (run after the first call: batches run concurrently,
        # so a claim racing the number's own batch could win instead)
        twin = lead(phone=fresh[0].phone)
        other = lead(phone="+16465559999")
        outcomes = store.transact_each(
            [
                [
                    Put("twin", twin, if_absent=True),
                    Put("guard", LeadPhone(twin.phone, twin.id), if_absent=True),
                ],
                [
                    Put("other", other, if_absent=True),
                    Put("its guard", LeadPhone(other.phone, other.id), if_absent=True),
                ],
            ]
        )
        assert isinstance(outcomes[0], TransactionFailed) and outcomes[0].failed == {"guard"}
        assert outcomes[1] is None and store.leads.get(other.id) == other
        assert store.leads.get(twin.id) is None
        assert all(x.version == 1 for x in fresh)
        assert store.leads.get(fresh[7].id) == fresh[7]
        asked = [x.phone for x in fresh[:5]] + ["+19175550100"]
        assert store.leads.taken_phones(asked) == {x.phone for x in fresh[:5]}
        assert store.leads.id_by_phone(fresh[3].phone) == fresh[3].id

    def test_calls_by_lead_member_and_day(self, store):
        a = call(lead_id="LA", team_member_id="M1", status="completed", lead_leg_status="busy")
        b = call(lead_id="LA", team_member_id="M2", status="ringing")
        c = call(
            lead_id="LB",
            team_member_id="M1",
            status="completed",
            lead_leg_status="completed",
            talk_seconds=12,
        )
        d = call(lead_id="LB", team_member_id="M1", day="2026-11-22")
        for x in (a, b, c, d):
            store.write(Put("c", x, if_absent=True))
        assert [x.id for x in store.calls.page_by_lead("LA", 10, None).items] == [b.id, a.id]
        first = store.calls.page_by_member("M1", 2, None)
        assert [x.id for x in first.items] == [d.id, c.id] and first.next_cursor
        rest = store.calls.page_by_member("M1", 2, first.next_cursor)
        assert [x.id for x in rest.items] == [a.id] and rest.next_cursor is None
        assert {x.id for x in store.calls.unsettled_on("2026-11-23")} == {b.id}
        rows = sorted(store.calls.rows_on("2026-11-23"), key=lambda r: r.team_member_id)
        assert [
            (r.team_member_id, r.status, r.lead_leg_status, r.talk_seconds) for r in rows
        ] == sorted(
            [
                ("M1", "completed", "busy", None),
                ("M2", "ringing", None, None),
                ("M1", "completed", "completed", 12),
            ]
        )

    def test_messages_are_a_conversation_oldest_first(self, store):
        ms = [message(lead_id="LA", created_at=T0 + timedelta(seconds=i)) for i in range(5)]
        for m in ms:
            store.write(Put("m", m, if_absent=True))
        store.write(Put("m", message(lead_id="LB", direction="inbound", status="received")))
        first = store.messages.page_by_lead("LA", 3, None)
        rest = store.messages.page_by_lead("LA", 3, first.next_cursor)
        assert [m.id for m in first.items + rest.items] == [m.id for m in ms]
        assert rest.next_cursor is None
        rows = list(store.messages.rows_on("2026-11-23"))
        assert sorted(r.direction for r in rows) == ["inbound"] + ["outbound"] * 5

    def test_pending_messages_are_the_days_outbound_ones_not_final(self, store):
        pending = [message(status=s) for s in ("queued", "sending", "sent")]
        final = [message(status=s) for s in ("delivered", "undelivered", "failed")]
        inbound = message(direction="inbound", status="received")
        other_day = message(status="queued", day="2026-11-22")
        for m in (*pending, *final, inbound, other_day):
            store.write(Put("m", m, if_absent=True))
        got = list(store.messages.pending_on("2026-11-23"))
        assert sorted(m.id for m in got) == sorted(m.id for m in pending)
        assert got[0] == next(m for m in pending if m.id == got[0].id)  # whole records
        assert [m.id for m in store.messages.pending_on("2026-11-22")] == [other_day.id]

    def test_before_holds_when_absent_or_earlier(self, store):
        x = lead()
        store.write(Put("l", x, if_absent=True))
        later = Update(
            "l", Lead, x.id, {"sms_opt_out_by": "01B"}, when={"sms_opt_out_by": Before("01B")}
        )
        assert store.write(later).sms_opt_out_by == "01B"  # absent
        for same_or_earlier in ("01B", "01A"):
            with pytest.raises(ConditionFailed):
                store.write(
                    Update(
                        "l",
                        Lead,
                        x.id,
                        {"sms_opt_out_by": same_or_earlier},
                        when={"sms_opt_out_by": Before(same_or_earlier)},
                    )
                )
        store.write(
            Update(
                "l", Lead, x.id, {"sms_opt_out_by": "01C"}, when={"sms_opt_out_by": Before("01C")}
            )
        )
        assert store.leads.get(x.id).sms_opt_out_by == "01C"

    def test_an_inbound_message_is_found_by_its_sid(self, store):
        store.write(Put("g", MessageSid("SM1", "01M"), if_absent=True))
        assert store.messages.id_by_sid("SM1") == "01M"
        assert store.messages.id_by_sid("SM2") is None

    def test_members_are_all_listed_in_id_order(self, store):
        ms = [member(active=i % 2 == 0) for i in range(4)]
        for m in reversed(ms):
            store.write(Put("m", m, if_absent=True))
        assert [m.id for m in store.members.all()] == [m.id for m in ms]
        assert store.members.get(ms[1].id).active is False

    # ---------------------------------------------------------------- identity

    def test_login_guards_name_their_member_and_are_unique(self, store):
        store.write(Put("email", Login("email#ann@example.com", "M1"), if_absent=True))
        store.write(Put("sub", Login("sub#abc", "M1")))
        assert store.logins.member_id("email#ann@example.com") == "M1"
        assert store.logins.member_id("sub#abc") == "M1"
        assert store.logins.member_id("email#bob@example.com") is None
        with pytest.raises(TransactionFailed) as err:
            store.transact(
                [
                    Put("member", member(id="M2"), if_absent=True),
                    Put("email", Login("email#ann@example.com", "M2"), if_absent=True),
                ]
            )
        assert "email" in err.value.failed
        assert store.members.get("M2") is None
        store.write(Delete("old", Login, "email#ann@example.com", {"member_id": Eq("M1")}))
        assert store.logins.member_id("email#ann@example.com") is None

    def test_sessions_read_back_by_their_hash(self, store):
        session = Session("h" * 64, "M1", T0, T0 + timedelta(days=30))
        store.write(Put("session", session))
        assert store.sessions.get("h" * 64) == session
        assert store.sessions.get("x" * 64) is None

    def test_api_keys_get_all_and_revoke_once(self, store):
        keys = [ApiKey(f"{i:016x}", f"key {i}", "admin", "s" * 64, T0, "env") for i in (2, 1, 3)]
        for key in keys:
            store.write(Put("apikey", key, if_absent=True))
        assert store.api_keys.get(keys[0].id) == keys[0]
        assert store.api_keys.get("0" * 16) is None
        assert sorted(k.id for k in store.api_keys.all()) == sorted(k.id for k in keys)
        revoked = store.write(
            Update("revoke", ApiKey, keys[1].id, {"revoked_at": T0}, {"revoked_at": ABSENT})
        )
        assert revoked.revoked_at == T0 and revoked.name == "key 1"
        with pytest.raises(ConditionFailed):
            store.write(
                Update("revoke", ApiKey, keys[1].id, {"revoked_at": T0}, {"revoked_at": ABSENT})
            )
        with pytest.raises(ConditionFailed):  # an unknown key is never created by an update
            store.write(
                Update("revoke", ApiKey, "0" * 16, {"revoked_at": T0}, {"revoked_at": ABSENT})
            )
        assert store.api_keys.get("0" * 16) is None

    def test_a_settings_document_is_replaced_whole_and_read_back(self, store):
        assert store.documents.get("compliance-rules") is None
        first = Setting("compliance-rules", '{"a":1}', T0, "M1")
        store.write(Put("rules", first))
        assert store.documents.get("compliance-rules") == first
        second = Setting("compliance-rules", '{"b":2}', T0 + timedelta(minutes=1), "K1")
        store.write(Put("rules", second))
        assert store.documents.get("compliance-rules") == second
        assert store.documents.get("other") is None

    def test_the_audit_log_pages_newest_first_and_by_action(self, store):
        entries = []
        for i in range(7):
            entry = AuditEntry(
                id=new_id(),
                at=T0 + timedelta(seconds=i),
                action="auth.login" if i % 2 else "member.created",
                actor_type="member",
                actor_id="M1",
                actor_name="Ann",
                target_type="member",
                target_id=f"M{i}",
                details='{"role":"caller"}' if i == 0 else None,
                request_id="req" if i == 0 else None,
            )
            store.write(Put("audit", entry, if_absent=True))
            entries.append(entry)
        newest = sorted(entries, key=lambda e: e.id, reverse=True)

        def pages(action: str | None, limit: int) -> list[AuditEntry]:
            out: list[AuditEntry] = []
            cursor = None
            while True:
                page = store.audit.page(action, limit, cursor)
                assert len(page.items) <= limit
                out += page.items
                cursor = page.next_cursor
                if cursor is None:
                    return out

        for limit in (1, 2, 3, 7, 10):
            assert [e.id for e in pages(None, limit)] == [e.id for e in newest]
            assert [e.id for e in pages("auth.login", limit)] == [
                e.id for e in newest if e.action == "auth.login"
            ]
        assert pages(None, 10)[-1] == entries[0]  # every field read back
        assert store.audit.page("apikey.created", 5, None).items == []
        # A cursor of one action's list is refused on another's.
        cursor = store.audit.page("auth.login", 1, None).next_cursor
        assert cursor
        with pytest.raises(ValidationError):
            store.audit.page("member.created", 1, cursor)

    def test_throttle_counters_add_and_count(self, store):
        expires = T0 + timedelta(minutes=45)
        assert store.throttles.count("login#account#a#1") == 0
        assert [store.throttles.hit("login#account#a#1", expires) for _ in range(3)] == [1, 2, 3]
        assert store.throttles.count("login#account#a#1") == 3
        assert store.throttles.count("login#account#a#2") == 0

    def test_a_callers_list_merges_theirs_and_unassigned_newest_first(self, store):
        plan = ["M1", None, "M2", "M1", None, None, "M2", "M1", None, "M1", "M2"]
        made = []
        for i, assignee in enumerate(plan):
            new = lead(
                phone=f"+1212555{i:04d}",
                assigned_to_id=assignee,
                status="contacted" if i % 3 == 0 else "new",
            )
            store.write(Put("l", new, if_absent=True))
            made.append(new)
        gone = lead(phone="+13105550100", archived_at=T0)
        store.write(Put("l", gone, if_absent=True))
        newest = sorted(made, key=lambda x: x.id, reverse=True)
        for status in (None, "contacted", "new", "qualified"):
            want = [
                x.id
                for x in newest
                if x.assigned_to_id in ("M1", None) and status in (None, x.status)
            ]
            for limit in (1, 2, 3, 4, 20):
                ids, cursor = [], None
                for _ in range(len(plan) + 2):
                    page = store.leads.page_visible("M1", limit, cursor, status=status)
                    assert len(page.items) <= limit
                    ids += [x.id for x in page.items]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                assert ids == want, (status, limit)
        # A member with nothing assigned sees the unassigned ones; a bad cursor is a 400.
        assert [x.id for x in store.leads.page_visible("M9", 20, None).items] == [
            x.id for x in newest if x.assigned_to_id is None
        ]
        with pytest.raises(ValidationError):
            store.leads.page_visible("M1", 2, "not-a-cursor")
        first = store.leads.page_visible("M1", 2, None).next_cursor
        assert first
        with pytest.raises(ValidationError):  # another member's positions
            store.leads.page_visible("M2", 2, first)

    # ---------------------------------------------------------------- the suppression ledger

    def test_a_suppression_reads_back_equal_and_is_versioned(self, store):
        item = Suppression(
            "+12125550142",
            T0,
            T0,
            listed_id=new_id(),
            sms_source="sms_stop",
            sms_reason="STOP",
            sms_by="system:system",
            sms_by_name="system",
            sms_at=T0,
            sms_decided_by="01B",
        )
        store.write(Put("s", item))
        assert item.version == 1
        assert store.suppressions.get("+12125550142") == item
        assert store.suppressions.get("+12125550199") is None
        stale = dataclasses.replace(item, version=0)
        with pytest.raises(ConditionFailed):  # someone wrote it since it was read
            store.write(Put("s", stale))
        item.voice_source = "manual"
        store.write(Put("s", item))
        assert store.suppressions.get(item.phone).voice_source == "manual"
        assert store.suppressions.get(item.phone).version == 2

    def test_the_suppression_list_holds_suppressed_numbers_newest_first(self, store):
        made = []
        for n in range(7):
            item = Suppression(f"+1212555{n:04d}", T0, T0, listed_id=new_id(), voice_source="x")
            store.write(Put("s", item))
            made.append(item)
        # An item with no channel left is out of the list (sparse index), yet readable.
        lifted = Suppression("+13105550100", T0, T0, listed_id=None, sms_decided_by="01C")
        store.write(Put("s", lifted))
        assert store.suppressions.get(lifted.phone) == lifted
        want = [i.phone for i in reversed(made)]
        for limit in (1, 2, 3, 7, 20):
            phones, cursor = [], None
            for _ in range(10):
                page = store.suppressions.page(limit, cursor)
                assert len(page.items) <= limit
                phones += [i.phone for i in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert phones == want, limit
        with pytest.raises(ValidationError):
            store.suppressions.page(2, "not-a-cursor")
        # Taken off the list by a Put without `listed_id`.
        first = store.suppressions.get(made[0].phone)
        first.listed_id = None
        first.voice_source = None
        store.write(Put("s", first))
        assert made[0].phone not in [i.phone for i in store.suppressions.page(20, None).items]

    def test_suppressions_are_read_and_written_in_batches(self, store):
        items = [
            Suppression(f"+1646555{n:04d}", T0, T0, listed_id=new_id(), sms_source="import")
            for n in range(260)
        ]
        store.suppressions.put_many(items)
        assert all(i.version == 1 for i in items)
        phones = [i.phone for i in items] + ["+16465559999"]
        got = store.suppressions.get_many(phones)
        assert set(got) == {i.phone for i in items}
        assert got[items[3].phone] == items[3]
        assert store.suppressions.get_many([]) == {}
        # A whole-item batch write replaces an item, with its next version.
        again = dataclasses.replace(items[0], voice_source="import")
        store.suppressions.put_many([again])
        assert store.suppressions.get(items[0].phone).voice_source == "import"
        assert store.suppressions.get(items[0].phone).version == 2

    # ---------------------------------------------------------------- campaigns and the queue

    def test_update_adds_to_number_fields_with_its_conditions(self, store):
        made = campaign()
        store.write(Put("c", made, if_absent=True))
        after = store.write(
            Update(
                "c",
                Campaign,
                made.id,
                {"name": "Renamed"},
                when={"status": Eq("active")},
                add={"count_ready": 3, "dials": 1},
            )
        )
        assert (after.name, after.count_ready, after.dials, after.version) == ("Renamed", 3, 1, 1)
        store.transact(
            [
                Update("c", Campaign, made.id, {}, add={"count_ready": -1, "count_done": 1}),
                Put("l", lead(), if_absent=True),
            ]
        )
        got = store.campaigns.get(made.id, consistent=True)
        assert (got.count_ready, got.count_done, got.name) == (2, 1, "Renamed")
        with pytest.raises(ConditionFailed):
            store.write(
                Update("c", Campaign, made.id, {}, when={"status": Eq("paused")}, add={"dials": 1})
            )
        assert store.campaigns.get(made.id, consistent=True).dials == 1

    def test_campaigns_list_newest_first_and_by_member(self, store):
        made = [
            campaign(name=f"C{i}", member_ids=["M1"] if i % 2 else ["M2", "M3"]) for i in range(7)
        ]
        for c in made:
            store.write(Put("c", c, if_absent=True))
        assert store.campaigns.get(made[1].id).member_ids == ["M1"]
        newest = sorted(made, key=lambda c: c.id, reverse=True)
        for member_id in (None, "M1", "M3", "M9"):
            want = [c.id for c in newest if member_id is None or member_id in c.member_ids]
            for limit in (1, 2, 5, 20):
                ids, cursor = [], None
                for _ in range(10):
                    page = store.campaigns.page(limit, cursor, member_id=member_id)
                    ids += [c.id for c in page.items]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                assert ids == want, (member_id, limit)

    def test_campaign_leads_list_by_state_and_queue_soonest_first(self, store):
        stamps = [f"2026-11-23T1{h}:00:00.000Z" for h in (5, 3, 9, 1, 7)]
        entries = []
        for i, at in enumerate(stamps):
            state = "ready" if i % 2 == 0 else "scheduled"
            entries.append(entry("C1", new_id(), state, at))
        done = entry("C1", new_id(), "done", "2026-11-23T10:00:00.000Z")
        elsewhere = entry("C2", new_id(), "ready", "2026-11-23T10:00:00.000Z")
        for e in [*entries, done, elsewhere]:
            store.write(Put("e", e, if_absent=True))
        due = store.campaign_leads.due("C1", "2026-11-23T23:00:00.000Z#~", 10)
        assert [e.id for e in due] == [e.id for e in sorted(entries, key=lambda e: e.queue_sk)]
        assert len(store.campaign_leads.due("C1", "2026-11-23T23:00:00.000Z#~", 2)) == 2
        early = store.campaign_leads.due("C1", "2026-11-23T14:00:00.000Z#~", 10)
        assert sorted(e.next_attempt_at for e in early) == [stamps[3], stamps[1]]
        # by state, newest lead first, paged
        for state in ("ready", "scheduled", "done"):
            want = sorted((e.lead_id for e in [*entries, done] if e.state == state), reverse=True)
            for limit in (1, 2, 10):
                ids, cursor = [], None
                for _ in range(10):
                    page = store.campaign_leads.page_by_state("C1", state, limit, cursor)
                    ids += [e.lead_id for e in page.items]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                assert ids == want, (state, limit)
        first = store.campaign_leads.page_by_state("C1", "ready", 1, None).next_cursor
        with pytest.raises(ValidationError):  # a cursor of another state's list
            store.campaign_leads.page_by_state("C1", "scheduled", 1, first)
        # out of the queue once done (the queue index is sparse)
        moving = entries[0]
        store.write(
            Update(
                "e",
                CampaignLead,
                moving.id,
                {"state": "done", "state_pk": "C1#done", "queue_pk": None, "queue_sk": None},
            )
        )
        due = store.campaign_leads.due("C1", "2026-11-23T23:00:00.000Z#~", 10)
        assert moving.id not in {e.id for e in due} and len(due) == 4

    def test_two_takers_never_reserve_the_same_lead(self, store):
        from chalicelib.clock import ManualClock
        from chalicelib.services import campaigns as campaign_service
        from chalicelib.services import queue
        from chalicelib.services.deps import Deps

        deps = Deps(providers_settings(), store, ManualClock(T0), lambda: None)  # type: ignore[arg-type,return-value]
        made = campaign_service.create(deps, SYSTEM_ACTOR, {"name": "Race", "max_attempts": 3})
        ids = []
        for i in range(4):
            new = lead(phone=f"+1212555{i:04d}")
            store.write(Put("l", new, if_absent=True))
            ids.append(new.id)
        result = campaign_service.add_leads_by_id(deps, SYSTEM_ACTOR, made.id, ids)
        assert (result.added, result.skipped) == (4, 0)
        current = store.campaigns.get(made.id, consistent=True)
        assert (current.count_ready, current.count_done) == (4, 0)
        taken = [queue.take_next(deps, current, f"S{n}", "M1") for n in range(5)]
        got = [t.lead.id for t in taken if t is not None]
        assert sorted(got) == sorted(ids) and taken[4] is None  # each lead once, then none
        # a reservation is the holder's: another session cannot finish or release it
        assert queue.release(deps, made.id, got[0], "S9") is False
        assert queue.finish_attempt(deps, made.id, got[0], "S9", "busy") is None
        after = queue.finish_attempt(deps, made.id, got[0], "S0", "busy")
        assert after is not None and (after.state, after.attempts) == ("scheduled", 1)
        assert after.reserved_by is None
        assert queue.release(deps, made.id, got[1], "S1") is True
        again = queue.take_next(deps, current, "S7", "M1")
        assert again is not None and again.lead.id == got[1]
        counts = store.campaigns.get(made.id, consistent=True)
        assert (counts.count_ready, counts.count_scheduled) == (3, 1)

    def test_concurrent_takers_on_one_campaign_take_disjoint_leads(self, store):
        import threading

        from chalicelib.clock import ManualClock
        from chalicelib.services import campaigns as campaign_service
        from chalicelib.services import queue
        from chalicelib.services.deps import Deps

        deps = Deps(providers_settings(), store, ManualClock(T0), lambda: None)  # type: ignore[arg-type,return-value]
        made = campaign_service.create(deps, SYSTEM_ACTOR, {"name": "Threads"})
        ids = []
        for i in range(16):
            new = lead(phone=f"+1212555{i:04d}")
            store.write(Put("l", new, if_absent=True))
            ids.append(new.id)
        campaign_service.add_leads_by_id(deps, SYSTEM_ACTOR, made.id, ids)
        current = store.campaigns.get(made.id, consistent=True)
        got: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def taker(n: int) -> None:
            start.wait()
            while (taken := queue.take_next(deps, current, f"S{n}", "M1")) is not None:
                with lock:
                    got.append(taken.lead.id)

        threads = [threading.Thread(target=taker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        # a taker whose candidates were all taken under it gives up; the rest are still due
        while (taken := queue.take_next(deps, current, "S9", "M1")) is not None:
            got.append(taken.lead.id)
        assert len(got) == len(set(got)) == 16 and set(got) == set(ids)

    def test_a_lead_added_to_two_campaigns_at_once_joins_one(self, store):
        import threading

        from chalicelib.clock import ManualClock
        from chalicelib.services import campaigns as campaign_service
        from chalicelib.services.deps import Deps

        deps = Deps(providers_settings(), store, ManualClock(T0), lambda: None)  # type: ignore[arg-type,return-value]
        ids = []
        for i in range(10):
            new = lead(phone=f"+1212555{i:04d}")
            store.write(Put("l", new, if_absent=True))
            ids.append(new.id)
        made = [campaign_service.create(deps, SYSTEM_ACTOR, {"name": f"C{n}"}) for n in range(2)]
        start = threading.Barrier(2)
        results: dict[str, Any] = {}

        def add(c: Campaign) -> None:
            start.wait()
            results[c.id] = campaign_service.add_leads_by_id(deps, SYSTEM_ACTOR, c.id, ids)

        threads = [threading.Thread(target=add, args=(c,)) for c in made]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(r.added for r in results.values()) == 10
        assert sum(r.skipped for r in results.values()) == 10
        holders = {x.id: x.campaign_id for x in store.leads.get_many(ids).values()}
        for c in made:
            ready = store.campaigns.get(c.id, consistent=True).count_ready
            assert ready == results[c.id].added == list(holders.values()).count(c.id)
            for lead_id, holder in holders.items():
                entry_there = store.campaign_leads.get(f"{c.id}:{lead_id}", consistent=True)
                assert (entry_there is not None) == (holder == c.id)

    def test_callbacks_list_by_member_and_open_soonest_first(self, store):
        made = []
        for i, (owner, hour) in enumerate(
            [("M1", 15), ("M2", 12), ("M1", 11), ("M1", 18), ("M2", 9), ("M1", 13)]
        ):
            at = f"2026-11-23T{hour}:00:00.000Z"
            cid = new_id()
            cb = Callback(
                id=cid,
                lead_id=f"L{i}",
                lead_name=f"Lead {i}",
                team_member_id=owner,
                at=at,
                created_at=T0,
                created_by=owner,
                due_key=f"{at}#{cid}",
                member_pk=owner,
                open_pk="open",
            )
            store.write(Put("cb", cb, if_absent=True))
            made.append(cb)
        assert store.callbacks.get(made[0].id) == made[0]
        soonest = sorted(made, key=lambda c: c.due_key)
        for member_id in ("M1", "M2", None):
            for up_to in (None, "2026-11-23T14:00:00.000Z#~"):
                want = [
                    c.id
                    for c in soonest
                    if member_id in (None, c.team_member_id)
                    and (up_to is None or c.due_key <= up_to)
                ]
                for limit in (1, 2, 10):
                    ids, cursor = [], None
                    for _ in range(10):
                        page = store.callbacks.page(member_id, up_to, limit, cursor)
                        ids += [c.id for c in page.items]
                        cursor = page.next_cursor
                        if cursor is None:
                            break
                    assert ids == want, (member_id, up_to, limit)
        # done: out of both lists
        store.write(
            Update("cb", Callback, made[0].id, {"done_at": T0, "member_pk": None, "open_pk": None})
        )
        assert made[0].id not in {c.id for c in store.callbacks.page("M1", None, 10, None).items}
        assert made[0].id not in {c.id for c in store.callbacks.page(None, None, 10, None).items}

    def test_leads_are_read_in_batches(self, store):
        made = [lead(phone=f"+1212555{i:04d}") for i in range(3)]
        for x in made:
            store.write(Put("l", x, if_absent=True))
        got = store.leads.get_many([made[0].id, made[2].id, "missing", made[0].id])
        assert got == {made[0].id: made[0], made[2].id: made[2]}
        assert store.leads.get_many([]) == {}

    # ---------------------------------------------------------------- working the lists

    def test_calls_of_a_day_and_of_a_member_by_id_range_newest_first(self, store):
        made = [
            call(id=new_id(T0 + timedelta(minutes=i)), team_member_id=f"M{i % 2}") for i in range(5)
        ]
        made.append(call(id=new_id(T0 - timedelta(days=1)), day="2026-11-22", team_member_id="M0"))
        for c in made:
            store.write(Put("c", c, if_absent=True))
        ids = [c.id for c in made]
        assert [c.id for c in store.calls.on_day("2026-11-23", None, 10)] == ids[4::-1]
        assert [c.id for c in store.calls.on_day("2026-11-23", ids[3], 2)] == [ids[2], ids[1]]
        assert store.calls.on_day("2026-11-21", None, 10) == []
        low, high = ids[5], ids[4]
        got = store.calls.of_member_between("M0", low, high, 10)
        assert [c.id for c in got] == [ids[2], ids[0], ids[5]]  # `high` itself left out
        assert [c.id for c in store.calls.of_member_between("M0", ids[0], "Z" * 26, 2)] == [
            ids[4],
            ids[2],
        ]

    def test_inbox_threads_newest_first_and_the_sparse_unread_index(self, store):
        from chalicelib.domain.records import InboxItem

        def thread(lead_id: str, minutes: int) -> InboxItem:
            at = T0 + timedelta(minutes=minutes)
            return InboxItem(lead_id, new_id(at), "text", at, f"hi {lead_id}")

        items = [thread(f"L{i}", i) for i in range(4)]
        for item in items:
            store.write(Put("t", item, when={"item_id": Before(item.item_id)}))
        # an older item never replaces a newer one
        with pytest.raises(ConditionFailed):
            store.write(Put("t", thread("L3", -5), when={"item_id": Before(items[3].item_id)}))
        read = store.write(Update("r", InboxItem, "L2", {"unread_key": None, "read_at": T0}))
        assert read.unread is False and read.read_at == T0
        assert store.inbox.get("L2") == read
        first = store.inbox.page(False, 2, None)
        assert [i.lead_id for i in first.items] == ["L3", "L2"]
        rest = store.inbox.page(False, 2, first.next_cursor)
        assert [i.lead_id for i in rest.items] == ["L1", "L0"] and rest.next_cursor is None
        after = store.inbox.page(False, 5, store.inbox.cursor_after(first.items[0], False))
        assert [i.lead_id for i in after.items] == ["L2", "L1", "L0"]
        unread = store.inbox.page(True, 5, None)
        assert [i.lead_id for i in unread.items] == ["L3", "L1", "L0"]
        assert store.inbox.unread_lead_ids() == ["L3", "L1", "L0"]
        with pytest.raises(ValidationError):
            store.inbox.page(True, 5, first.next_cursor)  # a cursor of the other index
        assert store.inbox.get("nope") is None

    # ---------------------------------------------------------------- search and sorts

    def test_token_items_are_put_paged_newest_first_and_deleted(self, store):
        ids = sorted(new_id() for _ in range(5))
        store.transact([Put(f"t{i}", LeadToken("w:ann", x)) for i, x in enumerate(ids)])
        store.write(Put("other", LeadToken("w:bob", ids[0])))
        got, more = store.leads.token_ids("w:ann", None, 2)
        assert got == ids[::-1][:2] and more
        got, more = store.leads.token_ids("w:ann", got[-1], 10)
        assert got == ids[::-1][2:] and not more
        assert store.leads.token_ids("w:ann", None, 5) == (ids[::-1], False)
        store.transact([Delete("d", LeadToken, token_key("w:ann", ids[1]))])
        assert ids[1] not in store.leads.token_ids("w:ann", None, 10)[0]
        assert store.leads.token_ids("w:bob", None, 10) == ([ids[0]], False)
        assert store.leads.token_ids("w:nobody", None, 10) == ([], False)

    def test_token_items_are_written_and_deleted_in_batches(self, store):
        ids = sorted(new_id() for _ in range(60))
        store.leads.write_tokens([LeadToken("w:cyd", x) for x in ids])  # three batches
        assert store.leads.token_ids("w:cyd", None, 100) == (ids[::-1], False)
        store.leads.write_tokens(
            [LeadToken("w:dee", ids[0])], [LeadToken("w:cyd", x) for x in ids[:30]]
        )
        assert store.leads.token_ids("w:cyd", None, 100) == (ids[30:][::-1], False)
        assert store.leads.token_ids("w:dee", None, 100) == ([ids[0]], False)
        store.leads.write_tokens([], [LeadToken("w:gone", ids[0])])  # deleting none: no error
        store.leads.write_tokens([])

    def test_phone_guards_name_their_leads_in_batches(self, store):
        store.write(Put("g", LeadPhone("+12125550142", "L1")))
        store.write(Put("g", LeadPhone("+12125550143", "L2")))
        assert store.leads.ids_by_phones(["+12125550143", "+19999999999", "+12125550142"]) == {
            "+12125550142": "L1",
            "+12125550143": "L2",
        }
        assert store.leads.ids_by_phones([]) == {}

    def _listing(self, store, spec: LeadFilter, limit: int = 2) -> list[str]:
        ids, cursor = [], None
        while True:
            page = store.leads.listing(spec, limit, cursor)
            assert len(page.items) <= limit
            ids += [x.id for x in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return ids

    def test_listing_sorts_by_name_contact_and_creation_with_filters(self, store):
        names = ["Émile", "adam", "Bea", "carl", "Dora"]
        made = self._leads(store, 0)
        for i, name in enumerate(names):
            one = lead(phone=f"+1212555{i:04d}", name=name, source="csv" if i % 2 else "manual")
            store.write(Put("l", one, if_absent=True))
            made.append(one)
        gone = lead(phone="+13105550100", name="Aaron", archived_at=T0)
        store.write(Put("l", gone, if_absent=True))
        by_name = [made[1].id, made[2].id, made[3].id, made[4].id, made[0].id]
        assert self._listing(store, LeadFilter(sort="name", descending=False)) == by_name
        assert self._listing(store, LeadFilter(sort="name")) == by_name[::-1]
        created = [x.id for x in made]
        assert self._listing(store, LeadFilter(descending=False)) == created
        assert self._listing(store, LeadFilter()) == created[::-1]
        # a contact stamped by an Update moves the lead in the by-contact order
        store.write(Update("c", Lead, made[3].id, {"last_contacted_at": T0}))
        store.write(Update("c", Lead, made[0].id, {"last_contacted_at": T0 + timedelta(hours=1)}))
        never = [made[4].id, made[2].id, made[1].id]
        by_contact = [made[0].id, made[3].id, *never]
        assert self._listing(store, LeadFilter(sort="lastContactedAt")) == by_contact
        assert self._listing(store, LeadFilter(never_called=True)) == never
        assert self._listing(store, LeadFilter(never_called=True, source="manual")) == [
            made[4].id,
            made[2].id,
        ]
        assert self._listing(store, LeadFilter(sort="name", source="csv", descending=False)) == [
            made[1].id,
            made[3].id,
        ]

    def test_listing_by_assignee_visibility_status_and_campaign(self, store):
        mine = self._leads(store, 2, assigned_to_id="M1")
        theirs = [lead(phone=f"+1646555{i:04d}", assigned_to_id="M2") for i in range(2)]
        free = [lead(phone=f"+1718555{i:04d}", status="qualified") for i in range(2)]
        for x in theirs + free:
            store.write(Put("l", x, if_absent=True))
        newest = sorted((x.id for x in mine + free), reverse=True)
        assert self._listing(store, LeadFilter(visible_to="M1")) == newest
        assert self._listing(store, LeadFilter(visible_to="M1", descending=False)) == newest[::-1]
        # equal names: in any order, the same leads, each once
        assert sorted(self._listing(store, LeadFilter(visible_to="M1", sort="name"))) == sorted(
            newest
        )
        assert self._listing(store, LeadFilter(assignee="M2")) == sorted(
            (x.id for x in theirs), reverse=True
        )
        assert self._listing(store, LeadFilter(status="qualified", never_called=True)) == sorted(
            (x.id for x in free), reverse=True
        )
        for x in (mine[0], theirs[1]):
            store.write(Update("c", Lead, x.id, {"campaign_id": "C1"}))
        assert self._listing(store, LeadFilter(campaign_id="C1")) == [theirs[1].id, mine[0].id]
        assert self._listing(store, LeadFilter(campaign_id="C1", visible_to="M1")) == [mine[0].id]
        archived = dataclasses.replace(mine[0], archived_at=T0)
        store.write(Put("l", archived))
        assert self._listing(store, LeadFilter(campaign_id="C1")) == [theirs[1].id]
        with pytest.raises(ValidationError):
            store.leads.listing(LeadFilter(sort="name"), 2, "not-a-cursor")


def providers_settings() -> Any:
    from chalicelib import providers

    return providers.settings()


def campaign(**over: Any) -> Campaign:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": "Spring",
        "created_at": T0,
        "updated_at": T0,
        "created_by": "M1",
        "member_ids": [],
    }
    values.update(over)
    return Campaign(**values)


def entry(campaign_id: str, lead_id: str, state: str, due: str) -> CampaignLead:
    from chalicelib.domain import campaigns as rules

    keys = rules.index_keys(campaign_id, lead_id, state, due)
    return CampaignLead(
        id=rules.entry_id(campaign_id, lead_id),
        campaign_id=campaign_id,
        lead_id=lead_id,
        added_at=T0,
        next_attempt_at=due,
        state=state,
        state_pk=str(keys["state_pk"]),
        queue_pk=keys["queue_pk"],
        queue_sk=keys["queue_sk"],
    )
