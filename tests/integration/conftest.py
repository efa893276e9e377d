"""Integration tier: the repository code against DynamoDB Local over HTTP (and, for the
telephony tests, the Twilio simulator over HTTP with the real SDK).

DynamoDB Local runs once per session, in memory, on a free port. Each test gets its own stage
name, hence its own tables. Where Java is missing the tier is skipped with a clear message,
except in CI, where a missing Java is a failure."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from localdev.twilio_sim import Simulator

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ddb_local_endpoint() -> Iterator[str]:
    import signal

    from localdev import ddb_local

    if not ddb_local.java_available():
        if os.environ.get("CI"):
            pytest.fail("Java is required in CI for the DynamoDB Local integration tier")
        pytest.skip("Java is missing: DynamoDB Local integration tests skipped")
    port = free_port()
    proc = ddb_local.start(None, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture
def ddb_local(ddb_local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fresh tables on DynamoDB Local for this test (a stage of its own)."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.db.tables import ensure_tables

    monkeypatch.setenv("DYNAMODB_ENDPOINT", ddb_local_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("STAGE", "it" + uuid.uuid4().hex[:8])
    reset_settings()
    ensure_tables(providers.settings())
    return ddb_local_endpoint


# ---------------------------------------------------------------- the live stack over HTTP

LIVE_TOKEN = "live-stack-token"
# Variables of the developer's shell (or of the test process) that must not reach the API.
_NOT_INHERITED = (
    "TWILIO_",
    "DYNAMODB_",
    "API_TOKEN",
    "STAGE",
    "PUBLIC_BASE_URL",
    "CALLING_HOURS",
    "STATS_TIMEZONE",
    "DASHBOARD_ORIGIN",
    "MAX_IMPORT_BYTES",
    "SIM",
)
_phones = itertools.count(100)


@dataclass
class LiveStack:
    """The product over real HTTP: `chalice local` (a subprocess) on DynamoDB Local, its Twilio
    pointed at an in-process simulator whose webhooks go back to that API.

    `api` is the API base URL, `token` its bearer token, `sim` the `Simulator` (inspect it, wait
    on it, inject inbound SMS), `stage` the tables' stage. `request()` returns (status, JSON or
    text); `get`/`post`/`patch`/`delete` are shortcuts. `new_phone(last_digit)` gives a number
    no other test of the session uses, ending in `last_digit` (the simulator's outcome digit)."""

    api: str
    token: str
    sim: Simulator
    stage: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        import requests

        hdrs = {"Content-Type": "application/json"}
        bearer = self.token if token == "" else token
        if bearer is not None:
            hdrs["Authorization"] = f"Bearer {bearer}"
        hdrs.update(headers or {})
        data = json.dumps(body) if body is not None else None
        resp = requests.request(method, self.api + path, data=data, headers=hdrs, timeout=30)
        if "json" in resp.headers.get("Content-Type", ""):
            return resp.status_code, resp.json()
        return resp.status_code, resp.text

    def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> tuple[int, Any]:
        return self.request("DELETE", path, **kw)

    @staticmethod
    def new_phone(last_digit: str = "0") -> str:
        return f"+1212555{next(_phones):03d}{last_digit}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def live_stack_running(
    ddb_endpoint: str, log_dir: Path, *, speed: float = 200.0, **env: str
) -> Iterator[LiveStack]:
    """Start the live stack (extra API environment in `env`, e.g. a Messaging Service), yield
    it, stop what it started: the API's process group and the simulator."""
    import requests

    from chalicelib.config import Settings
    from chalicelib.db.tables import ensure_tables
    from localdev.twilio_sim import start_simulator

    stage = "live" + uuid.uuid4().hex[:8]
    with pytest.MonkeyPatch.context() as mp:
        # Session fixtures are set up before the per-test environment: bring credentials.
        mp.setenv("AWS_ACCESS_KEY_ID", "local")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "local")
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        ensure_tables(Settings(stage=stage, region="us-east-1", dynamodb_endpoint=ddb_endpoint))
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    sim = start_simulator(0, app_base=api, auth_token="live-sim-token", speed=speed)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    child_env.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "DYNAMODB_ENDPOINT": ddb_endpoint,
            "STAGE": stage,
            "API_TOKEN": LIVE_TOKEN,
            "PUBLIC_BASE_URL": api,
            "TWILIO_ACCOUNT_SID": sim.account_sid,
            "TWILIO_AUTH_TOKEN": sim.auth_token,
            "TWILIO_API_BASE": sim.url,
            **env,
        }
    )
    child_env.pop("AWS_SESSION_TOKEN", None)
    log_path = log_dir / f"api-{stage}.log"
    chalice = str(Path(sys.executable).with_name("chalice"))
    # A stage not in .chalice/config.json, so no stage variables override ours.
    command = [chalice, "local", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--stage", "livetest", "--no-autoreload"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = LiveStack(api, LIVE_TOKEN, sim, stage, log_path, child_env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chalice local exited:\n{stack.log_tail()}")
            try:
                if requests.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer on {api}:\n{stack.log_tail()}")
            time.sleep(0.1)
        yield stack
    finally:
        sim.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_stack(
    ddb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveStack]:
    """One live stack for the session (DynamoDB Local + `chalice local` + the simulator). Tests
    share it: use `new_phone()` for leads, and do not reset the simulator's state under others.
    """
    # Calls are made whenever CI runs: open the calling window to (almost) the whole day.
    with live_stack_running(
        ddb_local_endpoint, tmp_path_factory.mktemp("live"), CALLING_HOURS="00:00-23:59"
    ) as stack:
        yield stack
