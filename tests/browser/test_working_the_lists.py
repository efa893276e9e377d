"""Working the lists every day, in the browser against the real stack: a manager selects leads
and assigns them to a caller in bulk; a reply shows as the nav badge and opens from the inbox;
the call log filters calls by outcome and member; phone numbers read in the national format
with the E.164 kept for copying."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot, unique_phone
from tests.helpers import wait_for

SIM_NUMBER = "+15005550006"
FINAL = {"completed", "busy", "no-answer", "failed", "canceled", "not-connected"}


def test_a_manager_selects_leads_and_assigns_them_to_a_caller(signed_in, stack):
    caller = stack.post(
        "/team-members", {"name": "Bulk Bea", "phone": unique_phone(area="415"), "role": "caller"}
    )
    made = [
        stack.post("/leads", {"name": f"Bulk Lead {n}", "phone": unique_phone()}) for n in range(3)
    ]
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    bar = page.get_by_role("region", name="Bulk actions")
    expect(bar).to_be_hidden()
    for lead in made:
        page.get_by_label(f"Select {lead['name']}").check()
    expect(bar).to_be_visible()
    expect(bar.locator("[data-selected-count]")).to_have_text("3 selected")
    bar.get_by_label("Assign to").select_option(caller["id"])
    bar.get_by_role("button", name="Assign").click()
    report = page.locator("[data-bulk-report]")
    expect(report).to_contain_text("Assign: 3 updated, 0 skipped")
    expect(bar).to_be_hidden()
    shot(page, "bulk-assign")
    for lead in made:
        got = stack.call("GET", f"/leads/{lead['id']}").json()
        assert got["assignedToId"] == caller["id"]
        row = page.locator(f"tr[data-lead-id='{lead['id']}']")
        expect(row.locator(f"[data-assignee='{caller['id']}']")).to_have_text("Bulk Bea")
    # and a status for two of them, the report naming what was already so
    for lead in made[:2]:
        page.get_by_label(f"Select {lead['name']}").check()
    bar.get_by_label("Set status").select_option("qualified")
    bar.get_by_role("button", name="Set status").click()
    expect(report).to_contain_text("Status: 2 updated, 0 skipped")
    assert stack.call("GET", f"/leads/{made[0]['id']}").json()["status"] == "qualified"


def _unread(stack) -> int:
    return stack.call("GET", "/inbox", params={"unread": "true", "limit": 1}).json()["unreadCount"]


def test_a_reply_shows_as_a_badge_and_opens_from_the_inbox(signed_in, stack):
    lead = stack.post("/leads", {"name": "Inbox Ida", "phone": unique_phone()})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads")
    badge = page.locator("[data-unread-badge]")
    before = _unread(stack)
    resp = requests.post(
        f"{stack.simulator}/simulator/inbound-sms",
        json={"from": lead["phone"], "to": SIM_NUMBER, "body": "Yes, call me tomorrow"},
        timeout=10,
    )
    assert resp.ok, resp.text
    wait_for(lambda: _unread(stack), lambda n: n == before + 1, timeout=30)
    page.goto(f"{stack.dashboard}/#/team")  # a navigation asks for the count again
    expect(badge).to_have_attribute("data-count", str(before + 1), timeout=15_000)
    expect(badge).to_be_visible()
    expect(page.get_by_role("link", name="Inbox")).to_contain_text(f"{before + 1} unread")

    page.get_by_role("link", name="Inbox").click()
    thread = page.locator(f"[data-inbox-lead='{lead['id']}']")
    expect(thread).to_have_attribute("data-unread", "true")
    expect(thread).to_contain_text("Inbox Ida")
    expect(thread).to_contain_text("Yes, call me tomorrow")
    shot(page, "inbox")
    thread.get_by_role("button").click()
    expect(page).to_have_url(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.locator("[data-timeline]")).to_contain_text("Yes, call me tomorrow")
    expect(badge).to_have_attribute("data-count", str(before), timeout=15_000)
    item = stack.call("GET", "/inbox").json()["items"]
    assert next(i for i in item if i["leadId"] == lead["id"])["unread"] is False


def _call(stack, member, lead) -> dict:
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": SIM_NUMBER}
    call = stack.post("/calls", body)
    return wait_for(
        lambda: stack.call("GET", f"/calls/{call['id']}").json(),
        lambda c: c["status"] in FINAL and c["leadLegStatus"] in FINAL,
        timeout=60,
    )


def test_the_call_log_filters_by_outcome_and_member(signed_in, stack):
    ann = stack.post("/team-members", {"name": "Log Ann", "phone": unique_phone(area="415")})
    bob = stack.post("/team-members", {"name": "Log Bob", "phone": unique_phone(area="415")})
    busy = _call(stack, ann, stack.post("/leads", {"name": "Busy Bo", "phone": unique_phone("1")}))
    talked = _call(stack, ann, stack.post("/leads", {"name": "Talk Tia", "phone": unique_phone()}))
    missed = _call(
        stack, bob, stack.post("/leads", {"name": "Miss Mo", "phone": unique_phone("2")})
    )
    assert (busy["outcome"], talked["outcome"], missed["outcome"]) == (
        "busy",
        "connected",
        "no_answer",
    )
    day = busy["createdAt"][:10]
    page = signed_in
    page.goto(f"{stack.dashboard}/#/calls?from={day}&to={day}")
    log = page.locator("[data-call-log]")
    for call in (busy, talked, missed):
        expect(log.locator(f"tr[data-call-id='{call['id']}']")).to_be_visible()
    # a lead's name links to the lead
    link = log.locator(f"tr[data-call-id='{talked['id']}']").get_by_role("link", name="Talk Tia")
    expect(link).to_have_attribute("href", f"#/leads/{talked['leadId']}")

    page.get_by_label("Outcome").select_option("busy")
    expect(page).to_have_url(f"{stack.dashboard}/#/calls?from={day}&to={day}&outcome=busy")
    expect(log.locator(f"tr[data-call-id='{busy['id']}']")).to_be_visible()
    expect(log.locator("tr[data-call-id]:not([data-outcome='busy'])")).to_have_count(0)
    expect(log.locator(f"tr[data-call-id='{talked['id']}']")).to_have_count(0)

    page.get_by_label("Outcome").select_option("")
    page.get_by_label("Team member").select_option(bob["id"])
    expect(log.locator(f"tr[data-call-id='{missed['id']}']")).to_be_visible()
    expect(log.locator("tr[data-call-id]")).to_have_count(1)
    shot(page, "call-log")


def test_phone_numbers_read_nationally_and_copy_as_e164(signed_in, stack):
    lead = stack.post("/leads", {"name": "Phone Pia", "phone": "+12125550188"})
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    shown = page.locator("[data-e164='+12125550188']").first
    expect(shown).to_have_text("(212) 555-0188")
    expect(shown).to_have_attribute("title", "+12125550188")
    copied = page.evaluate(
        """() => {
          const el = document.querySelector("[data-e164='+12125550188']");
          const range = document.createRange();
          range.selectNodeContents(el);
          const sel = getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          const data = new DataTransfer();
          const init = {clipboardData: data, bubbles: true, cancelable: true};
          el.dispatchEvent(new ClipboardEvent("copy", init));
          return data.getData("text/plain");
        }"""
    )
    assert copied == "+12125550188"
    # a number of another country stays E.164
    other = stack.post("/leads", {"name": "Paris Pierre", "phone": "+33142685300"})
    page.goto(f"{stack.dashboard}/#/leads/{other['id']}")
    expect(page.locator("[data-e164='+33142685300']").first).to_have_text("+33142685300")


def test_the_selection_is_kept_across_pages_of_the_list(signed_in, stack):
    """Select all on page 1, Next, select all on page 2: the bulk action takes both pages (Next
    draws the page anew; the selection must outlive it)."""
    caller = stack.post(
        "/team-members", {"name": "Pages Pia", "phone": unique_phone(area="415"), "role": "caller"}
    )
    rows = ["name,phone"] + [f"Pagesel Lead {i:02d},{unique_phone()}" for i in range(27)]
    result = stack.call(
        "POST", "/leads/import", data="\n".join(rows), headers={"Content-Type": "text/csv"}
    ).json()
    assert result["created"] == 27, result
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads?q=pagesel")
    table = page.get_by_role("table", name="Leads")
    expect(table.locator("tbody tr")).to_have_count(25)
    page.get_by_label("Select every lead on this page").check()
    bar = page.get_by_role("region", name="Bulk actions")
    expect(bar.locator("[data-selected-count]")).to_have_text("25 selected")
    page.get_by_role("button", name="Next").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(bar.locator("[data-selected-count]")).to_have_text("25 selected")
    page.get_by_label("Select every lead on this page").check()
    expect(bar.locator("[data-selected-count]")).to_have_text("27 selected")
    page.get_by_role("button", name="Previous").click()
    expect(table.locator("tbody tr")).to_have_count(25)
    expect(page.get_by_label("Select every lead on this page")).to_be_checked()
    bar.get_by_label("Assign to").select_option(caller["id"])
    bar.get_by_role("button", name="Assign").click()
    expect(page.locator("[data-bulk-report]")).to_contain_text("Assign: 27 updated, 0 skipped")
    mine = stack.call("GET", "/leads", params={"assignedToId": caller["id"], "limit": 100})
    assert len(mine.json()["items"]) == 27


def test_search_as_you_type_works_on_a_url_with_a_double_slash(signed_in, stack):
    """`make dev` prints the dashboard's URL with a trailing slash: a user adding `/#/leads` to
    it gets the path `//`, which the search's URL update must survive."""
    lead = stack.post("/leads", {"name": "Slashy Sam", "phone": unique_phone()})
    errors: list[str] = []
    page = signed_in
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{stack.dashboard}//#/leads")
    table = page.get_by_role("table", name="Leads")
    expect(table).to_be_visible()
    page.get_by_label("Search").fill("slashy")
    expect(table.locator(f"tr[data-lead-id='{lead['id']}']")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(1)
    assert errors == []


def test_a_lead_source_reads_as_words(signed_in, stack):
    """`csv_import` reads "CSV import" (it read "Csv import") on the lead page and in the
    Source filter; `inbound_sms` reads "Inbound SMS"."""
    phone = unique_phone()
    result = stack.call(
        "POST",
        "/leads/import",
        data=f"name,phone\nSource Sid,{phone}\n",
        headers={"Content-Type": "text/csv"},
    ).json()
    assert result["created"] == 1, result
    lead = next(x for x in stack.call("GET", "/leads", params={"q": phone[-7:]}).json()["items"])
    page = signed_in
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_text("CSV import", exact=True)).to_be_visible()
    page.goto(f"{stack.dashboard}/#/leads")
    source = page.get_by_label("Source")
    expect(source.locator("option[value=csv_import]")).to_have_text("CSV import")
    expect(source.locator("option[value=inbound_sms]")).to_have_text("Inbound SMS")
