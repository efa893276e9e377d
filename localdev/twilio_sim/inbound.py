"""Inbound calls: a phone rings one of the account's numbers (``POST /simulator/inbound-call``
``{"from", "to", "behaviour"?, "messageSeconds"?, "hangupAfter"?, "digits"?}``).

As Twilio does: the call (``direction`` ``inbound``, ``ringing``) requests the number's voice
URL (``VoiceUrl``/``VoiceMethod`` of the IncomingPhoneNumber, set through the REST update as
``make deploy`` does; unset: ``<SIM_APP_BASE>/twilio/voice/incoming``) with the standard
parameters (``CallSid``, ``AccountSid``, ``From``, ``To``, ``CallStatus=ringing``,
``Direction=inbound``, ``ApiVersion``, ``Caller``, ``Called``) and the geographic ones
(``FromCity``, ``FromState``, ``FromZip``, ``FromCountry``, the same for ``To``, ``Caller`` and
``Called``; empty but for the country, ``US`` for +1 numbers), signed; the call is answered
(``in-progress``) once the TwiML comes back, and the TwiML runs on it like any call's. The
number's ``StatusCallback``, if set, gets the call's ``completed`` (Twilio sends a number's
status callback the final status only). What the caller does is `callers.CallerBehaviour`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from localdev.twilio_sim.callers import Script, VerbExtensions, parse_inbound
from localdev.twilio_sim.clock import Aborted, Hangup, SimClock
from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.legs import CallLegs, callback_queue
from localdev.twilio_sim.recordings import RecordingStore
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.rules import FINAL_CALL, NUMBERS, new_sid, now
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.twiml import Fetch, TwimlWalker

log = logging.getLogger("twilio_sim")

INCOMING_PATH = "/twilio/voice/incoming"


class InboundCalls:
    def __init__(
        self,
        config: SimConfig,
        registry: Registry,
        clock: SimClock,
        legs: CallLegs,
        walker: TwimlWalker,
        verbs: VerbExtensions,
        recordings: RecordingStore,
    ) -> None:
        self._config = config
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self._legs = legs
        self._walker = walker
        self._verbs = verbs
        self._recordings = recordings

    def place(self, data: Any) -> dict[str, Any]:
        """Start an inbound call; answers at once with its SID (the call walks on its own)."""
        from_, to, behaviour = parse_inbound(data)
        with self._lock:
            number = self._registry.numbers.get(to)
            if number is None:
                raise ValueError(
                    f"to must be one of the account's numbers {list(NUMBERS)}, got {to!r}"
                )
            url = number.voice_url or f"{self._config.app_base}{INCOMING_PATH}"
            call = Call(
                sid=new_sid("CA"),
                to=to,
                from_=from_,
                direction="inbound",
                url=url,
                method=number.voice_method or "POST",
                status_callback=number.status_callback or None,
                status="ringing",
            )
            call.start_time = now()
            call.history.append("ringing")
            call.callbacks = callback_queue(call.sid)
            self._registry.calls[call.sid] = call
            self._verbs.scripts[call.sid] = Script(behaviour)
            call.transcript.append(f"inbound call from {from_} ({behaviour.mode})")
        self._registry.spawn(f"sim-in-{call.sid[-6:]}", lambda: self._run(call))
        self._registry.spawn(
            f"sim-caller-{call.sid[-6:]}", lambda: self._caller_hangs_up(call, behaviour.patience)
        )
        return {
            "sid": call.sid,
            "from": from_,
            "to": to,
            "url": url,
            "behaviour": behaviour.to_json(),
        }

    def _run(self, call: Call) -> None:
        try:
            self._walk(call)
        except Aborted:
            pass
        except Exception as exc:  # the walk must end and say why, whatever happened
            log.exception("inbound call %s failed in the simulator", call.sid)
            call.errors.append({"code": None, "message": f"simulator error: {exc}"})
            if call.status not in FINAL_CALL:
                self._legs.end(call, "failed")
        finally:
            self._recordings.call_over(call)
            self._verbs.forget(call.sid)
            for leg in [*call.children, call]:
                if leg.callbacks is not None:
                    leg.callbacks.shutdown(wait=True)
                leg.done.set()

    def _walk(self, call: Call) -> None:
        try:
            fetch = Fetch(call.url or "", call.method, {}, "voice-incoming")
            _, doc = self._walker.fetch(call, fetch)
            with self._lock:
                call.answered_at_clock = call.clock
            self._legs.set_status(call, "in-progress", "answered")
            if doc is not None:
                with self._lock:
                    call.walking = True  # a REST redirect is the walk's to take from here
                with contextlib.suppress(Hangup):
                    self._walker.execute(call, None, start=doc)
        except Hangup:
            pass
        self._legs.end(call, "completed" if call.answered_at_clock is not None else "canceled")

    def _caller_hangs_up(self, call: Call, after: float) -> None:
        """The caller's patience (or `hangupAfter`), in real time scaled by SIM_SPEED."""
        deadline = time.monotonic() + after / self._clock.speed
        while True:
            if call.aborted or self._registry.closing.is_set() or call.status in FINAL_CALL:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(remaining, 0.02))
        with self._lock:
            if call.status in FINAL_CALL or call.hangup_requested:
                return
            call.transcript.append(f"the caller hung up after {after:g}s")
            call.hangup_requested = True
        call.wake.set()
