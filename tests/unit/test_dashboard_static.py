"""The dev server for the built dashboard, and the dashboard's own rule: no HTML parsing of
strings anywhere in its source (every server string goes through textContent)."""

from __future__ import annotations

import re
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from localdev.static_server import DashboardServer
from scripts import dashboard_build

SRC = Path(__file__).resolve().parents[2] / "dashboard" / "src"


@pytest.fixture
def server(tmp_path: Path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>")
    (tmp_path / "config.js").write_text("window.COLDCALL_CONFIG = {apiBase: 'stale'};")
    (tmp_path / "assets" / "app-ABC123.js").write_text("export {};")
    srv = DashboardServer(tmp_path, "127.0.0.1", 0, dashboard_build.config_js("http://api.test"))
    srv.start()
    yield f"http://127.0.0.1:{srv.port}"
    srv.stop()


def fetch(url: str) -> tuple[bytes, Message]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read(), resp.headers


def test_serves_the_generated_config_js_not_the_built_one(server: str) -> None:
    body, headers = fetch(f"{server}/config.js")

    assert body == b'window.COLDCALL_CONFIG = {"apiBase": "http://api.test"};\n'
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"


def test_index_is_revalidated_and_hashed_assets_are_immutable(server: str) -> None:
    _, index = fetch(f"{server}/")
    _, asset = fetch(f"{server}/assets/app-ABC123.js")

    assert index["Cache-Control"] == "no-cache"
    assert index["Content-Type"].startswith("text/html")
    assert asset["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset["Content-Type"] == "text/javascript; charset=utf-8"
    assert asset["X-Content-Type-Options"] == "nosniff"


def test_the_dashboard_source_never_parses_html_from_strings() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|eval\("
    )
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.js")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []


def test_only_api_js_talks_to_the_network() -> None:
    network = re.compile(r"\bfetch\(|XMLHttpRequest|WebSocket|EventSource")
    users = sorted(
        str(path.relative_to(SRC)) for path in SRC.rglob("*.js") if network.search(path.read_text())
    )
    assert users == ["js/api.js"]


def test_the_session_is_never_kept_in_local_storage() -> None:
    """The refresh token lives in sessionStorage and the access token in memory (API.md,
    DESIGN.md: never a long-lived secret in localStorage); localStorage holds preferences only
    (store.js), and api.js only ever removes the old shared token from it."""
    writers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.js")
        if re.search(r"localStorage\.setItem", path.read_text())
    )
    assert writers == ["js/store.js"]
    api_js = (SRC / "js" / "api.js").read_text()
    assert "sessionStorage" in api_js
