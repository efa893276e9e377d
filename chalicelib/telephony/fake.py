"""A recording fake of the `Telephony` protocol for unit and API tests: it answers like Twilio
and remembers every request; `fail_next` makes the next request raise a TelephonyFailure.

Messages: `message_states` is what `fetch_message` reports (a message it sent and nobody set a
state for is still `queued`; any other SID is Twilio's 404), `received` the inbound texts
`list_inbound_messages` lists; `fetches` records every fetch and list asked for."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.telephony.base import (
    NOT_FOUND_CODE,
    CallState,
    MessageState,
    PhoneNumber,
    ReceivedMessage,
    TelephonyFailure,
)

_seq = itertools.count(1)


@dataclass
class FakeTelephony:
    numbers: list[PhoneNumber] = field(
        default_factory=lambda: [
            PhoneNumber("PN0000000000000000000000000000000a", "+15005550006", "Main line"),
            PhoneNumber("PN0000000000000000000000000000000b", "+15005550007", "Second line"),
        ]
    )
    calls: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # update_call's requests
    recordings: dict[str, bytes] = field(default_factory=dict)  # what Twilio holds, by SID
    deleted_recordings: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    states: dict[str, CallState] = field(default_factory=dict)
    message_states: dict[str, MessageState] = field(default_factory=dict)
    received: list[ReceivedMessage] = field(default_factory=list)
    fetches: list[tuple[str, str]] = field(default_factory=list)
    list_count: int = 0
    _failures: list[tuple[str | None, TelephonyFailure]] = field(default_factory=list)

    def fail_next(self, failure: TelephonyFailure, op: str | None = None) -> None:
        """The next request (of operation `op`, e.g. "place_call"; any if None) raises."""
        self._failures.append((op, failure))

    def _maybe_fail(self, op: str) -> None:
        for i, (wanted, failure) in enumerate(self._failures):
            if wanted in (None, op):
                del self._failures[i]
                raise failure

    def list_numbers(self) -> list[PhoneNumber]:
        self.list_count += 1
        self._maybe_fail("list_numbers")
        return list(self.numbers)

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        timeout_seconds: int,
        machine_detection: str | None = None,
    ) -> str:
        self._maybe_fail("place_call")
        sid = f"CA{next(_seq):032x}"
        call = {
            "sid": sid,
            "to": to,
            "from": from_,
            "url": url,
            "status_callback": status_callback,
            "timeout": timeout_seconds,
        }
        if machine_detection is not None:
            call["machine_detection"] = machine_detection
        self.calls.append(call)
        return sid

    def update_call(self, sid: str, *, twiml: str | None = None, hang_up: bool = False) -> None:
        self._maybe_fail("update_call")
        self.updates.append({"sid": sid, "twiml": twiml, "hang_up": hang_up})

    def fetch_recording(self, sid: str) -> bytes:
        self.fetches.append(("fetch_recording", sid))
        self._maybe_fail("fetch_recording")
        if sid not in self.recordings:
            raise TelephonyFailure(
                f"The requested resource {sid} was not found", NOT_FOUND_CODE, 404
            )
        return self.recordings[sid]

    def delete_recording(self, sid: str) -> None:
        self._maybe_fail("delete_recording")
        self.recordings.pop(sid, None)
        self.deleted_recordings.append(sid)

    def fetch_call(self, sid: str) -> CallState:
        self.fetches.append(("fetch_call", sid))
        self._maybe_fail("fetch_call")
        return self.states.get(sid, CallState(sid=sid, status="queued"))

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        status_callback: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> str:
        self._maybe_fail("send_sms")
        sid = f"SM{next(_seq):032x}"
        self.messages.append(
            {
                "sid": sid,
                "to": to,
                "body": body,
                "from": from_,
                "messaging_service_sid": messaging_service_sid,
                "status_callback": status_callback,
            }
        )
        return sid

    def fetch_message(self, sid: str) -> MessageState:
        self.fetches.append(("fetch_message", sid))
        self._maybe_fail("fetch_message")
        if sid in self.message_states:
            return self.message_states[sid]
        if any(m["sid"] == sid for m in self.messages):
            return MessageState(sid=sid, status="queued")
        raise TelephonyFailure(f"The requested resource {sid} was not found", NOT_FOUND_CODE, 404)

    def list_inbound_messages(self, to: str, since: datetime) -> list[ReceivedMessage]:
        self.fetches.append(("list_inbound_messages", to))
        self._maybe_fail("list_inbound_messages")
        return [m for m in self.received if m.to == to and m.sent_at >= since]
