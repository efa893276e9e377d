"""The HTTP side: Twilio's REST paths and the developer endpoints on one threading server, and
`Simulator`, the handle tests and ``make dev`` hold (start, stop, inspect, drive).

The developer endpoints need no auth: the simulator is never deployed and binds 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.engine import Engine
from localdev.twilio_sim.resources import Drop, Reply, error_body
from localdev.twilio_sim.rules import ACCOUNT_SID, NUMBERS, new_sid

log = logging.getLogger("twilio_sim")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        super().__init__(address, _Handler)
        self.engine = engine


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "TwilioSimulator/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        engine = self.server.engine
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply: Reply | Drop
        try:
            if path == "/simulator" or path.startswith("/simulator/"):
                reply = _developer(engine, method, path, query, body)
            else:
                reply = engine.rest(method, path, query, body, self.headers.get("Authorization"))
        except Exception as exc:
            log.exception("simulator error on %s %s", method, path)
            reply = Reply(500, error_body(20500, f"simulator error: {exc}", 500))
        if isinstance(reply, Drop):
            deadline = time.monotonic() + reply.seconds
            while not engine.closing.is_set() and time.monotonic() < deadline:
                engine.closing.wait(min(0.05, max(deadline - time.monotonic(), 0)))
            self.close_connection = True
            return
        if path != "/simulator/health":
            log.info("%s %s -> %d", method, self.path, reply.status)
        headers = dict(reply.headers)
        if isinstance(reply.body, bytes):  # media (a recording's audio)
            data = reply.body
            content_type = headers.pop("Content-Type", "application/octet-stream")
        else:
            data = b"" if reply.status == 204 else json.dumps(reply.body).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", new_sid("RQ"))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _developer(engine: Engine, method: str, path: str, query: str, body: bytes) -> Reply:
    """The /simulator/* endpoints: inspection, inbound SMS, reset, faults (no auth: never
    deployed, bound to 127.0.0.1)."""
    args = {k: v[0] for k, v in parse_qs(query).items()}

    def payload() -> Any:
        try:
            return json.loads(body or b"{}")
        except ValueError as exc:
            raise ValueError(f"the body must be JSON: {exc}") from exc

    try:
        if method == "GET" and path == "/simulator/health":
            return Reply(200, {"status": "ok", "accountSid": ACCOUNT_SID})
        if method == "GET" and path == "/simulator/calls":
            return Reply(200, {"calls": engine.calls()})
        if method == "GET" and path == "/simulator/messages":
            return Reply(200, {"messages": engine.messages()})
        if method == "GET" and path == "/simulator/conferences":
            return Reply(200, {"conferences": engine.conferences()})
        hangup = re.fullmatch(r"/simulator/calls/(CA[0-9a-f]{32})/hangup", path)
        if method == "POST" and hangup:
            try:
                return Reply(200, engine.far_end_hangs_up(hangup.group(1)))
            except KeyError:
                return Reply(404, {"error": f"no call {hangup.group(1)}"})
        if method == "GET" and path == "/simulator/webhooks":
            return Reply(200, {"webhooks": engine.webhooks(args.get("sid"))})
        if method == "GET" and path == "/simulator/requests":
            return Reply(200, {"requests": engine.requests_seen()})
        if method == "GET" and path == "/simulator/opt-outs":
            return Reply(200, {"optOuts": engine.opt_outs()})
        if method == "POST" and path == "/simulator/reset":
            engine.reset()
            return Reply(200, {"ok": True})
        if path == "/simulator/faults":
            if method == "POST":
                engine.add_fault(payload())
            elif method == "DELETE":
                engine.clear_faults()
            return Reply(200, engine.faults())
        if method == "POST" and path == "/simulator/inbound-call":
            return Reply(200, engine.inbound_call(payload()))
        if method == "GET" and path == "/simulator/recordings":
            return Reply(200, {"recordings": engine.recordings()})
        if method == "POST" and path == "/simulator/inbound-sms":
            data = payload()
            if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("from", "to", "body")
            ):
                raise ValueError('give {"from": "+1...", "to": "+1500555000x", "body": "..."}')
            return Reply(200, engine.inbound_sms(data["from"], data["to"], data["body"]))
    except ValueError as exc:
        return Reply(400, {"error": str(exc)})
    return Reply(404, {"error": f"no developer endpoint {method} {path}"})


class Simulator:
    """A running simulator: the HTTP server on its own thread, and the engine behind it.

    Tests use the inspection helpers instead of HTTP where that reads better; both see the
    same state.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.engine = Engine(config)
        self._server = _Server((config.host, config.port), self.engine)
        # RecordingUrl and media_url point here, where the recordings are served.
        self.engine.voice.recordings.api_base = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="twilio-sim", daemon=True
        )
        self._stopped = False

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and end every running call quietly; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.engine.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ where it is

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API base for RebasingHttpClient, e.g. http://127.0.0.1:8900."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def account_sid(self) -> str:
        return ACCOUNT_SID

    @property
    def auth_token(self) -> str:
        return self.config.auth_token

    @property
    def numbers(self) -> tuple[str, ...]:
        return NUMBERS

    # ------------------------------------------------------------ inspection

    def calls(self) -> list[dict[str, Any]]:
        return self.engine.calls()

    def call(self, sid: str) -> dict[str, Any]:
        return self.engine.call(sid)

    def messages(self) -> list[dict[str, Any]]:
        return self.engine.messages()

    def conferences(self) -> list[dict[str, Any]]:
        """Every conference, with the calls in it now and every call that was ever in it."""
        return self.engine.conferences()

    def hang_up_far_end(self, sid: str) -> dict[str, Any]:
        """As POST /simulator/calls/{sid}/hangup: the phone hangs up (not the app)."""
        return self.engine.far_end_hangs_up(sid)

    def message(self, sid: str) -> dict[str, Any]:
        return self.engine.message(sid)

    def webhooks(self, sid: str | None = None) -> list[dict[str, Any]]:
        """The delivery log, oldest first; `sid` keeps one call's (with its lead leg's) or one
        message's deliveries."""
        return self.engine.webhooks(sid)

    def requests(self) -> list[dict[str, Any]]:
        """Every REST request seen, oldest first (op, status, Twilio code, fault applied)."""
        return self.engine.requests_seen()

    def wait_call(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the call's walk, both legs and all their callbacks, is over."""
        if not self.engine.activity_done(sid).wait(timeout):
            raise TimeoutError(f"call {sid} still running after {timeout}s")
        return self.call(sid)

    def wait_message(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        if not self.engine.activity_done(sid).wait(timeout):
            raise TimeoutError(f"message {sid} still running after {timeout}s")
        return self.message(sid)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no call or message is running."""
        deadline = time.monotonic() + timeout
        for done in self.engine.all_done():
            if not done.wait(max(deadline - time.monotonic(), 0)):
                raise TimeoutError(f"the simulator is still busy after {timeout}s")

    # ------------------------------------------------------------ driving

    def reset(self) -> None:
        self.engine.reset()

    def inbound_sms(self, from_: str, to: str, body: str) -> dict[str, Any]:
        """As POST /simulator/inbound-sms: deliver a text to the app, answer the outcome."""
        return self.engine.inbound_sms(from_, to, body)

    def inbound_call(self, from_: str, to: str, **behaviour: Any) -> str:
        """As POST /simulator/inbound-call: a phone calls `to`; the new call's SID. Keywords
        as the endpoint's fields: behaviour, messageSeconds, hangupAfter, digits."""
        return str(self.engine.inbound_call({"from": from_, "to": to, **behaviour})["sid"])

    def recordings(self) -> list[dict[str, Any]]:
        """Every recording (Twilio's resource, plus `deleted`), oldest first."""
        return self.engine.recordings()

    def add_fault(
        self,
        op: str,
        mode: str,
        count: int = 1,
        *,
        retry_after: int = 1,
        delay_seconds: float = 30.0,
        kind: str | None = None,
    ) -> None:
        """Queue a fault (`kind`: for a webhook drop, the log kinds it aims at)."""
        spec: dict[str, Any] = {
            "op": op,
            "mode": mode,
            "count": count,
            "retryAfter": retry_after,
            "delaySeconds": delay_seconds,
        }
        if kind is not None:
            spec["kind"] = kind
        self.engine.add_fault(spec)

    def set_webhook_delay(self, seconds: float) -> None:
        self.engine.add_fault({"webhookDelaySeconds": seconds})

    def clear_faults(self) -> None:
        self.engine.clear_faults()


def start_simulator(
    port: int = 0,
    *,
    app_base: str | None = None,
    auth_token: str | None = None,
    speed: float | None = None,
    webhook_timeout: float | None = None,
    host: str = "127.0.0.1",
) -> Simulator:
    """Start a simulator on `host:port` (0: a free port); unset arguments come from the
    environment (SIM_APP_BASE, SIMULATOR_AUTH_TOKEN, SIM_SPEED, SIM_WEBHOOK_TIMEOUT), then the
    defaults. The caller stops it (`stop()`, or use it as a context manager)."""
    env = SimConfig.from_env()
    config = SimConfig(
        host=host,
        port=port,
        app_base=(app_base or env.app_base).rstrip("/"),
        auth_token=auth_token or env.auth_token,
        speed=speed if speed is not None else env.speed,
        webhook_timeout=webhook_timeout if webhook_timeout is not None else env.webhook_timeout,
    )
    return Simulator(config).start()
