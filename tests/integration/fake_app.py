"""A stand-in for the app's Twilio webhook routes, for testing the simulator on its own.

It checks `X-Twilio-Signature` the way the app must (over the public URL it was posted to) and
answers 403 when it is wrong, and it answers the TwiML the app will: on the connect URL a
whisper and a `<Gather>`; with `Digits=1` a `<Dial>` to the lead registered for that call id.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, quoteattr

from twilio.request_validator import RequestValidator

CALLER_ID = "+15005550006"


@dataclass
class Received:
    path: str
    method: str
    params: dict[str, str]
    headers: dict[str, str]
    signature_ok: bool
    at: float = field(default_factory=time.monotonic)


class FakeApp:
    """The app's webhook routes, as far as the simulator can tell."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.leads: dict[str, str] = {}  # call id -> the lead's number
        self.action_on_empty_result = False
        # path prefix -> the TwiML answered there (conference and dialer tests set these)
        self.routes: dict[str, str] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                params = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                self._answer("POST", params)

            def do_GET(self) -> None:
                self._answer("GET", {})

            def _answer(self, method: str, params: dict[str, str]) -> None:
                status, body = app.handle(self, method, params)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
        self.leads.clear()
        self.routes.clear()
        self.action_on_empty_result = False

    def requests(self, prefix: str = "") -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.startswith(prefix)]

    # ------------------------------------------------------------ the app's answers

    def handle(
        self, request: BaseHTTPRequestHandler, method: str, params: dict[str, str]
    ) -> tuple[int, str]:
        url = self.base + request.path
        expected = RequestValidator(self.auth_token).compute_signature(url, params)
        signature = request.headers.get("X-Twilio-Signature", "")
        received = Received(
            request.path, method, params, dict(request.headers.items()), signature == expected
        )
        with self._lock:
            self.received.append(received)
        if not received.signature_ok:
            return 403, "forbidden"
        path = request.path
        if path.startswith("/twilio/voice/connect/"):
            return 200, self.connect_twiml(path.rsplit("/", 1)[1], params.get("Digits"))
        for prefix, twiml in list(self.routes.items()):
            if path.startswith(prefix):
                return 200, twiml
        return 200, "<Response/>"

    def connect_twiml(self, call_id: str, digits: str | None) -> str:
        action = f"{self.base}/twilio/voice/connect/{call_id}"
        lead_status = f"{self.base}/twilio/voice/lead-status/{call_id}"
        if digits == "1":
            return (
                f"<Response><Dial callerId={quoteattr(CALLER_ID)} action={quoteattr(lead_status)}"
                f' timeout="20"><Number statusCallback={quoteattr(lead_status)}'
                ' statusCallbackEvent="initiated ringing answered completed">'
                f"{escape(self.leads[call_id])}</Number></Dial></Response>"
            )
        if digits == "":
            return "<Response><Say>No key pressed. Goodbye.</Say><Hangup/></Response>"
        empty = ' actionOnEmptyResult="true"' if self.action_on_empty_result else ""
        return (
            "<Response><Say>Lead Jane Doe.</Say>"
            f'<Gather numDigits="1" timeout="5" action={quoteattr(action)}{empty}>'
            "<Say>Press 1 to connect.</Say></Gather>"
            "<Say>No key pressed. Goodbye.</Say><Hangup/></Response>"
        )
