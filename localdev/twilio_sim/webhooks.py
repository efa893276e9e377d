"""Webhooks sent the way Twilio sends them: signed over the exact URL, one idempotency token
per delivery, Twilio's headers, the whole delivery inside the webhook timeout, one retry when
nothing reached the app, never a retry after a 5xx or a timeout; a `webhook` `drop` fault
keeps a webhook from being sent at all (logged, with `dropped: true`). The app's signature
check and its duplicate handling are only tested if the simulator is as strict and as
repetitive as Twilio is.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from twilio.request_validator import RequestValidator

from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.faults import FaultInjector
from localdev.twilio_sim.resources import Activity
from localdev.twilio_sim.rules import now

log = logging.getLogger("twilio_sim")

USER_AGENT = "TwilioProxy/1.1"


@dataclass(eq=False)
class Delivery:
    """One webhook sent to the app, as the delivery log shows it."""

    id: int
    kind: str
    sid: str | None
    method: str
    url: str
    params: dict[str, str]
    at: datetime
    signature: str = ""
    idempotency_token: str = ""
    status: int | None = None
    content_type: str | None = None
    response_body: str = ""
    elapsed_ms: int = 0
    error: str | None = None
    error_code: int | None = None
    attempts: int = 0
    delay_seconds: float = 0.0
    discarded: bool = False
    dropped: bool = False
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "sid": self.sid,
            "method": self.method,
            "url": self.url,
            "params": dict(self.params),
            "at": self.at.isoformat(),
            "signature": self.signature,
            "idempotencyToken": self.idempotency_token,
            "status": self.status,
            "contentType": self.content_type,
            "responseBody": self.response_body[:4000],
            "elapsedMs": self.elapsed_ms,
            "error": self.error,
            "errorCode": self.error_code,
            "attempts": self.attempts,
            "delaySeconds": self.delay_seconds,
            "discarded": self.discarded,
            "dropped": self.dropped,
            "note": self.note,
        }


class WebhookSender:
    """Sends, signs and times webhooks, and keeps the delivery log the developer endpoints show.

    It shares the registry's lock (one lock for all state) and its closing event (a stopping
    simulator neither retries nor waits out a webhook delay).
    """

    def __init__(
        self,
        config: SimConfig,
        faults: FaultInjector,
        lock: threading.RLock,
        closing: threading.Event,
    ) -> None:
        self.config = config
        self.validator = RequestValidator(config.auth_token)
        self._faults = faults
        self._lock = lock
        self._closing = closing
        self._ids = 0
        self._deliveries: list[Delivery] = []

    def deliver(
        self,
        url: str,
        params: dict[str, str],
        method: str = "POST",
        *,
        kind: str,
        owner: Activity | None = None,
    ) -> Delivery:
        """Send one webhook as Twilio does, wait for the answer within the timeout, log it."""
        with self._lock:
            self._ids += 1
            delivery = Delivery(
                self._ids,
                kind,
                owner.sid if owner else params.get("MessageSid"),
                method.upper(),
                url,
                dict(params),
                now(),
            )
        if self._faults.drop_webhook(kind):
            # Never sent: Twilio gave up on it, and nothing will ever send it again.
            delivery.dropped = True
            delivery.error = "dropped: a webhook drop fault (never sent)"
            with self._lock:
                if owner is None or not owner.aborted:
                    self._deliveries.append(delivery)
            log.info("webhook %s %s %s dropped (fault)", kind, delivery.method, url)
            return delivery
        delay = self._faults.webhook_delay
        budget = self.config.webhook_timeout
        target, data = url, dict(params)
        if delivery.method == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(params)
            data = {}
        delivery.signature = self.validator.compute_signature(target, data)
        delivery.idempotency_token = str(uuid.uuid4())
        delivery.delay_seconds = delay
        headers = {
            "X-Twilio-Signature": delivery.signature,
            "I-Twilio-Idempotency-Token": delivery.idempotency_token,
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
            "Cache-Control": "max-age=259200",
            "X-Home-Region": "us1",
        }
        if delivery.method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
        started = time.monotonic()
        if delay > 0:
            self.pause(delay, owner)
        while True:
            delivery.attempts += 1
            remaining = budget - (time.monotonic() - started)
            try:
                response = requests.request(
                    delivery.method,
                    target,
                    data=data or None,
                    headers=headers,
                    timeout=max(remaining, 0.05),
                    allow_redirects=False,
                )
            except requests.exceptions.ConnectionError as exc:
                if never_connected(exc) and delivery.attempts < 2 and not self._closing.is_set():
                    continue  # nothing reached the app: Twilio tries once more
                delivery.error, delivery.error_code = f"connection failed: {exc}", 11205
                break
            except requests.exceptions.Timeout:
                delivery.error = f"timeout: no answer within {budget:g}s"
                delivery.error_code = 11205
                break
            except requests.exceptions.RequestException as exc:
                delivery.error, delivery.error_code = f"request failed: {exc}", 11200
                break
            delivery.status = response.status_code
            delivery.content_type = response.headers.get("Content-Type")
            delivery.response_body = response.text
            if time.monotonic() - started > budget:
                delivery.error = f"timeout: no answer within {budget:g}s (answer came too late)"
                delivery.error_code = 11205
            break
        delivery.elapsed_ms = round((time.monotonic() - started) * 1000)
        with self._lock:
            if owner is None or not owner.aborted:
                self._deliveries.append(delivery)
        log.info(
            "webhook %s %s %s -> %s%s (%d ms)",
            kind,
            delivery.method,
            url,
            delivery.status,
            f" [{delivery.error}]" if delivery.error else "",
            delivery.elapsed_ms,
        )
        return delivery

    def pause(self, seconds: float, owner: Activity | None) -> None:
        """Real seconds (webhook delay), cut short by stop or by the owner's abort."""
        deadline = time.monotonic() + seconds
        while not self._closing.is_set() and not (owner and owner.aborted):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._closing.wait(min(remaining, 0.05))

    # ------------------------------------------------------------ the log

    def logged(self, sid: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                d.to_json()
                for d in self._deliveries
                if sid is None
                or sid in (d.sid, d.params.get("ParentCallSid"), d.params.get("CallSid"))
            ]

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()


def never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection itself failed (refused, unreachable, connect timeout): the app
    never saw the request, so a retry cannot repeat it. A reset after sending is not retried."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        reason, urllib3.exceptions.NewConnectionError
    )
