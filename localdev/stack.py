"""The product over real HTTP, for integration tests and benchmarks: `chalice local` (a
subprocess) on DynamoDB Local, its Twilio pointed at an in-process simulator whose webhooks go
back to that API. Never deployed.

    with ddb_local_running() as endpoint:                  # DynamoDB Local, in memory
        with live_stack_running(endpoint, log_dir) as stack:
            stack.post("/leads", {...})                     # the API over HTTP
            with stack.in_process():                        # the services, on its tables
                calls.reconcile_stale(...)

Everything binds 127.0.0.1 on free ports; everything started here is stopped here (the API's
process group, the simulator, DynamoDB Local's process group), nothing else.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localdev.cognito import LocalPool
    from localdev.twilio_sim import Simulator

ROOT = Path(__file__).resolve().parent.parent
LIVE_TOKEN = "live-stack-token"
SIM_TOKEN = "live-sim-token"
# Variables of the developer's shell (or of the calling process) that must not reach the API.
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
    "COGNITO_",
    "DIALER_",
)
_phones = itertools.count(100)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


DEV_PORTS = ("API_PORT", "DDB_PORT", "DASHBOARD_PORT", "SIMULATOR_PORT", "COGNITO_PORT")


def free_ports(names: Sequence[str] = DEV_PORTS) -> dict[str, int]:
    """A free port for each name, all different: every socket is held until all are chosen
    (one `free_port()` after another may be handed the same port twice)."""
    with contextlib.ExitStack() as held:
        ports: dict[str, int] = {}
        for name in names:
            s = held.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports[name] = int(s.getsockname()[1])
        return ports


@contextmanager
def temp_env(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables, and put them back afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def stop_group(proc: subprocess.Popen[Any]) -> None:
    """Stop a process started with start_new_session=True, and its children (its group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass
class DevRun:
    """`python -m localdev.dev` started by `start_dev`: its process, the API and dashboard URLs
    of its READY line, and every line it printed so far (also copied to `log`, if given)."""

    proc: subprocess.Popen[str]
    api: str
    dashboard_url: str
    lines: list[str]


def start_dev(env: Mapping[str, str], log: Path | None = None, timeout: float = 240) -> DevRun:
    """Start the whole local stack as `make dev` does, in a process group of its own, and wait
    for its READY line; on failure stop it and raise with the end of its output."""
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-m", "localdev.dev"],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        sink = log.open("a") if log is not None else None
        try:
            for line in proc.stdout:
                lines.append(line)
                if sink is not None:
                    sink.write(line)
                    sink.flush()
                if line.startswith("READY "):
                    ready.set()
        finally:
            if sink is not None:
                sink.close()
            ready.set()  # the output ended: no READY will come

    threading.Thread(target=read, daemon=True).start()
    if ready.wait(timeout):
        found = next((ln for ln in lines if ln.startswith("READY ")), None)
        if found is not None:
            _, api, dashboard_url = found.split()
            return DevRun(proc, api, dashboard_url, lines)
    stop_group(proc)
    tail = "".join(lines)[-4000:]
    raise RuntimeError(f"make dev printed no READY line within {timeout:.0f} s:\n{tail}")


@contextmanager
def ddb_local_running() -> Iterator[str]:
    """DynamoDB Local in memory on a free port; yields its endpoint. Needs Java."""
    from localdev import ddb_local

    if not ddb_local.java_available():
        raise RuntimeError("Java is missing: DynamoDB Local cannot run")
    port = free_port()
    proc = ddb_local.start(None, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)


@contextmanager
def cognito_local_running(pool_name: str = "coldcall-test") -> Iterator[LocalPool]:
    """cognito-local on a free port, its data in a temporary folder, with the pool `pool_name`
    and its app client ensured as `make dev` does; yields the `LocalPool` (endpoint, pool and
    client ids, issuer; `.env()` the COGNITO_* values). Needs Node.js (npm installs the package
    the first time)."""
    import shutil
    import tempfile

    from localdev import cognito

    data_dir = Path(tempfile.mkdtemp(prefix="cognito-local-"))
    port = free_port()
    proc = cognito.start(data_dir, port, log_path=data_dir / "cognito-local.log")
    try:
        yield cognito.ensure_pool(cognito.endpoint(port), port, pool_name)
    finally:
        cognito.stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class LiveStack:
    """`api` is the API base URL, `token` its bearer token, `sim` the `Simulator` (inspect it,
    wait on it, inject inbound SMS, add faults), `stage` the tables' stage, `env` the API's
    environment. `request()` returns (status, JSON or text); `get`/`post`/`patch`/`delete` are
    shortcuts. `new_phone(last_digit)` gives a number nobody else in this process used, ending
    in `last_digit` (the simulator's outcome digit)."""

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
    def in_process(self) -> Iterator[None]:
        """Point this process's services at the stack: its tables, its simulator as Twilio
        (the real adapter over HTTP). Everything is put back afterwards."""
        from chalicelib import providers
        from chalicelib.config import reset_settings

        names = (
            "DYNAMODB_ENDPOINT",
            "STAGE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_API_BASE",
            "PUBLIC_BASE_URL",
            "CALLING_HOURS",
        )
        values: dict[str, str | None] = {k: self.env.get(k) for k in names}
        values["AWS_SESSION_TOKEN"] = None
        values["TWILIO_MESSAGING_SERVICE_SID"] = self.env.get("TWILIO_MESSAGING_SERVICE_SID")
        with temp_env(values):
            reset_settings()
            providers.override(telephony=None)  # the real adapter, to the stack's simulator
            try:
                yield
            finally:
                providers.override(telephony=None)
        reset_settings()

    def wait_api(self, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chalice local exited:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer on {self.api}:\n{self.log_tail()}")
            time.sleep(0.1)


@contextmanager
def live_stack_running(
    ddb_endpoint: str,
    log_dir: Path,
    *,
    speed: float = 200.0,
    webhook_timeout: float | None = None,
    **env: str,
) -> Iterator[LiveStack]:
    """Start the live stack on tables of a new stage (extra API environment in `env`, e.g. a
    Messaging Service; the simulator's `speed` and `webhook_timeout`), yield it, stop what it
    started: the API's process group and the simulator."""
    from chalicelib.config import Settings
    from chalicelib.store.tables import ensure_tables
    from localdev.twilio_sim import start_simulator

    stage = "live" + uuid.uuid4().hex[:8]
    with temp_env(
        {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": None}
    ):
        ensure_tables(Settings(stage=stage, region="us-east-1", dynamodb_endpoint=ddb_endpoint))
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    sim = start_simulator(
        0, app_base=api, auth_token=SIM_TOKEN, speed=speed, webhook_timeout=webhook_timeout
    )
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
            # Tests and benchmarks run on the real clock at any hour: the compliance rules'
            # default window (calls and texts) is opened to (almost) the whole day.
            "CALLING_HOURS": "00:00-23:59",
            "RECORDINGS_DIR": str(log_dir / f"recordings-{stage}"),
            **env,
        }
    )
    child_env.pop("AWS_SESSION_TOKEN", None)
    log_path = log_dir / f"api-{stage}.log"
    # A stage not in .chalice/config.json, so no stage variables override ours. `chalice local`
    # as `make dev` runs it (localdev/api_server.py: the API's 404 for unknown routes).
    command = [sys.executable, "-m", "localdev.api_server", "local", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    command += ["--stage", "livetest", "--no-autoreload"]
    stack = LiveStack(api, LIVE_TOKEN, sim, stage, log_path, child_env)
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        stack.wait_api(proc)
        yield stack
    finally:
        sim.stop()
        if proc is not None:
            stop_group(proc)
