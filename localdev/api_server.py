"""`chalice local` as `make dev` and the live test stack run it: the same command and arguments
(`python -m localdev.api_server local --host 127.0.0.1 --port 8000 ...`), with three local-only
changes made before the app loads:

- an unknown route answers the API's 404 (`{"error": {"code": "not_found", ...}}`) instead of
  chalice local's imitation of API Gateway's 403, which echoes the whole Authorization header
  (the bearer token) into the body;
- a client that goes away mid-request (a browser cancelling a fetch) is not logged as a
  BrokenPipeError / ConnectionResetError traceback;
- PynamoDB's INFO notices at import ("Using Default settings value") are not printed (chalice
  local logs the root logger at INFO to stdout).

Never deployed: in AWS, API Gateway answers unknown routes itself (403 "Missing Authentication
Token"), before the app.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from chalicelib.errors import NotFound


def is_disconnect(exc: BaseException | None) -> bool:
    """A client that closed or reset its connection (BrokenPipe, ConnectionReset, ...)."""
    return isinstance(exc, ConnectionError)


def not_found_body(method: str, path: str) -> bytes:
    route = path.split("?", 1)[0]
    return json.dumps(NotFound(f"no route {method} {route}").to_body()).encode()


def patch_chalice_local() -> None:
    from chalice import local

    if getattr(local, "_coldcall_patched", False):
        return

    class RouteNotFound(local.LocalGatewayException):
        CODE = 404

    generate = local.LocalGateway._generate_lambda_event

    def generate_lambda_event(
        self: Any, method: str, path: str, headers: Any, body: bytes | None
    ) -> Any:
        try:
            return generate(self, method, path, headers, body)
        except ValueError:  # no route matches: chalice would answer its 403, token included
            raise RouteNotFound(
                {"Content-Type": "application/json"}, not_found_body(method, path)
            ) from None

    handle_error = local.ThreadedHTTPServer.handle_error

    def quiet_handle_error(self: Any, request: Any, client_address: Any) -> None:
        if is_disconnect(sys.exc_info()[1]):
            return
        handle_error(self, request, client_address)

    local.LocalGateway._generate_lambda_event = generate_lambda_event  # type: ignore[method-assign]
    local.ThreadedHTTPServer.handle_error = quiet_handle_error
    local._coldcall_patched = True  # type: ignore[attr-defined]


def dev_clock(raw: str | None) -> Any:
    """`DEV_NOW` (ISO 8601 with an offset, e.g. `2026-11-24T20:30:00-05:00`): the compliance
    rules judge calls and texts as if it were that moment (running on from there); None when
    unset. Local only: sign-in, records and the rollup keep the real time."""
    from datetime import UTC, datetime

    from chalicelib.clock import OffsetClock

    if not raw or not raw.strip():
        return None
    try:
        start = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SystemExit(f"DEV_NOW is not an ISO 8601 date and time: {raw!r}") from None
    if start.tzinfo is None:
        raise SystemExit(f"DEV_NOW needs a UTC offset (e.g. 2026-11-24T20:30:00-05:00): {raw!r}")
    return OffsetClock(start - datetime.now(UTC))


def main(args: list[str]) -> None:
    logging.getLogger("pynamodb").setLevel(logging.WARNING)
    # botocore says "Found credentials in environment variables." for every new client
    logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
    patch_chalice_local()
    clock = dev_clock(os.environ.get("DEV_NOW"))
    if clock is not None:
        from chalicelib import providers

        providers.override(rules_clock=clock)
    from chalice.cli import cli

    # With --autoreload, chalice re-runs sys.argv as its worker: make that this module again.
    sys.argv = [sys.executable, "-m", "localdev.api_server", *args]
    cli.main(args=args, prog_name="chalice", obj={})


if __name__ == "__main__":
    main(sys.argv[1:])
