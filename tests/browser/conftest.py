"""The browser suite's stack: `python -m localdev.dev` itself (DynamoDB Local, tables, the local
Cognito, `chalice local`, the built dashboard, and the Twilio simulator) on free ports with its
data in a temporary folder, and Debian's Chromium driven by Playwright.

Pages sign in as members do: `signed_in` signs the first admin in through the API (as the
sign-in page does) and hands the tab the refresh token where the dashboard keeps it
(sessionStorage), so the page starts signed in; test_auth.py drives the sign-in page itself.

Every page a test opens is watched: a console error or an uncaught exception fails the test
(a test that provokes an HTTP error names the status it expects)."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.stack import free_ports, start_dev

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# The stack's environment must not inherit a developer's real Twilio account or tables.
SCRUB = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_AUTH_TOKEN_SECRET",
    "TWILIO_API_BASE",
    "DYNAMODB_ENDPOINT",
    "API_TOKEN_SECRET",
    "DASHBOARD_ORIGIN",
    "PUBLIC_BASE_URL",
    "AWS_PROFILE",
    "STAGE",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "ADMIN_PHONE",
)
ADMIN_EMAIL = "admin@example.com"
REFRESH_KEY = "coldcall.refresh"  # where the dashboard keeps the refresh token
PASSWORD = re.compile(r"^Password")  # the field, not "Show password"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class Stack:
    api: str
    dashboard: str
    token: str
    simulator: str
    admin_email: str = ADMIN_EMAIL
    admin_password: str = ""

    @property
    def origin(self) -> str:
        return self.dashboard

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=15, **kw)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.call("POST", path, json=body)
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    def login(self, email: str, password: str) -> dict[str, Any]:
        """POST /auth/login as the sign-in page sends it: the tokens and the member."""
        resp = requests.post(
            f"{self.api}/auth/login", json={"email": email, "password": password}, timeout=15
        )
        assert resp.status_code == 200, resp.text
        answer: dict[str, Any] = resp.json()
        assert "refreshToken" in answer, answer
        return answer


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from run_stack(tmp_path_factory.mktemp("stack"))


def run_stack(tmp: Path, sim_speed: str = "20", log_name: str = "stack.log") -> Iterator[Stack]:
    """A whole local stack in `tmp`, yielded once READY, stopped after. `sim_speed` divides
    the simulator's durations (20: a 30 s conversation takes 1.5 s)."""
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to build the dashboard (install Node.js 20 with npm)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(16)
    ports = free_ports()  # all different
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.update({name: str(p) for name, p in ports.items()})
    env.update(
        {
            # STAGE stays "dev": chalice local --stage dev sets it from .chalice/config.json.
            "DATA_DIR": str(tmp / "data"),
            "DASHBOARD_DIST": str(tmp / "dist"),
            "API_TOKEN": token,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            # Tests run at any hour: every hour is calling hours, and simulated calls are short.
            "CALLING_HOURS": "00:00-23:59",
            "SIM_SPEED": sim_speed,
            "PYTHONUNBUFFERED": "1",
        }
    )
    log = ARTIFACTS / log_name
    log.write_text("")
    try:
        run = start_dev(env, log=log, timeout=240)
    except RuntimeError as exc:
        pytest.fail(f"the local stack did not start: {exc}")
    proc = run.proc
    api, dashboard_url = run.api, run.dashboard_url
    dashboard = f"http://127.0.0.1:{ports['DASHBOARD_PORT']}"
    # The printed URL is the plain dashboard: the API token never goes to the browser.
    assert dashboard_url == f"{dashboard}/", dashboard_url
    yield Stack(
        api=api,
        dashboard=dashboard,
        token=token,
        simulator=f"http://127.0.0.1:{ports['SIMULATOR_PORT']}",
        admin_password=(tmp / "data" / "admin-password").read_text().strip(),
    )
    _stop(proc)


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the runner we started (it stops its own children), then make sure."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageWatch:
    """Console errors and uncaught exceptions seen on a page."""

    stack: Stack
    problems: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def allow_http(self, *statuses: int) -> None:
        """A test that provokes an HTTP error (a wrong token, a stale edit) expects Chromium to
        log "Failed to load resource: ... status of <n>"; nothing else is excused."""
        self.allowed_statuses.update(statuses)

    def expected(self, text: str) -> bool:
        return any(f"status of {n} (" in text for n in self.allowed_statuses)

    def on_console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if not self.expected(msg.text):
            self.problems.append(f"console error: {msg.text} ({url})")

    def on_page_error(self, err: Any) -> None:
        self.problems.append(f"uncaught exception: {err}")


@pytest.fixture
def watch(stack: Stack) -> PageWatch:
    return PageWatch(stack)


@pytest.fixture
def context(browser: Any, stack: Stack) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, watch: PageWatch) -> Iterator[Any]:
    pg = context.new_page()
    pg.on("console", watch.on_console)
    pg.on("pageerror", watch.on_page_error)

    def on_dialog(dialog: Any) -> None:  # alert()/confirm(): the app never uses them
        watch.problems.append(f"unexpected dialog: {dialog.message}")
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    yield pg
    assert watch.problems == [], "\n".join(watch.problems)


def hand_session(page: Any, refresh_token: str) -> None:
    """Put a refresh token where the dashboard keeps it, once per tab (as after signing in on
    the sign-in page): the next load of the dashboard starts signed in, and a later sign-out
    is not undone by the next navigation."""
    page.add_init_script(
        "if (!sessionStorage.getItem('coldcall.test-seeded')) {"
        " sessionStorage.setItem('coldcall.test-seeded', '1');"
        f" sessionStorage.setItem({REFRESH_KEY!r}, {refresh_token!r}); }}"
    )


@pytest.fixture
def signed_in(page: Any, stack: Stack) -> Any:
    """A page signed in as the first admin (a fresh session through POST /auth/login: a test
    that signs out ends the admin's sessions, so none is shared); the test navigates where it
    wants. test_auth.py covers the sign-in page itself.

    An access token issued in the very second the admin's sessions ended (the previous test
    signed out) is refused (`iat` has whole seconds): such a sign-in is made again once that
    second has passed, so the page's first request is never a 401."""
    for _ in range(5):
        answer = stack.login(stack.admin_email, stack.admin_password)
        me = requests.get(
            f"{stack.api}/me",
            headers={"Authorization": f"Bearer {answer['accessToken']}"},
            timeout=15,
        )
        if me.status_code == 200:
            break
        assert me.status_code == 401, me.text
        time.sleep(1.0 - time.time() % 1.0 + 0.05)  # into the next whole second
    else:
        raise AssertionError("the admin's sign-in is refused: " + me.text)
    hand_session(page, answer["refreshToken"])
    return page


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---------------------------------------------------------------- accessibility

AXE_SOURCE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                summary: n.failureSummary || ''})),
  }));
}"""


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations of WCAG 2.1 A/AA and best practice on the page as it is now (open
    dialogs included), at the given impacts. axe comes from the dashboard's devDependencies and
    is evaluated through the DevTools protocol, which the page's CSP does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return [v for v in page.evaluate(AXE_RUN, AXE_TAGS) if v["impact"] in impacts]


def assert_accessible(page: Any, where: str) -> None:
    """No serious or critical axe violation; the failure lists each one and where it is."""
    found = axe_violations(page)
    lines = [f"{len(found)} serious/critical accessibility violation(s) on {where}:"]
    for v in found:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    {node['target']}  {node['html']}")
            lines.extend(f"      {line}" for line in node["summary"].splitlines())
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    assert not found, "\n".join(lines)


_numbers = itertools.count(100)


def unique_phone(last: str = "5", area: str = "212") -> str:
    """A US number no other test in the session uses, ending in `last` (the simulator picks
    the call's outcome by the last digit: 1 busy, 2 no-answer, 3 failed, 9 no key press)."""
    return f"+1{area}555{next(_numbers):03d}{last}"


def sign_in_on_page(page: Any, email: str, password: str) -> None:
    """Fill in the sign-in page and submit it (the page must be showing it). Submitted in a
    new whole second: a token issued in the second a previous test signed out is refused
    (`iat` has whole seconds), which would turn the page's first requests into 401s."""
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD).fill(password)
    time.sleep(1.0 - time.time() % 1.0 + 0.05)
    page.get_by_role("button", name="Sign in").click()


def member_session(stack: Stack, email: str, temporary_password: str, password: str) -> Any:
    """A new member's first sign-in through the API (the challenge, then their own password):
    the login answer with its refresh token."""
    first = requests.post(
        f"{stack.api}/auth/login",
        json={"email": email, "password": temporary_password},
        timeout=15,
    ).json()
    assert first.get("challenge") == "NEW_PASSWORD_REQUIRED", first
    resp = requests.post(
        f"{stack.api}/auth/new-password",
        json={"email": email, "session": first["session"], "newPassword": password},
        timeout=15,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def as_admin_member(stack: Stack, method: str, path: str, **kw: Any) -> requests.Response:
    """A request as the first admin signed in (a member, unlike the stack's API key: callbacks
    and dialer sessions belong to a member); a fresh sign-in each time, since a page handed a
    session renews it."""
    token = stack.login(stack.admin_email, stack.admin_password)["accessToken"]
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return requests.request(method, f"{stack.api}{path}", headers=headers, timeout=15, **kw)


@contextlib.contextmanager
def admin_dialer_session(stack: Stack, name: str) -> Iterator[dict[str, Any]]:
    """A campaign with no lead and the first admin's dialer session on it (the simulator rings
    the admin, who presses 1; the session then waits in `ready`, no lead to call); the session
    is ended afterwards whatever happened."""
    me = stack.login(stack.admin_email, stack.admin_password)["member"]
    campaign = stack.post(
        "/campaigns",
        {"name": name, "callerId": "+15005550006", "memberIds": [me["id"]], "script": "Hello."},
    )
    body = {"campaignId": campaign["id"]}
    started = as_admin_member(stack, "POST", "/dialer/sessions", json=body)
    assert started.status_code == 201, started.text
    session = started.json()
    try:
        yield {"campaign": campaign, "session": session}
    finally:
        as_admin_member(stack, "POST", f"/dialer/sessions/{session['id']}/end")
