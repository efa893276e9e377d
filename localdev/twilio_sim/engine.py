"""The engine: the collaborators wired together behind the one interface the HTTP server, the
developer endpoints and the tests use, so none of them needs to know how the work is divided.
"""

from __future__ import annotations

import threading
from typing import Any

from twilio.request_validator import RequestValidator

from localdev.twilio_sim.clock import SimClock
from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.faults import Fault, FaultInjector
from localdev.twilio_sim.inbound import InboundCalls
from localdev.twilio_sim.resources import Activity, Drop, Reply
from localdev.twilio_sim.rest import RestApi
from localdev.twilio_sim.rules import FINAL_CALL
from localdev.twilio_sim.sms import SmsEngine
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.voice import VoiceEngine
from localdev.twilio_sim.webhooks import Delivery, WebhookSender


class Engine:
    """Twilio's side of the world: numbers, calls, messages, opt-outs, faults, webhooks.

    Thread-safe: REST handlers, call walks and callback queues all share the registry's lock.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.registry = Registry()
        self.fault_injector = FaultInjector(self.registry.lock)
        self.sender = WebhookSender(
            config, self.fault_injector, self.registry.lock, self.registry.closing
        )
        clock = SimClock(config.speed, self.registry.closing)
        self.voice = VoiceEngine(self.registry, clock, self.sender)
        voice = self.voice
        self.inbound = InboundCalls(
            config, self.registry, clock, voice.legs, voice.walker, voice.verbs, voice.recordings
        )
        self.sms = SmsEngine(config, self.registry, clock, self.sender)
        self.api = RestApi(config, self.registry, self.fault_injector, self.voice, self.sms)

    @property
    def validator(self) -> RequestValidator:
        return self.sender.validator

    @property
    def closing(self) -> threading.Event:
        """Set once the simulator stops: whatever waits in real time gives up."""
        return self.registry.closing

    # ------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget every call, message, delivery, opt-out and fault; running calls end quietly."""
        for thread in self.registry.abort_all():
            thread.join(timeout=2)
        with self.registry.lock:
            self.registry.clear()
            self.sender.clear()
            self.fault_injector.clear()

    def close(self) -> None:
        self.registry.closing.set()
        for thread in self.registry.abort_all():
            thread.join(timeout=2)

    # ------------------------------------------------------------ inspection

    def calls(self) -> list[dict[str, Any]]:
        return self.registry.call_details()

    def call(self, sid: str) -> dict[str, Any]:
        with self.registry.lock:
            return self.registry.calls[sid].details()

    def messages(self) -> list[dict[str, Any]]:
        return self.registry.message_details()

    def conferences(self) -> list[dict[str, Any]]:
        with self.registry.lock:
            return [c.details() for c in self.registry.conferences.values()]

    def far_end_hangs_up(self, sid: str) -> dict[str, Any]:
        """The person (or machine) on the call's far end hangs up, as a phone does (not the
        REST API): the call ends `completed` if answered, `canceled` before."""
        with self.registry.lock:
            call = self.registry.calls.get(sid)
            if call is None:
                raise KeyError(sid)
            if call.status not in FINAL_CALL:
                call.transcript.append("far end hung up (developer endpoint)")
                call.hangup_requested = True
                call.wake.set()
        call.done.wait(2)
        with self.registry.lock:
            return call.details()

    def inbound_call(self, data: Any) -> dict[str, Any]:
        """What Twilio does when a phone calls one of the account's numbers (ValueError: a bad
        request, or not one of our numbers)."""
        return self.inbound.place(data)

    def recordings(self) -> list[dict[str, Any]]:
        """Every recording, deleted ones included (`deleted`), oldest first."""
        store = self.voice.recordings
        with self.registry.lock:
            return [
                {**r.resource(store.api_base), "deleted": r.deleted}
                for r in self.registry.recordings.values()
            ]

    def message(self, sid: str) -> dict[str, Any]:
        with self.registry.lock:
            return self.registry.messages[sid].details()

    def webhooks(self, sid: str | None = None) -> list[dict[str, Any]]:
        return self.sender.logged(sid)

    def requests_seen(self) -> list[dict[str, Any]]:
        return self.registry.requests_seen()

    def opt_outs(self) -> list[dict[str, str]]:
        return self.registry.opt_out_list()

    def activity_done(self, sid: str) -> threading.Event:
        return self.registry.activity_done(sid)

    def all_done(self) -> list[threading.Event]:
        return self.registry.all_done()

    # ------------------------------------------------------------ faults

    def add_fault(self, spec: dict[str, Any]) -> None:
        """Validate and queue a fault (or set the webhook delay); ValueError on nonsense."""
        self.fault_injector.add(spec)

    def clear_faults(self) -> None:
        self.fault_injector.clear()

    def faults(self) -> dict[str, Any]:
        return self.fault_injector.snapshot()

    def _take_fault(self, op: str) -> Fault | None:
        """The unit tests' window on how faults are used up."""
        return self.fault_injector.take(op)

    # ------------------------------------------------------------ traffic

    def rest(
        self, method: str, path: str, query: str, body: bytes, authorization: str | None
    ) -> Reply | Drop:
        """One REST request: auth, route, fault, handler; the answer in Twilio's shape."""
        return self.api.handle(method, path, query, body, authorization)

    def create_call(self, form: dict[str, list[str]]) -> dict[str, Any]:
        return self.voice.create_call(form)

    def create_message(self, form: dict[str, list[str]]) -> dict[str, Any]:
        return self.sms.create_message(form)

    def inbound_sms(self, from_: str, to: str, body: str) -> dict[str, Any]:
        """What Twilio does when a phone texts one of the account's numbers."""
        return self.sms.inbound_sms(from_, to, body)

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
        return self.sender.deliver(url, params, method, kind=kind, owner=owner)
