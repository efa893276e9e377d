"""Build the dashboard (dashboard/, npm): `npm ci` when node_modules is missing or older than
package-lock.json, then `npm run build` (esbuild + the Tailwind CLI) into dashboard/dist, or
into DASHBOARD_DIST when set. Also writes the one file that is never bundled, config.js.

    python -m scripts.dashboard_build          # build and print the output folder
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "dashboard"
LOCK = DASHBOARD / "package-lock.json"
STAMP = DASHBOARD / "node_modules" / ".coldcall-lock-sha256"


# Content types and cache policy of the built files, shared by the dev server and the deploy.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".map": "application/json",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
SHORT = "public, max-age=300"


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def cache_control(relative_path: str) -> str:
    """Files under assets/ carry a hash of their content in their name, so they never change
    and may be cached for a year; index.html and config.js must be revalidated on every load
    (they name the current assets and the API); anything else is cached briefly."""
    path = relative_path.lstrip("/")
    if path.startswith("assets/"):
        return IMMUTABLE
    if path in ("", "index.html", "config.js"):
        return NO_CACHE
    return SHORT


def dist_dir() -> Path:
    """Where the build goes: DASHBOARD_DIST (relative to dashboard/) or dashboard/dist."""
    return (DASHBOARD / os.environ.get("DASHBOARD_DIST", "dist")).resolve()


def config_js(api_base: str) -> str:
    """The config.js that names the API base (JSON-encoded, so any URL is safe in it)."""
    payload = json.dumps({"apiBase": api_base.rstrip("/")})
    return f"window.COLDCALL_CONFIG = {payload};\n"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to build the dashboard (install Node.js 20 with npm)")
    return npm


def _lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def deps_current() -> bool:
    """node_modules was installed by `npm ci` from the current package-lock.json."""
    return STAMP.exists() and STAMP.read_text().strip() == _lock_digest()


def ensure_deps(log: Callable[[str], None] = print) -> None:
    if deps_current():
        return
    log("installing the dashboard's npm packages (npm ci) ...")
    subprocess.run(
        [_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=DASHBOARD,
        check=True,
    )
    STAMP.write_text(_lock_digest() + "\n")


@contextmanager
def _exclusive() -> Iterator[None]:
    """One install-and-build at a time across processes (two dev stacks started together, as
    the test workers do on a fresh clone, would otherwise run `npm ci` over each other)."""
    import fcntl

    with open(DASHBOARD / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(log: Callable[[str], None] = print) -> Path:
    """Install what is missing, build, and return the output folder."""
    with _exclusive():
        return _build(log)


def _build(log: Callable[[str], None]) -> Path:
    ensure_deps(log)
    out = dist_dir()
    run = subprocess.run(
        [_npm(), "run", "--silent", "build"],
        cwd=DASHBOARD,
        env={**os.environ, "DASHBOARD_DIST": str(out)},
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise RuntimeError(f"the dashboard build failed:\n{run.stdout}{run.stderr}")
    log(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else f"built into {out}")
    if not (out / "index.html").exists():
        raise RuntimeError(f"the dashboard build wrote no index.html into {out}")
    return out


if __name__ == "__main__":
    try:
        print(build(log=lambda m: print(m, file=sys.stderr)))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
