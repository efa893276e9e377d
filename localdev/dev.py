"""`make dev`: the whole product on this machine, in the foreground, until Ctrl-C.

DynamoDB Local (data kept in .data/dynamodb; an in-memory moto server with a warning where
Java is missing), the tables created or updated, the API (`chalice local`) on 127.0.0.1:8000,
the dashboard on 127.0.0.1:8080, the stats rollup every minute, and the Twilio simulator
unless TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set. Prints `READY <api> <dashboard>` once
everything answers. Ctrl-C or SIGTERM stops every process it started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdev import ddb_local

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DATA_DIR", ROOT / ".data"))
HOST = "127.0.0.1"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


class Stack:
    """Children started by the runner, each in its own process group, stopped in reverse."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[Any]]] = []
        self.stoppers: list[Callable[[], None]] = []
        self.stopping = threading.Event()

    def add(self, name: str, proc: subprocess.Popen[Any]) -> None:
        self.procs.append((name, proc))

    def on_stop(self, fn: Callable[[], None]) -> None:
        self.stoppers.append(fn)

    def stop(self) -> None:
        self.stopping.set()
        for fn in reversed(self.stoppers):
            try:
                fn()
            except Exception as exc:  # a failed stopper must not keep the others from running
                say(f"stopping: {exc}")
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 10
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

    def check(self) -> str | None:
        """The name of a child that died, if any."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name
        return None


def api_token() -> str:
    """API_TOKEN from the environment, else one generated once and kept in .data/."""
    given = os.environ.get("API_TOKEN", "").strip()
    if given:
        return given
    path = DATA / "api-token"
    if path.exists():
        return path.read_text().strip()
    DATA.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def wait_http(url: str, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (local URL)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{what or url} did not answer within {timeout:.0f}s")


# ---------------------------------------------------------------- DynamoDB


def start_dynamodb(stack: Stack) -> str:
    ddb_port = port("DDB_PORT", 8001)
    endpoint = f"http://{HOST}:{ddb_port}"
    if ddb_local.java_available():
        DATA.mkdir(parents=True, exist_ok=True)
        proc = ddb_local.start(DATA / "dynamodb", ddb_port, DATA / "dynamodb-local.log")
        stack.add("DynamoDB Local", proc)
        say(f"DynamoDB Local on {endpoint} (data in {DATA / 'dynamodb'})")
        return endpoint
    from moto.server import ThreadedMotoServer

    say("WARNING: Java is missing, so DynamoDB runs IN MEMORY (moto): data is lost on exit.")
    say("         Install a Java runtime (e.g. apt-get install default-jre-headless) to keep data.")
    server = ThreadedMotoServer(ip_address=HOST, port=ddb_port, verbose=False)
    server.start()
    stack.on_stop(server.stop)
    return endpoint


def create_tables(env: dict[str, str]) -> None:
    os.environ.update(env)
    from chalicelib.config import reset_settings
    from chalicelib.providers import settings
    from chalicelib.store.tables import ensure_tables

    reset_settings()
    changes = ensure_tables(settings())
    say("tables: " + ("; ".join(changes) if changes else "all present"))


# ---------------------------------------------------------------- Twilio


def start_twilio(stack: Stack, env: dict[str, str]) -> None:
    """Real Twilio when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set; else the simulator
    (localdev/twilio_sim/) as a child, with the API pointed at it through `env`."""
    if os.environ.get("TWILIO_ACCOUNT_SID") and os.environ.get("TWILIO_AUTH_TOKEN"):
        say("Twilio: using the real account from TWILIO_ACCOUNT_SID (webhooks need a public URL)")
        return
    from localdev import twilio_sim

    sim_port = port("SIMULATOR_PORT", twilio_sim.DEFAULT_PORT)
    base = f"http://{HOST}:{sim_port}"
    token = os.environ.get("SIMULATOR_AUTH_TOKEN", "").strip() or twilio_sim.DEFAULT_AUTH_TOKEN
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdev.twilio_sim", "--host", HOST, "--port", str(sim_port)],
        cwd=ROOT,
        env={**os.environ, "SIMULATOR_AUTH_TOKEN": token, "SIM_APP_BASE": env["PUBLIC_BASE_URL"]},
        start_new_session=True,
    )
    stack.add("Twilio simulator", proc)
    wait_http(f"{base}/simulator/health", timeout=30, what="the Twilio simulator")
    if proc.poll() is not None:
        raise RuntimeError(f"the Twilio simulator exited; is port {sim_port} taken?")
    env.update(
        TWILIO_ACCOUNT_SID=twilio_sim.ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=token,
        TWILIO_API_BASE=base,
    )
    say(f"Twilio: simulator on {base} (no TWILIO_* credentials set)")


# ---------------------------------------------------------------- API


def start_api(stack: Stack, env: dict[str, str]) -> str:
    api_port = port("API_PORT", 8000)
    base = f"http://{HOST}:{api_port}"
    chalice = str(Path(sys.executable).with_name("chalice"))
    # chalice local's autoreload restarts the API whenever ANY file under the project changes,
    # and DynamoDB Local writes .data/ on every write: the API would drop requests after each
    # save. Off by default; API_AUTORELOAD=1 turns it on while editing Python code.
    reload = "--autoreload" if os.environ.get("API_AUTORELOAD") == "1" else "--no-autoreload"
    proc = subprocess.Popen(
        [chalice, "local", "--host", HOST, "--port", str(api_port), "--stage", "dev", reload],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    stack.add("API", proc)
    wait_http(f"{base}/health", what="the API")
    say(f"API on {base}")
    return base


# ---------------------------------------------------------------- dashboard


def start_dashboard(stack: Stack, env: dict[str, str], api_base: str, token: str) -> str:
    """Build dashboard/ (npm ci when node_modules is missing or outdated, then the build) and
    serve the build on 127.0.0.1:DASHBOARD_PORT with a config.js naming the API base. The API's
    CORS allows exactly this origin (DASHBOARD_ORIGIN in `env`)."""
    from localdev.static_server import DashboardServer
    from scripts import dashboard_build

    dash_port = port("DASHBOARD_PORT", 8080)
    try:
        dist = dashboard_build.build(log=say)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(f"the dashboard could not be built: {exc}")
        raise SystemExit(1) from None
    server = DashboardServer(dist, HOST, dash_port, dashboard_build.config_js(api_base)).start()
    stack.on_stop(server.stop)
    base = f"http://{HOST}:{dash_port}"
    wait_http(f"{base}/index.html", timeout=10, what="the dashboard")
    origin = env.get("DASHBOARD_ORIGIN")
    if origin != base:
        say(f"WARNING: DASHBOARD_ORIGIN is {origin}, so the API refuses requests from {base}")
    say(f"dashboard on {base}")
    return f"{base}/#token={urllib.parse.quote(token, safe='')}"


# ---------------------------------------------------------------- rollup


def start_rollup(stack: Stack, env: dict[str, str]) -> None:
    """The stats rollup every minute (ROLLUP_SECONDS), as EventBridge runs it every 5 minutes in
    production: a daemon thread in this process, pointed at the same DynamoDB and Twilio as the
    API. One line per run, only when it changed something or failed; stopped with the rest."""
    os.environ.update(env)
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.services import stats

    reset_settings()
    every = float(os.environ.get("ROLLUP_SECONDS") or 60)

    def pause(seconds: float) -> None:
        stack.stopping.wait(seconds)  # the rollup's settle wait ends early on Ctrl-C

    def loop() -> None:
        while not stack.stopping.is_set():
            try:
                report = stats.rollup(providers.deps(), sleep=pause)
                if report.changed or report.errors:
                    say(stats.log_line(report))
            except Exception as exc:  # keep the timer alive; the next run may succeed
                say(f"rollup failed: {type(exc).__name__}: {exc}")
            stack.stopping.wait(every)

    thread = threading.Thread(target=loop, name="rollup", daemon=True)
    thread.start()
    stack.on_stop(lambda: thread.join(timeout=15))
    say(f"rollup every {every:g}s")


def main() -> int:
    stack = Stack()

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        token = api_token()
        endpoint = start_dynamodb(stack)
        api_port = port("API_PORT", 8000)
        dash_port = port("DASHBOARD_PORT", 8080)
        env = {
            "STAGE": os.environ.get("STAGE", "dev"),
            "DYNAMODB_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "API_TOKEN": token,
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", f"http://{HOST}:{api_port}"),
            "DASHBOARD_ORIGIN": os.environ.get("DASHBOARD_ORIGIN", f"http://{HOST}:{dash_port}"),
        }
        create_tables(env)
        start_twilio(stack, env)
        api_base = start_api(stack, env)
        dashboard_url = start_dashboard(stack, env, api_base, token)
        start_rollup(stack, env)
        say(f"API token: {token}")
        say(f"open {dashboard_url}")
        print(f"READY {api_base} {dashboard_url}", flush=True)
        while True:
            time.sleep(0.5)
            dead = stack.check()
            if dead:
                say(f"{dead} stopped unexpectedly; shutting down")
                return 1
    except KeyboardInterrupt:
        say("stopping ...")
        return 0
    finally:
        stack.stop()
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
