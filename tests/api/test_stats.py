"""GET /dashboard/stats and the scheduled rollup: counters move with the webhooks, the request
count stays flat however much history there is, the rollup repairs drift without ever losing a
live increment, days follow STATS_TIMEZONE."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.clock import new_id
from chalicelib.domain import counters
from chalicelib.domain.records import Message
from chalicelib.providers import deps
from chalicelib.store.base import CallRow, Put
from tests.api.test_calls import lead_leg, member_leg, place
from tests.helpers import (
    day_counters,
    day_revision,
    delete_day,
    dynamo,
    funnel,
    put_day,
    put_member_item,
    stats_table,
)

TODAY = "2026-11-23"  # the clock fixture's day


def stats(api, query=""):
    status, body, _ = api.get(f"/dashboard/stats{query}")
    assert status == 200, body
    return body


def raw_day(day=TODAY):
    key = {"scope": {"S": counters.ALL_SCOPE}, "day": {"S": day}}
    return dynamo().client.get_item(TableName=stats_table(), Key=key, ConsistentRead=True)["Item"]


@pytest.fixture
def setup(api, telephony, clock, make_member, make_lead):
    member = make_member(name="Ann Caller", phone="+14155550100")
    lead = make_lead(name="Jane Doe", phone="+12125550142", assignedToId=member["id"])
    return member, lead


def connected_call(api, member, lead, talk=42):
    _, call, _ = place(api, member, lead)
    for s in ("initiated", "ringing", "in-progress"):
        member_leg(api, call["id"], s)
        lead_leg(api, call["id"], s)
    lead_leg(api, call["id"], "completed", CallDuration=str(talk))
    member_leg(api, call["id"], "completed", CallDuration=str(talk + 10))
    return call


# ---------------------------------------------------------------- shape and zeros


def test_empty_data_answers_zeros_in_the_documented_shape(api, clock, ddb_requests):
    ddb_requests.reset()
    body = stats(api)
    # day items, member items, funnel, team
    assert dict(ddb_requests.calls) == {"Query": 2, "GetItem": 1, "Scan": 1}
    assert body["from"] == "2026-11-17" and body["to"] == TODAY and body["timezone"] == "UTC"
    assert body["leads"] == {
        "total": 0,
        "byStatus": {"new": 0, "contacted": 0, "qualified": 0, "not_interested": 0, "converted": 0},
    }
    assert body["calls"] == {
        "placed": 0,
        "byStatus": {"completed": 0, "busy": 0, "no-answer": 0, "failed": 0, "canceled": 0},
        "byLeadLegStatus": {
            "completed": 0,
            "busy": 0,
            "no-answer": 0,
            "failed": 0,
            "canceled": 0,
            "not-connected": 0,
        },
        "connected": 0,
        "connectRate": 0.0,
        "talkSeconds": 0,
        "avgTalkSeconds": 0.0,
        "byDisposition": {
            "connected": 0,
            "left_voicemail": 0,
            "no_answer": 0,
            "wrong_number": 0,
            "callback_requested": 0,
            "not_interested": 0,
            "meeting_booked": 0,
            "do_not_call": 0,
        },
    }
    assert body["messages"] == {
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "inbound": 0,
        "deliveryRate": 0.0,
    }
    assert [d["date"] for d in body["daily"]] == [f"2026-11-{d}" for d in range(17, 24)]
    assert body["daily"][0] == {
        "date": "2026-11-17",
        "calls": 0,
        "connected": 0,
        "talkSeconds": 0,
        "messagesSent": 0,
        "messagesInbound": 0,
        "converted": 0,
        "inboundCalls": 0,
    }
    assert body["inboundCalls"] == {"total": 0, "answered": 0, "missed": 0, "voicemails": 0}
    assert body["leaderboard"] == [] and body["converted"] == 0


def test_needs_the_token(api):
    status, body, _ = api.get("/dashboard/stats", token=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"


# ---------------------------------------------------------------- date range


@pytest.mark.parametrize(
    "query, field",
    [
        ("?from=2026-11-2", "from"),
        ("?from=20261101", "from"),
        ("?from=2026-W47-1", "from"),
        ("?to=2026-02-30", "to"),
        ("?to=yesterday", "to"),
        ("?from=2026-11-23&to=2026-11-22", "from"),
        ("?from=2025-11-22&to=2026-11-23", "from"),  # 367 days
        ("?from=2026-11-01T00:00:00", "from"),
        ("?to=0001-01-03", "to"),  # the default week would start before year 1 (was a 500)
    ],
)
def test_bad_ranges_are_400(api, clock, query, field):
    status, body, _ = api.get(f"/dashboard/stats{query}")
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"]["field"] == field


def test_ranges_up_to_366_days_and_defaults(api, clock):
    year = stats(api, "?from=2025-11-23&to=2026-11-23")
    assert len(year["daily"]) == 366 and year["daily"][-1]["date"] == TODAY
    one = stats(api, "?from=2026-11-20&to=2026-11-20")
    assert [d["date"] for d in one["daily"]] == ["2026-11-20"]
    since = stats(api, "?from=2026-11-21")
    assert (since["from"], since["to"]) == ("2026-11-21", TODAY)
    until = stats(api, "?to=2026-11-10")
    assert (until["from"], until["to"]) == ("2026-11-04", "2026-11-10")
    assert stats(api, "?from=&to=")["from"] == "2026-11-17"  # empty means default


# ---------------------------------------------------------------- live counters


def test_a_connected_call_shows_as_soon_as_its_webhook_lands(api, setup, ddb_requests):
    member, lead = setup
    _, call, _ = place(api, member, lead)
    for s in ("initiated", "ringing", "in-progress"):
        lead_leg(api, call["id"], s)
    assert stats(api)["calls"]["placed"] == 1 and stats(api)["calls"]["connected"] == 0
    lead_leg(api, call["id"], "completed", CallDuration="42")
    ddb_requests.reset()
    body = stats(api)
    assert ddb_requests.total == 4
    c = body["calls"]
    assert (c["placed"], c["connected"], c["talkSeconds"]) == (1, 1, 42)
    assert c["connectRate"] == 1.0 and c["avgTalkSeconds"] == 42.0
    assert c["byLeadLegStatus"]["completed"] == 1 and c["byStatus"]["completed"] == 0
    member_leg(api, call["id"], "completed", CallDuration="50")
    body = stats(api)
    assert body["calls"]["byStatus"]["completed"] == 1
    assert body["daily"][-1] == {
        "date": TODAY,
        "calls": 1,
        "connected": 1,
        "talkSeconds": 42,
        "messagesSent": 0,
        "messagesInbound": 0,
        "converted": 0,
        "inboundCalls": 0,
    }
    assert body["leaderboard"] == [
        {
            "teamMemberId": member["id"],
            "name": "Ann Caller",
            "active": True,
            "calls": 1,
            "connected": 1,
            "talkSeconds": 42,
            "messagesSent": 0,
            "converted": 0,
            "inboundAnswered": 0,
            "meetings": 0,
        }
    ]
    # the first connected call moved the lead to contacted, and the funnel with it
    assert body["leads"]["total"] == 1 and body["leads"]["byStatus"]["contacted"] == 1


def test_duplicate_and_late_webhooks_never_double_count(api, setup):
    member, lead = setup
    call = connected_call(api, member, lead, talk=30)
    before = stats(api)
    lead_leg(api, call["id"], "completed", CallDuration="30")
    lead_leg(api, call["id"], "completed", CallDuration="99")
    lead_leg(api, call["id"], "ringing")
    lead_leg(api, call["id"], "busy")
    member_leg(api, call["id"], "completed", CallDuration="77")
    member_leg(api, call["id"], "in-progress")
    assert stats(api) == before
    assert before["calls"]["talkSeconds"] == 30 and before["calls"]["connected"] == 1


def test_rates_and_statuses_over_several_calls(api, setup, make_lead):
    member, lead = setup
    connected_call(api, member, lead, talk=40)
    connected_call(api, member, lead, talk=20)
    busy = make_lead()
    _, call, _ = place(api, member, busy)
    lead_leg(api, call["id"], "busy")
    member_leg(api, call["id"], "completed", CallDuration="12")
    _, refused, _ = place(api, member, busy)
    member_leg(api, refused["id"], "no-answer")  # the member never picked up
    c = stats(api)["calls"]
    assert c["placed"] == 4 and c["connected"] == 2
    assert c["connectRate"] == 0.5 and c["talkSeconds"] == 60 and c["avgTalkSeconds"] == 30.0
    assert c["byStatus"] == {
        "completed": 3,
        "busy": 0,
        "no-answer": 1,
        "failed": 0,
        "canceled": 0,
    }
    assert c["byLeadLegStatus"]["completed"] == 2 and c["byLeadLegStatus"]["busy"] == 1


def test_message_counters_feed_the_messages_block(api, setup):
    member, _ = setup
    # a day item written before member items existed: its member counters still count
    put_day(
        TODAY,
        {
            "sms#sent": 10,
            "sms#delivered": 6,
            "sms#failed": 1,
            "sms#undelivered": 2,
            "sms#inbound": 4,
            f"m#{member['id']}#sms": 10,
            "rev": 7,
        },
        legacy=True,
    )
    put_day("2026-11-20", {"sms#sent": 2, "sms#delivered": 2, "rev": 1})
    body = stats(api)
    assert body["messages"] == {
        "sent": 12,
        "delivered": 8,
        "failed": 3,
        "inbound": 4,
        "deliveryRate": round(8 / 12, 4),
    }
    daily = {d["date"]: d for d in body["daily"]}
    assert daily[TODAY]["messagesSent"] == 10 and daily[TODAY]["messagesInbound"] == 4
    assert daily["2026-11-20"]["messagesSent"] == 2
    assert body["leaderboard"][0]["messagesSent"] == 10


def test_the_range_limits_what_is_counted(api, setup):
    put_day("2026-11-16", {"calls": 5})
    put_day("2026-11-17", {"calls": 2})
    put_day("2026-11-24", {"calls": 9})
    assert stats(api)["calls"]["placed"] == 2
    assert stats(api, "?from=2026-11-16&to=2026-11-24")["calls"]["placed"] == 16


def test_leaderboard_lists_active_members_and_inactive_ones_with_activity(
    api, setup, make_member, make_lead
):
    member, lead = setup
    idle = make_member(name="Idle Ida")
    gone_busy = make_member(name="Gone Gus")
    gone_idle = make_member(name="Gone Gail")
    connected_call(api, gone_busy, lead, talk=5)
    connected_call(api, gone_busy, lead, talk=5)
    connected_call(api, member, lead, talk=100)
    api.delete(f"/team-members/{gone_busy['id']}")
    api.delete(f"/team-members/{gone_idle['id']}")
    board = stats(api)["leaderboard"]
    assert [(r["name"], r["calls"], r["active"]) for r in board] == [
        ("Gone Gus", 2, False),
        ("Ann Caller", 1, True),
        ("Idle Ida", 0, True),
    ]
    assert board[2]["teamMemberId"] == idle["id"]


# ---------------------------------------------------------------- cost


def spread_calls(n, members, days=30, end=date(2026, 11, 23), seed=7):
    """n calls over `days` days written straight as day and member items: the counters the live
    path would have built for them (domain.counters is the rule both the live path and the
    rollup use)."""
    rng = random.Random(seed)
    by_day: dict[str, list[CallRow]] = {}
    for _ in range(n):
        day = (end - timedelta(days=rng.randrange(days))).isoformat()
        leg = rng.choice(["completed", "completed", "busy", "no-answer", "not-connected"])
        by_day.setdefault(day, []).append(
            CallRow(
                team_member_id=rng.choice(members),
                status="completed",
                lead_leg_status=leg,
                talk_seconds=rng.randrange(5, 300) if leg == "completed" else None,
            )
        )
    for day, rows in by_day.items():
        put_day(day, {**counters.of_day(rows, []), "rev": len(rows)})


@pytest.mark.parametrize("n", [100, 20_000])
def test_the_request_count_does_not_grow_with_the_data(api, clock, make_member, ddb_requests, n):
    members = [make_member()["id"] for _ in range(3)]
    spread_calls(n, members)
    ddb_requests.reset()
    body = stats(api, "?from=2026-10-25&to=2026-11-23")
    assert body["calls"]["placed"] == n
    assert sum(r["calls"] for r in body["leaderboard"]) == n
    # the same four requests for 100 calls as for 20,000: a Query on the day items, one on
    # the member items, one GetItem, one Scan
    assert dict(ddb_requests.calls) == {"Query": 2, "GetItem": 1, "Scan": 1}
    assert ddb_requests.total <= 3 + len(members)


# ---------------------------------------------------------------- conversions


def test_converting_a_lead_counts_for_its_assignee_on_that_day(api, setup, ddb_requests):
    member, lead = setup
    ddb_requests.reset()
    status, _, _ = api.patch(f"/leads/{lead['id']}", {"status": "converted"})
    assert status == 200
    # the lead, the funnel and the day's conversion counters move in one transaction
    assert ddb_requests.calls["TransactWriteItems"] == 1
    assert day_counters() == {"converted": 1, f"m#{member['id']}#converted": 1}
    body = stats(api)
    assert body["converted"] == 1 and body["daily"][-1]["converted"] == 1
    assert body["leaderboard"][0]["converted"] == 1
    assert body["leads"]["byStatus"]["converted"] == 1
    # a conversion is an event: moving back out takes nothing away, the funnel follows
    api.patch(f"/leads/{lead['id']}", {"status": "qualified"})
    body = stats(api)
    assert body["converted"] == 1 and body["leads"]["byStatus"]["converted"] == 0
    # other edits of a converted lead are not conversions
    api.patch(f"/leads/{lead['id']}", {"status": "converted"})
    api.patch(f"/leads/{lead['id']}", {"notes": "signed"})
    assert day_counters()["converted"] == 2


def test_unassigned_conversions_count_in_the_total_only(api, setup, make_lead):
    lead = make_lead()
    api.patch(f"/leads/{lead['id']}", {"status": "converted"})
    assert day_counters() == {"converted": 1}


def test_a_refused_conversion_counts_nothing(api, setup, make_lead):
    _, lead = setup
    other = make_lead(phone="+12125550199")
    # stale version: 409
    api.patch(f"/leads/{lead['id']}", {"notes": "x"})
    status, _, _ = api.patch(f"/leads/{lead['id']}", {"status": "converted", "version": 1})
    assert status == 409
    # the new phone is taken: 409 with the existing lead (the guard's place in the
    # transaction is unchanged by the counter update)
    status, err, _ = api.patch(
        f"/leads/{lead['id']}", {"status": "converted", "phone": other["phone"]}
    )
    assert status == 409 and err["error"]["details"]["existingLeadId"] == other["id"]
    assert "converted" not in day_counters()
    assert funnel().get("status#converted", 0) == 0


def test_conversion_day_follows_the_business_timezone(api, setup, clock, monkeypatch):
    from chalicelib.config import reset_settings

    member, lead = setup
    monkeypatch.setenv("STATS_TIMEZONE", "Asia/Tokyo")
    reset_settings()
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # 00:30 on the 24th in Tokyo
    api.patch(f"/leads/{lead['id']}", {"status": "converted"})
    assert day_counters("2026-11-24") == {"converted": 1, f"m#{member['id']}#converted": 1}


# ---------------------------------------------------------------- business time zone


@pytest.mark.dynamo  # reads the stored calls' days from the table itself
def test_days_are_bucketed_in_stats_timezone_across_midnight(api, setup, clock, monkeypatch):
    from chalicelib.config import reset_settings

    member, lead = setup
    monkeypatch.setenv("STATS_TIMEZONE", "Asia/Tokyo")
    reset_settings()
    clock.set(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 23:30 on the 23rd in Tokyo
    connected_call(api, member, lead, talk=10)
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # 00:30 on the 24th in Tokyo
    connected_call(api, member, lead, talk=20)
    body = stats(api)
    assert body["timezone"] == "Asia/Tokyo"
    assert (body["from"], body["to"]) == ("2026-11-18", "2026-11-24")  # today is Tokyo's
    daily = {d["date"]: (d["calls"], d["talkSeconds"]) for d in body["daily"]}
    assert daily["2026-11-23"] == (1, 10) and daily["2026-11-24"] == (1, 20)
    # in UTC both calls were on the 23rd; the stored records say which business day they had
    assert sorted(c.day for c in dynamo().tables.m.Call.scan()) == ["2026-11-23", "2026-11-24"]
    # the rollup agrees with the live counters on both Tokyo days
    from chalicelib.services import stats as service

    report = service.rollup(deps(), settle_seconds=0)
    assert [d.day for d in report.days] == ["2026-11-23", "2026-11-24"]
    assert not report.changed


# ---------------------------------------------------------------- the rollup


def test_rollup_repairs_a_corrupted_day_and_keeps_conversions(api, setup, make_lead, ddb_requests):
    from chalicelib.services import stats as service

    member, lead = setup
    connected_call(api, member, lead, talk=42)
    _, busy, _ = place(api, member, make_lead())
    lead_leg(api, busy["id"], "busy")
    api.patch(f"/leads/{lead['id']}", {"status": "converted"})
    right = day_counters()
    assert right["connected"] == 1 and right["converted"] == 1
    before = stats(api)
    # drift: wrong numbers, a lost counter, a counter that should not be there
    item = raw_day()
    item["calls"] = {"N": "99"}
    del item["connected"]
    item["sms#sent"] = {"N": "3"}
    dynamo().client.put_item(TableName=stats_table(), Item=item)
    put_member_item(TODAY, member["id"], {"calls": 2, "connected": 1, "talk": 7, "converted": 1})
    assert stats(api) != before
    rev = day_revision()

    report = service.rollup(deps(), settle_seconds=0)
    today = next(d for d in report.days if d.day == TODAY)
    assert today.changed and report.changed
    assert today.fixed == {
        "calls": [99, 2],
        "connected": [0, 1],
        f"m#{member['id']}#talk": [7, 42],
        "sms#sent": [3, 0],
    }
    assert day_counters() == right  # converted kept as it was
    assert day_revision() == rev + 1
    assert stats(api) == before

    ddb_requests.reset()
    again = service.rollup(deps(), settle_seconds=0)
    assert not again.changed and all(d.attempts == 1 for d in again.days)
    assert "PutItem" not in ddb_requests.calls and "UpdateItem" not in ddb_requests.calls
    assert set(ddb_requests.calls) <= {"GetItem", "Query"}  # never a Scan
    assert day_counters() == right


def test_rollup_rebuilds_a_missing_day_item_from_the_records(api, setup):
    from chalicelib.services import stats as service

    member, lead = setup
    connected_call(api, member, lead, talk=15)
    right = day_counters()
    delete_day(TODAY)
    assert service.rollup(deps(), settle_seconds=0).changed
    assert day_counters() == right


def test_rollup_derives_message_counters(api, setup):
    from chalicelib.services import stats as service

    member, lead = setup
    stamp = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)

    def message(direction, status, member_id=member["id"]):
        record = Message(
            id=new_id(),
            lead_id=lead["id"],
            team_member_id=member_id,
            direction=direction,
            from_number="+15005550006",
            to_number=lead["phone"],
            body="hi",
            status=status,
            day=TODAY,
            created_at=stamp,
            updated_at=stamp,
        )
        deps().store.write(Put("message", record))

    for status in ("delivered", "delivered", "undelivered", "failed", "sent", "queued"):
        message("outbound", status)
    message("outbound", "delivered", member_id=None)  # sent by the system, no member
    message("inbound", "received", member_id=None)
    assert service.rollup(deps(), settle_seconds=0).changed
    assert day_counters() == {
        "sms#sent": 7,
        "sms#delivered": 3,
        "sms#undelivered": 1,
        "sms#failed": 1,
        "sms#inbound": 1,
        f"m#{member['id']}#sms": 6,
    }
    m = stats(api)["messages"]
    assert m == {"sent": 7, "delivered": 3, "failed": 2, "inbound": 1, "deliveryRate": 0.4286}


@pytest.mark.parametrize(
    "when",
    [
        "before the first query",  # the records see it, the day item read does not
        "after the first query",
        "just before the write",  # neither the records read nor the day item read see it
    ],
)
def test_rollup_never_loses_an_increment_landing_between_its_read_and_write(
    api, setup, monkeypatch, when
):
    from chalicelib.services import stats as service

    member, lead = setup
    connected_call(api, member, lead, talk=30)
    _, live, _ = place(api, member, lead)
    # drift the rollup will want to repair
    put_day(TODAY, {**day_counters(), "calls": 50, "rev": day_revision()})
    real = service.derive_day
    queries = []

    def derive_with_a_webhook_in_between(d, day):
        if day != TODAY:
            return real(d, day)
        queries.append(day)
        # attempt 1 reads the day item, derives (query 1), settles, derives again (query 2)
        # and writes: the live webhook lands at the chosen point, once
        if when == "before the first query" and len(queries) == 1:
            lead_leg(api, live["id"], "completed", CallDuration="25")
        result = real(d, day)
        if (when, len(queries)) in {("after the first query", 1), ("just before the write", 2)}:
            lead_leg(api, live["id"], "completed", CallDuration="25")
        return result

    monkeypatch.setattr(service, "derive_day", derive_with_a_webhook_in_between)
    report = service.rollup(deps(), settle_seconds=0)
    today = next(d for d in report.days if d.day == TODAY)
    assert today.changed and today.attempts == 2  # the first write lost the race, on purpose
    c = day_counters()
    assert c["calls"] == 2 and c["connected"] == 2 and c["talk"] == 55
    assert c[f"m#{member['id']}#talk"] == 55 and c["lead#completed"] == 2


def test_rollup_waits_out_index_lag_before_overwriting(api, setup, monkeypatch):
    """An index is eventually consistent: a transition already counted may be missing from the
    first Query. The rollup derives again after a settle wait before it writes anything."""
    from chalicelib.services import stats as service

    member, lead = setup
    connected_call(api, member, lead, talk=30)
    right = day_counters()
    real = service.derive_day
    views = []

    def lagging(d, day):
        full = real(d, day)
        views.append(day)
        if len(views) == 1:  # the index has not caught up with the last transition yet
            return {k: v for k, v in full.items() if k not in ("connected", "talk")}
        return full

    slept = []
    monkeypatch.setattr(service, "derive_day", lagging)
    day = service.rollup_day(deps(), TODAY, settle_seconds=5, sleep=slept.append)
    assert slept == [5] and not day.changed
    assert day_counters() == right


def test_rollup_runs_the_stale_call_reconciler(api, setup, telephony, clock):
    from chalicelib.services import stats as service
    from chalicelib.telephony.base import CallState

    member, lead = setup
    _, stale, _ = place(api, member, lead)
    telephony.states[stale["twilioSid"]] = CallState(
        sid=stale["twilioSid"],
        status="completed",
        duration_seconds=70,
        children=[CallState(sid="CAchild", status="completed", duration_seconds=55)],
    )
    clock.set(clock.now() + timedelta(minutes=20))
    report = service.rollup(deps(), settle_seconds=0)
    assert report.reconciled == {"examined": 1, "settled": 1, "errors": 0}
    assert report.changed and not any(d.changed for d in report.days)  # counters moved live
    assert stats(api)["calls"]["talkSeconds"] == 55
    assert not service.rollup(deps(), settle_seconds=0).changed


def test_rollup_reports_a_failing_part_and_does_the_rest(api, setup, monkeypatch):
    from chalicelib.services import calls
    from chalicelib.services import stats as service

    member, lead = setup
    connected_call(api, member, lead)
    put_day(TODAY, {"calls": 9, "rev": 1})

    def broken(d, at):
        raise RuntimeError("Twilio is down")

    monkeypatch.setattr(calls, "reconcile_stale", broken)
    report = service.rollup(deps(), settle_seconds=0)
    assert report.errors == ["reconcile: RuntimeError: Twilio is down"]
    assert day_counters()["calls"] == 1
    line = service.log_line(report)
    assert '"msg":"rollup"' in line and '"changed":true' in line


def test_the_schedule_runs_the_rollup(api, setup, monkeypatch):
    from chalice.test import Client

    from app import app
    from chalicelib.services import stats as service

    member, lead = setup
    connected_call(api, member, lead)
    put_day(TODAY, {"calls": 9, "rev": 1})
    monkeypatch.setattr(service, "SETTLE_SECONDS", 0.0)
    with Client(app, stage_name="test") as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        result = client.lambda_.invoke("stats_rollup", event)
    assert result.payload["changed"] is True
    assert day_counters()["calls"] == 1
