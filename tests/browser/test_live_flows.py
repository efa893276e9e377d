"""The day's work against the real stack and the Twilio simulator: call a lead and watch the
call reach completed, text a lead and see it delivered, and the dashboard's numbers move.

They drive exactly what a user does and check the result through the API as well."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot, unique_phone
from tests.helpers import wait_for

SIM_NUMBER = "+15005550006"
FINAL_CALL = {"completed", "busy", "no-answer", "failed", "canceled"}
FINAL_SMS = {"delivered", "undelivered", "failed"}


def member_and_lead(stack, last_digit: str = "5", **lead_fields):
    member = stack.post("/team-members", {"name": "Live Liz", "phone": unique_phone(area="415")})
    lead = stack.post(
        "/leads", {"name": "Live Lead", "phone": unique_phone(last=last_digit), **lead_fields}
    )
    return member, lead


def start_call_in_browser(page, stack, member, lead):
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Call {lead['name']}")
    dialog.get_by_label("Who is calling").select_option(member["id"])
    dialog.get_by_label("Caller ID").select_option(SIM_NUMBER)
    dialog.get_by_role("button", name="Start call").click()
    return dialog


def test_call_a_lead_and_watch_the_status_reach_completed(signed_in, stack):
    member, lead = member_and_lead(stack)
    page = signed_in
    dialog = start_call_in_browser(page, stack, member, lead)

    status = dialog.locator("[data-call-status]")
    expect(status).to_have_attribute("data-call-status", "completed", timeout=60_000)
    expect(status).to_have_attribute("data-call-outcome", "completed")
    expect(status).to_contain_text("Call ended: Talked for")
    shot(page, "live-call-completed")
    dialog.get_by_label("Outcome").select_option("meeting_booked")
    dialog.get_by_label("Call notes").fill("Call back Friday")
    dialog.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Call outcome saved.")).to_be_visible()

    calls = stack.call("GET", "/calls", params={"leadId": lead["id"]}).json()["items"]
    assert [(c["status"], c["disposition"], c["notes"]) for c in calls] == [
        ("completed", "meeting_booked", "Call back Friday")
    ]
    assert calls[0]["talkSeconds"] > 0
    dialog.get_by_role("button", name="Close").first.click()
    # A first completed call moves the lead from new to contacted, and the meeting booked at
    # wrap-up on to qualified.
    expect(page.locator("[data-status=qualified]").first).to_be_visible(timeout=20_000)
    item = page.locator(f"[data-timeline] li[data-call-id='{calls[0]['id']}']")
    expect(item).to_contain_text("Outcome: Meeting booked")


@pytest.mark.parametrize(
    ("digit", "outcome", "text"),
    [
        ("1", "busy", "The lead's line was busy"),
        ("2", "no-answer", "The lead didn't answer"),
        ("9", "not-connected", "Not connected"),
    ],
)
def test_a_call_nobody_talked_on_says_why(signed_in, stack, digit, outcome, text):
    member, lead = member_and_lead(stack, last_digit=digit)
    dialog = start_call_in_browser(signed_in, stack, member, lead)

    status = dialog.locator("[data-call-status]")
    expect(status).to_have_attribute("data-call-outcome", outcome, timeout=60_000)
    expect(status).to_contain_text(text)
    call = stack.call("GET", "/calls", params={"leadId": lead["id"]}).json()["items"][0]
    # The member's leg ends normally; the lead's leg carries the reason.
    assert call["status"] in FINAL_CALL
    assert call["talkSeconds"] in (0, None)


def test_a_do_not_call_lead_is_refused_with_the_reason(signed_in, stack, watch):
    watch.allow_http(422)
    member, lead = member_and_lead(stack, doNotCall=True)
    dialog = start_call_in_browser(signed_in, stack, member, lead)

    expect(dialog.get_by_text("This call cannot be placed")).to_be_visible()
    expect(dialog.locator("[data-blocked-reason]")).to_have_text("They asked not to be contacted")
    expect(dialog.locator("[data-blocked-message]")).to_contain_text("calls to it are refused")
    assert stack.call("GET", "/calls", params={"leadId": lead["id"]}).json()["items"] == []


def test_send_an_sms_and_see_it_delivered_then_a_stop_reply_disables_sending(signed_in, stack):
    member, lead = member_and_lead(stack)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    composer = page.get_by_role("form", name="Send a text message")
    composer.get_by_label("Text message").fill("Hello from the browser test")
    composer.get_by_label("Sent by").select_option(member["id"])
    composer.get_by_label("From number").select_option(SIM_NUMBER)
    composer.get_by_role("button", name="Send").click()

    bubble = page.locator("[data-timeline] li[data-message-id]").last
    expect(bubble).to_contain_text("Hello from the browser test")
    expect(bubble.locator("[data-message-status]")).to_have_attribute(
        "data-message-status", "delivered", timeout=60_000
    )
    shot(page, "live-sms-delivered")

    resp = requests.post(
        f"{stack.simulator}/simulator/inbound-sms",
        json={"from": lead["phone"], "to": SIM_NUMBER, "body": "STOP"},
        timeout=10,
    )
    assert resp.ok, resp.text
    expect(page.locator("[data-timeline]")).to_contain_text("STOP", timeout=30_000)
    expect(composer.get_by_label("Text message")).to_be_disabled(timeout=30_000)
    expect(composer).to_contain_text("opted out")


def test_a_failed_sms_shows_why(signed_in, stack):
    _member, lead = member_and_lead(stack, last_digit="3")
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    composer = page.get_by_role("form", name="Send a text message")
    composer.get_by_label("Text message").fill("This one will fail")
    composer.get_by_label("From number").select_option(SIM_NUMBER)
    composer.get_by_role("button", name="Send").click()
    bubble = page.locator("[data-timeline] li[data-message-id]").last
    # as Twilio reports a carrier failure: sent, then undelivered with 30003 and no message;
    # the app names the error from its table of Twilio's codes
    expect(bubble.locator("[data-message-status]")).to_have_attribute(
        "data-message-status", "undelivered", timeout=60_000
    )
    expect(bubble).to_contain_text("Unreachable destination handset")


def test_the_dashboard_numbers_move_after_a_call_and_a_text(signed_in, stack):
    member, lead = member_and_lead(stack)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/")
    cards = page.locator("[data-stat-cards]")
    calls_today = cards.locator("[data-stat=calls-today] [data-stat-value]")
    delivered = cards.locator("[data-stat=sms-delivered] [data-stat-value]")
    expect(calls_today).to_be_visible()
    before_calls = int(calls_today.inner_text().replace(",", ""))
    before_sms = int(delivered.inner_text().replace(",", ""))

    call = stack.post(
        "/calls", {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": SIM_NUMBER}
    )
    message = stack.post(
        "/messages",
        {
            "leadId": lead["id"],
            "body": "numbers test",
            "teamMemberId": member["id"],
            "from": SIM_NUMBER,
        },
    )
    wait_for(
        lambda: stack.call("GET", f"/calls/{call['id']}").json(),
        lambda c: c["status"] in FINAL_CALL,
    )
    wait_for(
        lambda: stack.call("GET", "/messages", params={"leadId": lead["id"]}).json()["items"],
        lambda items: any(m["id"] == message["id"] and m["status"] in FINAL_SMS for m in items),
    )

    def refreshed_numbers():
        page.get_by_role("button", name="Refresh the numbers").click()
        page.wait_for_timeout(500)
        return (
            int(calls_today.inner_text().replace(",", "")),
            int(delivered.inner_text().replace(",", "")),
        )

    wait_for(refreshed_numbers, lambda n: n == (before_calls + 1, before_sms + 1), timeout=90)
    board = page.get_by_role("table", name="Leaderboard")
    expect(board.get_by_role("row").filter(has_text="Live Liz").first).to_be_visible()
    shot(page, "live-dashboard-after")


def test_a_voicemail_left_by_a_lead_who_called_back_plays_on_the_timeline(signed_in, stack):
    """A lead calls back (`/simulator/inbound-call`), their owner does not answer (a member
    number ending 2), they leave a message: the lead page shows the missed call with the
    voicemail, and Play fetches the audio with the token and plays it (the dashboard's CSP
    allows blob: media)."""
    owner = stack.post(
        "/team-members", {"name": "Away Owner", "phone": unique_phone("2", "415"), "role": "caller"}
    )
    lead = stack.post(
        "/leads",
        {"name": "Vera Voicemail", "phone": unique_phone("7"), "assignedToId": owner["id"]},
    )
    resp = requests.post(
        f"{stack.simulator}/simulator/inbound-call",
        json={"from": lead["phone"], "to": SIM_NUMBER, "behaviour": "message", "messageSeconds": 4},
        timeout=10,
    )
    assert resp.ok, resp.text
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    play = page.get_by_role("button", name="Play the voicemail of this call")
    expect(play).to_be_visible(timeout=60_000)
    expect(page.locator("[data-timeline]")).to_contain_text("Call from the lead")
    play.click()
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-call-audio] audio');"
        " return a && a.readyState >= 1 && a.duration > 3; }",
        timeout=30_000,
    )
    shot(page, "live-voicemail")
