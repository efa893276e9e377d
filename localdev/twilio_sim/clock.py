"""Simulated time: every duration is divided by SIM_SPEED, so a 30 s talk takes 3 s under
``make dev`` and milliseconds in tests, while the durations Twilio reports stay the simulated
ones. A sleep is also where a leg notices a hang-up or a reset, so both interrupt it at once
instead of after the sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from localdev.twilio_sim.resources import Activity


class Hangup(Exception):
    """A REST request asked this leg to hang up."""

    def __init__(self, leg: Activity) -> None:
        super().__init__(leg.sid)
        self.leg = leg


class Redirected(Exception):
    """A REST request gave this leg new TwiML: the walk drops what it was doing and takes it."""


class Aborted(Exception):
    """The simulator was reset or stopped: end quietly, send nothing more."""


class SimClock:
    def __init__(self, speed: float, closing: threading.Event) -> None:
        self.speed = speed
        self._closing = closing

    def sleep(self, leg: Activity, seconds: float, also: Activity | None = None) -> None:
        """Let `seconds` of simulated time pass on `leg` (and `also`, a child leg dialed on
        the same thread). A hang-up requested meanwhile raises Hangup, a reset Aborted; the
        legs' clocks then only count the part that passed."""
        started = time.monotonic()
        deadline = started + seconds / self.speed

        def advance(amount: float) -> None:
            leg.clock += amount
            if also is not None:
                also.clock += amount

        while True:
            for activity in (leg, also):
                if activity is not None and (activity.aborted or self._closing.is_set()):
                    raise Aborted
            for activity in (leg, also):
                if activity is not None and activity.hangup_requested:
                    advance(min(seconds, (time.monotonic() - started) * self.speed))
                    raise Hangup(activity)
            if getattr(leg, "redirect_to", None) is not None:
                advance(min(seconds, (time.monotonic() - started) * self.speed))
                raise Redirected
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                advance(seconds)
                return
            leg.wake.wait(remaining)
            leg.wake.clear()

    def wait(self, leg: Activity, done: Callable[[], bool]) -> None:
        """Let simulated time pass on `leg` until `done()` (a conference the leg is in ends, or
        it is removed from it); a hang-up, a redirect or a reset interrupts it as in `sleep`.
        Whoever changes what `done` reads sets the leg's `wake`."""
        started = time.monotonic()

        def advance() -> None:
            leg.clock += (time.monotonic() - started) * self.speed

        while True:
            if leg.aborted or self._closing.is_set():
                raise Aborted
            if leg.hangup_requested:
                advance()
                raise Hangup(leg)
            if getattr(leg, "redirect_to", None) is not None:
                advance()
                raise Redirected
            if done():
                advance()
                return
            leg.wake.wait(0.05)
            leg.wake.clear()
