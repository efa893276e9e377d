"""``<Dial>`` with several ``<Number>``s, or with a whisper (``<Number url>``), or on an inbound
call: every number rings at once, each on a thread of its own (its own child leg, its own status
callbacks), and the first leg *accepted* is bridged; the others are canceled (or, answered and
still in their whisper, hung up). A leg is accepted when it answers and its whisper TwiML (if
any) runs out without hanging up; a whisper that ends in ``<Hangup>``/``<Reject>`` (the member
did not press 1, say) drops that leg only, and the others keep ringing. At most 10 numbers ring,
as Twilio allows.

``machineDetection`` is not simulated here: a one-number Dial with it stays with the walker's
own dial (which detects, but plays no whisper).

Whose phones: on an inbound call the numbers dialled are the team's, so they follow
`member_outcome_for` (``1`` busy, ``2`` no answer (rings the Dial's ``timeout``), anything else
answers after MEMBER_RING_S and, asked by a whisper ``<Gather>`` to press a key, presses 1
unless the number ends in ``9``). On an outbound call they follow the lead digits (``1`` busy,
``2`` no answer, ``3`` failed, anything else answers). Once bridged, the member talks TALK_S
and hangs up, unless the caller hangs up first.

The whisper: ``<Number url method>`` is fetched for the answering leg (its own ``CallSid``,
``ParentCallSid``, ``Direction=outbound-dial``, ``CallStatus=in-progress``) and its TwiML runs on
that leg alone (``<Say>``, ``<Play>``, ``<Pause>``, ``<Gather>``, ``<Redirect>``, ``<Hangup>``);
the Gather's action is fetched with the key pressed and its answer runs on the leg too.

When the Dial is over: the ``action`` gets ``DialCallStatus`` (``completed`` once bridged, else
``busy`` when every leg was busy, ``failed`` when every leg failed, ``canceled`` when the caller
hung up first, ``no-answer`` otherwise), ``DialCallSid`` and ``DialCallDuration`` of the bridged
leg, and the recording's ``RecordingUrl``/``RecordingSid``/``RecordingDuration`` when the Dial
records (``record="record-from-answer[-dual]|record-from-ringing[-dual]"``: from the bridge, or
from the start of the Dial, to its end; two channels with ``-dual``). If the caller hung up,
the action is still requested (with ``CallStatus=completed``) and its TwiML ignored.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

from localdev.twilio_sim.clock import Aborted, Hangup, Redirected, SimClock
from localdev.twilio_sim.legs import CallLegs
from localdev.twilio_sim.recordings import (
    Recording,
    RecordingStore,
    dial_recording,
    recording_events,
)
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.rules import (
    BUSY_S,
    DEFAULT_DIAL_TIMEOUT,
    DEFAULT_GATHER_TIMEOUT,
    DIAL_S,
    FAILED_S,
    FINAL_CALL,
    MAX_DOCUMENTS,
    MEMBER_RING_S,
    PRESS_S,
    TALK_S,
    float_or,
    is_e164,
    member_outcome_for,
    outcome_for,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.twiml import HANG, Doc, Fetch, Outcome, TwimlWalker, new_dial_leg

MAX_NUMBERS = 10  # Twilio dials at most 10 <Number>s at once


def phone_outcome(number: str, inbound: bool) -> str:
    """A dialled leg's phone: `busy`, `no-answer`, `failed`, `no-press` or `answered`."""
    if inbound:
        return member_outcome_for(number)
    lead = outcome_for(number)
    return lead if lead in ("busy", "no-answer", "failed", "no-press") else "answered"


def dial_status(statuses: list[str], bridged: bool, caller_left: bool) -> str:
    """The Dial's DialCallStatus from its legs' final statuses."""
    if bridged:
        return "completed"
    if caller_left:
        return "canceled"
    if statuses and all(s == "busy" for s in statuses):
        return "busy"
    if statuses and all(s == "failed" for s in statuses):
        return "failed"
    return "no-answer"


@dataclass(eq=False)
class Group:
    """One Dial's legs and who won."""

    parent: Call
    legs: list[Call] = field(default_factory=list)
    winner: Call | None = None
    bridged_at: float | None = None  # the winning leg's clock at the bridge


class GroupDial:
    def __init__(
        self,
        registry: Registry,
        clock: SimClock,
        legs: CallLegs,
        walker: TwimlWalker,
        recordings: RecordingStore,
    ) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self._legs = legs
        self._walker = walker
        self._recordings = recordings

    @staticmethod
    def wanted(call: Call, verb: ET.Element) -> bool:
        """Which Dials are rung here (the others stay with the walker's one-number dial)."""
        if verb.find("Conference") is not None:
            return False
        numbers = verb.findall("Number")
        if call.direction == "inbound" or len(numbers) > 1:
            return True
        # One number with a whisper; with machineDetection it stays with the walker (detection
        # is simulated there, the whisper is not).
        return any(n.get("url") for n in numbers) and not any(
            n.get("machineDetection") for n in numbers
        )

    def dial(self, call: Call, verb: ET.Element, doc: Doc) -> Outcome:
        numbers: list[tuple[str, ET.Element | None]] = [
            ((n.text or "").strip(), n) for n in verb.findall("Number")
        ]
        if not numbers and (verb.text or "").strip():
            numbers = [((verb.text or "").strip(), None)]
        action = verb.get("action")
        action_url = urljoin(doc.url, action) if action else None
        method = (verb.get("method") or "POST").upper()
        bad = [n for n, _ in numbers if not is_e164(n)]
        if not numbers or bad:
            what = ", ".join(bad) or "a target other than <Number>"
            with self._lock:
                call.errors.append({"code": 13223, "message": f"Dial: invalid number: {what}"})
            self._walker._hear(call, f"dial {what}: failed")
            if action_url is None:
                return None
            return Fetch(action_url, method, {"DialCallStatus": "failed"}, "dial-action")
        timeout = float_or(verb.get("timeout"), DEFAULT_DIAL_TIMEOUT)
        caller_id = (verb.get("callerId") or call.from_).strip()
        group = Group(call)
        for number, element in numbers[:MAX_NUMBERS]:
            group.legs.append(self._child(call, number, caller_id, element, doc))
        recording = dial_recording(verb.get("record"))
        ringing_rec: Recording | None = None
        if recording is not None and recording[0]:
            ringing_rec = self._start_recording(call, verb, doc, recording[1])
        self._walker._hear(call, f"dial {', '.join(c.to for c in group.legs)}: ringing")
        for leg in group.legs:
            self._registry.spawn(
                f"sim-ring-{leg.sid[-6:]}",
                lambda leg=leg: self._ring(group, leg, timeout),  # type: ignore[misc]
            )
        caller_left = False
        answer_rec: Recording | None = None
        try:
            self._clock.wait(call, lambda: group.winner is not None or self._all_over(group))
            if group.winner is not None:
                with self._lock:
                    call.bridged_with.append(group.winner.sid)
                    group.winner.bridged_with.append(call.sid)
                if recording is not None and not recording[0]:
                    answer_rec = self._start_recording(call, verb, doc, recording[1])
                winner = group.winner
                self._walker._hear(call, f"dial {winner.to}: bridged")
                self._clock.wait(call, lambda: winner.status in FINAL_CALL)
        except Hangup:
            caller_left = True
            self._walker._hear(call, "dial: the caller hung up")
        except Redirected:  # through the REST API: the Dial is dropped, its legs hang up
            self._stop_all(group)
            self._finish_recordings(call, group, ringing_rec, answer_rec)
            raise
        self._stop_all(group)
        result = self._result(group, caller_left)
        result.update(self._finish_recordings(call, group, ringing_rec, answer_rec))
        self._walker._hear(call, f"dial over: {result['DialCallStatus']}")
        if action_url is None:
            return HANG if caller_left else None
        fetch = Fetch(action_url, method, result, "dial-action")
        if caller_left:
            # Twilio still posts the action, and ignores what it answers: the call is over.
            with self._lock:
                call.status = "completed"
            self._walker.fetch(call, fetch)
            return HANG
        return fetch

    def _finish_recordings(
        self, call: Call, group: Group, ringing: Recording | None, answer: Recording | None
    ) -> dict[str, str]:
        """Stop the Dial's recording; the action's recording parameters. Lengths come from the
        legs' own clocks (simulated time, exact): from the dial, every leg rang from its start;
        from the bridge, the winner's time since it won."""
        params: dict[str, str] = {}
        lengths: list[tuple[Recording | None, float]] = [
            (ringing, max(leg.clock for leg in group.legs)),
            (answer, group.winner.clock - (group.bridged_at or 0) if group.winner else 0),
        ]
        for running, seconds in lengths:
            if running is not None:
                finished = self._recordings.finish(running, seconds, call)
                params.update(self._recordings.action_params(finished))
        return params

    # ------------------------------------------------------------ the legs

    def _child(
        self, call: Call, number: str, caller_id: str, element: ET.Element | None, doc: Doc
    ) -> Call:
        attrs = element.attrib if element is not None else {}
        whisper = attrs.get("url")
        return new_dial_leg(
            self._registry,
            call,
            number,
            caller_id,
            attrs,
            doc,
            lead=call.direction != "inbound",
            url=urljoin(doc.url, whisper) if whisper else None,  # the whisper
            method=(attrs.get("method") or "POST").upper(),
        )

    def _ring(self, group: Group, leg: Call, timeout: float) -> None:
        """One leg's phone, on its own thread: ring, answer, whisper, talk."""
        clock, legs = self._clock, self._legs
        outcome = phone_outcome(leg.to, group.parent.direction == "inbound")
        with self._lock:
            leg.outcome = outcome
        try:
            clock.sleep(leg, 0.2)
            legs.set_status(leg, "initiated", "initiated")
            if outcome == "failed":
                clock.sleep(leg, FAILED_S)
                legs.end(leg, "failed")
                return
            clock.sleep(leg, DIAL_S)
            legs.set_status(leg, "ringing", "ringing")
            if outcome == "busy":
                clock.sleep(leg, BUSY_S)
                legs.end(leg, "busy")
                return
            if outcome == "no-answer" or timeout <= MEMBER_RING_S:
                clock.sleep(leg, timeout)
                legs.end(leg, "no-answer")
                return
            clock.sleep(leg, MEMBER_RING_S)
            with self._lock:
                if group.winner is not None:
                    raise Hangup(leg)
                leg.answered_at_clock = leg.clock
            legs.set_status(leg, "in-progress", "answered")
            accepted = True if not leg.url else self._whisper(leg, outcome)
            with self._lock:
                won = accepted and group.winner is None
                if won:
                    group.winner = leg
                    group.bridged_at = leg.clock
                    for other in group.legs:  # first to accept wins: the others hang up
                        if other is not leg and other.status not in FINAL_CALL:
                            other.hangup_requested = True
                            other.wake.set()
            group.parent.wake.set()
            if not won:
                legs.end(leg, "completed")
                return
            clock.sleep(leg, TALK_S)
            with self._lock:
                leg.transcript.append("hung up after talking")
            legs.end(leg, "completed")
        except Hangup:
            legs.end(leg, "completed" if leg.answered_at_clock is not None else "canceled")
        except Aborted:
            pass
        finally:
            if leg.callbacks is not None:
                leg.callbacks.shutdown(wait=True)
            leg.done.set()
            group.parent.wake.set()

    def _whisper(self, leg: Call, outcome: str) -> bool:
        """Run the leg's whisper TwiML; True when it ran out (connect), False on a hang-up."""
        pending: Doc | Fetch = Fetch(leg.url or "", leg.method, {}, "whisper")
        for _ in range(MAX_DOCUMENTS):
            doc = pending if isinstance(pending, Doc) else self._walker.fetch(leg, pending)[1]
            if doc is None:
                return False
            following: Fetch | None = None
            for verb in list(doc.root):
                if verb.tag in ("Say", "Play", "Pause"):
                    self._walker._play(leg, verb)
                elif verb.tag == "Gather":
                    following = self._gather(leg, verb, doc, outcome)
                elif verb.tag in ("Hangup", "Reject"):
                    self._walker._hear(leg, f"whisper: {verb.tag.lower()}")
                    return False
                elif verb.tag == "Redirect":
                    target = urljoin(doc.url, (verb.text or "").strip())
                    following = Fetch(
                        target, (verb.get("method") or "POST").upper(), {}, "redirect"
                    )
                else:
                    self._walker._hear(leg, f"whisper: skipped <{verb.tag}>")
                if following is not None:
                    break
            if following is None:
                self._walker._hear(leg, "whisper over: connecting")
                return True
            pending = following
        return False

    def _gather(self, leg: Call, verb: ET.Element, doc: Doc, outcome: str) -> Fetch | None:
        action = urljoin(doc.url, verb.get("action") or doc.url)
        method = (verb.get("method") or "POST").upper()
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._walker._play(leg, child)
        if outcome == "no-press":
            self._walker._hear(leg, "gather: no key pressed")
            self._clock.sleep(leg, float_or(verb.get("timeout"), DEFAULT_GATHER_TIMEOUT))
            if (verb.get("actionOnEmptyResult") or "").lower() == "true":
                return Fetch(action, method, {"Digits": "", "msg": "Gather End"}, "whisper-gather")
            return None
        self._clock.sleep(leg, PRESS_S)
        self._walker._hear(leg, "gather: pressed 1")
        pressed = {"Digits": "1", "FinishedOnKey": "", "msg": "Gather End"}
        return Fetch(action, method, pressed, "whisper-gather")

    @staticmethod
    def _all_over(group: Group) -> bool:
        return all(leg.status in FINAL_CALL for leg in group.legs)

    def _stop_all(self, group: Group) -> None:
        """Every leg still up hangs up (the Dial is over: the bridged leg hung up, or the caller
        did, or the call was redirected); wait until each is done."""
        with self._lock:
            for leg in group.legs:
                if leg.status not in FINAL_CALL:
                    leg.hangup_requested = True
                    leg.wake.set()
        for leg in group.legs:
            leg.done.wait(5)

    def _result(self, group: Group, caller_left: bool) -> dict[str, str]:
        with self._lock:
            statuses = [leg.status for leg in group.legs]
            winner = group.winner
            result = {"DialCallStatus": dial_status(statuses, winner is not None, caller_left)}
            if winner is not None:
                result["DialCallSid"] = winner.sid
                result["DialCallDuration"] = str(winner.duration or 0)
                result["DialBridged"] = "true"
        return result

    # ------------------------------------------------------------ recording

    def _start_recording(self, call: Call, verb: ET.Element, doc: Doc, channels: int) -> Recording:
        callback = verb.get("recordingStatusCallback")
        return self._recordings.start(
            call,
            "DialVerb",
            channels,
            callback=urljoin(doc.url, callback) if callback else None,
            callback_method=(verb.get("recordingStatusCallbackMethod") or "POST"),
            events=recording_events([verb.get("recordingStatusCallbackEvent") or ""]),
        )

    def record_single(self, call: Call, child: Call, verb: ET.Element, doc: Doc) -> dict[str, str]:
        """A recorded one-number Dial (the walker's own): the recording covers the lead leg
        from its answer (or from the dial) to its end; the action's recording parameters."""
        plan = dial_recording(verb.get("record"))
        if plan is None:
            return {}
        from_ringing, channels = plan
        if from_ringing:
            seconds = child.clock
        elif child.answered_at_clock is not None:
            seconds = float(child.duration or 0)
        else:
            return {}
        recording = self._start_recording(call, verb, doc, channels)
        finished = self._recordings.finish(recording, seconds, call)
        return self._recordings.action_params(finished)
