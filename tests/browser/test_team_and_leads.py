"""Team and leads through the browser: create, edit, deactivate/archive, filters, pagination,
a stale edit, a duplicate phone, and server strings that look like HTML."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import shot, unique_phone


def open_team(page, stack):
    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()


def test_add_edit_deactivate_and_reactivate_a_member(signed_in, stack):
    page = signed_in
    open_team(page, stack)
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="New team member")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("Ann Caller")
    dialog.get_by_label("Phone").fill("(415) 555-0142")
    dialog.get_by_label("Email").fill("ann@example.com")
    dialog.get_by_role("button", name="Add member").click()

    expect(dialog).to_be_hidden()
    # An e-mail gives Ann a sign-in: her temporary password, shown once.
    invite = page.get_by_role("dialog", name="Temporary password for Ann Caller")
    expect(invite.get_by_role("textbox", name="Temporary password")).not_to_have_value("")
    invite.get_by_role("button", name="Done").click()
    expect(invite).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="Ann Caller")
    # read in the team's (US) format; the E.164 is kept for copying
    expect(row).to_contain_text("(415) 555-0142")
    expect(row.locator("[data-e164='+14155550142']")).to_have_attribute("title", "+14155550142")
    expect(row).to_contain_text("Active")

    row.get_by_role("button", name="Edit Ann Caller").click()
    dialog = page.get_by_role("dialog", name="Edit Ann Caller")
    dialog.get_by_label("Name").fill("Ann Closer")
    dialog.get_by_label("Role").select_option("admin")
    dialog.get_by_role("button", name="Save changes").click()
    row = page.get_by_role("row").filter(has_text="Ann Closer")
    expect(row).to_contain_text("Admin")
    members = stack.call("GET", "/team-members", params={"limit": 100}).json()["items"]
    assert any(m["name"] == "Ann Closer" and m["role"] == "admin" for m in members)

    row.get_by_role("button", name="Deactivate Ann Closer").click()
    confirm = page.get_by_role("dialog", name="Deactivate Ann Closer?")
    confirm.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("row").filter(has_text="Ann Closer")).to_have_count(0)
    page.get_by_label("Show deactivated members").check()
    row = page.get_by_role("row").filter(has_text="Ann Closer")
    expect(row).to_contain_text("Deactivated")
    row.get_by_role("button", name="Reactivate Ann Closer").click()
    expect(row).to_contain_text("Active")


def test_a_member_form_shows_the_servers_field_errors(signed_in, stack, watch):
    watch.allow_http(400)
    page = signed_in
    open_team(page, stack)
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="New team member")
    dialog.get_by_role("button", name="Add member").click()
    expect(dialog.get_by_label("Name")).to_have_attribute("aria-invalid", "true")

    dialog.get_by_label("Name").fill("Bad Phone")
    dialog.get_by_label("Phone").fill("12")
    dialog.get_by_role("button", name="Add member").click()
    expect(dialog.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Phone")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Add member")).to_be_focused()


def test_create_edit_and_archive_a_lead(signed_in, stack):
    member = stack.post("/team-members", {"name": "Lee Assign", "phone": unique_phone(area="415")})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="New lead").click()
    dialog = page.get_by_role("dialog", name="New lead")
    dialog.get_by_label("Name").fill("Jane Prospect")
    phone = unique_phone()
    dialog.get_by_label("Phone").fill(phone)
    dialog.get_by_label("Company").fill("Acme Corp")
    dialog.get_by_label("Assigned to").select_option(label="Lee Assign")
    dialog.get_by_role("button", name="Add lead").click()
    expect(dialog).to_be_hidden()

    row = page.get_by_role("row").filter(has_text="Jane Prospect")
    expect(row).to_contain_text("Acme Corp")
    expect(row).to_contain_text("Lee Assign")
    expect(row).to_contain_text("New")

    row.get_by_role("button", name="Edit Jane Prospect").click()
    dialog = page.get_by_role("dialog", name="Edit Jane Prospect")
    dialog.get_by_label("Status").select_option("qualified")
    dialog.get_by_label("Company").fill("")
    dialog.get_by_label("Notes").fill("Wants a demo on Tuesday")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="Jane Prospect")
    expect(row).to_contain_text("Qualified")
    expect(row).not_to_contain_text("Acme Corp")
    stored = stack.call("GET", "/leads", params={"assignedToId": member["id"]}).json()["items"]
    assert [(x["status"], x["company"], x["notes"], x["version"]) for x in stored] == [
        ("qualified", None, "Wants a demo on Tuesday", 2)
    ]

    row.get_by_role("link", name="Jane Prospect").click()
    expect(page.get_by_role("heading", name="Jane Prospect")).to_be_visible()
    expect(page.get_by_text("Wants a demo on Tuesday")).to_be_visible()
    page.get_by_role("link", name="← All leads").click()

    row = page.get_by_role("row").filter(has_text="Jane Prospect")
    row.get_by_role("button", name="Archive Jane Prospect").click()
    page.get_by_role("dialog", name="Archive Jane Prospect?").get_by_role(
        "button", name="Archive"
    ).click()
    expect(page.get_by_role("row").filter(has_text="Jane Prospect")).to_have_count(0)
    lead_id = stored[0]["id"]
    assert stack.call("GET", f"/leads/{lead_id}").json()["archived"] is True


def test_a_stale_edit_says_so_and_reloads_the_latest_version(signed_in, stack, watch):
    watch.allow_http(409)
    lead = stack.post("/leads", {"name": "Stale Sam", "phone": unique_phone()})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit Stale Sam")
    # Someone else saves first.
    resp = stack.call("PATCH", f"/leads/{lead['id']}", json={"company": "Other Co", "version": 1})
    assert resp.status_code == 200
    dialog.get_by_label("Notes").fill("my note")
    dialog.get_by_role("button", name="Save changes").click()

    expect(dialog.get_by_role("alert")).to_contain_text("changed by someone else")
    dialog.get_by_role("button", name="Load the latest version").click()
    expect(dialog.get_by_label("Company")).to_have_value("Other Co")
    dialog.get_by_label("Notes").fill("my note")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    stored = stack.call("GET", f"/leads/{lead['id']}").json()
    assert (stored["company"], stored["notes"], stored["version"]) == ("Other Co", "my note", 3)


def test_a_duplicate_phone_points_at_the_existing_lead(signed_in, stack, watch):
    watch.allow_http(409)
    phone = unique_phone()
    first = stack.post("/leads", {"name": "First Owner", "phone": phone})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="New lead").click()
    dialog = page.get_by_role("dialog", name="New lead")
    dialog.get_by_label("Name").fill("Second Try")
    dialog.get_by_label("Phone").fill(phone)
    dialog.get_by_role("button", name="Add lead").click()

    expect(dialog.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_role("link", name="Open the existing lead").click()
    expect(page.get_by_role("heading", name="First Owner")).to_be_visible()
    assert first["id"] in page.url


def test_filters_and_pages_follow_the_url(signed_in, stack):
    member = stack.post("/team-members", {"name": "Filter Fay", "phone": unique_phone(area="415")})
    rows = ["name,phone,status,assignedToId"]
    rows += [
        f"Page Lead {i:02d},{unique_phone(area='646')},contacted,{member['id']}" for i in range(30)
    ]
    result = stack.call(
        "POST", "/leads/import", data="\n".join(rows), headers={"Content-Type": "text/csv"}
    ).json()
    assert result["created"] == 30

    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_label("Status").select_option("contacted")
    expect(page).to_have_url(re.compile(r"#/leads\?status=contacted$"))
    page.get_by_label("Assigned to").select_option(label="Filter Fay")
    expect(page).to_have_url(re.compile(r"assignedToId="))
    table = page.get_by_role("table", name="Leads")
    expect(table.locator("tbody tr")).to_have_count(25)
    expect(page.get_by_text("Showing 1–25")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(page.get_by_text("Showing 26–30")).to_be_visible()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    page.get_by_role("button", name="Previous").click()
    expect(table.locator("tbody tr")).to_have_count(25)

    page.get_by_label("Status").select_option("converted")
    expect(page.get_by_text("No leads match these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear filters").first.click()
    expect(page).to_have_url(re.compile(r"#/leads$"))


def test_strings_from_the_server_are_shown_as_text_never_as_html(signed_in, stack):
    hostile = '<img src=x onerror="window.__xss=1">Mallory'
    lead = stack.post(
        "/leads",
        {
            "name": hostile,
            "phone": unique_phone(),
            "company": "<script>window.__xss=2</script>",
            "notes": "<b>bold?</b>",
        },
    )
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.get_by_role("link", name=hostile)).to_be_visible()
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_role("heading", name=hostile)).to_be_visible()
    expect(page.get_by_text("<b>bold?</b>")).to_be_visible()
    assert page.evaluate("window.__xss") is None
    assert page.locator("main img").count() == 0
    shot(page, "lead-detail-hostile-strings")


def test_empty_required_fields_are_flagged_before_anything_is_sent(signed_in, stack):
    page = signed_in
    open_team(page, stack)
    before = len(stack.call("GET", "/team-members", params={"limit": 100}).json()["items"])
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="New team member")
    dialog.get_by_role("button", name="Add member").click()
    expect(dialog.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_text("Required.").first).to_be_visible()
    assert len(stack.call("GET", "/team-members", params={"limit": 100}).json()["items"]) == before

    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name=re.compile("Add lead|New lead")).first.click()
    lead_dialog = page.get_by_role("dialog")
    lead_dialog.get_by_label("Name").fill("Only A Name")
    lead_dialog.get_by_role("button", name=re.compile("Add lead|Create|Save")).click()
    expect(lead_dialog.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    expect(lead_dialog.get_by_label("Name")).not_to_have_attribute("aria-invalid", "true")


def test_an_archived_lead_says_so_and_can_be_restored(signed_in, stack):
    phone = unique_phone()
    lead = stack.post("/leads", {"name": "Archie Ved", "phone": phone})
    assert stack.call("DELETE", f"/leads/{lead['id']}").status_code == 200
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_role("heading", name="Archie Ved")).to_be_visible()
    expect(page.get_by_text("Archie Ved is archived.")).to_be_visible()
    for name in ("Call", "Edit", "Archive"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Edit", exact=True)).to_be_visible()
    expect(page.get_by_text("Archie Ved is archived.")).to_have_count(0)
    expect(page.get_by_role("button", name="Restore", exact=True)).to_have_count(0)
    assert stack.call("GET", f"/leads/{lead['id']}").json()["archived"] is False
    page.get_by_role("link", name="← All leads").click()
    expect(page.get_by_role("row").filter(has_text="Archie Ved")).to_have_count(1)


def test_a_duplicate_phone_of_an_archived_lead_offers_to_restore_it(signed_in, stack, watch):
    watch.allow_http(409)
    phone = unique_phone()
    first = stack.post("/leads", {"name": "Gone Owner", "phone": phone})
    stack.call("DELETE", f"/leads/{first['id']}")
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    page.get_by_role("button", name="New lead").click()
    dialog = page.get_by_role("dialog", name="New lead")
    dialog.get_by_label("Name").fill("Second Try")
    dialog.get_by_label("Phone").fill(phone)
    dialog.get_by_role("button", name="Add lead").click()
    expect(dialog.get_by_text("That lead is archived.")).to_be_visible()
    expect(dialog.get_by_role("link", name="Open the archived lead")).to_be_visible()
    dialog.get_by_role("button", name="Restore it").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Gone Owner")).to_be_visible()
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_visible()
    assert first["id"] in page.url
    assert stack.call("GET", f"/leads/{first['id']}").json()["archived"] is False
