"""Calls, SMS and the dashboard's numbers in the browser, with calls, messages, stats and
numbers answered by contract-shaped stand-ins (fake_backend.py) so each situation is exact;
leads and members are real."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot, unique_phone
from tests.browser.fake_backend import FakeBackend

SEEN_STATUSES = """() => {
  window.__statuses = [];
  new MutationObserver(() => {
    const el = document.querySelector('dialog [data-call-status]');
    if (el && window.__statuses.at(-1) !== el.dataset.callStatus) {
      window.__statuses.push(el.dataset.callStatus);
    }
  }).observe(document.body, {subtree: true, attributes: true, childList: true});
}"""


def setup_lead(stack, **lead_fields):
    member = stack.post("/team-members", {"name": "Cal Caller", "phone": unique_phone(area="415")})
    lead = stack.post("/leads", {"name": "Dana Lead", "phone": unique_phone(), **lead_fields})
    return member, lead


def test_the_call_dialog_follows_the_call_until_it_ends_and_saves_the_outcome(signed_in, stack):
    member, lead = setup_lead(stack)
    fake = FakeBackend(stack.api, stack.origin).install(signed_in)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_text("No calls or messages yet")).to_be_visible()
    page.evaluate(SEEN_STATUSES)

    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name="Call Dana Lead")
    expect(dialog.get_by_label("Who is calling")).to_be_focused()
    # the member's phone reads in the team's (US) format
    digits = member["phone"][2:]
    national = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    dialog.get_by_label("Who is calling").select_option(label=f"Cal Caller ({national})")
    dialog.get_by_label("Caller ID").select_option("+15005550007")
    shot(page, "call-dialog")
    dialog.get_by_role("button", name="Start call").click()

    status = dialog.locator("[data-call-status]")
    expect(status).to_have_attribute("data-call-status", "completed", timeout=15_000)
    expect(status).to_have_text("Call ended: Talked for 30s")
    expect(status).to_have_attribute("data-call-outcome", "completed")
    expect(dialog.get_by_role("status")).to_contain_text("Call ended")
    seen = page.evaluate("window.__statuses")
    assert seen[-1] == "completed" and "ringing" in seen and "in-progress" in seen, seen
    assert next(r for r in fake.requests if r[0] == "POST") == (
        "POST",
        "/calls",
        {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+15005550007"},
    )
    shot(page, "call-dialog-completed")

    dialog.get_by_label("Outcome").select_option("meeting_booked")
    dialog.get_by_label("Call notes").fill("Send the pricing sheet")
    dialog.get_by_role("button", name="Save outcome").click()
    expect(page.get_by_text("Call outcome saved.")).to_be_visible()
    patch = [r for r in fake.requests if r[0] == "PATCH"]
    assert patch == [
        (
            "PATCH",
            patch[0][1],
            {"disposition": "meeting_booked", "notes": "Send the pricing sheet"},
        )
    ]
    dialog.get_by_role("button", name="Close").first.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_focused()

    item = page.locator("[data-timeline] li[data-call-id]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Call by Cal Caller")
    expect(item).to_contain_text("Talked for 30s")
    expect(item).to_contain_text("Outcome: Meeting booked")
    expect(item).to_contain_text("Send the pricing sheet")


def test_a_busy_lead_ends_as_busy_and_still_asks_for_the_outcome(signed_in, stack):
    _member, lead = setup_lead(stack)
    fake = FakeBackend(stack.api, stack.origin, call_outcome="busy").install(signed_in)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name="Call Dana Lead")
    dialog.get_by_role("button", name="Start call").click()
    status = dialog.locator("[data-call-status]")
    expect(status).to_have_attribute("data-call-outcome", "busy", timeout=15_000)
    expect(status).to_have_text("Call ended: The lead's line was busy")
    expect(dialog.get_by_label("Outcome")).to_be_visible()
    item = page.locator("[data-timeline] li[data-call-id] [data-call-outcome]")
    expect(item).to_have_text("Lead busy")
    # the lead never answered: no step says "Connected"; the member did answer
    steps = dialog.get_by_label("Call progress")
    expect(steps.locator('[data-step="answered"]')).to_have_text("You answered")
    expect(steps).not_to_contain_text("Connected")
    assert fake.calls


def test_a_blocked_call_explains_why(signed_in, stack, watch):
    watch.allow_http(422)
    _member, lead = setup_lead(stack)
    # The shape chalicelib/services/compliance.py answers outside calling hours.
    message = (
        "It is 22:14 for this number (America/New_York); calls are allowed 08:00-21:00. "
        "It opens at 2026-11-24 13:00 UTC."
    )
    details = {
        "reason": "calling_hours",
        "leadLocalTime": {"America/New_York": "22:14"},
        "timezones": ["America/New_York"],
        "allowedHours": "08:00-21:00",
        "opensAt": "2026-11-24T13:00:00Z",
    }
    FakeBackend(
        stack.api,
        stack.origin,
        blocked={"message": message, "details": details},
    ).install(signed_in)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name="Call Dana Lead")
    dialog.get_by_role("button", name="Start call").click()

    expect(dialog.get_by_text("This call cannot be placed")).to_be_visible()
    # In plain words (compliance.js), not the server's sentence or its reason code.
    expect(dialog.locator("[data-blocked-reason]")).to_have_text("Outside calling hours")
    said = dialog.locator("[data-blocked-message]")
    expect(said).to_contain_text("It is outside the calling hours (08:00-21:00, the lead's local")
    expect(said).to_contain_text("It opens Nov 24, 2026")
    expect(said).to_contain_text("your time")
    expect(said).to_contain_text("(America/New_York) for the lead")
    facts = dialog.locator("[data-call-blocked] dl")
    expect(facts).to_contain_text("Lead's local time now22:14 (America/New_York)")
    expect(facts).to_contain_text("Allowed today08:00-21:00 (lead's local time)")
    expect(dialog.locator("[data-call-blocked]")).not_to_contain_text("calling_hours")
    expect(dialog.get_by_role("button", name="Close").last).to_be_focused()
    shot(page, "call-dialog-blocked")


def test_a_do_not_call_lead_is_flagged_before_dialing(signed_in, stack):
    _member, lead = setup_lead(stack, doNotCall=True)
    FakeBackend(stack.api, stack.origin).install(signed_in)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_text("Do not call", exact=True)).to_be_visible()
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name="Call Dana Lead")
    expect(dialog.get_by_text("This lead is on the do-not-call list.")).to_be_visible()


def test_a_text_is_sent_and_its_status_followed_until_delivered(signed_in, stack):
    member, lead = setup_lead(stack)
    fake = FakeBackend(stack.api, stack.origin).install(signed_in)
    fake.add_message(
        leadId=lead["id"],
        direction="inbound",
        status="received",
        body="Who is this? <script>window.__xss=1</script>",
        **{"from": lead["phone"], "to": "+15005550006"},
    )
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_text("Who is this? <script>window.__xss=1</script>")).to_be_visible()

    composer = page.get_by_role("form", name="Send a text message")
    composer.get_by_label("Text message").fill("Hi Dana, this is Cal from Acme.")
    expect(composer).to_contain_text("31 characters · 1 segment")
    composer.get_by_label("Sent by").select_option(member["id"])
    expect(composer.get_by_label("From number")).to_have_value("+15005550006")
    composer.get_by_label("Text message").press("Control+Enter")

    bubble = page.locator("[data-timeline] li[data-message-id]").last
    expect(bubble).to_contain_text("Hi Dana, this is Cal from Acme.")
    expect(bubble.locator("[data-message-status]")).to_have_attribute(
        "data-message-status", "delivered", timeout=15_000
    )
    expect(composer.get_by_label("Text message")).to_have_value("")
    sent = [r for r in fake.requests if r[0] == "POST"]
    assert sent == [
        (
            "POST",
            "/messages",
            {
                "leadId": lead["id"],
                "body": "Hi Dana, this is Cal from Acme.",
                "teamMemberId": member["id"],
                "from": "+15005550006",
            },
        )
    ]
    assert page.evaluate("window.__xss") is None
    shot(page, "lead-detail-conversation")


def test_an_opted_out_lead_cannot_be_texted(signed_in, stack):
    _member, lead = setup_lead(stack, smsOptOut=True)
    FakeBackend(stack.api, stack.origin).install(signed_in)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    composer = page.get_by_role("form", name="Send a text message")
    expect(composer).to_contain_text("Dana Lead has opted out of text messages.")
    expect(composer.get_by_label("Text message")).to_be_disabled()
    expect(composer.get_by_role("button", name="Send")).to_be_disabled()


def test_the_dashboard_shows_cards_charts_leaderboard_and_recent_calls(signed_in, stack):
    member, lead = setup_lead(stack)
    fake = FakeBackend(stack.api, stack.origin).install(signed_in)
    fake.create_call({"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+1500"})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/?from=2026-11-01&to=2026-11-07")

    stats = FakeBackend.make_stats("2026-11-01", "2026-11-07")
    cards = page.locator("[data-stat-cards]")
    expect(cards.locator("[data-stat=calls] [data-stat-value]")).to_have_text(
        str(stats["calls"]["placed"])
    )
    expect(cards.locator("[data-stat=connect-rate] [data-stat-value]")).to_have_text(
        f"{round(stats['calls']['connectRate'] * 100)}%"
    )
    expect(cards.locator("[data-stat=talk-time] [data-stat-value]")).to_have_text("20m 00s")
    expect(cards.locator("[data-stat=leads] [data-stat-value]")).to_have_text("40")
    expect(page.get_by_label("Range", exact=True)).to_have_value("custom")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-11-01")
    expect(page.locator("canvas")).to_have_count(2)
    board = page.get_by_role("table", name="Leaderboard")
    expect(board.get_by_role("row")).to_have_count(3)
    expect(board).to_contain_text("<b>Bob</b>")
    expect(page.locator("[data-funnel-status=converted]")).to_contain_text("2 · 5%")
    activity = page.locator("[data-activity]")
    expect(activity).to_contain_text("Cal Caller called Dana Lead")
    shot(page, "dashboard")

    page.get_by_label("Range", exact=True).select_option("today")
    expect(page.get_by_label("Range", exact=True)).to_have_value("today")
    expect(page.get_by_label("From", exact=True)).to_have_value(
        page.get_by_label("To", exact=True).input_value()
    )

    def stat_requests() -> list[object]:
        return [r for r in fake.requests if r[1] == "/dashboard/stats"]

    # the range, today's numbers, and the new range (its request may still be on its way)
    for _ in range(50):
        if len(stat_requests()) >= 3:
            break
        page.wait_for_timeout(100)
    assert len(stat_requests()) >= 3
