"""The TwiML walk of the member leg: each verb of each document, in simulated time, and the
documents fetched from the app the way Twilio fetches them (the call waits for each answer).

The ``9`` case, "the member does not press 1": when the member is asked to press a key, the lead's
number is not known yet, because the ``<Dial>`` only comes in the answer to the Gather's action.
The simulated member decides the way a person does, by knowing who the call is for: it asks the
Gather's action what pressing 1 would do (a real, signed ``Digits=1`` request, identical to
Twilio's). If that answer dials a number ending in 9, the simulator throws the answer away and
goes on as if no key was pressed: it waits out the Gather's ``timeout``, then continues with the
verbs after the ``<Gather>`` (or posts an empty ``Digits`` to the action when
``actionOnEmptyResult="true"``). Otherwise that very answer is the one followed, so for every
other outcome the app sees exactly Twilio's traffic; only the 9 case has one extra ``Digits=1``
request. The app records the lead leg `queued` on it (it is about to dial), and the empty
result that follows settles it `not-connected`, so the outcome is the one Twilio's traffic gives.
The discarded request is marked ``"discarded": true`` in the webhook log. A *member* number
ending in 9 (the call's own ``To``) never presses a key either, and needs no peek. The
alternatives were worse: guessing the lead from the call's ``Url`` ties the simulator to the
app's routes, and letting the member press 1 and then hang up would break the contract ("9: no
key pressed").
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin

from localdev.twilio_sim.clock import Aborted, Hangup, Redirected, SimClock
from localdev.twilio_sim.conference import Conference, ConferenceHub, JoinSettings, Participant
from localdev.twilio_sim.legs import CallLegs, callback_queue
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.rules import (
    APP_ERROR_S,
    DEFAULT_DIAL_TIMEOUT,
    DEFAULT_GATHER_TIMEOUT,
    MAX_DOCUMENTS,
    PRESS_S,
    SAY_WORD_S,
    callback_events,
    conference_events,
    dial_number,
    float_or,
    is_e164,
    member_outcome_for,
    new_sid,
    outcome_for,
    parse_twiml,
    truthy,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.webhooks import Delivery, WebhookSender


@dataclass
class Doc:
    """A TwiML document and the URL it came from (relative URLs in it resolve against that)."""

    root: ET.Element
    url: str


@dataclass
class Fetch:
    """The next document is to be fetched from url."""

    url: str
    method: str
    params: dict[str, str]
    kind: str


class HangUpNow:
    """The call hangs up now (a <Hangup>, or the end of a document)."""


HANG = HangUpNow()
Outcome = Doc | Fetch | HangUpNow | None  # None: go on with the next verb


def new_dial_leg(
    registry: Registry,
    call: Call,
    number: str,
    caller_id: str,
    attrs: Mapping[str, str],
    doc: Doc,
    **fields: Any,
) -> Call:
    """A ``<Dial>``'s child leg to `number`, queued and registered as one of `call`'s children:
    its status callbacks come from its ``<Number>``'s attributes `attrs` (relative to `doc`);
    `fields` are the leg's other `Call` fields. Both the walker's one-number Dial and the
    group dial (ringing.py) create their legs here."""
    callback = attrs.get("statusCallback")
    child = Call(
        sid=new_sid("CA"),
        to=number,
        from_=caller_id,
        direction="outbound-dial",
        parent_sid=call.sid,
        status_callback=urljoin(doc.url, callback) if callback else None,
        status_callback_method=(attrs.get("statusCallbackMethod") or "POST").upper(),
        events=callback_events([attrs.get("statusCallbackEvent") or ""]),
        **fields,
    )
    child.history.append("queued")
    child.callbacks = callback_queue(child.sid)
    with registry.lock:
        registry.calls[child.sid] = child
        call.children.append(child)
    return child


class VerbHook(Protocol):
    """Verbs run elsewhere (`localdev.twilio_sim.callers`): ``<Record>``, an inbound caller's
    ``<Gather>``, ``<Dial>``s that ring several numbers or whisper; and a recorded one-number
    Dial's recording."""

    def handles(self, call: Call, verb: ET.Element) -> bool: ...

    def run(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome: ...

    def dial_recorded(
        self, call: Call, child: Call, verb: ET.Element, doc: Doc
    ) -> dict[str, str]: ...

    def conference_joined(
        self, call: Call, element: ET.Element, room: Conference, doc: Doc
    ) -> None: ...


class TwimlWalker:
    """Runs a member leg's documents until one hangs up or runs out; a ``<Dial>`` hands the
    lead leg to `CallLegs` on this same thread, so one sleep advances both legs' clocks."""

    def __init__(
        self,
        registry: Registry,
        clock: SimClock,
        sender: WebhookSender,
        legs: CallLegs,
        conferences: ConferenceHub,
    ) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self._sender = sender
        self._legs = legs
        self.conferences = conferences
        self.hook: VerbHook | None = None

    def fetch(self, call: Call, fetch: Fetch) -> tuple[Delivery, Doc | None]:
        """Fetch a TwiML document for the call; on any failure, Twilio's application error."""
        with self._lock:
            params = {**self._legs.call_params(call), **fetch.params}
        delivery = self._sender.deliver(
            fetch.url, params, fetch.method, kind=fetch.kind, owner=call
        )
        if call.aborted:
            raise Aborted
        problem: tuple[int, str] | None = None
        doc = None
        if delivery.error:
            problem = (delivery.error_code or 11200, delivery.error)
        elif not delivery.ok:
            problem = (11200, f"HTTP retrieval failure: the app answered {delivery.status}")
        else:
            try:
                doc = Doc(parse_twiml(delivery.response_body.encode()), fetch.url)
            except ValueError as exc:
                problem = (12100, f"Document parse failure: {exc}")
        if problem is not None:
            with self._lock:
                call.errors.append({"code": problem[0], "message": problem[1], "url": fetch.url})
                call.transcript.append(f"application error ({problem[0]})")
            self._clock.sleep(call, APP_ERROR_S)
        return delivery, doc

    def execute(
        self, call: Call, twiml: ET.Element | None, start: Doc | Fetch | None = None
    ) -> None:
        """Run TwiML documents (`start`, else `twiml`, else the call's Url) until one hangs up
        or runs out; a redirect through the REST API replaces whatever runs with its own
        document."""
        pending: Doc | Fetch | None = start
        if pending is None and twiml is not None:
            pending = Doc(twiml, call.url or "")
        elif pending is None:
            pending = Fetch(call.url or "", call.method, {}, "voice-url")
        documents = 0
        while pending is not None:
            documents += 1
            if documents > MAX_DOCUMENTS:
                with self._lock:
                    call.errors.append(
                        {"code": 11215, "message": "Too many TwiML documents for one call"}
                    )
                return
            outcome: Outcome
            try:
                doc = pending if isinstance(pending, Doc) else self.fetch(call, pending)[1]
                if call.redirect_to is not None:
                    raise Redirected
                if doc is None:
                    return
                outcome = self._run_document(call, doc)
            except Redirected:
                with self._lock:
                    outcome, call.redirect_to = call.redirect_to, None
                self._hear(call, "redirected through the REST API")
            if outcome is None or isinstance(outcome, HangUpNow):
                return
            pending = outcome

    def _hear(self, call: Call, line: str) -> None:
        with self._lock:
            call.hear(line, time.monotonic())

    def _run_document(self, call: Call, doc: Doc) -> Outcome:
        for verb in list(doc.root):
            outcome: Outcome = None
            if self.hook is not None and self.hook.handles(call, verb):
                outcome = self.hook.run(call, verb, doc)
            elif verb.tag in ("Say", "Play", "Pause"):
                self._play(call, verb)
            elif verb.tag == "Gather":
                outcome = self._gather(call, verb, doc)
            elif verb.tag == "Dial" and verb.find("Conference") is not None:
                outcome = self.conference(call, verb, doc)
            elif verb.tag == "Dial":
                outcome = self._dial(call, verb, doc)
            elif verb.tag in ("Hangup", "Reject"):
                self._hear(call, verb.tag.lower())
                return HANG
            elif verb.tag == "Redirect":
                target = urljoin(doc.url, (verb.text or "").strip())
                self._hear(call, f"redirect {target}")
                return Fetch(target, (verb.get("method") or "POST").upper(), {}, "redirect")
            else:
                self._hear(call, f"skipped <{verb.tag}> (not simulated)")
            if outcome is not None:
                return outcome
        return HANG  # the end of a document hangs up

    def _play(self, call: Call, verb: ET.Element) -> None:
        loops = max(1, int(float_or(verb.get("loop"), 1)))
        if verb.tag == "Say":
            text = " ".join((verb.text or "").split())
            self._hear(call, f"say: {text}")
            self._clock.sleep(call, loops * max(0.5, SAY_WORD_S * len(text.split())))
        elif verb.tag == "Play":
            self._hear(call, f"play: {(verb.text or '').strip()}")
            self._clock.sleep(call, loops * 2.0)
        else:
            length = float_or(verb.get("length"), 1.0)
            self._hear(call, f"pause {length:g}s")
            self._clock.sleep(call, length)

    def _gather(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        """The member hears the prompt and presses 1, unless the lead is a ...9 number (the module
        docstring says how the simulated member knows)."""
        action = urljoin(doc.url, verb.get("action") or doc.url)
        method = (verb.get("method") or "POST").upper()
        timeout = float_or(verb.get("timeout"), DEFAULT_GATHER_TIMEOUT)
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._play(call, child)
        if "dtmf" not in (verb.get("input") or "dtmf"):
            self._hear(call, "gather: no key pressed (speech input is not simulated)")
            self._clock.sleep(call, timeout)
            return self._no_input(verb, action, method)
        if member_outcome_for(call.to) == "no-press":
            # A member number ending in 9 never presses a key (API.md): no peek needed.
            self._hear(call, "gather: no key pressed")
            self._clock.sleep(call, timeout)
            return self._no_input(verb, action, method)
        self._clock.sleep(call, PRESS_S)
        pressed = {"Digits": "1", "FinishedOnKey": "", "msg": "Gather End"}
        delivery, answer = self.fetch(call, Fetch(action, method, pressed, "gather"))
        if answer is None:
            self._hear(call, "gather: pressed 1")
            return HANG
        lead = dial_number(answer.root)
        if lead is not None and outcome_for(lead) == "no-press":
            with self._lock:
                delivery.discarded = True
                delivery.note = (
                    f"peek: the lead {lead} ends in 9, so the member does not press 1; "
                    "this answer was thrown away"
                )
            self._hear(call, "gather: no key pressed")
            self._clock.sleep(call, max(timeout - PRESS_S, 0))
            return self._no_input(verb, action, method)
        self._hear(call, "gather: pressed 1")
        return answer

    @staticmethod
    def _no_input(verb: ET.Element, action: str, method: str) -> Outcome:
        if (verb.get("actionOnEmptyResult") or "").lower() == "true":
            return Fetch(action, method, {"Digits": "", "msg": "Gather End"}, "gather")
        return None

    def _dial(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        number_el = verb.find("Number")
        number = ((number_el.text if number_el is not None else verb.text) or "").strip()
        action = verb.get("action")
        action_url = urljoin(doc.url, action) if action else None
        method = (verb.get("method") or "POST").upper()
        timeout = float_or(verb.get("timeout"), DEFAULT_DIAL_TIMEOUT)
        caller_id = (verb.get("callerId") or call.from_).strip()
        result: dict[str, str]
        if not number or not is_e164(number):
            what = number or "a target other than <Number>"
            with self._lock:
                call.errors.append({"code": 13223, "message": f"Dial: invalid number: {what}"})
            self._hear(call, f"dial {what}: failed")
            result = {"DialCallStatus": "failed"}
        else:
            attrs = number_el.attrib if number_el is not None else {}
            amd = attrs.get("amdStatusCallback")
            child = new_dial_leg(
                self._registry,
                call,
                number,
                caller_id,
                attrs,
                doc,
                machine_detection=attrs.get("machineDetection") or None,
                amd_status_callback=urljoin(doc.url, amd) if amd else None,
                amd_status_callback_method=(attrs.get("amdStatusCallbackMethod") or "POST").upper(),
                wake=call.wake,  # one thread sleeps for both legs: one alarm wakes it
            )
            try:
                status = self._legs.lead_leg(call, child, timeout)
            except (Hangup, Redirected):
                # The member leg was hung up (REST) while the lead leg was up: end it too.
                self._legs.end(
                    child, "completed" if child.answered_at_clock is not None else "canceled"
                )
                self._hear(call, f"dial {number}: ended by hang-up or redirect")
                raise
            self._hear(call, f"dial {number}: {status} ({child.duration or 0}s)")
            result = {
                "DialCallStatus": status,
                "DialCallSid": child.sid,
                "DialCallDuration": str(child.duration or 0),
            }
            if status == "completed":
                result["DialBridged"] = "true"
            if self.hook is not None:
                result.update(self.hook.dial_recorded(call, child, verb, doc))
        if action_url:
            return Fetch(action_url, method, result, "dial-action")
        return None

    # ------------------------------------------------------------ conferences

    def conference(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        """``<Dial><Conference>``: join the room named, stay until the conference ends or the
        call is removed from it, then go on with the Dial's ``action`` or the next verb. A
        hang-up or a redirect meanwhile takes the call out of the room first."""
        element = verb.find("Conference")
        assert element is not None
        name = (element.text or "").strip()
        if not name:
            with self._lock:
                call.errors.append({"code": 13201, "message": "Conference: no name given"})
            self._hear(call, "conference without a name: skipped")
            return None
        callback = element.get("statusCallback")
        wait_url = element.get("waitUrl")
        settings = JoinSettings(
            name=name,
            muted=truthy(element.get("muted"), False),
            beep=element.get("beep") or "true",
            start_conference_on_enter=truthy(element.get("startConferenceOnEnter"), True),
            end_conference_on_exit=truthy(element.get("endConferenceOnExit"), False),
            wait_url=urljoin(doc.url, wait_url) if wait_url else None,
            label=element.get("participantLabel") or None,
            status_callback=urljoin(doc.url, callback) if callback else None,
            status_callback_method=(element.get("statusCallbackMethod") or "POST").upper(),
            events=conference_events([element.get("statusCallbackEvent") or ""]),
        )
        room = self.conferences.open(name)
        participant = self.conferences.add(call, settings, room, via_api=False)
        if self.hook is not None:
            self.hook.conference_joined(call, element, room, doc)
        self._stay(call, participant)
        self._hear(call, f"conference {name}: left")
        action = verb.get("action")
        if action:
            method = (verb.get("method") or "POST").upper()
            return Fetch(urljoin(doc.url, action), method, {}, "dial-action")
        return None

    def participate(self, call: Call) -> None:
        """A call added through the Participants API, answered: into its conference, and on
        the line until it leaves it; then it hangs up. Redirected meanwhile (a voicemail for
        a machine, say), it leaves the room and runs the new TwiML instead."""
        with self._lock:
            participant = call.participant
        if participant is None or participant.left:
            return
        try:
            self._stay(call, participant)
        except Redirected:
            with self._lock:
                target, call.redirect_to = call.redirect_to, None
            self._hear(call, "redirected through the REST API")
            self.execute(call, None, start=target)

    def _stay(self, call: Call, participant: Participant) -> None:
        if not self.conferences.connect(participant):
            self._hear(call, f"conference {participant.conference.friendly_name}: already over")
            return
        with self._lock:
            others = list(call.bridged_with)
        self._hear(
            call,
            f"conference {participant.conference.friendly_name}: joined"
            + (f" with {', '.join(others)}" if others else " (alone)"),
        )
        reason = "participant_hung_up"
        try:
            self._clock.wait(call, lambda: participant.left)
        except Redirected:
            reason = "participant_updated_via_api"
            raise
        except Aborted:
            reason = ""
            raise
        finally:
            if not participant.left and reason:
                self.conferences.leave(participant, reason)
            elif not participant.left:
                self.conferences.drop(participant)
