"""The scheduled job's recovery of what Twilio will never send again (it does not retry a webhook
that answered 5xx or timed out): stale outbound messages settled from Twilio, inbound texts
listed since a stored watermark and ingested, and a call or message Twilio answers 404 for
settled once. On fakes: the in-memory store, the recording Twilio, a manual clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.domain import counters
from chalicelib.services import calls, leads, messages, stats, suppressions, team
from chalicelib.services.deps import Deps
from chalicelib.telephony.base import (
    CallState,
    MessageState,
    ReceivedMessage,
    TelephonyFailure,
)
from chalicelib.telephony.webhooks import InboundSms
from tests.helpers import merged_day

OURS = "+15005550006"
OTHER = "+15005550007"
TODAY = "2026-11-23"


def sid(n: int) -> str:
    return f"SM{n:032x}"


def day_item(deps: Deps, day: str = TODAY) -> dict[str, int]:
    """The day's counters, its member items' included (as the rollup derives them)."""
    return merged_day(deps.store, day)


def assert_counters_as_derived(deps: Deps, day: str = TODAY) -> None:
    """What the live transitions counted is what the rollup derives from the records."""

    def derived(name: str) -> bool:
        return stats.is_derived(name) or (name.startswith("m#") and not name.endswith("#converted"))

    live = {k: v for k, v in day_item(deps, day).items() if derived(k)}
    assert live == {k: v for k, v in stats.derive_day(deps, day).items() if v}


def watermark(deps: Deps) -> datetime | None:
    return messages._watermark(deps)[0]


@pytest.fixture
def people(deps):
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    lead = leads.create(deps, leads.NewLead(name="Jane Doe", phone="212 555 0142"))
    return member, lead


def received(deps: Deps, n: int, sender: str, body: str, ago: timedelta, to: str = OURS):
    return ReceivedMessage(sid(n), sender, to, body, deps.clock.now() - ago)


# ---------------------------------------------------------------- outbound


def test_a_stale_message_is_settled_from_twilios_state(deps, people, fake_twilio):
    member, lead = people
    sent = messages.send(deps, messages.SendSms(lead.id, "Hi Jane", member.id))
    fresh = messages.send(deps, messages.SendSms(lead.id, "Still there?", member.id))
    deps.clock.advance(minutes=10)
    fake_twilio.message_states[sent.twilio_sid] = MessageState(sent.twilio_sid, "delivered")
    assert messages.reconcile_stale(deps).examined == 0  # too fresh
    deps.clock.advance(minutes=6)
    fresh_state = MessageState(fresh.twilio_sid, "undelivered", "30003", None, OURS)
    fake_twilio.message_states[fresh.twilio_sid] = fresh_state

    report = stats.rollup(deps, settle_seconds=0)

    assert report.messages["examined"] == 2 and report.messages["settled"] == 2
    assert report.changed and not report.errors
    assert deps.store.messages.get(sent.id).status == "delivered"
    failed = deps.store.messages.get(fresh.id)
    assert (failed.status, failed.error_code) == ("undelivered", "30003")
    assert failed.error_message == "Unreachable destination handset"  # from Twilio's table
    assert leads.get(deps, lead.id).status == "contacted"  # the same transition as a callback
    assert day_item(deps)["sms#delivered"] == 1 and day_item(deps)["sms#undelivered"] == 1
    assert_counters_as_derived(deps)
    again = messages.reconcile_stale(deps)
    assert again.examined == 0  # final: no longer pending
    assert '"messages":{"examined":2,"settled":2' in stats.log_line(report)


def test_a_message_still_on_its_way_moves_forward_and_is_asked_again(deps, people, fake_twilio):
    member, lead = people
    sent = messages.send(deps, messages.SendSms(lead.id, "Hi Jane", member.id))
    fake_twilio.message_states[sent.twilio_sid] = MessageState(sent.twilio_sid, "sent")
    deps.clock.advance(minutes=16)
    report = messages.reconcile_stale(deps)
    assert (report.examined, report.settled) == (1, 1)
    assert deps.store.messages.get(sent.id).status == "sent"
    assert messages.reconcile_stale(deps).settled == 0  # nothing new: nothing written
    assert_counters_as_derived(deps)


def test_a_message_never_handed_to_twilio_is_failed(deps, people, fake_twilio, monkeypatch):
    member, lead = people

    def dies(**kw):
        raise RuntimeError("the Lambda timed out")

    monkeypatch.setattr(fake_twilio, "send_sms", dies)
    with pytest.raises(RuntimeError):
        messages.send(deps, messages.SendSms(lead.id, "Hi Jane", member.id))
    (stuck,) = deps.store.messages.page_by_lead(lead.id, 10, None).items
    assert stuck.status == "queued" and stuck.twilio_sid is None
    deps.clock.advance(minutes=16)
    report = messages.reconcile_stale(deps)
    assert (report.examined, report.settled, report.errors) == (1, 1, 0)
    got = deps.store.messages.get(stuck.id)
    assert (got.status, got.error_code) == ("failed", "not_placed")
    assert got.error_message == "the message was never handed to Twilio"
    assert fake_twilio.fetches == []
    assert_counters_as_derived(deps)


def test_a_message_twilio_does_not_know_is_failed_once(deps, people, fake_twilio):
    member, lead = people
    sent = messages.send(deps, messages.SendSms(lead.id, "Hi Jane", member.id))
    fake_twilio.messages.clear()  # Twilio has no such SID: its 404
    deps.clock.advance(minutes=16)
    report = messages.reconcile_stale(deps)
    assert (report.examined, report.settled, report.errors) == (1, 1, 0)
    got = deps.store.messages.get(sent.id)
    assert (got.status, got.error_code) == ("failed", "twilio_404")
    assert "Twilio does not know this message" in got.error_message
    assert fake_twilio.fetches == [("fetch_message", sent.twilio_sid)]
    deps.clock.advance(minutes=5)
    again = messages.reconcile_stale(deps)
    assert (again.examined, again.settled) == (0, 0)
    assert fake_twilio.fetches == [("fetch_message", sent.twilio_sid)]  # never asked again
    assert leads.get(deps, lead.id).status == "new"  # a failure is no contact
    assert_counters_as_derived(deps)


def test_twilio_failing_leaves_the_message_for_the_next_run(deps, people, fake_twilio):
    member, lead = people
    sent = messages.send(deps, messages.SendSms(lead.id, "Hi Jane", member.id))
    deps.clock.advance(minutes=16)
    fake_twilio.fail_next(TelephonyFailure("boom", 20500, 500), "fetch_message")
    report = messages.reconcile_stale(deps)
    assert (report.examined, report.settled, report.errors) == (1, 0, 1)
    assert deps.store.messages.get(sent.id).status == "queued"
    fake_twilio.message_states[sent.twilio_sid] = MessageState(sent.twilio_sid, "delivered")
    assert messages.reconcile_stale(deps).settled == 1


# ---------------------------------------------------------------- calls Twilio does not know


def test_a_call_twilio_does_not_know_is_failed_once(deps, people, fake_twilio):
    member, lead = people
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, OURS))
    deps.clock.advance(minutes=16)
    fake_twilio.fail_next(TelephonyFailure("not found", 20404, 404), "fetch_call")
    report = calls.reconcile_stale(deps)
    assert (report.examined, report.settled, report.errors) == (1, 1, 0)
    got = deps.store.calls.get(call.id)
    assert (got.status, got.lead_leg_status) == ("failed", "not-connected")
    assert got.error_code == "twilio_404" and "Twilio does not know this call" in got.error_message
    assert len(fake_twilio.fetches) == 1
    again = calls.reconcile_stale(deps)
    assert again.examined == 0 and len(fake_twilio.fetches) == 1  # never asked again
    assert_counters_as_derived(deps)


def test_an_unknown_call_with_a_dialled_lead_leg_settles_both_legs(deps, people, fake_twilio):
    member, lead = people
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, OURS))
    calls.advance_member_leg(deps, call.id, "in-progress")
    calls.start_dialling(deps, call.id)
    calls.advance_lead_leg(deps, call.id, "ringing")
    deps.clock.advance(minutes=16)
    fake_twilio.fail_next(TelephonyFailure("not found", 20404, 404), "fetch_call")
    assert calls.reconcile_stale(deps).settled == 1
    got = deps.store.calls.get(call.id)
    assert (got.status, got.lead_leg_status) == ("failed", "failed")
    assert calls.reconcile_stale(deps).examined == 0
    assert len(fake_twilio.fetches) == 1
    assert_counters_as_derived(deps)


def test_a_call_twilio_knows_is_still_settled_from_its_state(deps, people, fake_twilio):
    member, lead = people
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, OURS))
    twilio_sid = fake_twilio.calls[0]["sid"]
    fake_twilio.states[twilio_sid] = CallState(sid=twilio_sid, status="busy")
    deps.clock.advance(minutes=16)
    assert calls.reconcile_stale(deps).settled == 1
    got = deps.store.calls.get(call.id)
    assert (got.status, got.error_code) == ("busy", None)


# ---------------------------------------------------------------- inbound


def test_a_missed_stop_is_ingested_and_opts_the_lead_out(deps, people, fake_twilio):
    _, lead = people
    fake_twilio.received.append(received(deps, 1, lead.phone, "Stop.", timedelta(minutes=3)))
    report = stats.rollup(deps, settle_seconds=0)
    assert report.messages["listed"] == 1 and report.messages["ingested"] == 1
    assert report.changed and not report.errors
    assert suppressions.view(deps, leads.get(deps, lead.id)).sms_opt_out is True
    (stored,) = deps.store.messages.page_by_lead(lead.id, 10, None).items
    assert (stored.direction, stored.body, stored.twilio_sid) == ("inbound", "Stop.", sid(1))
    assert stored.created_at == deps.clock.now() - timedelta(minutes=3)  # as Twilio got it
    assert day_item(deps)["sms#inbound"] == 1
    assert_counters_as_derived(deps)
    # both numbers were listed
    assert [f for f in fake_twilio.fetches if f[0] == "list_inbound_messages"] == [
        ("list_inbound_messages", OURS),
        ("list_inbound_messages", OTHER),
    ]

    again = stats.rollup(deps, settle_seconds=0)
    assert again.messages["ingested"] == 0 and not again.changed
    assert len(deps.store.messages.page_by_lead(lead.id, 10, None).items) == 1


def test_a_text_from_an_unknown_number_becomes_a_lead(deps, fake_twilio):
    fake_twilio.received.append(received(deps, 2, "+13105550100", "who is this", timedelta(0)))
    assert messages.recover_inbound(deps).ingested == 1
    lead_id = deps.store.leads.id_by_phone("+13105550100")
    assert lead_id and leads.get(deps, lead_id).source == "inbound_sms"


def test_a_text_stored_live_changes_nothing(deps, people, fake_twilio):
    _, lead = people
    stop = InboundSms(sid(3), lead.phone, OURS, "STOP", None)
    messages.receive(deps, stop)
    messages.receive(deps, InboundSms(sid(30), lead.phone, OURS, "START", None))  # since
    before = leads.get(deps, lead.id)
    ledger = deps.store.suppressions.get(lead.phone)
    counted = day_item(deps)
    fake_twilio.received.append(received(deps, 3, lead.phone, "STOP", timedelta(0)))
    report = messages.recover_inbound(deps)
    assert (report.listed, report.ingested, report.errors) == (1, 0, 0)
    after = leads.get(deps, lead.id)
    assert after.version == before.version
    assert deps.store.suppressions.get(lead.phone) == ledger  # still opted in
    assert suppressions.view(deps, after).sms_opt_out is False
    assert day_item(deps) == counted


def test_a_recovered_stop_never_undoes_a_later_start(deps, people, fake_twilio):
    """STOP (its webhook lost) at 16:50, START delivered live at 16:55: the STOP, ingested at
    17:00, applies as of 16:50, so the lead stays opted in."""
    _, lead = people
    deps.clock.advance(minutes=-5)
    messages.receive(deps, InboundSms(sid(5), lead.phone, OURS, "START", None))
    deps.clock.advance(minutes=5)
    fake_twilio.received.append(received(deps, 4, lead.phone, "STOP", timedelta(minutes=10)))
    assert messages.recover_inbound(deps).ingested == 1
    assert suppressions.view(deps, leads.get(deps, lead.id)).sms_opt_out is False
    bodies = [m.body for m in deps.store.messages.page_by_lead(lead.id, 10, None).items]
    assert bodies == ["STOP", "START"]  # the thread in the order they were sent


def test_the_watermark_advances_after_a_good_pass_only(deps, people, fake_twilio):
    _, lead = people
    start = deps.clock.now()
    # First run: no watermark, one day back.
    fake_twilio.received += [
        received(deps, 10, lead.phone, "a day and more ago", timedelta(hours=25)),
        received(deps, 11, lead.phone, "yesterday", timedelta(hours=23)),
    ]
    assert watermark(deps) is None
    assert messages.recover_inbound(deps).ingested == 1
    assert watermark(deps) == start
    thread = [m.body for m in deps.store.messages.page_by_lead(lead.id, 10, None).items]
    assert thread == ["yesterday"]
    # A quiet run soon after writes nothing.
    revision = deps.store.stats.item(messages.WATERMARK_SCOPE, messages.WATERMARK_KEY).revision
    deps.clock.advance(minutes=2)
    assert messages.recover_inbound(deps).ingested == 0
    item = deps.store.stats.item(messages.WATERMARK_SCOPE, messages.WATERMARK_KEY)
    assert item.revision == revision and watermark(deps) == start
    # Listing one number fails: the other is still read, the watermark stays.
    deps.clock.advance(minutes=20)
    fake_twilio.received.append(received(deps, 12, lead.phone, "late", timedelta(minutes=1)))
    fake_twilio.fail_next(TelephonyFailure("boom", 20500, 500), "list_inbound_messages")
    report = messages.recover_inbound(deps)
    assert report.errors == 1 and watermark(deps) == start
    assert report.ingested == 0  # it came to OURS, whose listing failed
    # The next good pass ingests it and moves the watermark on.
    report = messages.recover_inbound(deps)
    assert (report.ingested, report.errors) == (1, 0)
    assert watermark(deps) == deps.clock.now()
    # Texts older than the watermark less the overlap are not asked about any more.
    fake_twilio.received += [
        received(deps, 13, lead.phone, "before the overlap", timedelta(minutes=6)),
        received(deps, 14, lead.phone, "in the overlap", timedelta(minutes=4)),
    ]
    deps.clock.advance(minutes=1)
    assert messages.recover_inbound(deps).ingested == 1
    bodies = [m.body for m in deps.store.messages.page_by_lead(lead.id, 10, None).items]
    assert "in the overlap" in bodies and "before the overlap" not in bodies
    assert_counters_as_derived(deps)
    assert_counters_as_derived(deps, "2026-11-22")


def test_one_failing_recovery_does_not_stop_the_others(deps, people, fake_twilio, monkeypatch):
    _, lead = people
    fake_twilio.received.append(received(deps, 20, lead.phone, "STOP", timedelta(minutes=1)))

    def broken(d, at):
        raise RuntimeError("Twilio is down")

    monkeypatch.setattr(messages, "reconcile_stale", broken)
    item = deps.store.stats.item(counters.ALL_SCOPE, TODAY)
    report = stats.rollup(deps, settle_seconds=0)
    assert report.errors == ["messages: RuntimeError: Twilio is down"]
    assert report.messages["ingested"] == 1
    assert suppressions.view(deps, leads.get(deps, lead.id)).sms_opt_out is True
    assert [d.day for d in report.days] == ["2026-11-22", TODAY]
    assert item is None and day_item(deps) == {"sms#inbound": 1}


def test_the_account_numbers_failing_is_reported_and_the_rest_runs(deps, people, fake_twilio):
    member, lead = people
    sent = messages.send(deps, messages.SendSms(lead.id, "Hi", member.id))
    fake_twilio.message_states[sent.twilio_sid] = MessageState(sent.twilio_sid, "delivered")
    deps.forget_numbers()
    deps.clock.advance(minutes=16)
    fake_twilio.fail_next(TelephonyFailure("boom", 20500, 500), "list_numbers")
    report = stats.rollup(deps, settle_seconds=0)
    assert len(report.errors) == 1 and report.errors[0].startswith("inbound: TelephonyError")
    assert report.messages["settled"] == 1
    assert deps.store.messages.get(sent.id).status == "delivered"
