"""Every page at desktop and phone sizes against the real local stack: it renders, it has one
h1 and labelled controls, nothing is logged to the console (the page fixture fails the test
otherwise), and a screenshot is saved under test-artifacts/browser/. Also the CORS preflight
the dashboard depends on, and keyboard use."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import admin_dialer_session, shot, sign_in_on_page, unique_phone

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby') && !(el.textContent || '').trim())
  .map((el) => el.outerHTML.slice(0, 120))"""

WIDE = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 8)
  .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def check_page(page, name: str, viewport: str) -> None:
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate(UNLABELLED) == []
    if viewport == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, overflow, page.evaluate(WIDE))
    shot(page, f"page-{name}-{viewport}")


@pytest.fixture(scope="module")
def sample(stack):
    member = stack.post("/team-members", {"name": "Page Pat", "phone": unique_phone(area="415")})
    lead = stack.post(
        "/leads",
        {
            "name": "Page Lead With A Rather Long Name",
            "phone": unique_phone(),
            "email": "lead@example.com",
            "company": "Example Holdings International",
            "assignedToId": member["id"],
            "notes": "Met at the trade show.\nPrefers mornings.",
        },
    )
    # A suppressed number, so the Compliance page shows its table at every width.
    stack.post("/suppressions", {"phone": unique_phone(area="646"), "reason": "Asked by e-mail"})
    return member, lead


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_renders_cleanly_and_is_captured(page, stack, sample, viewport):
    _member, lead = sample
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto(f"{stack.dashboard}/")
    expect(page.get_by_role("heading", name="Sign in to Coldcall")).to_be_visible()
    check_page(page, "login", viewport)

    sign_in_on_page(page, stack.admin_email, stack.admin_password)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("[data-stat-cards] [data-stat=calls-today]")).to_be_visible()
    expect(page.get_by_role("table", name="Leaderboard")).to_be_visible()
    check_page(page, "dashboard", viewport)

    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("table", name="Leads")).to_be_visible()
    check_page(page, "leads", viewport)

    page.get_by_role("button", name="New lead").click()
    expect(page.get_by_role("dialog", name="New lead")).to_be_visible()
    shot(page, f"page-lead-form-{viewport}")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Import CSV").first.click()
    expect(page.get_by_role("dialog", name="Import leads from CSV")).to_be_visible()
    shot(page, f"page-import-{viewport}")
    page.keyboard.press("Escape")

    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_role("heading", name=lead["name"])).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading calls")).to_have_count(0)
    check_page(page, "lead-detail", viewport)

    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Call {lead['name']}")
    expect(dialog.get_by_label("Caller ID")).to_have_value("+15005550006")
    shot(page, f"page-call-dialog-{viewport}")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("table", name="Team members")).to_be_visible()
    check_page(page, "team", viewport)

    page.get_by_role("link", name="Compliance").click()
    expect(page.locator("form[data-rules-form]")).to_be_visible()
    expect(page.get_by_role("table", name="Suppressed numbers")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    check_page(page, "compliance", viewport)
    page.get_by_role("button", name="Import numbers").click()
    expect(page.get_by_role("dialog", name="Import numbers to suppress")).to_be_visible()
    shot(page, f"page-suppression-import-{viewport}")
    page.keyboard.press("Escape")
    member, _ = sample
    campaign = stack.post(
        "/campaigns",
        {
            "name": f"Pages campaign {viewport}",
            "callerId": "+15005550006",
            "memberIds": [member["id"]],
            "script": "Introduce yourself, then ask about their plans for the spring.",
        },
    )
    extra = stack.post("/leads", {"name": f"Campaign Lead {viewport}", "phone": unique_phone()})
    stack.post(f"/campaigns/{campaign['id']}/leads", {"leadIds": [extra["id"]]})
    page.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("table", name="Campaigns")).to_be_visible()
    check_page(page, "campaigns", viewport)
    page.get_by_role("button", name="New campaign").click()
    form = page.get_by_role("dialog", name="New campaign")
    expect(form.get_by_label("Caller ID")).to_be_visible()
    shot(page, f"page-campaign-form-{viewport}")
    page.keyboard.press("Escape")
    page.goto(f"{stack.dashboard}/#/campaigns/{campaign['id']}")
    expect(page.get_by_role("table", name="Ready leads")).to_be_visible()
    expect(page.locator("[data-campaign-stat=dials]")).to_be_visible()
    check_page(page, "campaign", viewport)
    with admin_dialer_session(stack, f"Pages dialer {viewport}") as started:
        page.goto(f"{stack.dashboard}/#/dialer/{started['session']['id']}")
        expect(page.locator("[data-session-status]")).to_contain_text(
            "No lead can be called right now", timeout=20_000
        )
        check_page(page, "dialer", viewport)

    page.goto(f"{stack.dashboard}/#/nowhere")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_the_keyboard_reaches_everything_and_dialogs_keep_focus(signed_in, stack):
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    new_lead = page.get_by_role("button", name="New lead").first
    new_lead.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New lead")
    expect(dialog.get_by_label("Name")).to_be_focused()
    for _ in range(30):  # focus stays inside the modal dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(new_lead).to_be_focused()


ROUTES = {
    "/leads": ["GET", "POST"],
    "/leads/01ANYLEAD": ["GET", "PATCH", "DELETE"],
    "/leads/import": ["POST"],
    "/leads/import/preview": ["POST"],
    "/leads/export": ["GET"],
    "/team-members": ["GET", "POST"],
    "/team-members/01ANYMEMBER": ["GET", "PATCH", "DELETE"],
}


@pytest.mark.parametrize("path", list(ROUTES))
def test_cors_preflight_allows_exactly_the_dashboard_origin(stack, path):
    for method in ROUTES[path]:
        resp = requests.options(
            f"{stack.api}{path}",
            headers={
                "Origin": stack.origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type",
            },
            timeout=5,
        )
        assert resp.status_code == 200, (path, method, resp.status_code)
        assert resp.headers["Access-Control-Allow-Origin"] == stack.origin
        assert method in resp.headers["Access-Control-Allow-Methods"].split(",")
        allowed = resp.headers["Access-Control-Allow-Headers"].lower().split(",")
        assert {"authorization", "content-type"} <= set(allowed)


def test_cors_never_names_another_origin(stack):
    resp = stack.call("GET", "/leads", headers={"Origin": "http://evil.example"})

    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == stack.origin
    assert "Content-Disposition" in resp.headers.get("Access-Control-Expose-Headers", "")
    unauthorized = requests.get(f"{stack.api}/leads", headers={"Origin": stack.origin}, timeout=5)
    assert unauthorized.status_code == 401
    # The 401 is readable by the dashboard (so it can return to the login screen).
    assert unauthorized.headers["Access-Control-Allow-Origin"] == stack.origin
