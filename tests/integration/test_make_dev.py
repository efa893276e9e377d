"""`make dev` as a user runs it: READY line, the API answers, SIGTERM stops every child, and the
data is still there after a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from localdev import stack
from localdev.stack import free_ports

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def start_dev(tmp_path: Path, ports: dict[str, int]) -> stack.DevRun:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "DYNAMODB_", "API_TOKEN", "STAGE", "PUBLIC_BASE"))
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update({"DATA_DIR": str(tmp_path / "data"), "API_TOKEN": "dev-test-token"})
    return stack.start_dev(env, timeout=120)


def cognito_line(run: stack.DevRun, ports: dict[str, int]) -> str:
    """The runner's line naming the local Cognito, its pool and its client."""
    prefix = f"[dev] cognito-local on http://127.0.0.1:{ports['COGNITO_PORT']} (pool "
    found = [line for line in run.lines if line.startswith(prefix)]
    assert len(found) == 1, "".join(run.lines)
    return found[0].split(";")[0]


def call(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer dev-test-token", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def children_alive(ports: dict[str, int]) -> list[int]:
    import socket

    alive = []
    for port in ports.values():
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                alive.append(port)
    return alive


def test_dev_stack_keeps_data_across_restarts_and_stops_cleanly(tmp_path):
    ports = free_ports()  # all different
    run = start_dev(tmp_path, ports)
    proc, api, dashboard = run.proc, run.api, run.dashboard_url
    pool_line = cognito_line(run, ports)
    try:
        assert api == f"http://127.0.0.1:{ports['API_PORT']}"
        # The plain dashboard URL: people sign in on its page; no token travels in it.
        assert dashboard == f"http://127.0.0.1:{ports['DASHBOARD_PORT']}/"
        status, lead = call(
            "POST", f"{api}/leads", {"name": "Persistent", "phone": "(212) 555-0142"}
        )
        assert status == 201
    finally:
        stop(proc)
    assert proc.returncode == 0
    time.sleep(0.5)
    assert children_alive(ports) == []

    run = start_dev(tmp_path, ports)
    proc, api = run.proc, run.api
    # The local Cognito kept its pool and client (.data/cognito): the same ids again.
    assert cognito_line(run, ports) == pool_line
    try:
        status, got = call("GET", f"{api}/leads/{lead['id']}")
        assert status == 200 and got["name"] == "Persistent"
    finally:
        stop(proc)
    assert children_alive(ports) == []
