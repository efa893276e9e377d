"""Campaigns, the lead list's "Add to campaign" and callbacks in the dashboard, against the real
local stack: what a manager does on the pages, checked on the page and through the API."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from playwright.sync_api import expect

from tests.browser.conftest import Stack, hand_session, member_session, unique_phone
from tests.helpers import wait_for

SIM_NUMBER = "+15005550006"


def member_token(stack: Stack) -> tuple[str, dict[str, Any]]:
    """The first admin signed in as a member (an access token and the member): callbacks and
    dialer sessions belong to a member, not to the stack's API key."""
    answer = stack.login(stack.admin_email, stack.admin_password)
    return answer["accessToken"], answer["member"]


def as_member(stack: Stack, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(
        method, f"{stack.api}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=15, **kw
    )


def test_a_manager_creates_edits_and_archives_a_campaign(signed_in, stack, watch):
    watch.allow_http(400)
    page = signed_in
    ann = stack.post("/team-members", {"name": "Camp Ann", "phone": unique_phone(area="415")})
    page.goto(f"{stack.dashboard}/#/campaigns")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()

    page.get_by_role("button", name="New campaign").first.click()
    dialog = page.get_by_role("dialog", name="New campaign")
    dialog.get_by_label("Name").fill("Spring push")
    dialog.get_by_label("Caller ID").select_option(SIM_NUMBER)
    dialog.get_by_label("Script").fill("Hi, this is {me} from Acme.")
    dialog.get_by_role("checkbox", name="Camp Ann").check()
    dialog.get_by_label("Attempts per lead").fill("4")
    dialog.get_by_label("Answering machines").select_option("voicemail")
    dialog.get_by_role("button", name="Create campaign").click()
    # A voicemail drop needs its message: said next to the field, nothing sent.
    expect(dialog.get_by_text("Write the message to leave on answering machines.")).to_be_visible()
    dialog.get_by_label("Attempts per lead").fill("25")
    dialog.get_by_label("Voicemail message").fill("Hi, Acme here. Call us back.")
    dialog.get_by_role("button", name="Create campaign").click()
    expect(dialog.get_by_text("a whole number from 1 to 20")).to_be_visible()
    dialog.get_by_label("Attempts per lead").fill("4")
    dialog.get_by_role("button", name="Create campaign").click()

    expect(page.get_by_role("heading", name="Spring push")).to_be_visible()
    campaign_id = page.url.rsplit("/", 1)[-1]
    made = stack.call("GET", f"/campaigns/{campaign_id}").json()
    assert (made["name"], made["callerId"], made["memberIds"], made["maxAttempts"]) == (
        "Spring push",
        SIM_NUMBER,
        [ann["id"]],
        4,
    )
    assert (made["amd"], made["voicemailMessage"]) == ("voicemail", "Hi, Acme here. Call us back.")
    settings = page.get_by_role("region", name="Settings")
    expect(settings).to_contain_text("Camp Ann")
    expect(settings).to_contain_text("At most 4, 240 minutes apart")
    expect(page.locator("[data-campaign-stat=dials] dd").first).to_have_text("0")

    expect(page.locator("[data-abandon-warning]")).to_have_count(0)

    # Over the legal 3 % abandon rate the page warns (the numbers stood in for: the live stack
    # abandons no call here).
    def over_the_limit(route: Any) -> None:
        stats = route.fetch().json()
        stats.update(humans=40, abandoned=2, abandonRate=0.05)
        route.fulfill(json=stats)

    page.route(f"**/campaigns/{campaign_id}/stats", over_the_limit)
    page.reload()
    warning = page.locator("[data-abandon-warning]")
    expect(warning).to_contain_text("The abandon rate is 5.0%, over the 3 % limit.")
    expect(page.locator("[data-campaign-stat=abandon]")).to_contain_text("2 abandoned")
    page.unroute(f"**/campaigns/{campaign_id}/stats")

    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit Spring push")
    dialog.get_by_label("Name").fill("Spring push (west)")
    dialog.get_by_label("Minutes between attempts").fill("60")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="Spring push (west)")).to_be_visible()
    edited = stack.call("GET", f"/campaigns/{campaign_id}").json()
    assert (edited["name"], edited["retryAfterMinutes"], edited["version"]) == (
        "Spring push (west)",
        60,
        made["version"] + 1,
    )

    page.get_by_role("link", name="Campaigns").first.click()
    row = page.locator(f"tr[data-campaign-id='{campaign_id}']")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Archive Spring push (west)").click()
    page.get_by_role("dialog", name="Archive Spring push (west)?").get_by_role(
        "button", name="Archive"
    ).click()
    expect(row).to_contain_text("Archived")
    expect(row.get_by_role("button")).to_have_count(0)  # an archived campaign is final
    assert stack.call("GET", f"/campaigns/{campaign_id}").json()["status"] == "archived"


def test_leads_are_added_from_the_selection_and_from_the_filter(signed_in, stack):
    page = signed_in
    owner = stack.post("/team-members", {"name": "Filter Finn", "phone": unique_phone(area="415")})
    leads = [
        stack.post(
            "/leads",
            {"name": f"Filter Lead {n}", "phone": unique_phone(), "assignedToId": owner["id"]},
        )
        for n in range(3)
    ]
    other = stack.post("/leads", {"name": "Not Finn's", "phone": unique_phone()})
    campaign = stack.post("/campaigns", {"name": "Finn's list", "callerId": SIM_NUMBER})

    page.goto(f"{stack.dashboard}/#/leads?assignedToId={owner['id']}")
    expect(page.locator("tr[data-lead-id]")).to_have_count(3)
    bar = page.locator("[data-bulk-bar]")
    page.get_by_role("checkbox", name="Select Filter Lead 0").check()
    page.get_by_role("checkbox", name="Select Filter Lead 1").check()
    expect(bar).to_contain_text("2 selected")
    bar.get_by_role("button", name="Add to campaign").click()
    dialog = page.get_by_role("dialog", name="Add to campaign")
    expect(dialog).to_contain_text("The 2 selected leads.")
    dialog.get_by_label("Campaign").select_option(campaign["id"])
    dialog.get_by_role("button", name="Add leads").click()
    expect(dialog.locator("[data-add-stat=added] dd")).to_have_text("2")
    expect(dialog.locator("[data-add-stat=skipped] dd")).to_have_text("0")
    dialog.get_by_role("button", name="Close", exact=True).last.click()
    expect(bar).to_have_count(0)  # the selection is cleared
    expect(page.get_by_role("checkbox", name="Select Filter Lead 0")).not_to_be_checked()

    # Everything the filter matches: the third lead is added, the two others are skipped.
    page.get_by_role("button", name="Add all matching the filter").click()
    dialog = page.get_by_role("dialog", name="Add to campaign")
    expect(dialog).to_contain_text("assigned to Filter Finn")
    dialog.get_by_label("Campaign").select_option(campaign["id"])
    dialog.get_by_role("button", name="Add leads").click()
    expect(dialog.locator("[data-add-stat=added] dd")).to_have_text("1")
    expect(dialog.locator("[data-add-stat=skipped] dd")).to_have_text("2")
    skipped = dialog.locator("[data-skipped-leads] li")
    expect(skipped).to_have_count(2)
    expect(skipped.first).to_contain_text("already in this campaign")
    expect(dialog).to_contain_text("3 leads examined")

    state = stack.call("GET", f"/campaigns/{campaign['id']}").json()
    assert state["counts"]["ready"] == 3
    ready = stack.call("GET", f"/campaigns/{campaign['id']}/leads", params={"state": "ready"})
    assert {x["leadId"] for x in ready.json()["items"]} == {lead["id"] for lead in leads}
    assert other["id"] not in {x["leadId"] for x in ready.json()["items"]}

    # The campaign's page lists them by state; a manager removes one.
    page.goto(f"{stack.dashboard}/#/campaigns/{campaign['id']}")
    tab = page.get_by_role("tab", name=re.compile(r"^Ready"))
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(tab).to_contain_text("(3)")
    table = page.get_by_role("table", name="Ready leads")
    expect(table.locator("tbody tr")).to_have_count(3)
    table.get_by_role("button", name="Remove Filter Lead 2 from the campaign").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(tab).to_contain_text("(2)")
    page.get_by_role("tab", name=re.compile(r"^Done")).click()
    expect(page.get_by_role("tabpanel")).to_contain_text("No done leads.")
    assert stack.call("GET", f"/campaigns/{campaign['id']}").json()["counts"]["ready"] == 2


def test_callbacks_are_scheduled_shown_when_due_and_deleted(signed_in, stack):
    page = signed_in
    token, me = member_token(stack)
    lead = stack.post("/leads", {"name": "Callback Carla", "phone": unique_phone()})
    soon = stack.post("/leads", {"name": "Callback Dora", "phone": unique_phone()})

    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    page.get_by_role("button", name="Schedule callback").click()
    dialog = page.get_by_role("dialog", name="Schedule a callback to Callback Carla")
    dialog.get_by_label("When").fill("2031-05-06T10:30")
    dialog.get_by_label("Note").fill("After the board meeting")
    dialog.get_by_role("button", name="Schedule callback").click()
    expect(page.get_by_text("Callback to Callback Carla scheduled")).to_be_visible()
    mine = as_member(stack, token, "GET", "/callbacks", params={"teamMemberId": me["id"]}).json()
    carla = next(c for c in mine["items"] if c["leadId"] == lead["id"])
    assert carla["note"] == "After the board meeting"
    assert carla["at"].startswith("2031-05-06")

    # One due in a moment: once its time has come the dashboard lists it as due.
    at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    made = as_member(stack, token, "POST", f"/leads/{soon['id']}/callbacks", json={"at": at})
    assert made.status_code == 201, made.text
    dora = made.json()
    wait_for(
        lambda: as_member(
            stack, token, "GET", "/callbacks", params={"teamMemberId": me["id"], "due": "true"}
        ).json()["items"],
        lambda items: any(c["id"] == dora["id"] for c in items),
        timeout=15,
    )
    page.goto(f"{stack.dashboard}/#/")
    due = page.locator(f"[data-callbacks=due] li[data-callback-id='{dora['id']}']")
    expect(due).to_contain_text("Callback Dora")
    expect(due).to_contain_text("Due")
    upcoming = page.locator(f"[data-callbacks=upcoming] li[data-callback-id='{carla['id']}']")
    expect(upcoming).to_contain_text("After the board meeting")

    due.get_by_role("button", name=re.compile(r"^Delete the callback to Callback Dora")).click()
    expect(page.get_by_text("Deleted the callback to Callback Dora.")).to_be_visible()
    expect(page.locator(f"li[data-callback-id='{dora['id']}']")).to_have_count(0)
    left = as_member(stack, token, "GET", "/callbacks", params={"teamMemberId": me["id"]}).json()
    assert dora["id"] not in {c["id"] for c in left["items"]}
    assert carla["id"] in {c["id"] for c in left["items"]}


def test_a_caller_sees_the_campaigns_they_are_in_and_may_only_dial_them(page, stack, watch):
    watch.allow_http(404)  # another campaign: as if it did not exist
    tag = secrets.token_hex(3)
    email = f"dial-{tag}@example.com"
    caller = stack.post(
        "/team-members",
        {"name": f"Dee Dialer {tag}", "phone": unique_phone(area="415"), "email": email},
    )
    answer = member_session(
        stack, email, caller["invite"]["temporaryPassword"], "Dialer-Passw0rd-1"
    )
    theirs = stack.post(
        "/campaigns", {"name": f"Dee's {tag}", "callerId": SIM_NUMBER, "memberIds": [caller["id"]]}
    )
    other = stack.post("/campaigns", {"name": f"Not Dee's {tag}", "callerId": SIM_NUMBER})
    hand_session(page, answer["refreshToken"])

    page.goto(f"{stack.dashboard}/#/campaigns")
    expect(page.locator("[data-signed-in-as]")).to_contain_text("(Caller)")
    expect(page.locator("tr[data-campaign-id]")).to_have_count(1)
    row = page.locator(f"tr[data-campaign-id='{theirs['id']}']")
    expect(row).to_contain_text(f"Dee Dialer {tag}")
    expect(row.get_by_role("button")).to_have_count(0)  # no Edit or Archive
    expect(page.get_by_role("button", name="New campaign")).to_have_count(0)
    row.get_by_role("link", name=f"Dee's {tag}").click()
    expect(page.get_by_role("button", name="Start dialing")).to_be_visible()
    expect(page.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)

    page.goto(f"{stack.dashboard}/#/campaigns/{other['id']}")
    expect(page.get_by_role("heading", name="Campaign not found")).to_be_visible()
    stack.post("/leads", {"name": f"Dee's lead {tag}", "phone": unique_phone()})
    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_role("button", name="Add all matching the filter")).to_have_count(0)
    page.get_by_role("checkbox", name=f"Select Dee's lead {tag}").check()
    expect(page.locator("[data-bulk-bar]")).to_contain_text("1 selected")
    expect(page.get_by_role("button", name="Add to campaign")).to_have_count(0)
