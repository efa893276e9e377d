"""Outbound calls: a create is validated like Twilio's, then the call walks on a thread of its
own (queued, initiated, ringing, answered, the TwiML walk, completed) so the REST answer
returns at once, as Twilio's does; an update hangs a live call up or redirects it to new TwiML
(``Url`` fetched with the call's parameters, or ``Twiml`` given inline): the walk drops the verb
it is in (a call in a conference leaves it) and runs the new document. Before the answer, a
redirect only changes the TwiML the call will run.
"""

from __future__ import annotations

import contextlib
import logging
import time
import xml.etree.ElementTree as ET
from typing import Any

from localdev.twilio_sim.callers import VerbExtensions
from localdev.twilio_sim.clock import Aborted, Hangup, SimClock
from localdev.twilio_sim.conference import ConferenceHub
from localdev.twilio_sim.legs import CallLegs, callback_queue
from localdev.twilio_sim.phone import FarEnd
from localdev.twilio_sim.recordings import RecordingStore, rest_record_request
from localdev.twilio_sim.resources import Call, TwilioError
from localdev.twilio_sim.ringing import GroupDial
from localdev.twilio_sim.rules import (
    AMD_MODES,
    DEFAULT_CALL_TIMEOUT,
    FINAL_CALL,
    callback_events,
    is_e164,
    is_lead_call,
    is_url,
    new_sid,
    parse_twiml,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.twiml import Doc, Fetch, TwimlWalker
from localdev.twilio_sim.webhooks import WebhookSender

log = logging.getLogger("twilio_sim")


class VoiceEngine:
    """Creates calls, runs each member leg from queued to its final status, hangs calls up."""

    def __init__(self, registry: Registry, clock: SimClock, sender: WebhookSender) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self.legs = CallLegs(registry, clock, sender)
        self.conferences = ConferenceHub(registry, sender)
        self.walker = TwimlWalker(registry, clock, sender, self.legs, self.conferences)
        self.phone = FarEnd(registry, clock, self.legs)
        # Recordings, and the verbs run outside the walker (<Record>, inbound <Gather>, Dials
        # that ring several numbers or whisper): `callers`, `ringing`.
        self.recordings = RecordingStore(registry, sender)
        self.group_dial = GroupDial(registry, clock, self.legs, self.walker, self.recordings)
        self.verbs = VerbExtensions(registry, clock, self.walker, self.recordings, self.group_dial)
        self.walker.hook = self.verbs
        # A redirect given before the call was answered: taken by the walk when it starts.
        self._pending: dict[str, Doc | Fetch] = {}

    def create_call(self, form: dict[str, list[str]]) -> dict[str, Any]:
        return self.place(form)[1]

    def place(
        self, form: dict[str, list[str]], join: Any = None, participant_setup: Any = None
    ) -> tuple[Call, dict[str, Any]]:
        """Validate like Twilio, store the call `queued`, start its walk, return it. `join`
        (a conference participant's settings) makes it a participant call: no TwiML, it joins
        the conference once answered; `participant_setup(call)` registers it before it runs."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        to, from_, url, twiml = first("To"), first("From"), first("Url"), first("Twiml")
        if not to:
            raise TwilioError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise TwilioError(400, 21213, "No 'From' number is specified")
        if join is None and not url and not twiml:
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
        for name in ("StatusCallback", "AsyncAmdStatusCallback", "AmdStatusCallback"):
            if first(name) and not is_url(first(name)):
                raise TwilioError(400, 21609, f"Invalid {name} URL: {first(name)}")
        method = (first("Method") or "POST").upper()
        callback_method = (first("StatusCallbackMethod") or "POST").upper()
        amd_method = (
            first("AsyncAmdStatusCallbackMethod") or first("AmdStatusCallbackMethod") or "POST"
        ).upper()
        if any(m not in ("GET", "POST") for m in (method, callback_method, amd_method)):
            raise TwilioError(400, 21204, "Method must be GET or POST")
        machine_detection = first("MachineDetection") or None
        if machine_detection not in (None, *AMD_MODES):
            raise TwilioError(400, 20001, "MachineDetection must be Enable or DetectMessageEnd")
        try:
            timeout = int(first("Timeout") or DEFAULT_CALL_TIMEOUT)
        except ValueError as exc:
            raise TwilioError(400, 21216, "Timeout must be an integer") from exc
        amd_timeout_raw = first("MachineDetectionTimeout") or "30"
        if not amd_timeout_raw.isdigit() or not 3 <= int(amd_timeout_raw) <= 59:
            raise TwilioError(
                400, 21626, "MachineDetectionTimeout must be an integer between 3 and 59"
            )
        amd_timeout = int(amd_timeout_raw)
        twiml_doc = None
        if twiml:
            try:
                twiml_doc = parse_twiml(twiml.encode())
            except ValueError as exc:
                raise TwilioError(400, 12100, f"Twiml is not valid TwiML: {exc}") from exc
        async_amd = first("AsyncAmd").lower() == "true"
        record = rest_record_request(form)
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
            lead=is_lead_call(machine_detection, join is not None, url),
            machine_detection=machine_detection,
            async_amd=async_amd and join is None,
            amd_timeout=float(amd_timeout),
            amd_status_callback=(
                first("AmdStatusCallback")
                if join is not None
                else (first("AsyncAmdStatusCallback") if async_amd else "")
            )
            or None,
            amd_status_callback_method=amd_method,
            join=join,
            record=record,
        )
        call.history.append("queued")
        call.callbacks = callback_queue(call.sid)
        with self._lock:
            self._registry.calls[call.sid] = call
            if participant_setup is not None:
                participant_setup(call)
            resource = call.resource()
        self._registry.spawn(f"sim-call-{call.sid[-6:]}", lambda: self._run(call, twiml_doc))
        return call, resource

    def update_call(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        """Hang up (``Status=canceled|completed``) or redirect (``Url``/``Twiml``), and answer
        once the walk has noticed, so the resource returned already shows the change, as
        Twilio's does."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        status = first("Status")
        if status:
            if status not in ("canceled", "completed"):
                raise TwilioError(400, 20001, "Status must be canceled or completed")
            return self._hang_up(sid, status)
        url, twiml = first("Url"), first("Twiml")
        if not url and not twiml:
            raise TwilioError(400, 20001, "Give Url, Twiml or Status")
        if url and not is_url(url):
            raise TwilioError(400, 21205, f"Url is not a valid URL: {url}")
        method = (first("Method") or "POST").upper()
        if method not in ("GET", "POST"):
            raise TwilioError(400, 21204, "Method must be GET or POST")
        target: Doc | Fetch
        if twiml:
            try:
                target = Doc(parse_twiml(twiml.encode()), url or "")
            except ValueError as exc:
                raise TwilioError(400, 12100, f"Twiml is not valid TwiML: {exc}") from exc
        else:
            target = Fetch(url, method, {}, "redirect")
        with self._lock:
            call = self._registry.call(sid)
            if call.status in FINAL_CALL:
                raise TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.")
            if call.parent_sid:
                raise TwilioError(400, 20001, "The simulator does not redirect a <Dial> child leg")
            if not call.walking:
                # Not answered yet (or still detecting): the new TwiML is the one it will run,
                # instead of joining the conference it was added to.
                if call.participant is not None:
                    self.conferences.drop(call.participant)
                call.join = None
                call.url, call.method = (url or None), method
                call.twiml = twiml or None
                call.redirect_to = None
                self._pending[call.sid] = target
                return call.resource()
            call.redirect_to = target
            call.wake.set()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            with self._lock:
                if call.redirect_to is None or call.status in FINAL_CALL:
                    break
            time.sleep(0.005)
        with self._lock:
            return call.resource()

    def _hang_up(self, sid: str, status: str) -> dict[str, Any]:
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
            self.recordings.call_over(call)
            for leg in [*call.children, call]:
                if leg.callbacks is not None:
                    leg.callbacks.shutdown(wait=True)
                leg.done.set()

    def _member_leg(self, call: Call, twiml: ET.Element | None) -> None:
        """The REST call's walk: ring the far end, detect who answered, then run its TwiML or
        join its conference, and hang up when that is over."""
        try:
            if self.phone.ring(call) is not None:
                self._drop_participant(call)
                return
            self.recordings.call_answered(call)
            self.phone.detect(call)
        except Hangup:
            self._drop_participant(call)
            if call.answered_at_clock is not None:
                self.legs.end(call, "completed")
            else:
                self.legs.end(call, "canceled")
            return
        with self._lock:
            pending = self._pending.pop(call.sid, None)
            call.walking = True  # from here on a redirect is the walk's to take
        with contextlib.suppress(Hangup):
            if call.join is not None:
                self.walker.participate(call)
            else:
                self.walker.execute(call, twiml, start=pending)
        self.legs.end(call, "completed")

    def _drop_participant(self, call: Call) -> None:
        if call.participant is not None:
            self.walker.conferences.drop(call.participant)
