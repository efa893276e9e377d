"""axe-core (WCAG 2.1 A and AA, plus best practice) on every page and dialog, in the states a
user sees them in, at desktop and phone sizes: no serious or critical violation anywhere.

The real stack serves the login, leads (assigned, unassigned, flagged), team (a deactivated
member shown) and the import report; the contract-shaped stand-ins (fake_backend.py) give the
dashboard known numbers and a lead a timeline with every kind of item, and hold a call at each
step of the call dialog."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    admin_dialer_session,
    assert_accessible,
    sign_in_on_page,
    unique_phone,
)
from tests.browser.fake_backend import FakeBackend

SIM = "+15005550006"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def people(stack):
    member = stack.post("/team-members", {"name": "Axe Ada", "phone": unique_phone(area="415")})
    gone = stack.post("/team-members", {"name": "Axe Gone", "phone": unique_phone(area="415")})
    assert stack.call("DELETE", f"/team-members/{gone['id']}").status_code in (200, 204)
    leads = [
        stack.post(
            "/leads",
            {
                "name": "Axe Assigned",
                "phone": unique_phone(),
                "assignedToId": member["id"],
                "company": "Axe Co",
                "email": "a@example.com",
            },
        ),
        stack.post("/leads", {"name": "Axe Unassigned", "phone": unique_phone()}),
        stack.post(
            "/leads",
            {"name": "Axe Flagged", "phone": unique_phone(), "doNotCall": True, "smsOptOut": True},
        ),
    ]
    return member, leads


def lead_with_history(fake: FakeBackend, lead, member) -> None:
    """A finished call waiting for its outcome, one with an outcome, one the lead was busy for,
    and texts in, out and failed."""
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+15005550006"}
    done = {
        "status": "completed",
        "leadLegStatus": "completed",
        "talkSeconds": 42,
        "durationSeconds": 50,
    }
    fake.calls[fake.create_call(body)[1]["id"]].update(done)
    fake.calls[fake.create_call(body)[1]["id"]].update(
        done, disposition="callback_requested", notes="Call back on Friday"
    )
    fake.calls[fake.create_call(body)[1]["id"]].update(
        status="completed", leadLegStatus="busy", durationSeconds=12
    )
    fake.add_message(leadId=lead["id"], direction="inbound", status="received", body="Who is this?")
    fake.add_message(
        leadId=lead["id"], status="delivered", body="Cal from Acme.", teamMemberId=member["id"]
    )
    fake.add_message(
        leadId=lead["id"],
        status="failed",
        body="Lost one",
        errorCode="30006",
        errorMessage="Landline or unreachable carrier",
    )


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_login_leads_team_and_their_dialogs(page, stack, people, viewport, tmp_path):
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto(f"{stack.dashboard}/")
    expect(page.get_by_role("heading", name="Sign in to Coldcall")).to_be_visible()
    assert_accessible(page, f"the login page ({viewport})")

    sign_in_on_page(page, stack.admin_email, stack.admin_password)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.get_by_role("table", name="Leads")).to_be_visible()
    assert_accessible(page, f"the leads list ({viewport})")

    page.get_by_role("button", name="New lead").click()
    expect(page.get_by_role("dialog", name="New lead").get_by_label("Name")).to_be_focused()
    assert_accessible(page, f"the lead form ({viewport})")
    page.keyboard.press("Escape")

    path = tmp_path / "some.csv"
    path.write_text(f"name,phone\nAxe Import,{unique_phone(area='646')}\nNo Phone,12\n")
    page.get_by_role("button", name="Import CSV").first.click()
    dialog = page.get_by_role("dialog", name="Import leads from CSV")
    assert_accessible(page, f"the import dialog ({viewport})")
    dialog.get_by_label("CSV file").set_input_files(str(path))
    expect(dialog.locator("[data-import-mapping]")).to_be_visible()
    assert_accessible(page, f"the import's column mapping ({viewport})")
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.locator("[data-import-stat=errors] dd")).to_have_text("1")
    assert_accessible(page, f"the import report ({viewport})")
    page.keyboard.press("Escape")

    page.get_by_role("button", name=re.compile(r"^Archive ")).first.click()
    expect(page.get_by_role("dialog", name=re.compile(r"^Archive .*\?$"))).to_be_visible()
    assert_accessible(page, f"the archive confirmation ({viewport})")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Team").click()
    page.get_by_label("Show deactivated members").check()
    expect(page.get_by_role("row").filter(has_text="Axe Gone").first).to_contain_text("Deactivated")
    assert_accessible(page, f"the team page ({viewport})")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("dialog", name="New team member")).to_be_visible()
    assert_accessible(page, f"the member form ({viewport})")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Compliance").click()
    expect(page.locator("form[data-rules-form]")).to_be_visible()
    expect(page.get_by_role("table", name="Suppressed numbers")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    assert_accessible(page, f"the compliance page ({viewport})")
    page.get_by_role("button", name="Import numbers").click()
    expect(page.get_by_role("dialog", name="Import numbers to suppress")).to_be_visible()
    assert_accessible(page, f"the suppression import dialog ({viewport})")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("table", name="Audit log")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    assert_accessible(page, f"the admin page ({viewport})")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert_accessible(page, f"the login page after signing out ({viewport})")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_dashboard_lead_page_and_every_step_of_the_call_dialog(
    signed_in, stack, people, viewport, watch
):
    watch.allow_http(422)
    member, leads = people
    lead = leads[0]
    page = signed_in
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto(f"{stack.dashboard}/#/")
    expect(page.locator("[data-stat-cards] [data-stat=calls-today]")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading recent calls")).to_have_count(0)
    assert_accessible(page, f"the dashboard with the stack's numbers ({viewport})")

    fake = FakeBackend(stack.api, stack.origin).install(page)
    lead_with_history(fake, lead, member)
    page.goto(f"{stack.dashboard}/#/?from=2026-11-01&to=2026-11-07")
    expect(page.locator("[data-funnel-status=converted]")).to_be_visible()
    expect(page.locator("[data-activity]")).to_be_visible()
    assert_accessible(page, f"the dashboard with known numbers ({viewport})")

    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.locator("[data-timeline] li")).to_have_count(6)
    assert_accessible(page, f"a lead's page with its timeline ({viewport})")
    night = {
        "allowed": False,
        "reason": "calling_hours",
        "message": "Outside calling hours.",
        "details": {
            "opensAt": "2026-12-08T13:00:00Z",
            "localTime": {"America/New_York": "2026-12-07T23:10"},
            "window": "08:00-21:00",
            "state": "NY",
            "timezones": ["America/New_York"],
        },
    }
    flagged = stack.call("GET", f"/suppressions/{leads[2]['phone'].replace('+', '%2B')}").json()
    fake.lead_compliance = {"voice": night, "sms": night, "suppression": flagged}
    page.goto(f"{stack.dashboard}/#/leads/{leads[2]['id']}")
    expect(page.get_by_text("has opted out of text messages")).to_be_visible()
    expect(page.locator("[data-compliance-channel=voice]")).to_contain_text("Cannot be called")
    expect(page.locator("[data-lead-suppression]")).to_be_visible()
    assert_accessible(page, f"an opted-out, do-not-call lead's page ({viewport})")

    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Call {lead['name']}")
    expect(dialog.get_by_label("Caller ID")).to_have_value("+15005550006")
    assert_accessible(page, f"the call dialog's form ({viewport})")

    fake.advance_call = dict  # hold the call where it is: queued, first step current
    dialog.get_by_role("button", name="Start call").click()
    expect(dialog.locator("[data-call-status]")).to_have_attribute("data-call-status", "queued")
    assert_accessible(page, f"the call dialog while the call is placed ({viewport})")
    del fake.advance_call
    expect(dialog.locator("[data-call-status]")).to_have_attribute(
        "data-call-status", "completed", timeout=15_000
    )
    expect(dialog.get_by_label("Outcome")).to_be_visible()
    assert_accessible(page, f"the call dialog after the call ({viewport})")
    page.keyboard.press("Escape")

    fake.lead_compliance = None
    fake.blocked = {
        "message": "Outside calling hours.",
        "details": {"reason": "calling_hours", "allowedHours": "08:00-21:00"},
    }
    page.get_by_role("button", name="Call", exact=True).click()
    dialog.get_by_role("button", name="Start call").click()
    expect(dialog.get_by_text("This call cannot be placed")).to_be_visible()
    assert_accessible(page, f"the call dialog refusing a call ({viewport})")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_campaigns_the_dialer_and_callbacks(signed_in, stack, people, viewport):
    member, _leads = people
    page = signed_in
    page.set_viewport_size(VIEWPORTS[viewport])
    campaign = stack.post(
        "/campaigns",
        {"name": f"Axe campaign {viewport}", "callerId": SIM, "memberIds": [member["id"]]},
    )
    lead = stack.post("/leads", {"name": f"Axe Campaign Lead {viewport}", "phone": unique_phone()})
    page.goto(f"{stack.dashboard}/#/campaigns")
    expect(page.get_by_role("table", name="Campaigns")).to_be_visible()
    assert_accessible(page, f"the campaigns list ({viewport})")
    page.get_by_role("button", name="New campaign").first.click()
    dialog = page.get_by_role("dialog", name="New campaign")
    expect(dialog.get_by_label("Caller ID")).to_be_visible()
    dialog.get_by_role("button", name="Create campaign").click()
    expect(dialog.get_by_text("Required.")).to_be_visible()
    assert_accessible(page, f"the campaign form with an error ({viewport})")
    page.keyboard.press("Escape")

    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("checkbox", name=f"Select {lead['name']}").check()
    page.get_by_role("button", name="Add to campaign").click()
    dialog = page.get_by_role("dialog", name="Add to campaign")
    assert_accessible(page, f"the add-to-campaign dialog ({viewport})")
    dialog.get_by_label("Campaign").select_option(campaign["id"])
    dialog.get_by_role("button", name="Add leads").click()
    expect(dialog.locator("[data-add-stat=added] dd")).to_have_text("1")
    assert_accessible(page, f"the add-to-campaign result ({viewport})")
    page.keyboard.press("Escape")

    page.goto(f"{stack.dashboard}/#/campaigns/{campaign['id']}")
    expect(page.locator("[data-campaign-stat=dials]")).to_be_visible()
    expect(page.get_by_role("table", name="Ready leads")).to_be_visible()
    assert_accessible(page, f"a campaign's page ({viewport})")

    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Schedule callback").click()
    dialog = page.get_by_role("dialog", name=re.compile(r"^Schedule a callback"))
    assert_accessible(page, f"the callback form ({viewport})")
    dialog.get_by_role("button", name="Schedule callback").click()
    expect(dialog).to_be_hidden()
    page.goto(f"{stack.dashboard}/#/")
    expect(page.locator("[data-callbacks=upcoming] li").first).to_be_visible()
    assert_accessible(page, f"the dashboard with callbacks ({viewport})")

    with admin_dialer_session(stack, f"Axe dialer {viewport}") as started:
        page.goto(f"{stack.dashboard}/#/dialer/{started['session']['id']}")
        status = page.locator("[data-session-status]")
        expect(status).to_contain_text("No lead can be called right now", timeout=20_000)
        assert_accessible(page, f"the dialer view ({viewport})")
