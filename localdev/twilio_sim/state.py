"""Everything the simulator remembers, behind one lock.

One re-entrant lock for all of it, shared by every collaborator (REST handlers, call walks,
callback queues, the SMS lifecycle): the state is small and a single lock cannot deadlock
against itself, where one lock per collection would need an ordering everyone respects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from localdev.twilio_sim.resources import Activity, Call, Message, PhoneNumber, TwilioError
from localdev.twilio_sim.rules import NUMBERS, national, number_sid

if TYPE_CHECKING:
    from localdev.twilio_sim.conference import Conference


class Registry:
    """Numbers, calls, messages, opt-outs, the REST request log, and the threads that walk calls
    and messages (so a reset can stop them)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.closing = threading.Event()
        self.numbers: dict[str, PhoneNumber] = {}
        self.calls: dict[str, Call] = {}
        self.messages: dict[str, Message] = {}
        self.conferences: dict[str, Conference] = {}
        self.recordings: dict[str, Any] = {}  # RE sid -> recordings.Recording
        self.requests: list[dict[str, Any]] = []
        self.opt_outs: set[tuple[str, str]] = set()
        self._threads: list[threading.Thread] = []
        self.reset_numbers()

    # ------------------------------------------------------------ lifecycle

    def reset_numbers(self) -> None:
        created = datetime(2024, 1, 1, tzinfo=UTC)
        self.numbers = {
            n: PhoneNumber(n, number_sid(n), national(n), created, created) for n in NUMBERS
        }

    def abort_all(self) -> list[threading.Thread]:
        """Tell every running call and message to end quietly; the caller joins the threads."""
        with self.lock:
            activities: list[Activity] = [
                *self.calls.values(),
                *self.messages.values(),
                *self.conferences.values(),
            ]
            threads, self._threads = self._threads, []
        for activity in activities:
            activity.aborted = True
            activity.wake.set()
        return threads

    def clear(self) -> None:
        """Forget every call, message, request and opt-out; numbers as at start."""
        with self.lock:
            self.calls.clear()
            self.messages.clear()
            for conference in self.conferences.values():
                if conference.callbacks is not None:
                    conference.callbacks.shutdown(wait=False, cancel_futures=True)
            self.conferences.clear()
            self.recordings.clear()
            self.requests.clear()
            self.opt_outs.clear()
            self.reset_numbers()

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self.lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    # ------------------------------------------------------------ lookups

    def call(self, sid: str) -> Call:
        """The call, or Twilio's 404 (the caller holds the lock)."""
        call = self.calls.get(sid)
        if call is None:
            raise TwilioError(404, 20404, f"The requested resource {sid} was not found")
        return call

    def number_by_sid(self, sid: str) -> PhoneNumber:
        with self.lock:
            for number in self.numbers.values():
                if number.sid == sid:
                    return number
        raise TwilioError(404, 20404, f"The requested resource {sid} was not found")

    # ------------------------------------------------------------ inspection

    def call_details(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.details() for c in self.calls.values()]

    def message_details(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m.details() for m in self.messages.values()]

    def requests_seen(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.requests]

    def opt_out_list(self) -> list[dict[str, str]]:
        with self.lock:
            return [{"recipient": r, "sender": s} for r, s in sorted(self.opt_outs)]

    def activity_done(self, sid: str) -> threading.Event:
        with self.lock:
            activity: Activity | None = self.calls.get(sid) or self.messages.get(sid)
            if activity is None:
                raise KeyError(sid)
            return activity.done

    def all_done(self) -> list[threading.Event]:
        with self.lock:
            return [a.done for a in [*self.calls.values(), *self.messages.values()]]
