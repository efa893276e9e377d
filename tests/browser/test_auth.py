"""The sign-in page: a signed-out load asks nothing of the API, a wrong password and too many
attempts say so, the session survives a reload in the tab (and only there: sessionStorage),
an access token refused once is renewed silently, a refused renewal returns to the sign-in
page with the reason, and sign-out ends the session on the server too. The old `#token=` URL
signs nobody in."""

from __future__ import annotations

import json
import re
import secrets

import requests
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, REFRESH_KEY, hand_session, shot, sign_in_on_page

SIGN_IN = "Sign in to Coldcall"


def api_requests(page, stack):
    seen = []
    page.on("request", lambda r: seen.append(r.url) if r.url.startswith(stack.api) else None)
    return seen


def test_a_signed_out_load_asks_the_api_nothing_and_logs_nothing(page, stack):
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    asked = api_requests(page, stack)

    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    page.wait_for_load_state("networkidle")
    shot(page, "login")

    assert asked == [] and failed == []
    assert page.evaluate("Object.keys(localStorage)") == []
    # (the page fixture fails the test on any console error or uncaught exception)


def test_the_old_token_url_signs_nobody_in_and_leaves_the_address_bar(page, stack):
    asked = api_requests(page, stack)
    page.goto(f"{stack.dashboard}/#token={stack.token}")

    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    assert stack.token not in page.url
    storage = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert stack.token not in storage
    assert asked == []


def test_a_wrong_password_then_the_right_one_reload_keeps_the_tab_signed_in_and_sign_out(
    page, stack, watch
):
    watch.allow_http(401)
    page.goto(f"{stack.dashboard}/#/leads")
    sign_in_on_page(page, stack.admin_email, "not-the-password")
    expect(page.get_by_role("alert").filter(has_text="e-mail or password is wrong")).to_be_visible()
    expect(page.get_by_label(PASSWORD)).to_be_focused()
    assert page.evaluate(f"sessionStorage.getItem({REFRESH_KEY!r})") is None

    page.get_by_label(PASSWORD).fill(stack.admin_password)
    page.get_by_label(PASSWORD).press("Enter")
    # Back where the user was going, and who they are.
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_role("link", name="Leads")).to_have_attribute("aria-current", "page")
    expect(page.locator("[data-signed-in-as]")).to_have_text("Signed in as Admin (Admin)")
    refresh = page.evaluate(f"sessionStorage.getItem({REFRESH_KEY!r})")
    assert refresh
    # Nothing long-lived in localStorage; the access token only in memory.
    assert not any("ey" in v for v in page.evaluate("Object.values(localStorage)"))

    page.reload()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.locator("[data-signed-in-as]")).to_contain_text("Admin")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem({REFRESH_KEY!r})") is None
    # Signed out on the server too: the refresh token is refused from now on.
    resp = requests.post(f"{stack.api}/auth/refresh", json={"refreshToken": refresh}, timeout=15)
    assert resp.status_code == 401


def test_too_many_failed_sign_ins_say_how_long_to_wait(page, stack, watch):
    watch.allow_http(401, 429)
    email = f"nobody-{secrets.token_hex(4)}@example.com"
    for _ in range(10):
        resp = requests.post(
            f"{stack.api}/auth/login", json={"email": email, "password": "wrong"}, timeout=15
        )
        assert resp.status_code == 401
    page.goto(f"{stack.dashboard}/")
    sign_in_on_page(page, email, "wrong")
    alert = page.get_by_role("alert").filter(has_text="Too many failed sign-ins")
    # the wait is what is left of the 15-minute window: minutes, or seconds near its end
    expect(alert).to_contain_text(re.compile(r"Wait (about \d+ minutes?|\d+ seconds?)"))


def test_a_refused_access_token_is_renewed_once_and_the_request_retried(signed_in, stack, watch):
    watch.allow_http(401)
    page = signed_in
    refused = []

    def once_401(route):
        if route.request.method == "OPTIONS":
            route.continue_()
        elif not refused:
            refused.append(route.request.headers.get("authorization", ""))
            route.fulfill(
                status=401,
                headers={"Access-Control-Allow-Origin": stack.origin},
                content_type="application/json",
                body=json.dumps({"error": {"code": "unauthorized", "message": "token expired"}}),
            )
        else:
            route.continue_()

    renewals = []
    page.on(
        "request",
        lambda r: renewals.append(r.url) if r.url.endswith("/auth/refresh") else None,
    )
    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("table", name="Team members")).to_be_visible()
    before = len(renewals)
    page.route(re.compile(re.escape(stack.api) + r"/leads\?"), once_401)
    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(
        page.get_by_role("table", name="Leads").or_(page.get_by_text("No leads"))
    ).to_be_visible()
    assert len(refused) == 1 and refused[0].startswith("Bearer ")
    assert len(renewals) == before + 1


def test_a_refused_renewal_returns_to_the_sign_in_page_with_the_reason(signed_in, stack, watch):
    watch.allow_http(401)
    page = signed_in
    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("table", name="Team members")).to_be_visible()
    # The session ends elsewhere (signed out in another tab): the tokens this tab holds stop.
    # (The API compares a token's `iat`, in whole seconds, with the sign-out instant: a token
    # issued in the same second as the sign-out is not refused, so let a second pass.)
    page.wait_for_timeout(1100)
    refresh = page.evaluate(f"sessionStorage.getItem({REFRESH_KEY!r})")
    token = requests.post(
        f"{stack.api}/auth/refresh", json={"refreshToken": refresh}, timeout=15
    ).json()["accessToken"]
    ended = requests.post(
        f"{stack.api}/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=15
    )
    assert ended.status_code == 204

    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem({REFRESH_KEY!r})") is None

    # A new sign-in in the sign-out's own second would be refused likewise (whole seconds):
    # sign in again once that second has passed, as a person would.
    page.wait_for_timeout(1100)
    sign_in_on_page(page, stack.admin_email, stack.admin_password)
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()


def test_a_stale_refresh_token_at_load_shows_the_sign_in_page(page, stack, watch):
    watch.allow_http(401)
    hand_session(page, "not-a-refresh-token")
    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem({REFRESH_KEY!r})") is None


def test_the_access_token_is_renewed_before_it_expires(signed_in, stack):
    page = signed_in
    page.clock.install()
    renewals = []
    page.on(
        "request",
        lambda r: renewals.append(r.url) if r.url.endswith("/auth/refresh") else None,
    )
    page.goto(f"{stack.dashboard}/#/team")
    expect(page.get_by_role("table", name="Team members")).to_be_visible()
    assert len(renewals) == 1  # the load: the refresh token kept in the tab
    # Cognito's access tokens last an hour: renewed a minute before, without a word.
    page.clock.run_for("58:00")
    assert len(renewals) == 1
    page.clock.run_for("02:00")
    page.wait_for_timeout(500)
    assert len(renewals) == 2
    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
