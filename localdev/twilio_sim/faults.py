"""Faults on demand: Twilio failing the way the app must survive (5xx, 429, a request carried
out but answered with an error, no answer at all, slow webhooks, webhooks never sent), switched
on per REST operation so a test can aim one failure at one request.

`{"op": "webhook", "mode": "drop", "count": n}`: the next n webhooks (of any kind) are not sent
at all, as when Twilio gave up on them (it never retries one that answered 5xx or timed out):
only the app's own recovery can find what they carried. `"kind": K` aims the drop at webhooks
whose log kind starts with K (`conference-status:participant-join`, `call-status:completed`,
`call-amd`, ...); others go through.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localdev.twilio_sim.resources import Drop, Reply, error_body

FAULT_OPS = frozenset(
    {
        "accounts.fetch",
        "numbers.list",
        "numbers.fetch",
        "numbers.update",
        "calls.create",
        "calls.list",
        "calls.fetch",
        "calls.update",
        "messages.create",
        "messages.list",
        "messages.fetch",
        "conferences.list",
        "conferences.fetch",
        "conferences.update",
        "participants.create",
        "participants.list",
        "participants.fetch",
        "participants.update",
        "participants.delete",
        "recordings.list",
        "recordings.list_call",
        "recordings.fetch",
        "recordings.delete",
        "recordings.media",
    }
)
FAULT_MODES = frozenset(
    {"500", "500-after-create", "429", "21211", "timeout", "timeout-after-create"}
)
# Webhooks (what the simulator sends the app) have one fault of their own.
WEBHOOK_OP = "webhook"
WEBHOOK_MODES = frozenset({"drop"})


@dataclass
class Fault:
    op: str
    mode: str
    count: int
    retry_after: int = 1
    delay_seconds: float = 30.0
    kind: str | None = None  # webhook drops only: the log kinds (a prefix) it applies to

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "op": self.op,
            "mode": self.mode,
            "count": self.count,
            "retryAfter": self.retry_after,
            "delaySeconds": self.delay_seconds,
        }
        if self.kind is not None:
            body["kind"] = self.kind
        return body


class FaultInjector:
    """The queued faults, used up in order per operation, and the webhook delay.

    Shares the registry's lock, so a reset clears faults and state in one step.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._faults: dict[str, deque[Fault]] = {}
        self._webhook_delay = 0.0

    @property
    def webhook_delay(self) -> float:
        """Real seconds each webhook waits before it is sent (0: none)."""
        return self._webhook_delay

    def add(self, spec: dict[str, Any]) -> None:
        """Validate and queue a fault (or set the webhook delay); ValueError on nonsense."""
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        known = {"op", "mode", "count", "retryAfter", "delaySeconds", "webhookDelaySeconds", "kind"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "webhookDelaySeconds" in spec:
            delay = spec["webhookDelaySeconds"]
            if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
                raise ValueError("webhookDelaySeconds must be a number >= 0")
            with self._lock:
                self._webhook_delay = float(delay)
        if "op" not in spec and "mode" not in spec:
            if "webhookDelaySeconds" not in spec:
                raise ValueError("give op and mode, or webhookDelaySeconds")
            return
        op, mode, count = spec.get("op"), str(spec.get("mode", "")), spec.get("count", 1)
        if op == WEBHOOK_OP:
            if mode not in WEBHOOK_MODES:
                raise ValueError(f"a webhook fault's mode must be one of {sorted(WEBHOOK_MODES)}")
        elif op not in FAULT_OPS:
            raise ValueError(f"op must be one of {sorted(FAULT_OPS | {WEBHOOK_OP})}")
        elif mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be an integer >= 1")
        retry_after = spec.get("retryAfter", 1)
        delay_seconds = spec.get("delaySeconds", 30.0)
        if not isinstance(retry_after, int) or retry_after < 0:
            raise ValueError("retryAfter must be an integer >= 0")
        if not isinstance(delay_seconds, int | float) or delay_seconds < 0:
            raise ValueError("delaySeconds must be a number >= 0")
        kind = spec.get("kind")
        if kind is not None and (op != WEBHOOK_OP or not isinstance(kind, str) or not kind):
            raise ValueError("kind (a non-empty string) is for webhook faults only")
        fault = Fault(op, mode, count, retry_after, float(delay_seconds), kind)
        with self._lock:
            self._faults.setdefault(op, deque()).append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._webhook_delay = 0.0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults": [f.to_json() for queue in self._faults.values() for f in queue],
                "webhookDelaySeconds": self._webhook_delay,
            }

    def take(self, op: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(op)
            if not queue:
                return None
            fault = queue[0]
            fault.count -= 1
            if fault.count <= 0:
                queue.popleft()
            return Fault(fault.op, fault.mode, 1, fault.retry_after, fault.delay_seconds)

    def drop_webhook(self, kind: str = "") -> bool:
        """True (using one up) when a `webhook` `drop` fault says this webhook (of log kind
        `kind`) is never sent: the first queued drop without a kind, or whose kind it starts
        with."""
        with self._lock:
            queue = self._faults.get(WEBHOOK_OP)
            fault = next(
                (f for f in queue or () if f.kind is None or kind.startswith(f.kind)), None
            )
            if queue is None or fault is None:
                return False
            fault.count -= 1
            if fault.count <= 0:
                queue.remove(fault)
            return True

    def apply(self, fault: Fault | None, run: Callable[[], Reply]) -> Reply | Drop:
        """Answer as the fault says; `-after-create` modes carry the request out first."""
        if fault is None:
            return run()
        mode = fault.mode
        if mode.endswith("-after-create"):
            run()  # carried out; the client is told otherwise
        if mode in ("500", "500-after-create"):
            return Reply(500, error_body(20500, "An internal server error has occurred", 500))
        if mode == "429":
            return Reply(
                429,
                error_body(20429, "Too Many Requests", 429),
                {"Retry-After": str(fault.retry_after)},
            )
        if mode == "21211":
            return Reply(400, error_body(21211, "Invalid 'To' Phone Number", 400))
        return Drop(fault.delay_seconds)
