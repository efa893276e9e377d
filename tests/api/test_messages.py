"""SMS over the API: send (rules, Twilio errors, opt-outs, request budget), delivery status
callbacks (forward only, counters once), inbound texts (new leads, duplicates, STOP/START) and
the conversation thread."""

from urllib.parse import urlencode

import pytest

from chalicelib.telephony.base import TelephonyFailure
from tests.conftest import post_webhook
from tests.helpers import day_counters, dynamo, funnel, store

SENDER = "+15005550006"
LEAD_PHONE = "+12125550142"
SID = "SM" + "ab" * 16


@pytest.fixture
def setup(api, telephony, clock, make_member, make_lead):
    member = make_member(phone="+14155550100")
    lead = make_lead(name="Jane Doe", phone=LEAD_PHONE)
    return member, lead


def send(api, lead, **over):
    body = {"leadId": lead["id"], "body": "Hi Jane, following up on our call.", "from": SENDER}
    body.update(over)
    return api.post("/messages", {k: v for k, v in body.items() if v is not None})


def get_message(message_id):
    return store().messages.get(message_id, consistent=True)


def thread(api, lead):
    status, body, _ = api.get(f"/messages?leadId={lead['id']}&limit=100")
    assert status == 200
    return body["items"]


# ---------------------------------------------------------------- send


def test_send_queues_the_message_and_hands_it_to_twilio(api, setup, telephony, ddb_requests):
    member, lead = setup
    api.get("/twilio/phone-numbers")  # warm the numbers cache (not DynamoDB anyway)
    ddb_requests.reset()
    status, msg, _ = send(api, lead, teamMemberId=member["id"], **{"from": "(500) 555-0006"})
    assert status == 201, msg
    assert msg["status"] == "queued" and msg["direction"] == "outbound"
    assert msg["twilioSid"].startswith("SM")
    assert (msg["from"], msg["to"]) == (SENDER, LEAD_PHONE)
    assert msg["leadId"] == lead["id"] and msg["teamMemberId"] == member["id"]
    assert msg["body"] == "Hi Jane, following up on our call."
    assert msg["errorCode"] is None and msg["createdAt"].endswith("Z")
    sent = telephony.messages[-1]
    assert sent["to"] == LEAD_PHONE and sent["from"] == SENDER
    assert sent["messaging_service_sid"] is None
    assert sent["status_callback"] == (
        f"https://api.example.test/api/twilio/sms/status/{msg['id']}"
    )
    # the lead (1), the member's rate counter (2), message + counters + member check (3), the
    # SID (4): no contact yet
    # + the number's suppression item and the rules (compliance: one BatchGetItem per text)
    assert dict(ddb_requests.calls) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
        "UpdateItem": 2,
    }
    assert get_message(msg["id"]).twilio_sid == msg["twilioSid"]
    assert day_counters() == {"sms#sent": 1, f"m#{member['id']}#sms": 1}


def send_delivered(api, lead, **over):
    status, msg, headers = send(api, lead, **over)
    assert status == 201, msg
    status_hook(api, msg["id"], "delivered")
    return status, msg, headers


def test_first_sms_moves_a_new_lead_to_contacted(api, setup):
    _, lead = setup
    send_delivered(api, lead)
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["status"] == "contacted" and after["lastContactedAt"]
    assert after["version"] == lead["version"] + 1
    assert funnel() == {"status#contacted": 1, "total": 1}
    _, listed, _ = api.get("/leads?status=contacted")
    assert [x["id"] for x in listed["items"]] == [lead["id"]]
    # a second SMS only stamps the contact: no version bump for an open edit to trip on
    send_delivered(api, lead)
    _, again, _ = api.get(f"/leads/{lead['id']}")
    assert again["status"] == "contacted" and again["version"] == after["version"]
    assert funnel() == {"status#contacted": 1, "total": 1}


def test_sms_to_a_qualified_lead_only_stamps_contact(api, setup, ddb_requests):
    _, lead = setup
    _, q, _ = api.patch(f"/leads/{lead['id']}", {"status": "qualified"})
    ddb_requests.reset()
    assert send_delivered(api, lead)[0] == 201
    # send (5, the suppression item included); delivered: the message (2), the lead read and
    # its stamp (2)
    assert ddb_requests.total <= 9
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["status"] == "qualified" and after["lastContactedAt"]
    assert after["version"] == q["version"]


def test_lead_edited_between_read_and_delivery_still_gets_contacted(api, setup, monkeypatch):
    """The version read is stale when the contact is written: mark_contacted reads again."""
    from chalicelib.services import leads

    _, lead = setup
    original = leads.contact_ops

    edited = []

    def edit_first(read, at):
        if not edited:  # once: the fallback's fresh read must then succeed
            edited.append(True)
            api.patch(f"/leads/{lead['id']}", {"notes": "edited meanwhile"})
        return original(read, at)

    monkeypatch.setattr(leads, "contact_ops", edit_first)
    status, msg, _ = send_delivered(api, lead)
    assert status == 201
    assert get_message(msg["id"]).twilio_sid == msg["twilioSid"]
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["status"] == "contacted" and after["notes"] == "edited meanwhile"
    assert funnel() == {"status#contacted": 1, "total": 1}


@pytest.mark.parametrize(
    "text",
    [
        "¡Hola! ¿Cómo está? 🙂",
        "你好，我们明天再谈",
        "Zażółć gęślą jaźń — «ok»",
        "👨‍👩‍👧‍👦" * 10,
        "\u0000nul is text too",
        "x",
        "é" * 1600,
        "🙂" * 1600,  # 1600 characters (6400 bytes): the limit counts characters
    ],
)
def test_unicode_bodies_are_sent_as_written(api, setup, telephony, text):
    _, lead = setup
    status, msg, _ = send(api, lead, body=text)
    assert status == 201, msg
    assert msg["body"] == text and telephony.messages[-1]["body"] == text
    assert thread(api, lead)[-1]["body"] == text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"body": "a" * 1601}, "body"),
        ({"body": "🙂" * 1601}, "body"),
        ({"body": ""}, "body"),
        ({"body": "  \n\t "}, "body"),
        ({"body": 42}, "body"),
        ({"body": None}, "body"),
        ({"body": ["hi"]}, "body"),
        ({"leadId": None}, "leadId"),
        ({"leadId": 7}, "leadId"),
        ({"teamMemberId": 7}, "teamMemberId"),
        ({"from": 15005550006}, "from"),
        ({"to": "+12125550199"}, "to"),
        ({"status": "sent"}, "status"),
    ],
)
def test_malformed_bodies_are_400(api, setup, telephony, body, field):
    _, lead = setup
    payload = {"leadId": lead["id"], "body": "hi", "from": SENDER}
    payload.update(body)
    payload = {k: v for k, v in payload.items() if v is not None}
    status, err, _ = api.post("/messages", payload)
    assert status == 400 and err["error"]["code"] == "validation_error"
    assert err["error"]["details"]["fields"][0]["field"] == field
    assert telephony.messages == []


@pytest.mark.parametrize("raw", ["", "{", "[1,2]", '"hi"', "null", '{"leadId": "x", "body": }'])
def test_malformed_json_is_400(api, setup, raw):
    status, err, _ = api.post("/messages", raw=raw)
    assert status == 400 and err["error"]["code"] == "validation_error"


def test_whitespace_only_message_names_the_problem(api, setup):
    _, lead = setup
    _, err, _ = send(api, lead, body="   ")
    assert err["error"]["message"] == "body: body must contain more than whitespace"


@pytest.mark.parametrize(
    "override, field",
    [
        ({"leadId": "01NOPE"}, "leadId"),
        ({"teamMemberId": "01NOPE"}, "teamMemberId"),
        ({"from": "+14155550199"}, "from"),
        ({"from": "not a number"}, "from"),
    ],
)
def test_bad_references_are_400_and_nothing_is_sent_or_stored(
    api, setup, telephony, override, field
):
    _, lead = setup
    status, err, _ = send(api, lead, **override)
    assert status == 400 and err["error"]["details"]["field"] == field
    assert telephony.messages == []
    assert thread(api, lead) == [] and day_counters() == {}


def test_deactivated_member_and_archived_lead_are_400(api, setup, make_member, telephony):
    member, lead = setup
    other = make_member()
    api.delete(f"/team-members/{other['id']}")
    status, err, _ = send(api, lead, teamMemberId=other["id"])
    assert status == 400 and err["error"]["details"]["field"] == "teamMemberId"
    api.delete(f"/leads/{lead['id']}")
    status, err, _ = send(api, lead, teamMemberId=member["id"])
    assert status == 400 and err["error"]["details"]["field"] == "leadId"
    assert telephony.messages == []


def test_sender_must_be_able_to_send_sms(api, setup, telephony):
    from dataclasses import replace

    _, lead = setup
    telephony.numbers[1] = replace(telephony.numbers[1], sms=False)
    status, err, _ = send(api, lead, **{"from": "+15005550007"})
    assert status == 400 and "cannot send SMS" in err["error"]["message"]
    assert telephony.messages == []


def test_without_sender_or_service_the_first_sms_number_sends(api, setup, telephony):
    from dataclasses import replace

    _, lead = setup
    telephony.numbers[0] = replace(telephony.numbers[0], sms=False)
    status, msg, _ = send(api, lead, **{"from": None})
    assert status == 201 and msg["from"] == "+15005550007"
    assert telephony.messages[-1]["from"] == "+15005550007"


def test_without_any_sms_number_or_service_says_what_to_set(api, setup, telephony):
    from dataclasses import replace

    _, lead = setup
    telephony.numbers[:] = [replace(n, sms=False) for n in telephony.numbers]
    status, err, _ = send(api, lead, **{"from": None})
    assert status == 400 and err["error"]["details"]["field"] == "from"
    assert "TWILIO_MESSAGING_SERVICE_SID" in err["error"]["message"]
    assert telephony.messages == []


@pytest.mark.parametrize("variable", ["TWILIO_MESSAGING_SERVICE_SID", "TWILIO_SERVICE_ID"])
def test_messaging_service_is_used_when_configured(api, setup, telephony, monkeypatch, variable):
    from chalicelib.config import reset_settings

    _, lead = setup
    service = "MG" + "0" * 32
    monkeypatch.setenv(variable, service)
    reset_settings()
    status, msg, _ = send(api, lead, **{"from": None})
    assert status == 201 and msg["from"] is None  # Twilio picks the sender from its pool
    assert telephony.messages[-1]["messaging_service_sid"] == service
    assert telephony.messages[-1]["from"] is None
    # a `from` given too is checked and passed along: Twilio sends from it
    status, msg, _ = send(api, lead, **{"from": "+15005550007"})
    assert status == 201 and msg["from"] == "+15005550007"
    assert telephony.messages[-1]["messaging_service_sid"] == service
    assert telephony.messages[-1]["from"] == "+15005550007"
    assert send(api, lead, **{"from": "+14155550199"})[0] == 400


def test_unconfigured_twilio_is_502_and_stores_nothing(api, setup, monkeypatch):
    from chalicelib import providers

    _, lead = setup
    providers.override(telephony=None)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    from chalicelib.config import reset_settings

    reset_settings()
    status, err, _ = send(api, lead)
    assert status == 502 and err["error"]["code"] == "telephony_error"
    assert thread(api, lead) == []


@pytest.mark.parametrize(
    "failure, status_code, code",
    [
        (TelephonyFailure("Invalid 'To' Phone Number", 21211, 400), 400, "21211"),
        (TelephonyFailure("Internal error", 20500, 500, maybe_executed=True), 502, "20500"),
        (TelephonyFailure("Twilio could not be reached", None, 0, True), 502, "http_0"),
    ],
)
def test_twilio_error_leaves_the_message_failed(api, setup, telephony, failure, status_code, code):
    member, lead = setup
    telephony.fail_next(failure, "send_sms")
    status, err, _ = send(api, lead, teamMemberId=member["id"])
    assert status == status_code
    assert err["error"]["code"] == ("validation_error" if status_code == 400 else "telephony_error")
    details = err["error"]["details"]
    assert details["twilioCode"] == failure.code
    assert details.get("mayHaveBeenSent", False) is failure.maybe_executed
    (msg,) = thread(api, lead)
    assert msg["id"] == details["messageId"]
    assert msg["status"] == "failed" and msg["errorCode"] == code
    assert msg["errorMessage"] == failure.message and msg["twilioSid"] is None
    assert day_counters() == {"sms#sent": 1, "sms#failed": 1, f"m#{member['id']}#sms": 1}
    _, same, _ = api.get(f"/leads/{lead['id']}")
    assert same["status"] == "new" and same["lastContactedAt"] is None


def test_unsubscribed_error_marks_the_lead_opted_out(api, setup, telephony):
    _, lead = setup
    telephony.fail_next(
        TelephonyFailure("Attempt to send to unsubscribed recipient", 21610, 400), "send_sms"
    )
    status, err, _ = send(api, lead)
    assert status == 422 and err["error"]["code"] == "blocked"
    assert err["error"]["details"]["reason"] == "opted_out"
    (msg,) = thread(api, lead)
    assert msg["status"] == "failed" and msg["errorCode"] == "21610"
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is True and after["status"] == "new"
    # from now on refused before Twilio is asked
    status, err, _ = send(api, lead)
    assert status == 422 and err["error"]["details"]["reason"] == "opted_out"
    assert len(telephony.messages) == 0 and len(thread(api, lead)) == 1
    # the number's SMS suppression, from Twilio's 21610: only the person's START lifts it
    item = store().suppressions.get(lead["phone"])
    assert item.sms_source == "twilio_21610"


def test_opted_out_lead_is_blocked_without_calling_twilio(api, setup, telephony, ddb_requests):
    _, lead = setup
    api.patch(f"/leads/{lead['id']}", {"smsOptOut": True})
    ddb_requests.reset()
    status, err, _ = send(api, lead)
    assert status == 422 and err["error"]["code"] == "blocked"
    assert err["error"]["details"] == {
        "reason": "opted_out",
        "channel": "sms",
        "leadId": lead["id"],
    }
    assert telephony.messages == [] and telephony.list_count == 0
    # the lead, the number's suppression item; the refusal's audit entry
    assert dict(ddb_requests.calls) == {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1}
    assert thread(api, lead) == [] and day_counters() == {}


def test_do_not_call_blocks_sms_too(api, setup, telephony):
    """A voice suppression also refuses texts (compliance.VOICE_SUPPRESSION_BLOCKS_SMS)."""
    _, lead = setup
    api.patch(f"/leads/{lead['id']}", {"doNotCall": True})
    status, err, _ = send(api, lead)
    assert status == 422 and err["error"]["details"]["reason"] == "do_not_call"
    assert telephony.messages == []


# ---------------------------------------------------------------- status callbacks


def status_hook(api, message_id, status, **extra):
    params = {"MessageSid": SID, "MessageStatus": status, "SmsStatus": status, **extra}
    return post_webhook(api, f"/twilio/sms/status/{message_id}", params)


def test_only_a_delivered_sms_is_a_contact(api, setup):
    _, lead = setup
    _, msg, _ = send(api, lead)
    for state in ("queued", "sending", "sent"):
        status_hook(api, msg["id"], state)
        after = api.get(f"/leads/{lead['id']}")[1]
        assert after["status"] == "new" and after["lastContactedAt"] is None, state
    assert funnel() == {"status#new": 1, "total": 1}
    status_hook(api, msg["id"], "delivered")
    after = api.get(f"/leads/{lead['id']}")[1]
    assert after["status"] == "contacted" and after["lastContactedAt"]
    assert funnel() == {"status#contacted": 1, "total": 1}


@pytest.mark.parametrize("walk", [("failed",), ("sent", "undelivered"), ("undelivered",)])
def test_a_failed_sms_is_no_contact(api, setup, walk):
    _, lead = setup
    _, msg, _ = send(api, lead)
    for state in walk:
        status_hook(api, msg["id"], state, ErrorCode="30003")
    status_hook(api, msg["id"], "delivered")  # late and out of order: changes nothing
    after = api.get(f"/leads/{lead['id']}")[1]
    assert after["status"] == "new" and after["lastContactedAt"] is None
    assert after["version"] == lead["version"]
    assert funnel() == {"status#new": 1, "total": 1}


def test_delivery_walk_counts_once_within_budget(api, setup, ddb_requests):
    member, lead = setup
    _, msg, _ = send(api, lead, teamMemberId=member["id"])
    for state in ("queued", "sending", "sent", "delivered"):
        ddb_requests.reset()
        status, body, headers = status_hook(api, msg["id"], state)
        assert status == 200 and headers["Content-Type"].startswith("text/xml")
        assert "<Response" in body
        # delivered: + the lead read and marked contacted
        assert ddb_requests.total <= (4 if state == "delivered" else 2), (
            state,
            dict(ddb_requests.calls),
        )
        assert get_message(msg["id"]).status == state
    assert day_counters() == {
        "sms#sent": 1,
        "sms#delivered": 1,
        f"m#{member['id']}#sms": 1,
    }


def test_duplicates_and_late_callbacks_change_nothing(api, setup, ddb_requests):
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "sent")
    status_hook(api, msg["id"], "delivered")
    before = get_message(msg["id"]).updated_at
    ddb_requests.reset()
    status_hook(api, msg["id"], "delivered")  # repeated
    assert dict(ddb_requests.calls) == {"GetItem": 1}  # read, nothing to write
    status_hook(api, msg["id"], "sending")  # late
    status_hook(api, msg["id"], "queued")
    status_hook(api, msg["id"], "accepted")
    status_hook(api, msg["id"], "undelivered", ErrorCode="30005")  # final never changes
    status_hook(api, msg["id"], "failed", ErrorCode="30003")
    got = get_message(msg["id"])
    assert got.status == "delivered" and got.error_code is None and got.updated_at == before
    assert day_counters() == {"sms#sent": 1, "sms#delivered": 1}


def test_out_of_order_final_first_then_progress(api, setup):
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "delivered")
    status_hook(api, msg["id"], "sent")
    status_hook(api, msg["id"], "sending")
    assert get_message(msg["id"]).status == "delivered"
    assert day_counters()["sms#delivered"] == 1


def test_skipping_states_is_fine_and_accepted_is_queued(api, setup):
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "accepted")
    assert get_message(msg["id"]).status == "queued"
    status_hook(api, msg["id"], "sent")
    status_hook(api, msg["id"], "accepted")
    assert get_message(msg["id"]).status == "sent"


@pytest.mark.parametrize("final", ["undelivered", "failed"])
def test_error_code_and_message_are_stored(api, setup, final):
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "sent")
    status_hook(
        api, msg["id"], final, ErrorCode="30003", ErrorMessage="Unreachable destination handset"
    )
    (got,) = thread(api, lead)
    assert got["status"] == final and got["errorCode"] == "30003"
    assert got["errorMessage"] == "Unreachable destination handset"
    assert day_counters()[f"sms#{final}"] == 1


@pytest.mark.parametrize("final", ["undelivered", "failed"])
def test_a_callback_with_only_an_error_code_gets_twilio_s_description(api, setup, final):
    # Twilio's status callbacks carry ErrorCode, never ErrorMessage.
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "sent")
    status_hook(api, msg["id"], final, ErrorCode="30006")
    (got,) = thread(api, lead)
    assert got["status"] == final and got["errorCode"] == "30006"
    assert got["errorMessage"] == "Landline or unreachable carrier"


def test_an_error_code_not_in_the_table_is_named_as_it_is(api, setup):
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "undelivered", ErrorCode="39999")
    (got,) = thread(api, lead)
    assert got["errorCode"] == "39999" and got["errorMessage"] == "Twilio error 39999"


def test_partially_delivered_is_a_delivered_contact(api, setup):
    # Twilio: some parts of a multi-part message (an MMS sent as several parts) reached the
    # handset; the lead got the text, and no further status follows.
    _, lead = setup
    _, msg, _ = send(api, lead)
    status_hook(api, msg["id"], "sent")
    status_hook(api, msg["id"], "partially_delivered")
    assert get_message(msg["id"]).status == "delivered"
    after = api.get(f"/leads/{lead['id']}")[1]
    assert after["status"] == "contacted" and after["lastContactedAt"]
    assert day_counters()["sms#delivered"] == 1


def test_messaging_service_sender_is_filled_in_by_the_first_callback(api, setup, monkeypatch):
    from chalicelib.config import reset_settings

    _, lead = setup
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "1" * 32)
    reset_settings()
    _, msg, _ = send(api, lead, **{"from": None})
    status_hook(api, msg["id"], "queued", From="+15005550007")  # no move, no write
    status_hook(api, msg["id"], "sent", From="+15005550007")
    status_hook(api, msg["id"], "delivered", From="+15005550006")  # set once
    (got,) = thread(api, lead)
    assert got["from"] == "+15005550007" and got["status"] == "delivered"


def test_unknown_status_values_are_ignored(api, setup):
    _, lead = setup
    _, msg, _ = send(api, lead)
    for weird in ("receiving", "canceled", "", "DROP TABLE"):
        assert status_hook(api, msg["id"], weird)[0] == 200
    assert get_message(msg["id"]).status == "queued"


def test_unknown_message_is_404(api, telephony):
    for state in ("sent", "weird"):
        status, body, _ = status_hook(api, "01NOPE", state)
        assert status == 404 and body["error"]["code"] == "not_found"


def test_callbacks_for_inbound_messages_change_nothing(api, setup):
    _, lead = setup
    inbound(api, "Hello?", sender=LEAD_PHONE)
    (got,) = thread(api, lead)
    status_hook(api, got["id"], "delivered")
    assert thread(api, lead)[0]["status"] == "received"


@pytest.mark.parametrize("kind", ["forged", "missing", "other-token", "other-url"])
def test_bad_signatures_are_403_and_change_nothing(api, setup, kind):
    from chalicelib.telephony.signature import sign

    _, lead = setup
    _, msg, _ = send(api, lead)
    path = f"/twilio/sms/status/{msg['id']}"
    params = {"MessageSid": SID, "MessageStatus": "delivered"}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if kind == "forged":
        headers["X-Twilio-Signature"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        status, body, _ = api.request(
            "POST", path, raw=urlencode(params), token=None, headers=headers
        )
    elif kind == "missing":
        status, body, _ = post_webhook(api, path, params, sign=False)
    elif kind == "other-token":
        status, body, _ = post_webhook(api, path, params, token="not-the-token")
    else:  # signed for another message's URL, replayed here
        other = "https://api.example.test/api/twilio/sms/status/01OTHER"
        headers["X-Twilio-Signature"] = sign("simulated-auth-token", other, params)
        status, body, _ = api.request(
            "POST", path, raw=urlencode(params), token=None, headers=headers
        )
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert get_message(msg["id"]).status == "queued"
    assert "sms#delivered" not in day_counters()


def test_webhooks_need_form_encoding(api, setup):
    _, lead = setup
    _, msg, _ = send(api, lead)
    for path in (f"/twilio/sms/status/{msg['id']}", "/twilio/sms/incoming"):
        status, body, _ = api.request("POST", path, {"MessageStatus": "sent"}, token=None)
        assert status == 415 and body["error"]["code"] == "unsupported_media_type"


# ---------------------------------------------------------------- inbound


def inbound(api, text, *, sender="+12125550177", sid=None, to=SENDER, **extra):
    import secrets

    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "SmsMessageSid": sid or "",
        "AccountSid": "AC00000000000000000000000000000000",
        "From": sender,
        "To": to,
        "Body": text,
        "NumMedia": "0",
        **extra,
    }
    return post_webhook(api, "/twilio/sms/incoming", params)


def test_inbound_from_a_known_lead_joins_the_thread(api, setup, telephony, ddb_requests):
    _, lead = setup
    _, out, _ = send(api, lead)
    ddb_requests.reset()
    status, body, headers = inbound(api, "Sounds good 👍 call me", sender=LEAD_PHONE, sid=SID)
    assert status == 200
    assert headers["Content-Type"].startswith("text/xml")
    assert body.endswith("<Response />") and "<Message" not in body
    # the phone guard (1) and one transaction (2); the lead itself is never read
    assert dict(ddb_requests.calls) == {"GetItem": 1, "TransactWriteItems": 1}
    first, reply = thread(api, lead)
    assert first["id"] == out["id"]
    assert reply["direction"] == "inbound" and reply["status"] == "received"
    assert (reply["from"], reply["to"]) == (LEAD_PHONE, SENDER)
    assert reply["body"] == "Sounds good 👍 call me" and reply["twilioSid"] == SID
    assert reply["teamMemberId"] is None
    assert day_counters()["sms#inbound"] == 1
    assert len(telephony.messages) == 1  # we never answer


def test_an_inbound_text_that_cannot_be_stored_answers_200_and_is_left_to_the_recovery(
    api, setup, monkeypatch, caplog
):
    """Twilio never redelivers a webhook that answered 5xx: answering one would not bring the
    text back, only an error to Twilio's console. The scheduled recovery ingests it."""
    from chalicelib.services import messages

    _, lead = setup
    monkeypatch.setattr(messages, "_MAX_ATTEMPTS", 0)  # every attempt lost its race
    with caplog.at_level("WARNING", logger="coldcall"):
        status, body, headers = inbound(api, "STOP", sender=LEAD_PHONE, sid=SID)
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    assert body.endswith("<Response />")
    assert any(SID in r.getMessage() and "recovery" in r.getMessage() for r in caplog.records)
    assert thread(api, lead) == []  # not stored (yet)


def test_inbound_from_an_archived_lead_restores_it(api, setup):
    _, lead = setup
    api.delete(f"/leads/{lead['id']}")
    assert funnel() == {}
    status, _, _ = inbound(api, "Are you still there?", sender=LEAD_PHONE, sid=SID)
    assert status == 200
    _, now, _ = api.get(f"/leads/{lead['id']}")
    assert now["archived"] is False
    _, page, _ = api.get("/leads")
    assert [x["id"] for x in page["items"]] == [lead["id"]]
    assert funnel() == {"status#new": 1, "total": 1}
    assert [m["body"] for m in thread(api, lead)] == ["Are you still there?"]
    assert day_counters() == {"sms#inbound": 1}


def test_inbound_redelivery_stores_one_message(api, setup, ddb_requests):
    _, lead = setup
    inbound(api, "Is this Jane's agent?", sender=LEAD_PHONE, sid=SID)
    ddb_requests.reset()
    status, body, _ = inbound(api, "Is this Jane's agent?", sender=LEAD_PHONE, sid=SID)
    assert status == 200 and body.endswith("<Response />")
    assert ddb_requests.total <= 3
    assert [m["twilioSid"] for m in thread(api, lead)] == [SID]
    assert day_counters() == {"sms#inbound": 1}
    assert dynamo().tables.m.MessageSid.get(SID).message_id == thread(api, lead)[0]["id"]


def test_inbound_from_an_unknown_number_creates_the_lead(api, telephony, clock, ddb_requests):
    ddb_requests.reset()
    status, _, _ = inbound(api, "Who is this?", sender="(415) 555-0123", sid=SID)
    assert status == 200
    # the phone guard (1) and one transaction: lead, guard, funnel, message, counters (2)
    assert dict(ddb_requests.calls) == {"GetItem": 1, "TransactWriteItems": 1}
    _, leads, _ = api.get("/leads")
    (lead,) = leads["items"]
    assert lead["phone"] == "+14155550123" and lead["source"] == "inbound_sms"
    assert lead["name"] == "+14155550123" and lead["status"] == "new"
    assert lead["timezone"] == "America/Los_Angeles" and lead["smsOptOut"] is False
    (msg,) = thread(api, lead)
    assert msg["body"] == "Who is this?" and msg["direction"] == "inbound"
    assert funnel() == {"status#new": 1, "total": 1}
    assert day_counters() == {"sms#inbound": 1}
    # a second text from the number joins the same lead
    inbound(api, "Hello??", sender="+14155550123")
    assert len(api.get("/leads")[1]["items"]) == 1
    assert [m["body"] for m in thread(api, lead)] == ["Who is this?", "Hello??"]


def test_unknown_number_that_texts_stop_becomes_an_opted_out_lead(api, telephony, clock):
    inbound(api, "STOP", sender="+14155550124")
    _, leads, _ = api.get("/leads")
    (lead,) = leads["items"]
    assert lead["smsOptOut"] is True and lead["version"] == 1
    assert send(api, lead)[0] == 422


@pytest.mark.parametrize(
    "text",
    [
        *("STOP", "stop", " Stop. ", "STOPALL", "stop all", "unsubscribe!", "Cancel", "END"),
        *("quit", "¡STOP!", "revoke", "OptOut", "opt out"),
    ],
)
def test_stop_words_opt_the_lead_out(api, setup, telephony, text, ddb_requests):
    _, lead = setup
    ddb_requests.reset()
    inbound(api, text, sender=LEAD_PHONE)
    # the phone guard, the message's transaction; the number's suppression item read and
    # put back (the ledger), the audit entry `suppression.added`
    assert ddb_requests.total <= 5
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is True
    assert [m["body"] for m in thread(api, lead)] == [text]  # stored as written
    status, err, _ = send(api, lead)
    assert status == 422 and err["error"]["code"] == "blocked"
    assert telephony.messages == []  # and no confirmation of ours either


@pytest.mark.parametrize("text", ["START", "yes", " Unstop! "])
def test_start_words_opt_the_lead_back_in(api, setup, telephony, text):
    _, lead = setup
    inbound(api, "STOP", sender=LEAD_PHONE)
    inbound(api, text, sender=LEAD_PHONE)
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is False
    assert send(api, lead)[0] == 201


@pytest.mark.parametrize(
    "text", ["HELP", "help?", "stop it please", "Don't stop", "S T O P", "STOP STOP", "yes!!! no"]
)
def test_other_messages_change_nothing_on_the_lead(api, setup, text):
    _, lead = setup
    inbound(api, text, sender=LEAD_PHONE)
    _, after, _ = api.get(f"/leads/{lead['id']}")
    assert after["smsOptOut"] is False and after["version"] == lead["version"]
    assert [m["body"] for m in thread(api, lead)] == [text]


def test_repeated_stop_suppresses_once_and_leaves_the_lead_alone(api, setup):
    _, lead = setup
    inbound(api, "STOP", sender=LEAD_PHONE)
    inbound(api, "stop", sender=LEAD_PHONE)
    _, after, _ = api.get(f"/leads/{lead['id']}")
    # the opt-out is the number's (the ledger): the lead record is not edited
    assert after["smsOptOut"] is True and after["version"] == lead["version"]
    item = store().suppressions.get(LEAD_PHONE)
    assert item.sms_source == "sms_stop" and item.version == 2  # the second STOP: its order
    added = [e for e in store().audit.page("suppression.added", 10, None).items]
    assert len(added) == 1
    # the person's own opt-out: nobody clears it by an edit, an admin neither
    status, err, _ = api.patch(f"/leads/{lead['id']}", {"smsOptOut": False})
    assert status == 409 and "START" in err["error"]["message"]


def test_twilio_opt_out_type_is_honoured(api, setup):
    """Advanced Opt-Out: an account's own keyword, reported by Twilio as OptOutType."""
    _, lead = setup
    inbound(api, "ARRÊTEZ", sender=LEAD_PHONE, OptOutType="STOP")
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is True
    inbound(api, "REPRENDRE", sender=LEAD_PHONE, OptOutType="START")
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is False


def test_redelivered_stop_still_opts_out(api, setup, monkeypatch):
    """The first delivery stored the message and died before the flag: the retry sets it."""
    from chalicelib.services import messages

    _, lead = setup
    original = messages._apply_keyword
    monkeypatch.setattr(messages, "_apply_keyword", lambda *a: None)
    inbound(api, "STOP", sender=LEAD_PHONE, sid=SID)
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is False
    monkeypatch.setattr(messages, "_apply_keyword", original)
    inbound(api, "STOP", sender=LEAD_PHONE, sid=SID)
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is True
    assert len(thread(api, lead)) == 1


@pytest.mark.parametrize("text", ["REVOKE", "optout", "Opt Out"])
def test_fcc_revocation_words_opt_the_lead_out(api, setup, text):
    _, lead = setup
    inbound(api, text, sender=LEAD_PHONE)
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is True


def test_a_redelivered_start_does_not_undo_a_later_stop(api, setup):
    _, lead = setup
    inbound(api, "STOP", sender=LEAD_PHONE, sid="SM" + "0" * 32)
    inbound(api, "START", sender=LEAD_PHONE, sid="SM" + "a" * 32)
    inbound(api, "STOP", sender=LEAD_PHONE, sid="SM" + "b" * 32)
    version = api.get(f"/leads/{lead['id']}")[1]["version"]
    status, _, _ = inbound(api, "START", sender=LEAD_PHONE, sid="SM" + "a" * 32)
    assert status == 200
    after = api.get(f"/leads/{lead['id']}")[1]
    assert after["smsOptOut"] is True and after["version"] == version
    assert store().suppressions.get(LEAD_PHONE).sms_source == "sms_stop"
    assert len(thread(api, lead)) == 3


def test_a_redelivered_stop_does_not_undo_a_later_start(api, setup):
    _, lead = setup
    inbound(api, "STOP", sender=LEAD_PHONE, sid="SM" + "a" * 32)
    inbound(api, "START", sender=LEAD_PHONE, sid="SM" + "b" * 32)
    inbound(api, "STOP", sender=LEAD_PHONE, sid="SM" + "a" * 32)
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is False


def test_a_redelivered_keyword_whose_first_delivery_died_does_not_undo_a_later_one(
    api, setup, monkeypatch
):
    """START A is stored but its flag write dies; STOP B comes (the lead was already opted out:
    no change); START A is redelivered: B is later, the lead stays opted out."""
    from chalicelib.services import messages

    _, lead = setup
    inbound(api, "STOP", sender=LEAD_PHONE)
    original = messages._apply_keyword
    monkeypatch.setattr(messages, "_apply_keyword", lambda *a: None)
    inbound(api, "START", sender=LEAD_PHONE, sid="SM" + "a" * 32)
    monkeypatch.setattr(messages, "_apply_keyword", original)
    inbound(api, "STOP", sender=LEAD_PHONE, sid="SM" + "b" * 32)
    inbound(api, "START", sender=LEAD_PHONE, sid="SM" + "a" * 32)
    assert api.get(f"/leads/{lead['id']}")[1]["smsOptOut"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"From": "+12125550142", "To": SENDER, "Body": "hi"},  # no MessageSid
        {"MessageSid": "nope", "From": "+12125550142", "To": SENDER, "Body": "hi"},
        {"MessageSid": SID, "To": SENDER, "Body": "hi"},  # no From
        {"MessageSid": SID, "From": "not-a-phone", "To": SENDER, "Body": "hi"},
        {"MessageSid": SID, "From": "+12125550142", "Body": "hi"},  # no To
    ],
)
def test_malformed_inbound_is_400_and_stores_nothing(api, setup, params):
    status, body, _ = post_webhook(api, "/twilio/sms/incoming", params)
    assert status == 400 and body["error"]["code"] == "validation_error"
    assert day_counters() == {} and len(api.get("/leads")[1]["items"]) == 1


@pytest.mark.parametrize("kind", ["missing", "other-token", "other-url"])
def test_forged_inbound_is_403_and_stores_nothing(api, setup, kind):
    from chalicelib.telephony.signature import sign

    params = {"MessageSid": SID, "From": "+14155550199", "To": SENDER, "Body": "STOP"}
    if kind == "missing":
        status, body, _ = post_webhook(api, "/twilio/sms/incoming", params, sign=False)
    elif kind == "other-token":
        status, body, _ = post_webhook(api, "/twilio/sms/incoming", params, token="nope")
    else:
        sig = sign("simulated-auth-token", "https://evil.example/twilio/sms/incoming", params)
        status, body, _ = api.request(
            "POST",
            "/twilio/sms/incoming",
            raw=urlencode(params),
            token=None,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sig,
            },
        )
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert len(api.get("/leads")[1]["items"]) == 1 and day_counters() == {}


def test_empty_body_inbound_is_stored(api, setup):
    """An MMS with only a picture has no Body: it still belongs in the thread."""
    _, lead = setup
    assert inbound(api, "", sender=LEAD_PHONE, NumMedia="1")[0] == 200
    assert [m["body"] for m in thread(api, lead)] == [""]


# ---------------------------------------------------------------- the thread


def test_conversation_is_oldest_first_and_paginated(api, setup, clock):
    from datetime import timedelta

    _, lead = setup
    bodies = []
    for i in range(5):
        clock.set(clock.now() + timedelta(seconds=1))
        if i % 2:
            inbound(api, f"reply {i}", sender=LEAD_PHONE)
            bodies.append(f"reply {i}")
        else:
            send(api, lead, body=f"out {i}")
            bodies.append(f"out {i}")
    status, page, _ = api.get(f"/messages?leadId={lead['id']}&limit=2")
    assert status == 200 and [m["body"] for m in page["items"]] == bodies[:2]
    seen = [m["body"] for m in page["items"]]
    while page["nextCursor"]:
        _, page, _ = api.get(f"/messages?leadId={lead['id']}&limit=2&cursor={page['nextCursor']}")
        seen += [m["body"] for m in page["items"]]
    assert seen == bodies
    assert [m["direction"] for m in thread(api, lead)] == [
        "outbound",
        "inbound",
        "outbound",
        "inbound",
        "outbound",
    ]


def test_conversations_are_per_lead(api, setup, make_lead):
    _, lead = setup
    other = make_lead()
    send(api, lead, body="for Jane")
    send(api, other, body="for the other")
    assert [m["body"] for m in thread(api, lead)] == ["for Jane"]
    assert [m["body"] for m in thread(api, other)] == ["for the other"]


def test_conversation_query_errors(api, setup):
    _, lead = setup
    assert api.get("/messages")[0] == 400
    assert api.get("/messages?leadId=")[0] == 400
    assert api.get(f"/messages?leadId={lead['id']}&limit=0")[0] == 400
    assert api.get(f"/messages?leadId={lead['id']}&cursor=garbage")[0] == 400
    assert api.get(f"/messages?leadId={lead['id']}", token=None)[0] == 401
    status, empty, _ = api.get("/messages?leadId=01NOPE")
    assert status == 200 and empty == {"items": [], "nextCursor": None}


def test_send_needs_the_token(api, setup):
    _, lead = setup
    status, body, _ = api.post("/messages", {"leadId": lead["id"], "body": "x"}, token=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"


# ---------------------------------------------------------------- races


def test_a_status_callback_that_loses_a_race_decides_again(api, setup, monkeypatch):
    _, lead = setup
    _, msg, _ = send(api, lead)
    repo = store().messages
    real_get = repo.get
    raced = []

    def racing_get(*args, **kwargs):
        got = real_get(*args, **kwargs)
        if not raced:
            raced.append(True)
            # `delivered` lands between this callback's read and its write
            assert status_hook(api, msg["id"], "delivered")[0] == 200
        return got

    monkeypatch.setattr(repo, "get", racing_get)
    assert status_hook(api, msg["id"], "sent")[0] == 200
    monkeypatch.setattr(repo, "get", real_get)
    assert get_message(msg["id"]).status == "delivered"
    assert day_counters() == {"sms#sent": 1, "sms#delivered": 1}


def test_two_first_texts_from_one_unknown_number_make_one_lead(api, telephony, clock, monkeypatch):
    repo = store().leads
    real_lookup = repo.id_by_phone
    raced = []

    def racing_lookup(phone, **kwargs):
        found = real_lookup(phone, **kwargs)
        if not raced:
            raced.append(True)
            # the other text creates the lead after this one looked and found nothing
            assert inbound(api, "second", sender=phone)[0] == 200
        return found

    monkeypatch.setattr(repo, "id_by_phone", racing_lookup)
    assert inbound(api, "first", sender="+14155550125")[0] == 200
    (lead,) = api.get("/leads")[1]["items"]
    assert sorted(m["body"] for m in thread(api, lead)) == ["first", "second"]
    assert funnel() == {"status#new": 1, "total": 1}
    assert day_counters() == {"sms#inbound": 2}
