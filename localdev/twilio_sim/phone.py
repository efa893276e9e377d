"""The far end of a call created through the REST API (``Calls`` create or a conference
participant): whose phone it rings, whether and when it answers, who answers (answering-machine
detection), and when that person or machine hangs up.

Whose phone: `rules.is_lead_call`. A member's phone follows `member_outcome_for` (``1`` busy,
``2`` no answer, anything else answers and stays on the line until the call is ended by the app
or by its conference: a member parked in a conference waits there as long as it lasts). A lead's
follows `outcome_for`: ``1`` busy, ``2`` no answer (rings the call's ``Timeout``), ``3`` failed,
``4`` an answering machine, anything else (``9`` included: there is no whisper here) a person who
talks TALK_S after answering, then hangs up.

The machine: its greeting lasts GREETING_S, then it beeps and records what it hears, at most
MACHINE_MAX_MESSAGE_S, then hangs up. What is said or played to it after the beep is the
voicemail left (the call record's ``simulator.voicemail``); what came before the beep is lost,
as on a real machine.

Detection (``MachineDetection`` ``Enable`` or ``DetectMessageEnd``): synchronous by default,
the call's TwiML is fetched only once the verdict is known and that request carries
``AnsweredBy``; with ``AsyncAmd=true`` the TwiML runs at once and the verdict is posted to
``AsyncAmdStatusCallback`` (``AnsweredBy``, ``MachineDetectionDuration``) when it comes. A
participant added with ``MachineDetection`` joins its conference once the verdict is known, and
the verdict goes to its ``AmdStatusCallback``. A verdict later than ``MachineDetectionTimeout``
is ``unknown`` at the timeout. Once known, ``AnsweredBy`` is in every later webhook of the call.
"""

from __future__ import annotations

import time

from localdev.twilio_sim.clock import SimClock
from localdev.twilio_sim.legs import CallLegs
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.rules import (
    BUSY_S,
    DIAL_S,
    FAILED_S,
    FINAL_CALL,
    GREETING_S,
    LEAD_RING_S,
    MACHINE_MAX_MESSAGE_S,
    MEMBER_RING_S,
    QUEUE_S,
    TALK_S,
    LeadOutcome,
    amd_result,
    member_outcome_for,
    outcome_for,
)
from localdev.twilio_sim.state import Registry


class FarEnd:
    """Rings REST-created legs and plays the phone (or machine) that answers."""

    def __init__(self, registry: Registry, clock: SimClock, legs: CallLegs) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self._legs = legs

    def ring(self, call: Call) -> str | None:
        """From `queued` to the answer (None) or to a final status, which it returns after
        ending the call with it. A hang-up meanwhile raises `Hangup`."""
        clock, legs = self._clock, self._legs
        clock.sleep(call, QUEUE_S)
        legs.set_status(call, "initiated", "initiated")
        if call.lead:
            lead = outcome_for(call.to)
            outcome = "human" if lead in ("answered", "no-press") else lead
            ring_s = LEAD_RING_S
        else:
            outcome = member_outcome_for(call.to)
            ring_s = MEMBER_RING_S
        with self._lock:
            call.outcome = outcome
        if outcome == "failed":
            clock.sleep(call, FAILED_S)
            return legs.end(call, "failed")
        clock.sleep(call, DIAL_S)
        legs.set_status(call, "ringing", "ringing")
        with self._lock:
            if call.participant is not None and call.participant.status == "queued":
                call.participant.status = "ringing"
        if outcome == "busy":
            clock.sleep(call, BUSY_S)
            return legs.end(call, "busy")
        if outcome == "no-answer" or call.timeout < ring_s:
            clock.sleep(call, call.timeout)
            return legs.end(call, "no-answer")
        clock.sleep(call, ring_s)
        call.answered_at_clock = call.clock
        legs.set_status(call, "in-progress", "answered")
        if call.lead:
            self._registry.spawn(f"sim-far-{call.sid[-6:]}", lambda: self._far_end(call))
        return None

    def verdict(self, call: Call) -> tuple[str, float] | None:
        """What detection will say about this leg and after how many simulated seconds."""
        if not call.lead:
            return None
        outcome: LeadOutcome = "machine" if call.outcome == "machine" else "answered"
        return amd_result(call.machine_detection, outcome, call.amd_timeout)

    def detect(self, call: Call) -> None:
        """Synchronous detection: the call waits for the verdict (then posts it to the
        participant's AmdStatusCallback, if any)."""
        found = self.verdict(call)
        if found is None or call.async_amd:
            return
        verdict, seconds = found
        self._clock.sleep(call, seconds)
        if call.amd_status_callback:
            self._legs.amd_callback(call, verdict, seconds)
        else:
            with self._lock:
                call.answered_by = verdict

    def _far_end(self, call: Call) -> None:
        """The answered lead's side, in real time scaled by SIM_SPEED: the async verdict, the
        machine's beep, and the far end hanging up."""
        found = self.verdict(call) if call.async_amd else None
        machine = call.outcome == "machine"
        events: list[tuple[float, str]] = []
        if found is not None:
            events.append((found[1], "verdict"))
        if machine:
            events += [(GREETING_S, "beep"), (GREETING_S + MACHINE_MAX_MESSAGE_S, "hangup")]
        else:
            events.append((TALK_S, "hangup"))
        started = time.monotonic()
        for at, what in sorted(events):
            if not self._pause_until(call, started + at / self._clock.speed):
                return
            if what == "verdict" and found is not None:
                self._legs.amd_callback(call, found[0], found[1])
            elif what == "beep":
                with self._lock:
                    call.beep_at = time.monotonic()
                    call.transcript.append("machine: beep")
            else:
                with self._lock:
                    call.transcript.append("far end hung up")
                    call.hangup_requested = True
                call.wake.set()
                return

    def _pause_until(self, call: Call, deadline: float) -> bool:
        """Wait (real time) until `deadline`; False once the call is over or the simulator
        resets or stops."""
        while True:
            if call.aborted or self._registry.closing.is_set() or call.status in FINAL_CALL:
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            time.sleep(min(remaining, 0.02))
