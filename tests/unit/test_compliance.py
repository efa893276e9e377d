"""The suppression ledger and the check at the moment of sending, on the in-memory store:
the ledger's rules, STOP/START ordering, the check's reasons and audit, and an import of
100,000 numbers with its requests counted."""

from __future__ import annotations

import pytest

from chalicelib.domain import suppressions as rules
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Suppression
from chalicelib.errors import Blocked, Conflict, Forbidden, NotFound
from chalicelib.services import calls, compliance, leads, messages, suppressions
from chalicelib.services.deps import Deps
from chalicelib.telephony.webhooks import InboundSms
from tests.conftest import CLOCK_START

PHONE = "+12125550142"
ADMIN = Actor("member", "A1", "Ada Admin", "admin")
MANAGER = Actor("member", "M1", "Max Manager", "manager")
CALLER = Actor("member", "C1", "Cal Caller", "caller")


def audits(deps: Deps, action: str) -> list:
    return deps.store.audit.page(action, 100, None).items


def test_the_reason_follows_api_md_order():
    item = Suppression(PHONE, CLOCK_START, CLOCK_START, listed_id="01")
    assert rules.refusal(None, "sms", True) is None
    item.voice_source = "manual"
    assert rules.refusal(item, "voice", True) == "suppressed"
    assert rules.refusal(item, "sms", True) == "suppressed"  # voice blocks texts too
    assert rules.refusal(item, "sms", False) is None  # unless the rule says otherwise
    item.voice_source = "disposition"
    assert rules.refusal(item, "sms", True) == "do_not_call"
    item.sms_source = "sms_stop"
    assert rules.refusal(item, "sms", True) == "opted_out"  # before do_not_call
    assert rules.refusal(item, "voice", True) == "do_not_call"
    item.sms_source = "import"
    assert rules.refusal(item, "sms", True) == "do_not_call"  # before suppressed


def test_check_refuses_with_one_read_and_audits(deps):
    suppressions.add(deps, SYSTEM, PHONE, ["voice"], source="disposition")
    before = deps.store.requests
    with pytest.raises(Blocked) as info:
        compliance.check(deps, CALLER, phone=PHONE, channel="voice", lead=None)
    assert info.value.details == {"reason": "do_not_call", "channel": "voice"}
    assert deps.store.requests - before == 2  # the GetItem and the audit entry
    (entry,) = audits(deps, "compliance.blocked")
    assert entry.actor_id == "C1" and '"reason":"do_not_call"' in (entry.details or "")
    assert PHONE not in (entry.details or "")  # masked
    before = deps.store.requests
    compliance.check(deps, CALLER, phone="+12125550143", channel="sms", lead=None)
    assert deps.store.requests - before == 1  # ONE GetItem per outgoing call or text


def test_stop_and_start_are_ordered_by_their_message(deps):
    from chalicelib.clock import new_id

    first, second, third = new_id(), new_id(), new_id()
    assert suppressions.apply_keyword(deps, PHONE, "stop", first)
    assert suppressions.apply_keyword(deps, PHONE, "start", second)
    assert not rules.is_suppressed(deps.store.suppressions.get(PHONE), "sms")
    # the older STOP redelivered: changes nothing
    assert not suppressions.apply_keyword(deps, PHONE, "stop", first)
    assert not rules.is_suppressed(deps.store.suppressions.get(PHONE), "sms")
    assert suppressions.apply_keyword(deps, PHONE, "stop", third)
    item = deps.store.suppressions.get(PHONE)
    assert not suppressions.apply_keyword(deps, PHONE, "start", second)  # older: nothing
    assert deps.store.suppressions.get(PHONE) == item
    assert not suppressions.apply_keyword(deps, PHONE, "stop", third)  # redelivered: nothing
    assert deps.store.suppressions.get(PHONE) == item


def test_a_start_does_not_lift_an_import_or_a_do_not_call(deps):
    from chalicelib.clock import new_id

    suppressions.add(deps, MANAGER, PHONE, ["voice", "sms"], source="import")
    assert not suppressions.apply_keyword(deps, PHONE, "start", new_id())
    assert rules.channels_of(deps.store.suppressions.get(PHONE)) == ["voice", "sms"]
    # a STOP takes the SMS channel over: from then on only their START lifts it
    assert suppressions.apply_keyword(deps, PHONE, "stop", new_id())
    assert deps.store.suppressions.get(PHONE).sms_source == "sms_stop"
    with pytest.raises(Conflict):
        suppressions.remove(deps, ADMIN, PHONE, ["sms"])


def test_removal_is_for_admins_and_404_when_not_suppressed(deps):
    suppressions.add(deps, CALLER, PHONE, ["voice", "sms"], source="manual")
    for actor in (CALLER, MANAGER):
        with pytest.raises(Forbidden):
            suppressions.remove(deps, actor, PHONE, ["voice"])
    after = suppressions.remove(deps, ADMIN, PHONE, ["voice"])
    assert rules.channels_of(after) == ["sms"]
    with pytest.raises(NotFound):
        suppressions.remove(deps, ADMIN, PHONE, ["voice"])
    suppressions.remove(deps, ADMIN, PHONE, ["sms"])
    assert deps.store.suppressions.page(10, None).items == []  # off the list
    with pytest.raises(NotFound):
        suppressions.get(deps, ADMIN, PHONE)


def test_inbound_stop_from_an_unknown_number_suppresses_it(deps):
    got = messages.receive(deps, InboundSms("SM" + "1" * 32, PHONE, "+15005550006", "STOP", None))
    assert got.new_lead
    lead = leads.get(deps, got.lead_id)
    assert lead.sms_opt_out is False  # the record holds no flag: the ledger does
    assert suppressions.view(deps, lead).sms_opt_out is True
    with pytest.raises(Blocked):
        messages.send(deps, messages.SendSms(lead.id, "hello?"))


def test_a_legacy_flag_still_blocks_and_is_migrated_by_an_edit(deps):
    from chalicelib.services.team import Patch
    from chalicelib.store.base import Update

    lead = leads.create(deps, leads.NewLead(name="Old", phone=PHONE))
    deps.store.write(Update("l", type(lead), lead.id, {"do_not_call": True}))
    old = leads.get(deps, lead.id)
    with pytest.raises(Blocked) as info:
        compliance.check(deps, SYSTEM, phone=PHONE, channel="voice", lead=old)
    assert info.value.details["reason"] == "do_not_call"
    # an edit moves it into the ledger: the number stays suppressed, the record holds none
    leads.update(deps, lead.id, Patch({"phone": "+12125550143"}))
    assert leads.get(deps, lead.id).do_not_call is False
    assert deps.store.suppressions.get(PHONE).voice_source == "lead_flag"


def test_a_dnc_disposition_suppresses_the_called_number(deps):
    from chalicelib.domain.records import TeamMember

    member = TeamMember("M9", "Ann", "+14155550100", CLOCK_START, CLOCK_START)
    from chalicelib.store.base import Put

    deps.store.write(Put("m", member))
    lead = leads.create(deps, leads.NewLead(name="Jane", phone=PHONE))
    placed = calls.place(deps, calls.PlaceCall(lead.id, member.id, "+15005550006"))
    calls.wrap_up(deps, placed.id, calls.WrapUp({"disposition": "do_not_call"}), CALLER)
    item = deps.store.suppressions.get(PHONE)
    assert item.voice_source == item.sms_source == "disposition"
    assert item.voice_by == "member:C1"


def test_an_import_of_100000_numbers_is_batched(deps):
    """100,000 numbers in one request: one BatchGetItem per 100 numbers, one BatchWriteItem
    per 25 items (the memory store counts a batch as the one request DynamoDB would get),
    and one audit entry. Three layouts: E.164, national, and the registry's columns."""
    lines = []
    for n in range(100_000):
        local = f"{2_000_000 + n:07d}"
        if n % 3 == 0:
            lines.append(f"+1212{local}")
        elif n % 3 == 1:
            lines.append(f"(646) {local[:3]}-{local[3:]}")
        else:
            lines.append(f"718,{local}")
    raw = ("Area Code,Phone Number\n" + "\n".join(lines)).encode()
    suppressions.add(deps, SYSTEM, "+12122000000", ["voice", "sms"], source="manual")
    before = deps.store.requests
    # no time budget: one request however slow the machine (the slices are asserted elsewhere)
    report = suppressions.import_numbers(deps, MANAGER, raw, budget_seconds=float("inf"))
    assert report.added == 99_999 and report.duplicates == 1 and report.error_count == 0
    assert deps.store.requests - before == 1000 + 4000 + 1
    item = deps.store.suppressions.get("+17182000002")
    assert item is not None and rules.channels_of(item) == ["voice", "sms"]
    assert item.voice_source == "import" and item.voice_by == "member:M1"
    (entry,) = [e for e in audits(deps, "suppression.added") if e.actor_id == "M1"]
    assert '"added":99999' in (entry.details or "")


def test_an_import_caps_numbers_and_errors(deps):
    raw = "\n".join(["bad 1"] * 1500 + [f"+1212{2_000_000 + n:07d}" for n in range(10)]).encode()
    report = suppressions.import_numbers(deps, ADMIN, raw)
    body = report.to_body()
    assert body["added"] == 10 and body["errorCount"] == 1500 and len(body["errors"]) == 1000
    assert body["errorsTruncated"] is True
    with pytest.raises(Forbidden):
        suppressions.import_numbers(deps, CALLER, b"+12125550142")
