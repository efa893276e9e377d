"""SMS end to end over real HTTP: the API (`chalice local`) on DynamoDB Local, sending through
the real twilio SDK to the simulator, which posts signed status callbacks and inbound texts
back to the API. No mocks between the test and the wire."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import LiveStack, live_stack_running

pytestmark = pytest.mark.integration

OURS = "+15005550006"


def new_lead(stack: LiveStack, last_digit: str = "0", **extra: Any) -> dict[str, Any]:
    status, lead = stack.post(
        "/leads", {"name": "Live Lead", "phone": stack.new_phone(last_digit), **extra}
    )
    assert status == 201, lead
    return lead


def thread(stack: LiveStack, lead: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = stack.get(f"/messages?leadId={lead['id']}&limit=100")
    assert status == 200, body
    return list(body["items"])


def creates(stack: LiveStack) -> int:
    return sum(1 for r in stack.sim.requests() if r.get("op") == "messages.create")


def send(stack: LiveStack, lead: dict[str, Any], text: str, **extra: Any) -> tuple[int, Any]:
    return stack.post("/messages", {"leadId": lead["id"], "body": text, **extra})


def test_send_and_see_it_delivered(live_stack: LiveStack) -> None:
    lead = new_lead(live_stack)
    status, msg = send(live_stack, lead, "Hello from the live stack 👋", **{"from": OURS})
    assert status == 201, msg
    assert msg["status"] == "queued" and msg["twilioSid"].startswith("SM")
    live_stack.sim.wait_message(msg["twilioSid"])  # its walk and every callback are done
    (got,) = thread(live_stack, lead)
    assert got["status"] == "delivered" and got["errorCode"] is None
    assert (got["from"], got["to"], got["body"]) == (OURS, lead["phone"], msg["body"])
    hooks = live_stack.sim.webhooks(msg["twilioSid"])
    assert [h["kind"] for h in hooks] == ["sms-status:sent", "sms-status:delivered"]
    assert all(h["status"] == 200 for h in hooks), hooks  # signatures accepted
    status, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["status"] == "contacted" and after["lastContactedAt"]


def test_a_number_ending_in_3_is_undelivered_with_30003(live_stack: LiveStack) -> None:
    lead = new_lead(live_stack, "3")
    status, msg = send(live_stack, lead, "This one will not arrive", **{"from": OURS})
    assert status == 201, msg
    live_stack.sim.wait_message(msg["twilioSid"])
    (got,) = thread(live_stack, lead)
    assert got["status"] == "undelivered" and got["errorCode"] == "30003"
    # The callback carried the code alone: the description is the app's, from Twilio's table.
    assert got["errorMessage"] == "Unreachable destination handset"
    hooks = live_stack.sim.webhooks(msg["twilioSid"])
    assert [h["kind"] for h in hooks] == ["sms-status:sent", "sms-status:undelivered"]
    status, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["status"] == "new" and after["lastContactedAt"] is None


def test_inbound_from_an_unknown_number_creates_the_lead_and_the_message(
    live_stack: LiveStack,
) -> None:
    phone = live_stack.new_phone()
    result = live_stack.sim.inbound_sms(phone, OURS, "Hi, who is this? ¿Quién es?")
    assert result["status"] == 200 and result["error"] is None, result
    assert "<Response" in result["body"] and "<Message" not in result["body"]
    assert result["replies"] == []  # we never answer a text ourselves
    status, leads = live_stack.get("/leads?limit=100")
    assert status == 200
    (lead,) = [x for x in leads["items"] if x["phone"] == phone]
    assert lead["source"] == "inbound_sms" and lead["status"] == "new"
    (msg,) = thread(live_stack, lead)
    assert msg["direction"] == "inbound" and msg["status"] == "received"
    assert msg["body"] == "Hi, who is this? ¿Quién es?"
    assert (msg["from"], msg["to"], msg["twilioSid"]) == (phone, OURS, result["messageSid"])


def test_stop_blocks_sending_and_start_allows_it_again(live_stack: LiveStack) -> None:
    lead = new_lead(live_stack)
    result = live_stack.sim.inbound_sms(lead["phone"], OURS, "Stop.")
    assert result["status"] == 200 and result["optOutType"] == "STOP"
    status, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is True
    before = creates(live_stack)
    status, err = send(live_stack, lead, "Are you sure?", **{"from": OURS})
    assert status == 422 and err["error"]["code"] == "blocked"
    assert creates(live_stack) == before  # Twilio was never asked

    result = live_stack.sim.inbound_sms(lead["phone"], OURS, "START")
    assert result["status"] == 200
    status, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is False
    status, msg = send(live_stack, lead, "Welcome back", **{"from": OURS})
    assert status == 201, msg
    live_stack.sim.wait_message(msg["twilioSid"])
    bodies = [(m["direction"], m["body"], m["status"]) for m in thread(live_stack, lead)]
    assert bodies == [
        ("inbound", "Stop.", "received"),
        ("inbound", "START", "received"),
        ("outbound", "Welcome back", "delivered"),
    ]


def test_twilio_refusing_an_unsubscribed_recipient_opts_the_lead_out(
    live_stack: LiveStack,
) -> None:
    """Twilio knows of the STOP (it keeps its own list) but the app never heard it (the
    webhook was dropped): Twilio's 21610 suppresses the number's texts (an opt-out from the
    person's own STOP cannot be cleared by hand: only their START lifts it)."""
    lead = new_lead(live_stack)
    live_stack.sim.wait_idle(timeout=30)  # no other webhook in flight to take the drop
    live_stack.sim.add_fault("webhook", "drop", 1)
    live_stack.sim.inbound_sms(lead["phone"], OURS, "STOP")
    status, before = live_stack.get(f"/leads/{lead['id']}")
    assert before["smsOptOut"] is False
    status, err = send(live_stack, lead, "Hello?", **{"from": OURS})
    assert status == 422 and err["error"]["details"]["twilioCode"] == 21610
    assert err["error"]["details"]["reason"] == "opted_out"
    status, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is True
    assert thread(live_stack, lead)[-1]["status"] == "failed"
    assert thread(live_stack, lead)[-1]["errorCode"] == "21610"


def test_two_way_thread_reads_oldest_first(live_stack: LiveStack) -> None:
    lead = new_lead(live_stack)
    status, first = send(live_stack, lead, "Quick question for you", **{"from": OURS})
    assert status == 201
    live_stack.sim.wait_message(first["twilioSid"])
    live_stack.sim.inbound_sms(lead["phone"], OURS, "Sure, go ahead")
    status, second = send(live_stack, lead, "Does Tuesday work?", **{"from": OURS})
    live_stack.sim.wait_message(second["twilioSid"])
    assert [(m["direction"], m["body"]) for m in thread(live_stack, lead)] == [
        ("outbound", "Quick question for you"),
        ("inbound", "Sure, go ahead"),
        ("outbound", "Does Tuesday work?"),
    ]


# ---------------------------------------------------------------- webhooks Twilio gave up on


def test_a_dropped_inbound_stop_opts_the_lead_out_at_the_next_rollup(
    live_stack: LiveStack,
) -> None:
    """Twilio never retries a webhook that answered 5xx or timed out: the simulator's
    `webhook drop` fault. The STOP never reaches the app; the next run of the scheduled job
    lists the number's texts from Twilio (the simulator, through the real SDK) and ingests it,
    keyword included. A second run changes nothing."""
    from chalicelib import providers
    from chalicelib.services import stats

    lead = new_lead(live_stack)
    live_stack.sim.wait_idle(timeout=30)  # no other webhook in flight to take the drop
    live_stack.sim.add_fault("webhook", "drop", 1)
    result = live_stack.sim.inbound_sms(lead["phone"], OURS, "STOP")
    assert result["delivery"]["dropped"] is True and result["status"] is None
    _, before = live_stack.get(f"/leads/{lead['id']}")
    assert before["smsOptOut"] is False and thread(live_stack, lead) == []

    with live_stack.in_process():
        report = stats.rollup(providers.deps(), settle_seconds=0)
        assert report.messages["ingested"] >= 1 and report.changed, report.to_dict()
        again = stats.rollup(providers.deps(), settle_seconds=0)
        assert again.messages["ingested"] == 0 and not again.changed, again.to_dict()
    assert not report.errors, report.to_dict()

    _, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is True
    (msg,) = thread(live_stack, lead)
    assert (msg["direction"], msg["body"], msg["twilioSid"]) == (
        "inbound",
        "STOP",
        result["messageSid"],
    )
    status, err = send(live_stack, lead, "Still there?", **{"from": OURS})
    assert status == 422 and err["error"]["details"]["reason"] == "opted_out"


def test_a_message_whose_status_callbacks_were_dropped_is_settled_from_twilio(
    live_stack: LiveStack,
) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib import providers
    from chalicelib.services import messages

    lead = new_lead(live_stack)
    live_stack.sim.wait_idle(timeout=30)
    live_stack.sim.add_fault("webhook", "drop", 2)  # `sent` and `delivered`
    status, msg = send(live_stack, lead, "Can you hear me?", **{"from": OURS})
    assert status == 201, msg
    live_stack.sim.wait_message(msg["twilioSid"])
    hooks = live_stack.sim.webhooks(msg["twilioSid"])
    assert [h["dropped"] for h in hooks] == [True, True]
    (stuck,) = thread(live_stack, lead)
    assert stuck["status"] == "queued"

    with live_stack.in_process():
        later = datetime.now(UTC) + timedelta(minutes=16)
        report = messages.reconcile_stale(providers.deps(), later)
    assert report.settled >= 1 and report.errors == 0, report
    (got,) = thread(live_stack, lead)
    assert got["status"] == "delivered"
    _, after = live_stack.get(f"/leads/{lead['id']}")
    assert after["status"] == "contacted"


def test_webhooks_with_a_bad_signature_are_refused(live_stack: LiveStack) -> None:
    status, body = live_stack.request(
        "POST",
        "/twilio/sms/incoming",
        token=None,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "forged",
        },
    )
    assert status == 403 and body["error"]["code"] == "forbidden"


# ---------------------------------------------------------------- Messaging Service

SERVICE = "MG" + "5" * 32


@pytest.fixture(scope="module")
def service_stack(
    ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveStack]:
    with live_stack_running(
        ddb_local_endpoint,
        tmp_path_factory.mktemp("live-service"),
        TWILIO_SERVICE_ID=SERVICE,  # the brief's name for TWILIO_MESSAGING_SERVICE_SID
        CALLING_HOURS="00:00-23:59",  # texts too are held to the window: open it all day
    ) as stack:
        yield stack


def test_messaging_service_send_is_delivered_and_learns_its_sender(
    service_stack: LiveStack,
) -> None:
    lead = new_lead(service_stack)
    status, msg = send(service_stack, lead, "Through the service")
    assert status == 201, msg
    assert msg["from"] is None  # the service picks the number
    sent = service_stack.sim.wait_message(msg["twilioSid"])
    assert sent["messaging_service_sid"] == SERVICE
    (got,) = thread(service_stack, lead)
    assert got["status"] == "delivered" and got["from"] == OURS
    kinds = [h["kind"] for h in service_stack.sim.webhooks(msg["twilioSid"])]
    assert kinds == ["sms-status:queued", "sms-status:sent", "sms-status:delivered"]
