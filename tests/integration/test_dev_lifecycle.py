"""`make dev` (python -m localdev.dev) as a terminal or a supervisor treats it: SIGTERM to its
process group twice leaves no process and no busy port; a busy port is refused before anything
starts; an unknown route answers the API's 404 without echoing the token; the log stays quiet
when a client disconnects mid-request (issue 12, items 1-3)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import stack
from localdev.stack import free_ports

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "dev-lifecycle-secret-token"
PORT_NAMES = ("API_PORT", "DDB_PORT", "DASHBOARD_PORT", "SIMULATOR_PORT", "COGNITO_PORT")


def dev_env(tmp_path: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "DYNAMODB_", "API_TOKEN", "STAGE", "PUBLIC_BASE"))
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update({"DATA_DIR": str(tmp_path / "data"), "API_TOKEN": TOKEN})
    return env


def new_ports() -> dict[str, int]:
    return free_ports(PORT_NAMES)  # all different


def busy_ports(ports: dict[str, int]) -> list[int]:
    busy = []
    for port in ports.values():
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[0]
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (s := _stat(pid)) is not None and s[1] != "Z"}


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(check, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def kill_everything(proc: subprocess.Popen[str], pids: set[int]) -> None:
    """After a failed assertion: do not leave the test's processes behind."""
    for pid in alive(pids | {proc.pid}):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
    proc.wait(timeout=10)


# ---------------------------------------------------------------- item 1


def test_sigterm_twice_to_the_group_stops_every_child(tmp_path):
    ports = new_ports()
    run = stack.start_dev(dev_env(tmp_path, ports), timeout=180)
    proc = run.proc
    children = descendants(proc.pid)
    assert len(children) >= 4, children  # DynamoDB Local, cognito-local, the simulator, the API
    try:
        # What a terminal or a supervisor does: the group, more than once, also while stopping.
        os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + 1.5
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(0.1)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        left = alive(children)
        assert wait_until(lambda: not alive(children), 10), (
            f"left running: {sorted(left)}\n{''.join(run.lines)[-3000:]}"
        )
        assert wait_until(lambda: not group_alive(proc.pid), 5)
        assert wait_until(lambda: busy_ports(ports) == [], 10), busy_ports(ports)
        assert "stopped" in "".join(run.lines)
        assert proc.returncode == 0  # it stopped itself, not killed by a late signal
    finally:
        kill_everything(proc, children)


# ---------------------------------------------------------------- item 2


class _Answer200(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        return


def _holder(port: int) -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Answer200)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("held", PORT_NAMES)
def test_busy_port_is_refused_before_anything_starts(tmp_path, held):
    ports = new_ports()
    holder = _holder(ports[held])  # another stack, answering 200 to everything
    next(holder)
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdev.dev"],
        cwd=ROOT,
        env=dev_env(tmp_path, ports),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    children: set[int] = set()
    try:
        try:
            out, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            children = descendants(proc.pid)
            os.killpg(proc.pid, signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            pytest.fail(f"the runner did not stop on a busy {held}:\n{out[-3000:]}")
        assert proc.returncode != 0, out
        assert "READY" not in out
        assert f"port {ports[held]}" in out and held in out, out
        assert "in use" in out
        # nothing the runner started listens on the other ports; one another program on this
        # machine took meanwhile (the runner names it in use too) was never the runner's
        others = {k: v for k, v in ports.items() if k != held and f"port {v} (" not in out}
        assert busy_ports(others) == [], out
        assert not group_alive(proc.pid)
    finally:
        kill_everything(proc, children)
        next(holder, None)


# ---------------------------------------------------------------- item 3


def _disconnect_mid_request(api: str, path: str) -> None:
    """Send a request and reset the connection before the answer (a browser cancelling)."""
    host, port = api.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    )
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_unknown_route_answers_404_without_the_token_and_the_log_is_quiet(tmp_path):
    ports = new_ports()
    run = stack.start_dev(dev_env(tmp_path, ports), timeout=180)
    proc = run.proc
    children = descendants(proc.pid)
    try:
        for method in ("GET", "POST", "DELETE"):
            req = urllib.request.Request(
                f"{run.api}/no/such/route?x=1",
                method=method,
                data=b"{}" if method == "POST" else None,
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)
            raw = err.value.read().decode()
            assert err.value.code == 404, raw
            assert TOKEN not in raw and TOKEN not in str(err.value.headers)
            assert err.value.headers["Content-Type"].startswith("application/json")
            body = json.loads(raw)
            assert body["error"]["code"] == "not_found"
            assert body["error"]["message"]
        for _ in range(10):
            _disconnect_mid_request(run.api, "/leads?limit=100")
            _disconnect_mid_request(run.api, "/health")
        time.sleep(2)
        with urllib.request.urlopen(f"{run.api}/health", timeout=10) as resp:
            assert resp.status == 200  # still serving
        log = "".join(run.lines)
        assert "Using Default settings value" not in log
        assert "BrokenPipeError" not in log and "ConnectionResetError" not in log, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        finally:
            kill_everything(proc, children)
