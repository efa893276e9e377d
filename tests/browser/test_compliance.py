"""The Compliance page, the lead page's "can we contact them now?" panel, and refusals in the
call dialog and the SMS composer (API.md, "Compliance").

The rules editor and the suppression list run against the real stack (PUT /compliance/rules
and its 400s, the ledger's add, search, import, remove, and the 409 of a STOP-originated
opt-out), and so does the lead page's panel for a plain and a do-not-call lead; the panel at
night and the refusals take exact situations from the contract-shaped stand-ins
(fake_backend.py), as do two answers the stack cannot be made to give on demand: a 403 on
removal (a role changed under an open page)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import (
    PageWatch,
    hand_session,
    member_session,
    shot,
    unique_phone,
)
from tests.browser.fake_backend import FakeBackend

SIM_NUMBER = "+15005550006"
PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => {
    const el = document.querySelector('dialog [data-progress-text]');
    if (el && el.textContent && window.__progress.at(-1) !== el.textContent) {
      window.__progress.push(el.textContent);
    }
  }).observe(document.body, {subtree: true, characterData: true, childList: true});
}"""


def cors(stack: Any) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": stack.origin,
        "Access-Control-Allow-Headers": "Authorization,Content-Type",
        "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
        "Content-Type": "application/json",
    }


@pytest.fixture
def rules_kept(stack: Any) -> Iterator[dict[str, Any]]:
    """The rules document as it is, put back afterwards (the session's stack allows calls at
    every hour; a saved document must not change that for the tests after this one)."""
    before = stack.call("GET", "/compliance/rules").json()
    yield before
    resp = stack.call("PUT", "/compliance/rules", json=before)
    assert resp.status_code == 200, resp.text


def rules_form(page: Any) -> Any:
    return page.locator("form[data-rules-form]")


def test_an_admin_edits_saves_and_restores_the_rules_and_sees_a_bad_field_where_it_is(
    signed_in, stack, watch, rules_kept
):
    watch.allow_http(400)
    page = signed_in
    shipped = rules_kept
    page.goto(f"{stack.dashboard}/#/compliance")
    expect(page.get_by_role("heading", name="Compliance")).to_be_visible()
    form = rules_form(page)
    expect(form.get_by_label("Calling hours: every number")).to_have_value(
        shipped["callingHours"]["default"]
    )
    expect(page.get_by_text("not legal advice")).to_be_visible()
    expect(page.get_by_text("47 CFR § 64.1200(c)(1)")).to_be_visible()
    fl = form.locator("[data-row=callingHours][data-state=FL]")
    expect(fl.get_by_label("Window")).to_have_value("08:00-20:00")
    tx_sunday = form.locator("[data-row=weekdays]").first
    expect(tx_sunday.get_by_label("State", exact=True)).to_have_value("TX")
    expect(tx_sunday.get_by_label("Day", exact=True)).to_have_value("sun")
    expect(form.get_by_label("Blocked prefixes")).to_have_value(
        ", ".join(shipped["blockedPrefixes"])
    )
    expect(form.get_by_label("Allowed countries")).to_have_value("US, CA")

    # A new state's calling window, a cap, a holiday: saved as one whole document.
    calling = form.locator("fieldset").filter(has_text="Calling hours by state")
    calling.get_by_role("button", name="Add state").click()
    new_row = form.locator("[data-row=callingHours]").last
    expect(new_row.get_by_label("State", exact=True)).to_be_focused()
    new_row.get_by_label("State", exact=True).fill("ga")
    new_row.get_by_label("Window").fill("09:00-20:00")
    attempts = form.locator("fieldset").filter(has_text="Calls per number in 24 hours by state")
    attempts.get_by_role("button", name="Add state").click()
    form.locator("[data-row=maxAttemptsPer24h]").last.get_by_label("State", exact=True).fill("GA")
    form.locator("[data-row=maxAttemptsPer24h]").last.get_by_label("Calls").fill("2")
    form.get_by_label("Holidays: every number").fill("12-25, 2027-01-01")
    save_and_wait(page, form)
    saved = stack.call("GET", "/compliance/rules").json()
    assert saved["callingHours"]["byState"]["GA"] == "09:00-20:00"
    assert saved["callingHours"]["byState"]["FL"] == "08:00-20:00"
    assert saved["maxAttemptsPer24h"]["byState"] == {
        **shipped["maxAttemptsPer24h"]["byState"],
        "GA": 2,
    }
    assert saved["holidays"]["default"] == ["12-25", "2027-01-01"]
    assert saved["weekdays"] == shipped["weekdays"]
    assert saved["textingHours"] == shipped["textingHours"]

    # A bad window: the API's 400 names callingHours.byState.FL, shown on that row.
    fl.get_by_label("Window").fill("8am-8pm")
    form.get_by_role("button", name="Save rules").click()
    error = fl.locator("[data-row-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("expected HH:MM-HH:MM")
    expect(fl.get_by_label("Window")).to_have_attribute("aria-invalid", "true")
    expect(fl.get_by_label("Window")).to_be_focused()
    expect(form.get_by_role("alert")).to_contain_text("The rules were not saved")
    expect(form.get_by_role("alert")).to_contain_text("callingHours.byState.FL")
    shot(page, "compliance-rules-error")
    assert stack.call("GET", "/compliance/rules").json()["callingHours"]["byState"]["FL"] == (
        "08:00-20:00"
    )

    # A bad prefix (an index in the path): shown under the prefixes field.
    fl.get_by_label("Window").fill("08:00-20:00")
    form.get_by_label("Blocked prefixes").fill("+1900, 1976")
    form.get_by_role("button", name="Save rules").click()
    prefixes = form.get_by_label("Blocked prefixes")
    expect(prefixes).to_have_attribute("aria-invalid", "true")
    expect(prefixes).to_be_focused()
    expect(form.locator("[data-error-for=blockedPrefixes]")).to_contain_text("expected +")
    expect(fl.locator("[data-row-error]")).to_be_hidden()

    # Two rows for one state are caught before sending (an object cannot hold both).
    form.get_by_label("Blocked prefixes").fill("+1900")
    calling.get_by_role("button", name="Add state").click()
    form.locator("[data-row=callingHours]").last.get_by_label("State", exact=True).fill("FL")
    form.locator("[data-row=callingHours]").last.get_by_label("Window").fill("09:00-17:00")
    puts_before = stack.call("GET", "/audit?action=compliance.rules_changed").json()["items"]
    form.get_by_role("button", name="Save rules").click()
    expect(
        form.locator("[data-row=callingHours]").last.locator("[data-row-error]")
    ).to_contain_text("FL appears twice")
    puts_after = stack.call("GET", "/audit?action=compliance.rules_changed").json()["items"]
    assert len(puts_after) == len(puts_before)
    form.locator("[data-row=callingHours]").last.get_by_role(
        "button", name=re.compile("^Remove")
    ).click()

    # Restore the shipped defaults: into the form first, saved only with Save.
    form.get_by_role("button", name="Restore shipped defaults").click()
    expect(form.get_by_role("alert")).to_contain_text("The shipped defaults are in the form")
    expect(form.locator("[data-row=callingHours][data-state=GA]")).to_have_count(0)
    expect(form.get_by_label("Holidays: every number")).to_have_value("")
    assert stack.call("GET", "/compliance/rules").json()["callingHours"]["byState"].get("GA")
    save_and_wait(page, form)
    assert stack.call("GET", "/compliance/rules").json() == shipped


def save_and_wait(page: Any, form: Any) -> None:
    """Save, and wait for the PUT's answer (a toast from an earlier save may still show)."""
    with page.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith("/compliance/rules")
    ) as answer:
        form.get_by_role("button", name="Save rules").click()
    assert answer.value.status == 200
    expect(form.get_by_role("button", name="Save rules")).to_be_enabled()
    expect(page.get_by_text("Compliance rules saved.").last).to_be_visible()


def new_member(stack: Any, role: str) -> tuple[dict[str, Any], dict[str, Any]]:
    tag = secrets.token_hex(3)
    email = f"{role}-{tag}@example.com"
    created = stack.post(
        "/team-members",
        {
            "name": f"{role.title()} {tag}",
            "phone": unique_phone(area="415"),
            "email": email,
            "role": role,
        },
    )
    answer = member_session(
        stack, email, created["invite"]["temporaryPassword"], f"Pw-{tag}-Compliance-2026"
    )
    return created, answer


def test_a_caller_sees_no_rules_or_list_and_can_only_add_a_number(page, stack):
    caller, answer = new_member(stack, "caller")
    hand_session(page, answer["refreshToken"])
    page.goto(f"{stack.dashboard}/#/compliance")
    expect(page.get_by_role("heading", name="Compliance")).to_be_visible()
    expect(page.get_by_role("link", name="Compliance")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Only an admin can see and change the calling rules")).to_be_visible()
    expect(page.get_by_text("not legal advice")).to_be_visible()
    expect(page.locator("form[data-rules-form]")).to_have_count(0)
    expect(page.get_by_role("button", name="Save rules")).to_have_count(0)
    expect(page.get_by_text("Only managers and admins can see the list.")).to_be_visible()
    expect(page.get_by_role("table", name="Suppressed numbers")).to_have_count(0)
    expect(page.get_by_role("button", name="Import numbers")).to_have_count(0)

    phone = unique_phone(area="646")
    add = page.get_by_role("form", name="Add a number to the suppression list")
    add.get_by_label("Phone number").fill(f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}")
    add.get_by_label("Reason (optional)").fill("Asked by email")
    add.get_by_role("button", name="Add").click()
    expect(page.get_by_text(f"{phone} is on the suppression list.")).to_be_visible()
    item = stack.call("GET", f"/suppressions/{phone.replace('+', '%2B')}").json()
    assert item["channels"] == ["voice", "sms"]
    assert item["source"] == "manual" and item["reason"] == "Asked by email"
    assert item["createdBy"]["name"] == caller["name"]


def rows_for(page: Any, phone: str) -> Any:
    return page.get_by_role("table", name="Suppressed numbers").locator(f"tr[data-phone='{phone}']")


def test_suppressions_are_added_searched_imported_and_removed_by_an_admin(
    signed_in, stack, watch, tmp_path
):
    watch.allow_http(400, 403, 409)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/compliance")
    expect(page.get_by_role("heading", name="Compliance")).to_be_visible()

    # Add (texts only) and find it in the list, newest first.
    phone = unique_phone(area="718")
    add = page.get_by_role("form", name="Add a number to the suppression list")
    add.get_by_label("Phone number").fill(phone)
    add.get_by_label("Suppress").select_option(label="Texts only")
    add.get_by_label("Reason (optional)").fill("Complained on LinkedIn")
    add.get_by_role("button", name="Add").click()
    row = rows_for(page, phone)
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-channel", "sms")
    expect(row).to_contain_text("Complained on LinkedIn")
    expect(row).to_contain_text("Added by hand")
    first = page.get_by_role("table", name="Suppressed numbers").locator("tbody tr").first
    expect(first).to_have_attribute("data-phone", phone)

    # A bad number is refused next to its field.
    add.get_by_label("Phone number").fill("12")
    add.get_by_role("button", name="Add").click()
    expect(add.get_by_label("Phone number")).to_have_attribute("aria-invalid", "true")

    # Search by the whole number in another form; a part of one is explained.
    other = unique_phone(area="917")
    stack.post("/suppressions", {"phone": other, "reason": "other"})
    search = page.get_by_role("search", name="Search the suppression list")
    search.get_by_label("Find a number").fill(f"1 ({phone[2:5]}) {phone[5:8]} {phone[8:]}")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"#/compliance\?phone="))
    expect(rows_for(page, phone)).to_have_count(1)
    expect(page.get_by_role("table", name="Suppressed numbers").locator("tbody tr")).to_have_count(
        1
    )
    search = page.get_by_role("search", name="Search the suppression list")
    search.get_by_label("Find a number").fill("555")
    search.get_by_role("button", name="Search").click()
    expect(page.locator("[data-search-error]")).to_contain_text("is not a whole phone number")
    page.get_by_role("link", name="Show all").click()
    expect(rows_for(page, other)).to_have_count(2)

    # Import a file: upload progress, then the server's work with the time elapsed, then
    # what it did (a number already listed, a line that is not a number).
    lines = ["phone"] + [f"+1347{n:07d}" for n in range(2_000_000, 2_002_000)]
    lines += [phone, "12345", "212,5550199"]
    path = tmp_path / "dnc.txt"
    path.write_text("\n".join(lines) + "\n")
    page.get_by_role("button", name="Import numbers").click()
    dialog = page.get_by_role("dialog", name="Import numbers to suppress")
    page.evaluate(PROGRESS)
    dialog.get_by_label("File of numbers").set_input_files(str(path))
    dialog.get_by_label("Suppress").select_option(label="Calls only")
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.locator("[data-import-stat=added] dd")).to_have_text("2,002", timeout=90_000)
    expect(dialog.locator("[data-import-stat=duplicates] dd")).to_have_text("0")
    expect(dialog.locator("[data-import-stat=errors] dd")).to_have_text("1")
    expect(dialog.locator("[data-import-errors]")).to_contain_text(str(len(lines) - 1))
    seen = page.evaluate("window.__progress")
    assert any(t.startswith("Uploading dnc.txt") for t in seen), seen
    assert any("adding the numbers" in t and "elapsed" in t for t in seen), seen
    shot(page, "compliance-import-result")
    # The texts-only number now refuses calls too; 212-555-0199 came from the registry layout.
    item = stack.call("GET", f"/suppressions/{phone.replace('+', '%2B')}").json()
    assert sorted(item["channels"]) == ["sms", "voice"]
    assert stack.call("GET", "/suppressions/%2B12125550199").json()["voice"]["source"] == "import"
    dialog.get_by_role("button", name="Close").first.click()

    # Remove one channel: confirmed, then gone from the list and from the ledger.
    page.goto(f"{stack.dashboard}/#/compliance?phone={phone.replace('+', '%2B')}")
    texts = rows_for(page, phone).filter(has_text="Texts")
    texts.get_by_role("button", name=f"Remove {phone} from the texts suppression list").click()
    page.get_by_role("dialog", name=f"Remove {phone} for texts?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(page.get_by_text(f"{phone} can be texted again.")).to_be_visible()
    expect(rows_for(page, phone)).to_have_count(1)
    expect(rows_for(page, phone)).to_have_attribute("data-channel", "voice")
    assert stack.call("GET", f"/suppressions/{phone.replace('+', '%2B')}").json()["channels"] == [
        "voice"
    ]

    # A STOP from the person: only their START lifts it, the admin's removal is refused.
    stopped = unique_phone(area="929")
    stack.post("/leads", {"name": "Stop Sender", "phone": stopped})
    resp = requests.post(
        f"{stack.simulator}/simulator/inbound-sms",
        json={"from": stopped, "to": SIM_NUMBER, "body": "STOP"},
        timeout=10,
    )
    assert resp.ok, resp.text
    encoded = stopped.replace("+", "%2B")
    for _ in range(100):
        if stack.call("GET", f"/suppressions/{encoded}").status_code == 200:
            break
        page.wait_for_timeout(200)
    page.goto(f"{stack.dashboard}/#/compliance?phone={encoded}")
    stop_row = rows_for(page, stopped)
    expect(stop_row).to_have_attribute("data-source", "sms_stop")
    expect(stop_row).to_contain_text("They texted STOP")
    stop_row.get_by_role("button", name=re.compile("^Remove")).click()
    page.get_by_role("dialog", name=re.compile("^Remove")).get_by_role(
        "button", name="Remove"
    ).click()
    problem = page.locator("[data-remove-error]")
    expect(problem).to_contain_text("opted out of texts itself by replying STOP")
    expect(problem).to_contain_text("texting START")
    expect(rows_for(page, stopped)).to_have_count(1)
    assert stack.call("GET", f"/suppressions/{encoded}").json()["sms"]["source"] == "sms_stop"
    shot(page, "compliance-stop-refused")

    # A removal the API refuses as forbidden (the admin was demoted while the page was open).
    def forbidden(route: Any) -> None:
        if route.request.method != "DELETE":
            route.fallback()
            return
        body = {"error": {"code": "forbidden", "message": "admins only: remove suppressions"}}
        route.fulfill(status=403, headers=cors(stack), body=json.dumps(body))

    page.route(f"{stack.api}/suppressions/*", forbidden)
    page.goto(f"{stack.dashboard}/#/compliance?phone={other.replace('+', '%2B')}")
    rows_for(page, other).filter(has_text="Calls").get_by_role(
        "button", name=re.compile("^Remove")
    ).click()
    page.get_by_role("dialog", name=re.compile("^Remove")).get_by_role(
        "button", name="Remove"
    ).click()
    expect(problem).to_contain_text("Only an admin can take a number off the suppression list")
    expect(rows_for(page, other)).to_have_count(2)


def test_a_big_file_in_several_requests_shows_progress_resumes_and_sums_the_answers(
    signed_in, stack, tmp_path, watch
):
    """The API stops at its time budget and answers `nextRow`; the suppression dialog sends the
    file again from there (with the same channels), shows the lines handled of the file's, and
    when a continuation fails offers Resume from the last `nextRow`; the report sums every
    answer. The answers are stubbed (page.route): a real import in several requests needs more
    than 5,000 numbers a slice and 20 s a request (tests/api/test_suppression_import_resume.py
    drives the real thing, `fromRow` and all)."""
    from urllib.parse import parse_qs, urlparse

    from tests.browser.test_import_export import WATCH_PROGRESS

    watch.allow_http(503)
    path = tmp_path / "big.txt"
    path.write_text("phone\n" + "".join(f"{unique_phone()}\n" for _ in range(10)))
    base = {"errorsTruncated": False, "totalRows": 10}
    answers = {
        None: {"rows": 4, "added": 3, "duplicates": 0, "nextRow": 6,
               "errors": [{"row": 3, "message": "not a phone number: 'x'"}]},
        "6": {"rows": 4, "added": 4, "duplicates": 0, "nextRow": 10, "errors": []},
        "10": {"rows": 2, "added": 0, "duplicates": 1, "nextRow": None,
               "errors": [{"row": 11, "message": "not a phone number: 'y'"}]},
    }  # fmt: skip
    sent: list[tuple[str | None, str | None]] = []

    def answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        params = parse_qs(urlparse(route.request.url).query)
        from_row = params.get("fromRow", [None])[0]
        sent.append((from_row, params.get("channels", [None])[0]))
        headers = {"Access-Control-Allow-Origin": stack.dashboard}
        if from_row == "6" and len(sent) == 2:  # the first continuation fails
            body = {"error": {"code": "unavailable", "message": "Service Unavailable"}}
            route.fulfill(status=503, json=body, headers=headers)
            return
        data = {**base, **answers[from_row]}
        data["errorCount"] = len(data["errors"])
        route.fulfill(json=data, headers=headers)

    page = signed_in
    page.route(lambda url: urlparse(url).path.endswith("/suppressions/import"), answer)
    page.goto(f"{stack.dashboard}/#/compliance")
    page.get_by_role("button", name="Import numbers").click()
    dialog = page.get_by_role("dialog", name="Import numbers to suppress")
    dialog.get_by_label("File of numbers").set_input_files(str(path))
    dialog.get_by_label("Suppress").select_option(label="Calls only")
    page.evaluate(WATCH_PROGRESS)
    dialog.get_by_role("button", name="Import").click()

    # the continuation failed: what was imported so far, and Resume
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("The import stopped after 4 of 10 lines")
    expect(alert).to_contain_text("Resume goes on from line 6")
    report = dialog.locator("[data-import-result]")
    expect(report.locator("[data-import-stat=added] dd")).to_have_text("3")
    resume = dialog.get_by_role("button", name="Resume")
    expect(resume).to_be_focused()
    steps = page.evaluate("window.__importSteps")
    assert any(s.startswith("Imported 4 of 10 lines…|40") for s in steps), steps
    resume.click()

    expect(report.locator("[data-import-stat=rows] dd")).to_have_text("10")
    expect(report.locator("[data-import-stat=added] dd")).to_have_text("7")
    expect(report.locator("[data-import-stat=duplicates] dd")).to_have_text("1")
    expect(report.locator("[data-import-stat=errors] dd")).to_have_text("2")
    expect(dialog.get_by_role("button", name="Resume")).to_have_count(0)
    expect(dialog.get_by_role("status")).to_have_text("7 added, 1 already listed, 2 errors.")
    cells = report.get_by_role("table").locator("tbody td").all_inner_texts()
    assert cells[0::2] == ["3", "11"], cells
    steps = page.evaluate("window.__importSteps")
    assert any(s.startswith("Imported 8 of 10 lines…|80") for s in steps), steps
    assert steps[-1] == "hidden", steps
    # Resume went on from the last nextRow, every request with the channels chosen
    assert sent == [(None, "voice"), ("6", "voice"), ("6", "voice"), ("10", "voice")]


def test_a_manager_reads_and_imports_but_does_not_remove_or_edit_rules(page, stack):
    _manager, answer = new_member(stack, "manager")
    number = unique_phone(area="305")
    stack.post("/suppressions", {"phone": number, "channels": ["voice"]})
    hand_session(page, answer["refreshToken"])
    page.goto(f"{stack.dashboard}/#/compliance?phone={number.replace('+', '%2B')}")
    expect(rows_for(page, number)).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    expect(page.get_by_role("button", name="Import numbers")).to_be_visible()
    expect(page.get_by_text("Only an admin can see and change the calling rules")).to_be_visible()


# ---------------------------------------------------------------- the lead page


@pytest.fixture
def tokyo(browser: Any, stack: Any, watch: PageWatch) -> Iterator[Any]:
    """A signed-in admin's page whose clock is in Tokyo: times the lead page shows "in your
    time" are then told apart from the lead's (New York) and from UTC."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo", locale="en-US"
    )
    ctx.set_default_timeout(10_000)
    pg = ctx.new_page()
    pg.on("console", watch.on_console)
    pg.on("pageerror", watch.on_page_error)
    hand_session(pg, stack.login(stack.admin_email, stack.admin_password)["refreshToken"])
    yield pg
    ctx.close()
    assert watch.problems == [], "\n".join(watch.problems)


NIGHT = {
    "allowed": False,
    "reason": "calling_hours",
    "message": "It is 23:10 for this number (America/New_York); calls are allowed 08:00-21:00.",
    "details": {
        "opensAt": "2026-12-08T13:00:00Z",
        "localTime": {"America/New_York": "2026-12-07T23:10"},
        "window": "08:00-21:00",
        "state": "NY",
        "leadState": None,
        "timezones": ["America/New_York"],
        "failClosed": False,
    },
}
ALLOWED = {"allowed": True, "reason": None, "message": None, "details": {}}


def test_the_lead_page_says_when_the_number_can_be_called_and_texted(tokyo, stack):
    page = tokyo
    lead = stack.post("/leads", {"name": "Nora Night", "phone": unique_phone()})
    fake = FakeBackend(stack.api, stack.origin).install(page)
    fake.lead_compliance = {
        "voice": NIGHT,
        "sms": {**NIGHT, "details": {**NIGHT["details"], "window": "08:00-20:00"}},
    }
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    box = page.get_by_role("region", name="Can we contact them now?")
    voice = box.locator("[data-compliance-channel=voice]")
    expect(voice).to_have_attribute("data-allowed", "false")
    expect(voice).to_contain_text("Cannot be called now")
    expect(voice).to_contain_text("Outside calling hours")
    why = voice.locator("[data-compliance-why]")
    expect(why).to_contain_text("in NY (08:00-21:00, the lead's local time)")
    # 13:00 UTC is 22:00 in Tokyo (the viewer) and 08:00 in New York (the lead).
    expect(why).to_contain_text("It opens Dec 8, 2026, 10:00 PM your time")
    expect(why).to_contain_text("Tue 8:00 AM (America/New_York) for the lead")
    expect(voice).to_contain_text("Lead's local time now: 23:10 on 2026-12-07 (America/New_York)")
    sms = box.locator("[data-compliance-channel=sms]")
    expect(sms).to_contain_text("Cannot be texted now")
    expect(sms).to_contain_text("Outside texting hours")
    expect(sms).to_contain_text("08:00-20:00")
    expect(box.locator("[data-lead-suppression]")).to_have_count(0)
    shot(page, "lead-compliance-night")

    fake.lead_compliance = {"voice": ALLOWED, "sms": ALLOWED}
    page.reload()
    expect(box.locator("[data-compliance-channel=voice]")).to_have_attribute("data-allowed", "true")
    expect(box).to_contain_text("Can be called now")
    expect(box).to_contain_text("Can be texted now")
    assert ("GET", f"/leads/{lead['id']}/compliance", None) in fake.requests


def test_the_lead_page_asks_the_api_and_shows_the_numbers_suppression(tokyo, stack):
    """The real GET /leads/{id}/compliance: a plain lead may be reached (the test stack allows
    every hour), a do-not-call lead may not (a voice suppression refuses texts too), and its
    ledger item is shown with a link to it on the Compliance page."""
    page = tokyo
    plain = stack.post("/leads", {"name": "Paula Plain", "phone": unique_phone()})
    page.goto(f"{stack.dashboard}/#/leads/{plain['id']}")
    box = page.get_by_role("region", name="Can we contact them now?")
    expect(box.locator("[data-compliance-channel=voice]")).to_have_attribute("data-allowed", "true")
    expect(box.locator("[data-compliance-channel=sms]")).to_have_attribute("data-allowed", "true")
    expect(box.locator("[data-lead-suppression]")).to_have_count(0)

    lead = stack.post(
        "/leads", {"name": "Dina Donotcall", "phone": unique_phone(), "doNotCall": True}
    )
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    voice = box.locator("[data-compliance-channel=voice]")
    expect(voice).to_have_attribute("data-reason", "do_not_call")
    expect(voice).to_contain_text("They asked not to be contacted")
    expect(voice).to_contain_text("calls to it are refused")
    sms = box.locator("[data-compliance-channel=sms]")
    expect(sms).to_have_attribute("data-allowed", "false")
    expect(sms).to_contain_text("texts to it are refused")
    held = box.locator("[data-lead-suppression]")
    expect(held).to_contain_text("This number is suppressed")
    expect(held.locator("[data-suppressed-channel=voice]")).to_contain_text("Calls: Set on a lead")
    # doNotCall suppresses calls (a voice suppression refuses marketing texts too, by rule).
    expect(held.locator("[data-suppressed-channel=sms]")).to_have_count(0)

    # A STOP arrives while the page is open: the lead page follows it.
    resp = requests.post(
        f"{stack.simulator}/simulator/inbound-sms",
        json={"from": lead["phone"], "to": SIM_NUMBER, "body": "STOP"},
        timeout=10,
    )
    assert resp.ok, resp.text
    expect(sms).to_have_attribute("data-reason", "opted_out", timeout=30_000)
    expect(sms).to_contain_text("They opted out of texts")
    expect(held.locator("[data-suppressed-channel=sms]")).to_contain_text("They texted STOP")

    held.get_by_role("link", name="See it on the Compliance page").click()
    expect(page.get_by_role("heading", name="Compliance")).to_be_visible()
    rows = rows_for(page, lead["phone"])
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Calls")).to_have_attribute("data-source", "lead_flag")
    expect(rows.filter(has_text="Texts")).to_have_attribute("data-source", "sms_stop")


# ---------------------------------------------------------------- refusals


def test_the_call_dialog_and_the_composer_explain_refusals_in_plain_words(tokyo, stack, watch):
    watch.allow_http(422)
    page = tokyo
    lead = stack.post("/leads", {"name": "Rita Refused", "phone": unique_phone()})
    fake = FakeBackend(stack.api, stack.origin).install(page)
    page.goto(f"{stack.dashboard}/#/leads/{lead['id']}")
    expect(page.get_by_role("heading", name="Rita Refused")).to_be_visible()

    def refused_call(blocked: dict[str, Any]) -> tuple[Any, Any]:
        fake.blocked = blocked
        page.get_by_role("button", name="Call", exact=True).click()
        dialog = page.get_by_role("dialog", name="Call Rita Refused")
        dialog.get_by_role("button", name="Start call").click()
        refusal = dialog.locator("[data-call-blocked]")
        expect(refusal).to_contain_text("This call cannot be placed")
        return dialog, refusal

    _dialog, refusal = refused_call(
        {
            "message": NIGHT["message"],
            "details": {"reason": "calling_hours", "channel": "voice", **NIGHT["details"]},
        }
    )
    expect(refusal.locator("[data-blocked-reason]")).to_have_text("Outside calling hours")
    expect(refusal).to_contain_text("It opens Dec 8, 2026, 10:00 PM your time")
    expect(refusal).to_contain_text("8:00 AM (America/New_York) for the lead")
    expect(refusal).not_to_contain_text("calling_hours")
    shot(page, "call-refused-calling-hours")
    page.keyboard.press("Escape")

    _dialog, refusal = refused_call(
        {
            "message": "callerId: Numbers starting +1900 may not be called or texted.",
            "details": {"reason": "restricted_number", "prefix": "+1900", "field": "callerId"},
        }
    )
    expect(refusal).to_contain_text("One of our own numbers is restricted")
    expect(refusal).to_contain_text("The caller ID starts with +1900")
    page.keyboard.press("Escape")

    _dialog, refusal = refused_call(
        {
            "message": "cap",
            "details": {"reason": "attempt_limit", "attempts": 3, "limit": 3, "state": "FL"},
        }
    )
    expect(refusal).to_contain_text("Too many calls to this number today")
    expect(refusal).to_contain_text("called 3 times in the last 24 hours; the limit in FL is 3")
    page.keyboard.press("Escape")

    _dialog, refusal = refused_call({"message": "suppressed", "details": {"reason": "suppressed"}})
    expect(refusal).to_contain_text("This number is on the suppression list")
    expect(refusal).to_contain_text("Only an admin can remove it")
    page.keyboard.press("Escape")

    composer = page.get_by_role("form", name="Send a text message")
    fake.blocked = {
        "message": NIGHT["message"],
        "details": {"reason": "calling_hours", "channel": "sms", **NIGHT["details"]},
    }
    composer.get_by_label("Text message").fill("Hi Rita")
    composer.get_by_role("button", name="Send").click()
    blocked = composer.locator("[data-sms-blocked]")
    expect(blocked).to_contain_text("This text cannot be sent")
    expect(blocked).to_contain_text("Outside texting hours")
    expect(blocked).to_contain_text("10:00 PM your time")
    expect(composer.get_by_label("Text message")).to_have_value("Hi Rita")

    fake.blocked = {"message": "opted out", "details": {"reason": "opted_out", "channel": "sms"}}
    composer.get_by_role("button", name="Send").click()
    expect(blocked).to_contain_text("They opted out of texts")
    expect(blocked).to_contain_text("by texting START")
    expect(composer.get_by_label("Text message")).to_be_disabled()
    shot(page, "composer-refused-opted-out")
