"""A power-dialer session run from the Dialer view against the live stack and the Twilio
simulator: start from the campaign's page, the simulator rings the member (who answers and
presses 1), the dialer calls the leads (a busy one, then a person), the person is bridged
(connected, then wrap-up when they hang up), the member picks a disposition and presses Next,
no lead is left to call, and End ends it. What the view shows is checked at each step.

The view polls every 2 s, so this stack's simulator runs at SIM_SPEED 2 (a conversation lasts
15 s, a ring 2 s) rather than the suite's 20, where a whole conversation would fit between two
polls. The statuses the page showed are recorded from the page itself (a MutationObserver on the
status card), so a step is never inferred from the API."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Stack, hand_session, run_stack, shot, unique_phone

SIM_NUMBER = "+15005550006"
SESSION_URL = re.compile(r"/dialer/sessions/[0-9A-Z]+$")
RECORD_STATUSES = """() => {
  window.__statuses = [];
  const seen = () => {
    const el = document.querySelector('[data-session-status]');
    const s = el && el.dataset.sessionStatus;
    if (s && window.__statuses[window.__statuses.length - 1] !== s) window.__statuses.push(s);
  };
  seen();
  new MutationObserver(seen).observe(document.body, {subtree: true, attributes: true,
    attributeFilter: ['data-session-status'], childList: true});
}"""


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from run_stack(tmp_path_factory.mktemp("slow-stack"), "2", "stack-slow.log")


def order_of(seen: list[str], *wanted: str) -> bool:
    """Whether `wanted` appear in `seen` in this order (others may come between)."""
    at = 0
    for status in seen:
        if at < len(wanted) and status == wanted[at]:
            at += 1
    return at == len(wanted)


def test_a_session_runs_from_the_dialer_view(page: Any, slow_stack: Stack, watch: Any) -> None:
    watch.allow_http(409)  # the refused Pause below
    stack = slow_stack
    answer = stack.login(stack.admin_email, stack.admin_password)
    me = answer["member"]
    assert me["phone"][-1] not in "12", me["phone"]  # the simulator's member answers, presses 1
    hand_session(page, answer["refreshToken"])
    # First the busy lead (added first, so dialled first), then a person who answers.
    busy = stack.post("/leads", {"name": "Busy Bea", "phone": unique_phone(last="1")})
    person = stack.post(
        "/leads", {"name": "Person Pia", "phone": unique_phone(last="5"), "company": "Pia Co"}
    )
    campaign = stack.post(
        "/campaigns",
        {
            "name": "Dialer day",
            "callerId": SIM_NUMBER,
            "memberIds": [me["id"]],
            "script": "Ask Pia about the spring order.",
            "retryAfterMinutes": 600,
        },
    )
    stack.post(f"/campaigns/{campaign['id']}/leads", {"leadIds": [busy["id"], person["id"]]})

    polls: list[tuple[float, str]] = []  # (when, url) of each GET of the session

    def on_request(request: Any) -> None:
        if request.method == "GET" and SESSION_URL.search(request.url):
            polls.append((time.monotonic(), request.url))

    page.on("request", on_request)
    page.goto(f"{stack.dashboard}/#/campaigns/{campaign['id']}")
    page.get_by_role("button", name="Start dialing").click()
    page.wait_for_url(re.compile(r"#/dialer/"))
    expect(page.get_by_role("heading", name="Dialer", exact=True)).to_be_visible()
    page.evaluate(RECORD_STATUSES)
    session_id = page.url.rsplit("/", 1)[-1]
    status = page.locator("[data-session-status]")
    buttons = {
        name: page.get_by_role("button", name=name, exact=True)
        for name in ("Next", "Pause", "End session", "Drop voicemail")
    }
    # The member's phone rings first (about 2.5 s at this speed: the view's first read sees it).
    expect(status).to_have_attribute("data-session-status", "connecting")
    expect(status).to_contain_text("Answer your phone and press 1")
    expect(buttons["Next"]).to_be_disabled()
    expect(buttons["End session"]).to_be_enabled()
    expect(page.locator("[data-script]")).to_have_text("Ask Pia about the spring order.")

    # The person answers and is put through; Pause and Next wait for the conversation's end.
    expect(status).to_have_attribute("data-session-status", "connected", timeout=40_000)
    expect(status).to_contain_text("Connected to Person Pia")
    expect(page.locator(f"[data-current-lead='{person['id']}']")).to_contain_text("Pia Co")
    expect(buttons["Next"]).to_be_disabled()
    expect(buttons["Pause"]).to_be_disabled()
    expect(buttons["End session"]).to_be_enabled()
    expect(page.locator("[data-session-count=dialed] dd")).to_have_text("2")
    expect(page.locator("[data-session-count=humans] dd")).to_have_text("1")
    shot(page, "dialer-connected")
    seen = page.evaluate("window.__statuses")
    assert order_of(seen, "dialing", "connected"), seen

    page.get_by_role("button", name="Call back later").click()
    expect(page.get_by_role("button", name="Call back later")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_label("Call notes").fill("Wants a demo on Tuesday")
    page.get_by_label("Call back at (optional)").fill("2031-05-06T10:30")

    # The person hangs up: wrap-up, where Next and Pause work and Drop voicemail does not.
    expect(status).to_have_attribute("data-session-status", "wrap_up", timeout=40_000)
    expect(status).to_contain_text("The call with Person Pia has ended")
    expect(buttons["Next"]).to_be_enabled()
    expect(buttons["Pause"]).to_be_enabled()
    expect(page.locator("[data-session-count=talk] dd")).not_to_have_text("0s")
    shot(page, "dialer-wrap-up")

    buttons["Next"].click()
    expect(page.get_by_text("Outcome saved.")).to_be_visible()
    # Nobody is left to call now: the busy lead waits for its retry in 10 hours.
    expect(status).to_have_attribute("data-session-status", "ready", timeout=20_000)
    expect(status).to_contain_text("No lead can be called right now; the dialer will try again")
    expect(page.get_by_role("button", name="Call back later")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(page.get_by_label("Call notes")).to_have_value("")
    # The callback set at wrap-up is listed in the view.
    later_call = page.locator("[data-callbacks=upcoming] li").filter(has_text="Person Pia")
    expect(later_call).to_contain_text("2031")
    seen = page.evaluate("window.__statuses")
    assert order_of(seen, "dialing", "connected", "wrap_up", "ready"), seen

    # Leaving the view stops its polling; the campaign's page leads back to the live session.
    page.get_by_role("link", name="← Dialer day").click()
    back = page.get_by_role("link", name="Return to your dialer session")
    expect(back).to_be_visible()
    left = len(polls)
    page.wait_for_timeout(4500)  # two poll intervals and more: nothing may be asked meanwhile
    assert len(polls) == left, polls[left:]
    back.click()
    expect(status).to_contain_text("No lead can be called right now")
    page.evaluate(RECORD_STATUSES)

    # The session moves behind the view's back (paused elsewhere) while its polls are held:
    # Pause in the view is refused (409) and said in words, then the view catches up.
    held: list[Any] = []

    def hold(route: Any) -> None:
        if held and held[0] is None:  # released: through at once
            route.continue_()
        else:
            held.append(route)

    page.route(lambda url: bool(SESSION_URL.search(url)), hold)
    again = stack.login(stack.admin_email, stack.admin_password)["accessToken"]
    mine = {"Authorization": f"Bearer {again}"}
    assert stack.call("POST", f"/dialer/sessions/{session_id}/pause", headers=mine).ok
    buttons["Pause"].click()
    refused = "You cannot pause now: the session is paused. The view shows where it is now."
    expect(page.get_by_text(refused)).to_be_visible()
    waiting, held[:] = list(held), [None]
    for route in waiting:
        route.continue_()
    expect(status).to_have_attribute("data-session-status", "paused")
    expect(buttons["Pause"]).to_be_hidden()
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(status).to_contain_text("No lead can be called right now")

    buttons["End session"].click()
    expect(status).to_have_attribute("data-session-status", "ended")
    ended = len(polls)
    expect(status).to_contain_text("This session has ended: you ended it.")
    for name in ("Next", "Pause", "End session"):
        expect(buttons[name]).to_be_disabled()
    shot(page, "dialer-ended")
    # Polls were 2 s apart at least, and none followed the end of the session.
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(polls[:left])]
    assert gaps and min(gaps) >= 1.9, gaps
    page.wait_for_timeout(4500)
    assert len(polls) == ended, polls[ended:]

    # The API agrees with what the page showed.
    # (as the member: a session is theirs)
    got = stack.call("GET", f"/dialer/sessions/{session_id}", headers=mine)
    assert got.status_code == 200, got.text
    session = got.json()
    assert (session["status"], session["endReason"]) == ("ended", "ended_by_member")
    counts = session["stats"]
    assert (counts["dialed"], counts["humans"], counts["noAnswer"]) == (2, 1, 1), counts
    calls = {
        c["leadId"]: c
        for lead in (busy, person)
        for c in stack.call("GET", "/calls", params={"leadId": lead["id"]}).json()["items"]
    }
    assert calls[person["id"]]["disposition"] == "callback_requested"
    assert calls[person["id"]]["notes"] == "Wants a demo on Tuesday"
    assert calls[busy["id"]]["status"] == "busy"
    later = stack.call("GET", f"/campaigns/{campaign['id']}/leads", params={"state": "scheduled"})
    assert {x["leadId"] for x in later.json()["items"]} == {busy["id"], person["id"]}
    owed = stack.call("GET", "/callbacks", params={"teamMemberId": me["id"]}, headers=mine)
    assert [(c["leadId"], c["at"][:10]) for c in owed.json()["items"]] == [
        (person["id"], "2031-05-06")
    ]
