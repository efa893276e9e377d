"""Sign-in as a new user tries it (issue 13, "Done when"), over real HTTP against `make dev`
(DynamoDB Local, the local Cognito, `chalice local`): the admin's printed sign-in works, the
admin invites a caller, the caller signs in with the temporary password and sets a new one,
sees only their leads, is refused export and team management, is deactivated and is refused
on their next request (chalice local is one process: at once), and GET /audit shows it all."""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from localdev import stack

pytestmark = pytest.mark.integration

TOKEN = "sign-in-test-token"
NEW_PASSWORD = "Caller-Horse9Battery"


class Dev:
    def __init__(self, api: str, admin_email: str, admin_password: str) -> None:
        self.api = api
        self.admin_email = admin_email
        self.admin_password = admin_password

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = TOKEN
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        resp = requests.request(method, self.api + path, json=body, headers=headers, timeout=30)
        if resp.content and "json" in resp.headers.get("Content-Type", ""):
            return resp.status_code, resp.json()
        return resp.status_code, resp.text


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is missing: the local Cognito cannot run")
    from localdev import ddb_local

    if not ddb_local.java_available() and not os.environ.get("CI"):
        pytest.skip("Java is missing: make dev would run on the in-memory store")
    tmp = tmp_path_factory.mktemp("signin")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("TWILIO_", "DYNAMODB_", "API_TOKEN", "STAGE", "PUBLIC_BASE", "COGNITO_", "ADMIN_")
        )
    }
    env.update({name: str(port) for name, port in stack.free_ports().items()})
    env.update({"DATA_DIR": str(tmp / "data"), "API_TOKEN": TOKEN})
    run = stack.start_dev(env, log=tmp / "dev.log", timeout=180)
    try:
        printed = "".join(run.lines)
        found = re.search(r"sign in as (\S+) with the password (\S+)", printed)
        assert found, printed[-3000:]
        yield Dev(run.api, found.group(1), found.group(2))
    finally:
        os.killpg(run.proc.pid, signal.SIGTERM)
        run.proc.wait(timeout=60)


def _lead(dev: Dev, name: str, phone: str, assignee: str | None, token: str) -> str:
    body = {"name": name, "phone": phone}
    if assignee:
        body["assignedToId"] = assignee
    status, lead = dev.request("POST", "/leads", body, token=token)
    assert status == 201, lead
    return str(lead["id"])


def test_a_caller_is_invited_signs_in_and_is_deactivated(dev: Dev) -> None:
    # The printed admin sign-in works, with no new-password step.
    status, admin = dev.request(
        "POST", "/auth/login", {"email": dev.admin_email, "password": dev.admin_password}, None
    )
    assert status == 200, admin
    assert admin["member"]["role"] == "admin" and admin["expiresIn"] > 0
    bearer = admin["accessToken"]
    assert dev.request("GET", "/me", token=bearer)[1]["email"] == dev.admin_email

    # The admin invites a caller: the temporary password comes back once.
    status, cal = dev.request(
        "POST",
        "/team-members",
        {"name": "Cal Caller", "phone": "+14155550177", "email": "cal.live@example.com"},
        bearer,
    )
    assert status == 201, cal
    temporary = cal["invite"]["temporaryPassword"]

    # Leads: one of the caller's, one unassigned, one of the admin's.
    theirs = _lead(dev, "Theirs", "+12125550171", cal["id"], bearer)
    free = _lead(dev, "Unassigned", "+12125550172", None, bearer)
    admins = _lead(dev, "The admin's", "+12125550173", admin["member"]["id"], bearer)

    # A wrong password first: 401 (the emulator would challenge any password; the app checks
    # it is the temporary one it set).
    wrong = {"email": "cal.live@example.com", "password": "Wrong-password1"}
    assert dev.request("POST", "/auth/login", wrong, None)[0] == 401
    # A made-up session sets nobody's password (the emulator takes any session).
    takeover = {"email": dev.admin_email, "session": "made-up", "newPassword": "Taken-over-Pass1"}
    assert dev.request("POST", "/auth/new-password", takeover, None)[0] == 401
    # The caller signs in with the temporary password and sets a new one (policy checked).
    status, challenge = dev.request(
        "POST", "/auth/login", {"email": "cal.live@example.com", "password": temporary}, None
    )
    assert status == 200 and challenge["challenge"] == "NEW_PASSWORD_REQUIRED", challenge
    step = {"email": "cal.live@example.com", "session": challenge["session"]}
    status, weak = dev.request("POST", "/auth/new-password", {**step, "newPassword": "weak"}, None)
    assert status == 400, weak
    status, signed = dev.request(
        "POST", "/auth/new-password", {**step, "newPassword": NEW_PASSWORD}, None
    )
    assert status == 200, signed
    caller = signed["accessToken"]
    assert signed["member"]["id"] == cal["id"] and signed["member"]["role"] == "caller"

    # They see their leads and unassigned ones, nothing else; no export, no team management.
    status, page = dev.request("GET", "/leads?limit=100", token=caller)
    assert status == 200
    seen = {item["id"] for item in page["items"]}
    assert {theirs, free} <= seen and admins not in seen
    assert all(item["assignedToId"] in (None, cal["id"]) for item in page["items"])
    assert dev.request("GET", f"/leads/{admins}", token=caller)[0] == 404
    assert dev.request("GET", "/leads/export", token=caller)[0] == 403
    status, _ = dev.request(
        "POST", "/team-members", {"name": "Sneaky", "phone": "+14155550178"}, caller
    )
    assert status == 403

    # Their refresh token works (a password sign-in's, which the emulator refreshes).
    status, refreshed = dev.request(
        "POST", "/auth/refresh", {"refreshToken": signed["refreshToken"]}, None
    )
    assert status == 200, refreshed

    # The admin deactivates them: their next request is refused (one process: at once).
    status, gone = dev.request("DELETE", f"/team-members/{cal['id']}", token=bearer)
    assert status == 200 and gone["active"] is False
    for token in (caller, refreshed["accessToken"]):
        status, body = dev.request("GET", "/leads", token=token)
        assert status == 401 and body["error"]["code"] == "unauthorized"
    status, _ = dev.request("POST", "/auth/refresh", {"refreshToken": signed["refreshToken"]}, None)
    assert status == 401
    # The emulator lets a disabled user sign in; the app does not.
    status, _ = dev.request(
        "POST", "/auth/login", {"email": "cal.live@example.com", "password": NEW_PASSWORD}, None
    )
    assert status == 401
    # Their lead stays assigned to them (a manager can see and reassign it).
    status, lead = dev.request("GET", f"/leads/{theirs}", token=bearer)
    assert lead["assignedToId"] == cal["id"]
    status, member = dev.request("GET", f"/team-members/{cal['id']}", token=bearer)
    assert member["active"] is False

    # The audit log shows it all, and no password.
    status, audit = dev.request("GET", "/audit?limit=100", token=bearer)
    assert status == 200, audit
    entries = [(e["action"], (e["target"] or {}).get("id")) for e in audit["items"]]
    for entry in (
        ("auth.login", admin["member"]["id"]),
        ("member.created", cal["id"]),
        ("auth.password_changed", cal["id"]),
        ("member.deactivated", cal["id"]),
        ("auth.login_failed", "cal.live@example.com"),
    ):
        assert entry in entries, entry
    text = str(audit)
    for secret in (dev.admin_password, temporary, NEW_PASSWORD, bearer, caller):
        assert secret not in text
    status, only = dev.request("GET", "/audit?action=member.deactivated", token=bearer)
    assert [e["target"]["id"] for e in only["items"]] == [cal["id"]]

    # The admin signs out: their token stops working.
    assert dev.request("POST", "/auth/logout", token=bearer)[0] == 204
    assert dev.request("GET", "/me", token=bearer)[0] == 401
    # Signing in again at once (most often in the sign-out's whole second, which a token's
    # `iat` cannot tell apart): the new token works, the old one stays refused.
    status, again = dev.request(
        "POST", "/auth/login", {"email": dev.admin_email, "password": dev.admin_password}, None
    )
    assert status == 200, again
    assert dev.request("GET", "/me", token=again["accessToken"])[0] == 200
    assert dev.request("GET", "/me", token=bearer)[0] == 401
    # The API token keeps working as an admin API key.
    status, me = dev.request("GET", "/me")
    assert status == 200 and me["apiKey"]["role"] == "admin"


def test_failed_sign_ins_are_limited(dev: Dev) -> None:
    body = {"email": "nobody.live@example.com", "password": "Wrong-password1"}
    for _ in range(10):
        assert dev.request("POST", "/auth/login", body, None)[0] == 401
    resp = requests.post(f"{dev.api}/auth/login", json=body, timeout=30)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert resp.json()["error"]["code"] == "rate_limited"
