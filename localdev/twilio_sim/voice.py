"""Outbound calls: a create is validated like Twilio's, then the call walks on a thread of its
own (queued, initiated, ringing, answered, the TwiML walk, completed) so the REST answer
returns at once, as Twilio's does; an update hangs a live call up.
"""

from __future__ import annotations

import contextlib
import logging
import time
import xml.etree.ElementTree as ET
from typing import Any

from localdev.twilio_sim.clock import Aborted, Hangup, SimClock
from localdev.twilio_sim.legs import CallLegs, callback_queue
from localdev.twilio_sim.resources import Call, TwilioError
from localdev.twilio_sim.rules import (
    BUSY_S,
    DEFAULT_CALL_TIMEOUT,
    DIAL_S,
    FINAL_CALL,
    MEMBER_RING_S,
    QUEUE_S,
    callback_events,
    is_e164,
    is_url,
    member_outcome_for,
    new_sid,
    parse_twiml,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.twiml import TwimlWalker
from localdev.twilio_sim.webhooks import WebhookSender

log = logging.getLogger("twilio_sim")


class VoiceEngine:
    """Creates calls, runs each member leg from queued to its final status, hangs calls up."""

    def __init__(self, registry: Registry, clock: SimClock, sender: WebhookSender) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self.legs = CallLegs(registry, clock, sender)
        self.walker = TwimlWalker(registry, clock, sender, self.legs)

    def create_call(self, form: dict[str, list[str]]) -> dict[str, Any]:
        """Validate like Twilio, store the call `queued`, start its walk, answer the resource."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        to, from_, url, twiml = first("To"), first("From"), first("Url"), first("Twiml")
        if not to:
            raise TwilioError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise TwilioError(400, 21213, "No 'From' number is specified")
        if not url and not twiml:
            raise TwilioError(400, 21205, "Url parameter is required.")
        if url and not is_url(url):
            raise TwilioError(400, 21205, f"Url is not a valid URL: {url}")
        if not is_e164(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if from_ not in self._registry.numbers:
            raise TwilioError(
                400,
                21210,
                f"The source phone number provided, {from_}, is not yet verified for your "
                "account. You may only make calls from phone numbers that you've verified or "
                "purchased from Twilio.",
            )
        callback = first("StatusCallback")
        if callback and not is_url(callback):
            raise TwilioError(400, 21609, f"Invalid StatusCallback URL: {callback}")
        method = (first("Method") or "POST").upper()
        callback_method = (first("StatusCallbackMethod") or "POST").upper()
        if method not in ("GET", "POST") or callback_method not in ("GET", "POST"):
            raise TwilioError(400, 21204, "Method must be GET or POST")
        try:
            timeout = int(first("Timeout") or DEFAULT_CALL_TIMEOUT)
        except ValueError as exc:
            raise TwilioError(400, 21216, "Timeout must be an integer") from exc
        twiml_doc = None
        if twiml:
            try:
                twiml_doc = parse_twiml(twiml.encode())
            except ValueError as exc:
                raise TwilioError(400, 12100, f"Twiml is not valid TwiML: {exc}") from exc
        call = Call(
            sid=new_sid("CA"),
            to=to,
            from_=from_,
            url=url or None,
            method=method,
            twiml=twiml or None,
            status_callback=callback or None,
            status_callback_method=callback_method,
            events=callback_events(form.get("StatusCallbackEvent", [])),
            timeout=min(max(timeout, 1), 600),
        )
        call.history.append("queued")
        call.callbacks = callback_queue(call.sid)
        with self._lock:
            self._registry.calls[call.sid] = call
            resource = call.resource()
        self._registry.spawn(f"sim-call-{call.sid[-6:]}", lambda: self._run(call, twiml_doc))
        return resource

    def update_call(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        """Hang up (``Status=canceled|completed``) and answer once the walk has noticed, so the
        resource returned already shows the final status, as Twilio's does."""
        if "Url" in form or "Twiml" in form:
            raise TwilioError(
                400, 20001, "The simulator does not redirect live calls (Url/Twiml on update)"
            )
        status = (form.get("Status") or [""])[0]
        if status not in ("canceled", "completed"):
            raise TwilioError(400, 20001, "Status must be canceled or completed")
        with self._lock:
            call = self._registry.call(sid)
            ringing = call.status in ("queued", "initiated", "ringing")
            if (status == "completed" or ringing) and call.status not in FINAL_CALL:
                call.hangup_requested = True
                call.wake.set()  # a child leg shares its parent's alarm: this wakes both
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and call.hangup_requested:
            with self._lock:
                if call.status in FINAL_CALL:
                    break
            time.sleep(0.005)
        with self._lock:
            return call.resource()

    def _run(self, call: Call, twiml: ET.Element | None) -> None:
        try:
            self._member_leg(call, twiml)
        except Aborted:
            pass
        except Exception as exc:  # the walk must end and say why, whatever happened
            log.exception("call %s failed in the simulator", call.sid)
            call.errors.append({"code": None, "message": f"simulator error: {exc}"})
            if call.status not in FINAL_CALL:
                self.legs.end(call, "failed")
        finally:
            for leg in [*call.children, call]:
                if leg.callbacks is not None:
                    leg.callbacks.shutdown(wait=True)
                leg.done.set()

    def _member_leg(self, call: Call, twiml: ET.Element | None) -> None:
        try:
            self._clock.sleep(call, QUEUE_S)
            self.legs.set_status(call, "initiated", "initiated")
            self._clock.sleep(call, DIAL_S)
            self.legs.set_status(call, "ringing", "ringing")
            member = member_outcome_for(call.to)
            if member == "busy":
                self._clock.sleep(call, BUSY_S)
                self.legs.end(call, "busy")
                return
            if member == "no-answer" or call.timeout < MEMBER_RING_S:
                self._clock.sleep(call, call.timeout)
                self.legs.end(call, "no-answer")
                return
            self._clock.sleep(call, MEMBER_RING_S)
        except Hangup:
            self.legs.end(call, "canceled")
            return
        call.answered_at_clock = call.clock
        self.legs.set_status(call, "in-progress", "answered")
        with contextlib.suppress(Hangup):
            self.walker.execute(call, twiml)
        self.legs.end(call, "completed")
