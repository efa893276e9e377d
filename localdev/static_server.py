"""A small static server for the built dashboard (`make dev` and the browser tests): serves
dashboard/dist on 127.0.0.1 with the cache headers S3 gets, and a generated config.js naming
the local API. Runs in a thread of the process that starts it."""

from __future__ import annotations

import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scripts.dashboard_build import CONTENT_TYPES, cache_control


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}
    config_body: bytes = b""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPES[".js"])
            self.send_header("Content-Length", str(len(self.config_body)))
            self.end_headers()
            self.wfile.write(self.config_body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", cache_control(self.path.split("?", 1)[0] or "/"))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the API logs requests
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that cancels a request (navigation, reload) is not an error worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class DashboardServer:
    """Serve `root` on host:port with `config_js` as /config.js, in a daemon thread."""

    def __init__(self, root: Path, host: str, port: int, config_js: str) -> None:
        handler = type("DashboardHandler", (_Handler,), {"config_body": config_js.encode()})
        self.httpd = _Server((host, port), partial(handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> DashboardServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
