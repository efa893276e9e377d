"""A call leg's life: its statuses, its status callbacks, and the lead's scripted phone.

Each leg gets a one-worker queue for its status callbacks, so they leave in order (as Twilio's
SequenceNumber promises) while a slow status webhook never holds the call itself up; the two
legs' callbacks may interleave, as Twilio's do.
"""

from __future__ import annotations

import contextlib
import math
from concurrent.futures import ThreadPoolExecutor

from localdev.twilio_sim.clock import Hangup, SimClock
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.rules import (
    ACCOUNT_SID,
    AMD_HUMAN_S,
    API_VERSION,
    BUSY_S,
    DIAL_S,
    FAILED_S,
    GREETING_S,
    LEAD_RING_S,
    TALK_S,
    VOICEMAIL_S,
    answered_by,
    now,
    outcome_for,
    rfc2822,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.webhooks import WebhookSender


def callback_queue(sid: str) -> ThreadPoolExecutor:
    """One worker: the leg's status callbacks leave in order and never hold the call up."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sim-cb-{sid[-6:]}")


def geo_params(from_: str, to: str) -> dict[str, str]:
    """The geographic parameters of an inbound call's webhooks (Twilio looks them up; here
    only the country is known, US for +1 numbers)."""
    params: dict[str, str] = {}
    for prefix, number in (("From", from_), ("Caller", from_), ("To", to), ("Called", to)):
        params[f"{prefix}City"] = ""
        params[f"{prefix}State"] = ""
        params[f"{prefix}Zip"] = ""
        params[f"{prefix}Country"] = "US" if number.startswith("+1") else ""
    return params


class CallLegs:
    """Moves legs through their statuses and reports each move to the leg's status callback."""

    def __init__(self, registry: Registry, clock: SimClock, sender: WebhookSender) -> None:
        self._lock = registry.lock
        self._clock = clock
        self._sender = sender

    def set_status(self, call: Call, status: str, event: str) -> None:
        with self._lock:
            call.status = status
            call.date_updated = now()
            if status == "initiated":
                call.start_time = call.date_updated
            call.history.append(status)
        self.status_callback(call, event)

    def end(self, call: Call, status: str) -> str:
        with self._lock:
            call.status = status
            call.date_updated = call.end_time = now()
            if call.start_time is None:
                call.start_time = call.end_time
            answered = call.answered_at_clock
            call.duration = 0 if answered is None else round(call.clock - answered)
            call.history.append(status)
        self.status_callback(call, "completed")
        return status

    def status_callback(self, call: Call, event: str) -> None:
        """Queue the callback for `event` on the leg's own ordered queue, if it was asked for
        (`completed` always is)."""
        if not call.status_callback or (event not in call.events and event != "completed"):
            return
        with self._lock:
            params = {
                **self.call_params(call),
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(call.sequence),
                "Timestamp": rfc2822(call.date_updated) or "",
            }
            call.sequence += 1
            if event == "completed":
                params["CallDuration"] = str(call.duration or 0)
                params["Duration"] = str(math.ceil((call.duration or 0) / 60))
        queue = call.callbacks
        url, method = call.status_callback, call.status_callback_method
        if queue is None:  # pragma: no cover (every leg gets a queue)
            return

        def send() -> None:
            if not call.aborted:
                self._sender.deliver(url, params, method, kind=f"call-status:{event}", owner=call)

        with contextlib.suppress(RuntimeError):  # the queue is shut down after an abort
            queue.submit(send)

    def amd_callback(self, call: Call, verdict: str | None, took_s: float) -> None:
        """Answering-machine detection's verdict: kept on the call and, if asked for, posted to
        its `amdStatusCallback` (on the leg's ordered queue: Twilio sends it while the call
        goes on, before the leg's `completed`)."""
        if verdict is None:
            return
        with self._lock:
            call.answered_by = verdict
            url, method = call.amd_status_callback, call.amd_status_callback_method
            params = {
                **self.call_params(call),
                "AnsweredBy": verdict,
                "MachineDetectionDuration": str(round(took_s * 1000)),
            }
        queue = call.callbacks
        if not url or queue is None:
            return

        def send() -> None:
            if not call.aborted:
                self._sender.deliver(url, params, method, kind="call-amd", owner=call)

        with contextlib.suppress(RuntimeError):  # the queue is shut down after an abort
            queue.submit(send)

    def call_params(self, call: Call) -> dict[str, str]:
        params = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
        }
        if call.parent_sid:
            params["ParentCallSid"] = call.parent_sid
        if call.direction == "inbound":
            params.update(geo_params(call.from_, call.to))
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        return params

    def lead_leg(self, call: Call, child: Call, timeout: float) -> str:
        """The lead's phone, scripted by its last digit; returns the DialCallStatus."""
        outcome = outcome_for(child.to)
        try:
            self._clock.sleep(call, 0.2, also=child)
            self.set_status(child, "initiated", "initiated")
            if outcome == "failed":
                self._clock.sleep(call, FAILED_S, also=child)
                return self.end(child, "failed")
            self._clock.sleep(call, DIAL_S, also=child)
            self.set_status(child, "ringing", "ringing")
            if outcome == "busy":
                self._clock.sleep(call, BUSY_S, also=child)
                return self.end(child, "busy")
            if outcome == "no-answer" or timeout <= LEAD_RING_S:
                self._clock.sleep(call, timeout, also=child)
                return self.end(child, "no-answer")
            self._clock.sleep(call, LEAD_RING_S, also=child)
            child.answered_at_clock = child.clock
            self.set_status(child, "in-progress", "answered")
            verdict = answered_by(child.machine_detection, outcome)
            if outcome == "machine":
                # The greeting, the beep (DetectMessageEnd reports here), a short message.
                self._clock.sleep(call, GREETING_S, also=child)
                self.amd_callback(child, verdict, GREETING_S)
                self._clock.sleep(call, VOICEMAIL_S, also=child)
                return self.end(child, "completed")
            if verdict is not None:
                self._clock.sleep(call, AMD_HUMAN_S, also=child)
                self.amd_callback(child, verdict, AMD_HUMAN_S)
            self._clock.sleep(call, TALK_S - (AMD_HUMAN_S if verdict else 0), also=child)
            return self.end(child, "completed")
        except Hangup as hangup:
            if hangup.leg is not child:
                raise
            # The lead leg alone was ended through the REST API.
            child.hangup_requested = False
            answered = child.answered_at_clock is not None
            return self.end(child, "completed" if answered else "canceled")
