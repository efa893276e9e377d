"""`make dev`: the whole product on this machine, in the foreground, until Ctrl-C.

DynamoDB Local (data kept in .data/dynamodb; an in-memory moto server with a warning where
Java is missing), the tables created or updated, the API (`chalice local`) on 127.0.0.1:8000,
the dashboard on 127.0.0.1:8080, the stats rollup every minute, the local Cognito
(cognito-local on 127.0.0.1:9229, data kept in .data/cognito) with the stage's user pool and app
client, and the Twilio simulator unless TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set.
Prints `READY <api> <dashboard>` once everything answers. Ctrl-C or SIGTERM stops every
process it started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
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
    """Children started by the runner, each in its own process group, stopped in reverse.

    Signal-safe: `on_signal` (SIGTERM, SIGINT, SIGHUP) interrupts the runner with
    KeyboardInterrupt once; every later signal, and any signal once `stop()` began, is noted and
    ignored, so nothing can cut the cleanup short. A child is spawned and recorded in one step
    (`spawn`) that a signal cannot split. `stop()` is idempotent, and returns only when every
    child's process group is gone."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[Any]]] = []
        self.stoppers: list[Callable[[], None]] = []
        self.stopping = threading.Event()
        self._interrupted = False  # the one KeyboardInterrupt was raised
        self._pending = False  # a signal came while spawning: raise once the child is recorded
        self._spawning = 0

    def on_signal(self, signum: int, _frame: Any) -> None:
        if self.stopping.is_set() or self._interrupted:
            return  # already stopping: stop() finishes the job whatever else arrives
        if self._spawning:
            self._pending = True
            return
        self._interrupted = True
        raise KeyboardInterrupt

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self.on_signal)

    def ignore_signals(self) -> None:
        """After stop(): Python's shutdown restores the default handlers, which a late signal
        would turn into a death by SIGTERM; ignore them instead, as nothing is left to stop."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)

    def add(self, name: str, proc: subprocess.Popen[Any]) -> None:
        self.procs.append((name, proc))

    def spawn(self, name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start a child in a process group of its own and record it, with no signal between."""
        self._spawning += 1
        try:
            proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
            self.add(name, proc)
        finally:
            self._spawning -= 1
        if self._pending and not self._interrupted and not self.stopping.is_set():
            self._interrupted = True
            raise KeyboardInterrupt
        return proc

    def on_stop(self, fn: Callable[[], None]) -> None:
        self.stoppers.append(fn)

    def stop(self) -> None:
        """Stop everything; safe to call again, and from a signal-interrupted state."""
        self.stopping.set()
        while True:
            try:
                self._stop_all()
                return
            except KeyboardInterrupt:  # only possible before stopping was set: finish anyway
                continue

    def _stop_all(self) -> None:
        # The rollup thread and the in-process servers, then the children (each whole group).
        while self.stoppers:
            fn = self.stoppers[-1]
            try:
                fn()
            except Exception as exc:  # a failed stopper must not keep the others from running
                say(f"stopping: {exc}")
            self.stoppers.pop()
        for _name, proc in reversed(self.procs):
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, proc in reversed(self.procs):
            if not _wait_group(proc, deadline):
                say(f"{name} did not stop; killing it")
                _signal_group(proc.pid, signal.SIGKILL)
                _wait_group(proc, time.monotonic() + 10)

    def check(self) -> str | None:
        """The name of a child that died, if any."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name
        return None


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_group(proc: subprocess.Popen[Any], deadline: float) -> bool:
    """Wait until the child and every process of its group are gone; False at the deadline."""
    while True:
        if proc.poll() is not None:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


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


def wait_http(
    url: str, timeout: float = 60, what: str = "", proc: subprocess.Popen[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what or url} exited with code {proc.returncode}")
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
        data_dir = DATA / "dynamodb"
        with open(DATA / "dynamodb-local.log", "ab") as log:
            proc = stack.spawn(
                "DynamoDB Local",
                ddb_local.command(data_dir, ddb_port),
                cwd=data_dir,  # it writes a metadata file into its working directory
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        ddb_local.wait_until_up(endpoint, proc)
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
    from chalicelib.store.tables import (
        backfill_search,
        backfill_suppressions,
        backfill_unassigned,
        ensure_tables,
    )

    reset_settings()
    changes = ensure_tables(settings())
    say("tables: " + ("; ".join(changes) if changes else "all present"))
    moved = backfill_unassigned(settings())
    if moved:
        say(f"{moved} unassigned leads from before sign-in listed for callers")
    flagged = backfill_suppressions(settings())
    if flagged:
        say(f"{flagged} leads' doNotCall/smsOptOut moved into the suppression ledger")
    indexed = backfill_search(settings())
    if indexed:
        say(f"{indexed} leads from before search added to the search index")


# ---------------------------------------------------------------- Cognito


def start_cognito(stack: Stack, env: dict[str, str]) -> None:
    """cognito-local (localdev/cognito.py) as a child on 127.0.0.1:COGNITO_PORT, its data in
    .data/cognito; the stage's user pool and app client found by name or created; the API
    pointed at them through `env` (COGNITO_ENDPOINT, _USER_POOL_ID, _CLIENT_ID, _ISSUER)."""
    from localdev import cognito

    cognito_port = port("COGNITO_PORT", cognito.DEFAULT_PORT)
    data_dir = DATA / "cognito"
    try:
        argv = cognito.command()  # installs the npm package when missing or outdated
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(f"cognito-local could not be installed: {exc}")
        raise SystemExit(1) from None
    cognito.prepare_data_dir(data_dir, cognito_port)
    with open(DATA / "cognito-local.log", "ab") as log:
        proc = stack.spawn(
            "cognito-local",
            argv,
            cwd=data_dir,  # it keeps its data in .cognito/ under its working directory
            env=cognito.environment(cognito_port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = cognito.endpoint(cognito_port)
    cognito.wait_until_up(url, proc)
    pool = cognito.ensure_pool(url, cognito_port, cognito.pool_name(stage=env["STAGE"]))
    env.update(pool.env())
    say(
        f"cognito-local on {url} (pool {pool.pool_id}, client {pool.client_id}; data in {data_dir})"
    )


def admin_sign_in() -> tuple[str, str, str | None]:
    """ADMIN_EMAIL (default admin@example.com), ADMIN_PASSWORD (else generated once into
    .data/admin-password) and ADMIN_PHONE (optional)."""
    from chalicelib.identity.secrets import temporary_password

    email = os.environ.get("ADMIN_EMAIL", "").strip() or "admin@example.com"
    password = os.environ.get("ADMIN_PASSWORD", "").strip()
    if not password:
        path = DATA / "admin-password"
        if path.exists():
            password = path.read_text().strip()
        else:
            DATA.mkdir(parents=True, exist_ok=True)
            password = temporary_password()
            path.write_text(password + "\n")
            path.chmod(0o600)
    phone = os.environ.get("ADMIN_PHONE", "").strip() or None
    return email, password, phone


def ensure_admin(env: dict[str, str]) -> tuple[str, str]:
    """The first admin, made sure of on every start (services.team.ensure_admin): an active
    admin who signs in with the password directly."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.errors import AppError
    from chalicelib.services import team

    email, password, phone = admin_sign_in()
    os.environ.update(env)
    reset_settings()
    try:
        team.ensure_admin(providers.deps(), email, password, phone)
    except AppError as exc:
        say(f"ERROR: the admin could not be set up: {exc.message}")
        raise SystemExit(1) from None
    return email, password


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
    proc = stack.spawn(
        "Twilio simulator",
        [sys.executable, "-m", "localdev.twilio_sim", "--host", HOST, "--port", str(sim_port)],
        cwd=ROOT,
        env={**os.environ, "SIMULATOR_AUTH_TOKEN": token, "SIM_APP_BASE": env["PUBLIC_BASE_URL"]},
    )
    wait_http(f"{base}/simulator/health", timeout=30, what="the Twilio simulator", proc=proc)
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
    # chalice local's autoreload restarts the API whenever ANY file under the project changes,
    # and DynamoDB Local writes .data/ on every write: the API would drop requests after each
    # save. Off by default; API_AUTORELOAD=1 turns it on while editing Python code.
    reload = "--autoreload" if os.environ.get("API_AUTORELOAD") == "1" else "--no-autoreload"
    # `chalice local` through localdev/api_server.py: unknown routes answer the API's 404
    # (chalice's own answer echoes the Authorization header), and a quieter log.
    argv = [sys.executable, "-m", "localdev.api_server", "local", "--host", HOST]
    argv += ["--port", str(api_port), "--stage", "dev", reload]
    proc = stack.spawn(
        "API",
        argv,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    wait_http(f"{base}/health", what="the API", proc=proc)
    say(f"API on {base}")
    return base


# ---------------------------------------------------------------- dashboard


def start_dashboard(stack: Stack, env: dict[str, str], api_base: str) -> str:
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
    # The plain URL: members sign in on its page as themselves. The API token is an admin API
    # key for scripts and never goes to the browser.
    return f"{base}/"


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


# ---------------------------------------------------------------- ports


def uses_simulator() -> bool:
    return not (os.environ.get("TWILIO_ACCOUNT_SID") and os.environ.get("TWILIO_AUTH_TOKEN"))


def planned_ports() -> list[tuple[str, int, str]]:
    """(variable, port, what) for every port the runner will listen on."""
    from localdev.cognito import DEFAULT_PORT as COGNITO_DEFAULT
    from localdev.twilio_sim import DEFAULT_PORT as SIMULATOR_DEFAULT

    ports = [
        ("API_PORT", port("API_PORT", 8000), "the API"),
        ("DDB_PORT", port("DDB_PORT", 8001), "DynamoDB Local"),
        ("DASHBOARD_PORT", port("DASHBOARD_PORT", 8080), "the dashboard"),
        ("COGNITO_PORT", port("COGNITO_PORT", COGNITO_DEFAULT), "the local Cognito"),
    ]
    if uses_simulator():
        ports.append(
            ("SIMULATOR_PORT", port("SIMULATOR_PORT", SIMULATOR_DEFAULT), "the Twilio simulator")
        )
    return ports


def port_in_use(number: int) -> bool:
    """Something listens on HOST:number (or on every address), so our server could not bind."""
    with socket.socket() as probe:
        if probe.connect_ex((HOST, number)) == 0:
            return True
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as our servers bind
        try:
            s.bind((HOST, number))
        except OSError:
            return True
    return False


def port_problems() -> list[str]:
    """One message per busy or repeated port; empty when every port is free."""
    problems = []
    seen: dict[int, str] = {}
    for name, number, what in planned_ports():
        if number in seen:
            problems.append(
                f"port {number} is given to both {seen[number]} and {name}: "
                f"give {name} another port, e.g. {name}={number + 10} make dev"
            )
            continue
        seen[number] = name
        if port_in_use(number):
            problems.append(
                f"port {number} ({name}, {what}) is already in use on {HOST}: another "
                f"`make dev` or another program holds it. Stop it (`ss -ltnp 'sport = :{number}'` "
                f"shows which process), or choose a free port, e.g. {name}={number + 10} make dev"
            )
    return problems


def main() -> int:
    stack = Stack()
    stack.install_signal_handlers()
    problems = port_problems()  # before starting anything: never serve beside an old stack
    if problems:
        for problem in problems:
            say(f"ERROR: {problem}")
        say("nothing was started")
        return 1
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
        start_cognito(stack, env)
        env["INVITE_EMAILS"] = "0"  # no e-mail here: the API shows temporary passwords once
        admin_email, admin_password = ensure_admin(env)
        start_twilio(stack, env)
        api_base = start_api(stack, env)
        dashboard_url = start_dashboard(stack, env, api_base)
        start_rollup(stack, env)
        say(f"API token (an admin API key, for scripts): {token}")
        say(f"sign in as {admin_email} with the password {admin_password}")
        say(f"open {dashboard_url} and sign in there")
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
        stack.ignore_signals()  # all is gone: a late signal must not kill the exit


if __name__ == "__main__":
    sys.exit(main())
