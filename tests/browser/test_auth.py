"""Signing in: the #token= URL that make dev prints, a typed token, sign out, and a rejected
token taking the user back to the login screen."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import shot


def test_the_printed_url_signs_in_and_the_token_leaves_the_address_bar(page, stack):
    page.goto(f"{stack.dashboard}/#token={stack.token}")

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert stack.token not in page.url
    assert page.evaluate("localStorage.getItem('coldcall.token')") == stack.token


def test_a_typed_token_is_checked_then_kept_and_sign_out_forgets_it(page, stack, watch):
    watch.allow_http(401)
    page.goto(f"{stack.dashboard}/#/leads")
    expect(page.get_by_role("heading", name="Sign in to Coldcall")).to_be_visible()
    expect(page.get_by_label("Access token")).to_be_focused()
    shot(page, "login")

    page.get_by_label("Access token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="not accepted")).to_be_visible()
    assert page.evaluate("localStorage.getItem('coldcall.token')") is None

    page.get_by_label("Access token").fill(stack.token)
    page.get_by_label("Access token").press("Enter")
    # Back where the user was going.
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(page.get_by_role("link", name="Leads")).to_have_attribute("aria-current", "page")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Coldcall")).to_be_visible()
    assert page.evaluate("localStorage.getItem('coldcall.token')") is None


def test_a_401_from_any_call_returns_to_the_login_screen(page, stack, watch):
    watch.allow_http(401)
    page.goto(f"{stack.dashboard}/#token=revoked-token")
    page.goto(f"{stack.dashboard}/#/team")

    expect(page.get_by_role("heading", name="Sign in to Coldcall")).to_be_visible()
    expect(page.get_by_text("did not accept your token")).to_be_visible()
    page.get_by_label("Access token").fill(stack.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
