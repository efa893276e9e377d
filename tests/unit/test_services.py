"""Use cases on fakes (the in-memory store, the recording Twilio, a manual clock): the rules of
each service, checked in milliseconds. The API tier checks the same flows through HTTP on moto,
and the integration tier on DynamoDB Local with the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import counters
from chalicelib.errors import Blocked, Conflict, ValidationError
from chalicelib.services import calls, leads, messages, stats, suppressions, team
from chalicelib.services.deps import Deps
from chalicelib.services.team import Patch
from chalicelib.telephony.base import CallState, TelephonyFailure
from chalicelib.telephony.webhooks import InboundSms, SmsStatusEvent
from tests.helpers import merged_day

CALLER_ID = "+15005550006"


def day(deps: Deps) -> dict[str, int]:
    """The day's counters, member items' included (`m#<id>#<name>`)."""
    return merged_day(deps.store, "2026-11-23")


def funnel(deps: Deps) -> dict[str, int]:
    item = deps.store.stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)
    return {k: v for k, v in (item.counters if item else {}).items() if v}


@pytest.fixture
def people(deps: Deps):
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    lead = leads.create(deps, leads.NewLead(name="Jane Doe", phone="212 555 0142"))
    return member, lead


def test_a_lead_phone_is_unique_and_the_conflict_names_the_holder(deps, people):
    _, lead = people
    with pytest.raises(Conflict) as info:
        leads.create(deps, leads.NewLead(name="Again", phone="+1 212-555-0142"))
    assert info.value.details["existingLeadId"] == lead.id
    assert funnel(deps) == {"status#new": 1, "total": 1}


def test_a_stale_edit_is_a_conflict_and_a_phone_change_moves_the_guard(deps, people):
    _, lead = people
    leads.update(deps, lead.id, Patch({"phone": "+14155550199"}, version=1))
    with pytest.raises(Conflict):
        leads.update(deps, lead.id, Patch({"name": "Late"}, version=1))
    assert deps.store.leads.id_by_phone("+14155550199") == lead.id
    assert deps.store.leads.id_by_phone("+12125550142") is None
    with pytest.raises(ValidationError):
        leads.update(deps, lead.id, Patch({"name": None}))


def test_converting_counts_once_for_the_assignee(deps, people):
    member, lead = people
    leads.update(deps, lead.id, Patch({"assigned_to_id": member.id, "status": "converted"}))
    leads.update(deps, lead.id, Patch({"notes": "signed"}))
    assert day(deps) == {"converted": 1, f"m#{member.id}#converted": 1}
    assert funnel(deps) == {"status#converted": 1, "total": 1}
    leads.archive(deps, lead.id)
    assert funnel(deps) == {}


def test_a_bridged_call_from_placement_to_talk(deps, people, fake_twilio):
    member, lead = people
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    (request,) = fake_twilio.calls
    assert request["to"] == member.phone and request["from"] == CALLER_ID
    assert request["url"] == f"https://api.example.test/api/twilio/voice/connect/{call.id}"
    assert deps.store.calls.get(call.id).twilio_sid == request["sid"]
    calls.advance_member_leg(deps, call.id, "in-progress")
    calls.advance_lead_leg(deps, call.id, "in-progress")
    deps.clock.advance(seconds=40)
    calls.advance_lead_leg(deps, call.id, "completed", duration=40)
    calls.advance_lead_leg(deps, call.id, "ringing")  # late: changes nothing
    calls.advance_member_leg(deps, call.id, "completed", duration=45)
    stored = deps.store.calls.get(call.id)
    assert (stored.status, stored.lead_leg_status, stored.talk_seconds) == (
        "completed",
        "completed",
        40,
    )
    assert day(deps) == {
        "calls": 1,
        "connected": 1,
        "talk": 40,
        "call#completed": 1,
        "lead#completed": 1,
        f"m#{member.id}#calls": 1,
        f"m#{member.id}#connected": 1,
        f"m#{member.id}#talk": 40,
    }
    contacted = leads.get(deps, lead.id)
    assert contacted.status == "contacted" and contacted.last_contacted_at == deps.clock.now()
    assert funnel(deps) == {"status#contacted": 1, "total": 1}


def test_calls_outside_calling_hours_and_to_do_not_call_leads_are_blocked(deps, people):
    member, lead = people
    deps.clock.set(datetime(2026, 11, 24, 3, 30, tzinfo=UTC))  # 22:30 in New York
    with pytest.raises(Blocked) as info:
        calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    assert info.value.details["reason"] == "calling_hours"
    leads.update(deps, lead.id, Patch({"do_not_call": True}))
    with pytest.raises(Blocked) as info:
        calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    assert info.value.details["reason"] == "do_not_call"
    assert deps.store.calls.page_by_lead(lead.id, 10, None).items == []


def test_a_call_twilio_refuses_is_failed_with_its_code(deps, people, fake_twilio):
    member, lead = people
    fake_twilio.fail_next(TelephonyFailure("Invalid 'To' Phone Number", 21211, 400), "place_call")
    with pytest.raises(ValidationError):
        calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    (call,) = deps.store.calls.page_by_lead(lead.id, 10, None).items
    assert call.status == "failed" and call.error_code == "21211"
    assert day(deps)["call#failed"] == 1


def test_the_reconciler_settles_a_call_whose_callbacks_were_lost(deps, people, fake_twilio):
    member, lead = people
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    fake_twilio.states[fake_twilio.calls[0]["sid"]] = CallState(
        sid=fake_twilio.calls[0]["sid"], status="no-answer"
    )
    assert calls.reconcile_stale(deps).examined == 0  # too fresh
    deps.clock.advance(minutes=16)
    report = calls.reconcile_stale(deps)
    assert (report.examined, report.settled) == (1, 1)
    stored = deps.store.calls.get(call.id)
    assert (stored.status, stored.lead_leg_status) == ("no-answer", "not-connected")
    assert calls.reconcile_stale(deps).examined == 0


def test_sms_send_delivery_and_counters(deps, people, fake_twilio):
    member, lead = people
    sent = messages.send(deps, messages.SendSms(lead.id, "Hi Jane", member.id))
    assert fake_twilio.messages[0]["from"] == CALLER_ID  # the first SMS-capable number
    for status in ("sent", "delivered", "sent", "failed"):
        messages.advance(deps, sent.id, SmsStatusEvent(status, None, None, None))
    assert deps.store.messages.get(sent.id).status == "delivered"
    assert day(deps) == {"sms#sent": 1, "sms#delivered": 1, f"m#{member.id}#sms": 1}
    assert leads.get(deps, lead.id).status == "contacted"


def test_inbound_stop_opts_out_once_and_a_redelivery_stores_nothing(deps, people):
    _, lead = people
    stop = InboundSms("SM" + "ab" * 16, lead.phone, CALLER_ID, "Stop.", None)
    first = messages.receive(deps, stop)
    again = messages.receive(deps, stop)
    assert first.message_id and again.message_id is None and first.keyword == "stop"
    assert suppressions.view(deps, leads.get(deps, lead.id)).sms_opt_out is True
    assert len(deps.store.messages.page_by_lead(lead.id, 10, None).items) == 1
    with pytest.raises(Blocked):
        messages.send(deps, messages.SendSms(lead.id, "hello?"))
    unknown = messages.receive(
        deps, InboundSms("SM" + "cd" * 16, "+13105550100", CALLER_ID, "hi", None)
    )
    assert unknown.new_lead and leads.get(deps, unknown.lead_id).source == "inbound_sms"


def test_the_rollup_repairs_drift_and_keeps_conversions(deps, people):
    member, lead = people
    call = calls.place(deps, calls.PlaceCall(lead.id, member.id, CALLER_ID))
    calls.advance_lead_leg(deps, call.id, "completed", duration=30)
    leads.update(deps, lead.id, Patch({"status": "converted"}))
    right = day(deps)
    item = deps.store.stats.item(counters.ALL_SCOPE, "2026-11-23")
    deps.store.stats.replace(
        counters.ALL_SCOPE, "2026-11-23", {**item.counters, "calls": 9}, item.revision
    )
    report = stats.rollup(deps, settle_seconds=0)
    assert report.changed and report.days[-1].fixed == {"calls": [9, 1]}
    assert day(deps) == right
    assert not stats.rollup(deps, settle_seconds=0).changed


def test_an_edit_racing_a_contact_keeps_the_contact_and_the_edit(deps, people, monkeypatch):
    """The webhook stamps lastContactedAt without a version bump between the edit's read and
    its write: the edit is applied again on a fresh read, never erasing the contact."""
    _, lead = people
    leads.update(deps, lead.id, Patch({"status": "qualified"}))
    contact = datetime(2026, 11, 23, 17, 5, tzinfo=UTC)
    repo = deps.store.leads
    real = repo.get
    stamped: list[bool] = []

    def racing_get(lead_id, **kwargs):
        got = real(lead_id, **kwargs)
        if not stamped:
            stamped.append(True)
            leads.mark_contacted(deps, lead_id, contact)
        return got

    monkeypatch.setattr(repo, "get", racing_get)
    edited = leads.update(deps, lead.id, Patch({"notes": "called back"}, version=2))
    monkeypatch.setattr(repo, "get", real)
    stored = leads.get(deps, lead.id)
    assert stored.notes == "called back" and stored.last_contacted_at == contact
    assert edited.version == stored.version == 3


def test_restore_puts_an_archived_lead_back_in_its_lists_and_the_funnel(deps, people):
    _, lead = people
    leads.update(deps, lead.id, Patch({"status": "contacted"}))
    leads.archive(deps, lead.id)
    assert funnel(deps) == {}
    with pytest.raises(Conflict) as info:
        leads.create(deps, leads.NewLead(name="Again", phone="+1 212-555-0142"))
    assert info.value.details["existingLeadArchived"] is True
    back = leads.restore(deps, lead.id)
    assert back.archived_at is None and back.status == "contacted"
    assert funnel(deps) == {"status#contacted": 1, "total": 1}
    assert [x.id for x in leads.list_leads(deps, "contacted", None, 10, None).items] == [lead.id]
    assert leads.restore(deps, lead.id).version == back.version  # a live lead: no change
    assert funnel(deps) == {"status#contacted": 1, "total": 1}


def test_a_text_from_an_archived_lead_restores_it(deps, people):
    _, lead = people
    leads.archive(deps, lead.id)
    got = messages.receive(
        deps,
        InboundSms(
            sid="SM" + "cd" * 16,
            sender=lead.phone,
            to=CALLER_ID,
            body="Hi again",
            opt_out_type=None,
        ),
    )
    assert got.lead_id == lead.id and not got.new_lead and got.message_id
    assert leads.get(deps, lead.id).archived_at is None
    assert funnel(deps) == {"status#new": 1, "total": 1}
