"""Members sign in as themselves and see what their role allows (API.md, "Identity and roles"),
tried as a new team would: the admin invites a caller in the browser (the temporary password
shown once), the caller signs in with it and sets their own, sees only their leads and the
unassigned ones, no team management, import, export or archive, no "who is calling" picker,
and cannot open another member's lead or calls; the admin deactivates them and their next
action lands on the sign-in page; the admin page shows all of it in the audit log. A manager
gets import, export and archive but no team edits. The admin page manages API keys."""

from __future__ import annotations

import re
import secrets

import requests
from playwright.sync_api import expect

from tests.browser.conftest import (
    assert_accessible,
    hand_session,
    member_session,
    shot,
    sign_in_on_page,
    unique_phone,
)

SIGN_IN = "Sign in to Coldcall"
NEW_PASSWORD = "Caller-Passw0rd-2026"


def test_a_caller_is_invited_signs_in_sees_only_their_work_and_is_cut_off_when_deactivated(
    page, context, stack, watch
):
    watch.allow_http(400, 401, 404)
    tag = secrets.token_hex(3)
    email = f"cal-{tag}@example.com"
    name = f"Cal Caller {tag}"
    other = stack.post("/team-members", {"name": f"Olly Other {tag}", "phone": unique_phone()})

    # The admin signs in and invites the caller from the team page.
    page.goto(f"{stack.dashboard}/#/team")
    sign_in_on_page(page, stack.admin_email, stack.admin_password)
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    page.get_by_role("button", name="Add member").click()
    form = page.get_by_role("dialog", name="New team member")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Phone").fill(unique_phone(area="415"))
    form.get_by_label("Email").fill(email)
    form.get_by_label("Role").select_option("caller")
    form.get_by_role("button", name="Add member").click()
    invite = page.get_by_role("dialog", name=f"Temporary password for {name}")
    secret = invite.get_by_role("textbox", name="Temporary password")
    expect(secret).not_to_have_value("")
    temporary = secret.input_value()
    expect(invite.get_by_role("button", name="Copy the temporary password")).to_be_visible()
    expect(invite.get_by_text("shown only once")).to_be_visible()
    assert_accessible(page, "the invite's temporary password")
    invite.get_by_role("button", name="Done").click()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(email)
    expect(row).to_contain_text("Caller")
    expect(row).to_contain_text("Active")
    # Shown once: nowhere on the page any more.
    expect(page.locator("[data-secret]")).to_have_count(0)
    caller = next(
        m
        for m in stack.call("GET", "/team-members", params={"limit": 100}).json()["items"]
        if m["email"] == email
    )

    mine = stack.post(
        "/leads", {"name": f"Mine {tag}", "phone": unique_phone(), "assignedToId": caller["id"]}
    )
    free = stack.post("/leads", {"name": f"Free {tag}", "phone": unique_phone()})
    theirs = stack.post(
        "/leads", {"name": f"Theirs {tag}", "phone": unique_phone(), "assignedToId": other["id"]}
    )

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()

    # The caller's first sign-in: the temporary password, then their own (a weak one refused).
    sign_in_on_page(page, email, temporary)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    expect(page.locator("[data-password-policy]")).to_contain_text("At least 12 characters")
    assert_accessible(page, "the new-password step")
    page.get_by_role("textbox", name="New password", exact=True).fill("weakpass")
    page.get_by_label("Repeat the new password").fill("weakpass")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("textbox", name="New password", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_text(re.compile("at least 12 characters", re.I)).first).to_be_visible()
    page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator("[data-signed-in-as]")).to_have_text(f"Signed in as {name} (Caller)")
    shot(page, "caller-signed-in")

    # No admin page for a caller, not even by its address.
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(f"{stack.dashboard}/#/admin")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

    # Their leads and the unassigned ones; no import, export or archive.
    page.goto(f"{stack.dashboard}/#/leads")
    table = page.get_by_role("table", name="Leads")
    expect(table).to_contain_text(mine["name"])
    expect(table).to_contain_text(free["name"])
    expect(table).not_to_contain_text(theirs["name"])
    expect(page.get_by_role("button", name="Import CSV")).to_have_count(0)
    expect(page.get_by_role("button", name="Export CSV")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Archive "))).to_have_count(0)
    shot(page, "caller-leads")

    # A lead of theirs: no archive; the call is theirs (no picker), the text too.
    page.goto(f"{stack.dashboard}/#/leads/{mine['id']}")
    expect(page.get_by_role("heading", name=mine["name"])).to_be_visible()
    expect(page.get_by_role("button", name="Archive")).to_have_count(0)
    expect(page.get_by_label("Sent by")).to_have_count(0)
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Call {mine['name']}")
    expect(dialog.locator("[data-calling-as]")).to_contain_text("Twilio rings your phone first")
    expect(dialog.get_by_label("Who is calling")).to_have_count(0)
    page.keyboard.press("Escape")

    # Another member's lead (and so its calls) is not there for them.
    page.goto(f"{stack.dashboard}/#/leads/{theirs['id']}")
    expect(page.get_by_role("heading", name="Lead not found")).to_be_visible()
    token = requests.post(
        f"{stack.api}/auth/refresh",
        json={"refreshToken": page.evaluate("sessionStorage.getItem('coldcall.refresh')")},
        timeout=15,
    ).json()["accessToken"]
    as_caller = {"Authorization": f"Bearer {token}"}
    for path, params in (
        ("/calls", {"teamMemberId": other["id"]}),
        ("/calls", {"leadId": theirs["id"]}),
    ):
        resp = requests.get(f"{stack.api}{path}", params=params, headers=as_caller, timeout=15)
        assert resp.status_code in (403, 404), (path, params, resp.status_code)

    # The team, read only.
    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("table", name="Team members")).to_contain_text(name)
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(
        page.get_by_role("button", name=re.compile(r"^(Edit|Deactivate|Reset password)"))
    ).to_have_count(0)

    # The admin deactivates the caller (in another window); the caller's next action: sign-in.
    admin_page = context.browser.new_context().new_page()
    admin_page.on("console", watch.on_console)
    admin_page.on("pageerror", watch.on_page_error)
    hand_session(admin_page, stack.login(stack.admin_email, stack.admin_password)["refreshToken"])
    admin_page.goto(f"{stack.dashboard}/#/team")
    admin_page.get_by_role("row").filter(has_text=name).get_by_role(
        "button", name=f"Deactivate {name}"
    ).click()
    admin_page.get_by_role("dialog", name=f"Deactivate {name}?").get_by_role(
        "button", name="Deactivate"
    ).click()
    expect(admin_page.get_by_role("row").filter(has_text=name)).to_have_count(0)

    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_text("Your session has ended")).to_contain_text("deactivated")
    sign_in_on_page(page, email, NEW_PASSWORD)
    expect(page.get_by_role("alert").filter(has_text="deactivated")).to_be_visible()

    # The mine lead now shows its assignee as deactivated, for a manager to reassign.
    admin_page.goto(f"{stack.dashboard}/#/leads")
    expect(admin_page.locator(f"tr[data-lead-id='{mine['id']}']")).to_contain_text(
        f"{name} (deactivated)"
    )

    # The admin page's audit log has all of it, filtered by action.
    admin_page.goto(f"{stack.dashboard}/#/admin")
    log = admin_page.get_by_role("table", name="Audit log")
    expect(log).to_contain_text("auth.password_changed")
    admin_page.get_by_label("Action").select_option("member.deactivated")
    expect(admin_page).to_have_url(re.compile(r"action=member\.deactivated"))
    expect(log.locator("tbody tr").first).to_contain_text(caller["id"])
    actions = set(log.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)"))
    assert actions == {"member.deactivated"}
    for action in ("member.created", "auth.login_failed", "auth.logout"):
        admin_page.get_by_label("Action").select_option(action)
        expect(log.locator(f"tbody tr[data-action='{action}']").first).to_be_visible()
    admin_page.context.close()


def test_a_manager_imports_exports_and_archives_but_does_not_edit_the_team(page, stack, watch):
    tag = secrets.token_hex(3)
    email = f"mia-{tag}@example.com"
    created = stack.post(
        "/team-members",
        {
            "name": f"Mia Manager {tag}",
            "phone": unique_phone(area="415"),
            "email": email,
            "role": "manager",
        },
    )
    answer = member_session(stack, email, created["invite"]["temporaryPassword"], NEW_PASSWORD)
    stack.post("/leads", {"name": f"Any Lead {tag}", "phone": unique_phone()})
    hand_session(page, answer["refreshToken"])

    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.locator("[data-signed-in-as]")).to_contain_text("(Manager)")
    expect(page.get_by_role("button", name="Import CSV")).to_be_visible()
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Archive ")).first).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)

    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("table", name="Team members")).to_be_visible()
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^(Edit|Deactivate) "))).to_have_count(0)
    expect(page.get_by_text("Only an admin adds or changes team members.")).to_be_visible()


def test_the_admin_resets_a_password_and_the_member_signs_in_with_the_new_one(signed_in, stack):
    page = signed_in
    tag = secrets.token_hex(3)
    email = f"rex-{tag}@example.com"
    name = f"Rex Reset {tag}"
    stack.post("/team-members", {"name": name, "phone": unique_phone(area="415"), "email": email})

    page.goto(f"{stack.dashboard}/#/team")
    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_role("button", name=f"Reset password for {name}").click()
    page.get_by_role("dialog", name=f"Reset {name}'s password?").get_by_role(
        "button", name="Reset password"
    ).click()
    invite = page.get_by_role("dialog", name=f"Temporary password for {name}")
    temporary = invite.get_by_role("textbox", name="Temporary password").input_value()
    invite.get_by_role("button", name="Done").click()
    member_session(stack, email, temporary, NEW_PASSWORD)  # the new one works

    row.get_by_role("button", name=f"Re-send invite for {name}").click()
    invite = page.get_by_role("dialog", name=f"Temporary password for {name}")
    again = invite.get_by_role("textbox", name="Temporary password").input_value()
    assert again and again != temporary


def test_the_admin_page_creates_shows_once_and_revokes_an_api_key(signed_in, stack, watch):
    page = signed_in
    page.goto(f"{stack.dashboard}/#/admin")
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()
    expect(page.get_by_role("table", name="Audit log")).to_be_visible()
    assert_accessible(page, "the admin page")

    name = f"CRM sync {secrets.token_hex(3)}"
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Role").select_option("caller")
    form.get_by_role("button", name="Create key").click()
    shown = page.get_by_role("dialog", name=f"API key “{name}”")
    key = shown.get_by_role("textbox", name="API key").input_value()
    assert key.startswith("ck_")
    expect(shown.get_by_role("button", name="Copy the api key")).to_be_visible()
    assert_accessible(page, "the new API key")
    shot(page, "admin-new-api-key")
    shown.get_by_role("button", name="Done").click()
    shot(page, "admin")
    me = requests.get(f"{stack.api}/me", headers={"Authorization": f"Bearer {key}"}, timeout=15)
    assert me.json()["apiKey"]["role"] == "caller"

    row = page.get_by_role("table", name="API keys").get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Caller")
    expect(row).to_contain_text("Active")
    expect(page.locator("[data-secret]")).to_have_count(0)
    row.get_by_role("button", name=f"Revoke {name}").click()
    page.get_by_role("dialog", name=f"Revoke “{name}”?").get_by_role(
        "button", name="Revoke"
    ).click()
    expect(row).to_contain_text("Revoked")
    gone = requests.get(f"{stack.api}/me", headers={"Authorization": f"Bearer {key}"}, timeout=15)
    assert gone.status_code == 401

    log = page.get_by_role("table", name="Audit log")
    expect(log.locator("tbody tr").first).to_contain_text("apikey.revoked")  # at once
    page.get_by_label("Action").select_option("apikey.revoked")
    expect(log.locator("tbody tr")).to_have_count(1)


def test_the_audit_log_pages_with_the_cursor(signed_in, stack):
    for n in range(27):
        assert stack.call("POST", "/api-keys", json={"name": f"paging {n}"}).status_code == 201
    page = signed_in
    page.goto(f"{stack.dashboard}/#/admin?action=apikey.created")
    log = page.get_by_role("table", name="Audit log")
    pages = page.get_by_role("navigation", name="Audit log pages")
    expect(log.locator("tbody tr")).to_have_count(25)
    expect(pages).to_contain_text("Showing 1–25")
    first = log.locator("tbody tr").first.get_attribute("data-audit-id")
    pages.get_by_role("button", name="Next").click()
    expect(pages).to_contain_text("Showing 26–")
    expect(log.locator("tbody tr[data-action='apikey.created']").first).to_be_visible()
    assert log.locator("tbody tr").first.get_attribute("data-audit-id") != first
    pages.get_by_role("button", name="Previous").click()
    expect(pages).to_contain_text("Showing 1–25")
    expect(log.locator("tbody tr").first).to_have_attribute("data-audit-id", first)
