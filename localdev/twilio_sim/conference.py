"""Conferences: rooms that calls join (``<Dial><Conference>`` or the Participants API), their
participants, and their status callbacks.

The rules, as Twilio's documentation gives them: a conference is created by the first
participant to join a name that has no live conference (status ``init``: a caller alone in it
waits, hearing the ``waitUrl``'s music, or silence with ``waitUrl=""``); it starts
(``in-progress``, ``conference-start``) once two participants are in it, one of them with
``startConferenceOnEnter`` (default true); it ends (``completed``, ``conference-end``, with
``ReasonConferenceEnded`` and ``CallSidEndingConference``) when a participant with
``endConferenceOnExit`` leaves, when the last one leaves, or through ``Status=completed``.
Everyone still in it leaves then: a call that joined through TwiML goes on with the verb after
its ``<Dial>`` (or the Dial's ``action``), a call added through the Participants API hangs up.
The conference's ``statusCallback`` and events are the first joining participant's that names
one; its callbacks (``conference-start``, ``conference-end``, ``participant-join``,
``participant-leave``, ``participant-mute`` / ``-unmute``, ``participant-hold`` / ``-unhold``)
leave in order on a queue of the conference's own, numbered by ``SequenceNumber``, signed like
every webhook.

Participants are listed while they connect (``queued``, ``ringing``) and while they are in the
room (``connected``); once they leave they are gone (Twilio's Participants resource holds no
history), but the call records keep who was bridged with whom (``bridgedWith``).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localdev.twilio_sim.resources import Activity, Call, TwilioError
from localdev.twilio_sim.rules import (
    ACCOUNT_PATH,
    ACCOUNT_SID,
    API_VERSION,
    new_sid,
    now,
    rfc2822,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.webhooks import WebhookSender


@dataclass(frozen=True)
class JoinSettings:
    """How one participant joins: ``<Conference>``'s attributes or a Participants create's."""

    name: str
    muted: bool = False
    beep: str = "true"
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    wait_url: str | None = None
    label: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    events: frozenset[str] = frozenset()


@dataclass(eq=False)
class Participant:
    call: Call
    conference: Conference
    settings: JoinSettings
    via_api: bool
    muted: bool = False
    hold: bool = False
    status: str = "queued"
    left: bool = False
    date_created: datetime = field(default_factory=now)
    date_updated: datetime = field(default_factory=now)

    def resource(self) -> dict[str, Any]:
        return {
            "account_sid": ACCOUNT_SID,
            "call_sid": self.call.sid,
            "call_sid_to_coach": None,
            "coaching": False,
            "conference_sid": self.conference.sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "end_conference_on_exit": self.settings.end_conference_on_exit,
            "hold": self.hold,
            "label": self.settings.label,
            "muted": self.muted,
            "queue_time": "0",
            "start_conference_on_enter": self.settings.start_conference_on_enter,
            "status": self.status,
            "uri": f"{self.conference.uri_base}/Participants/{self.call.sid}.json",
        }


@dataclass(eq=False)
class Conference(Activity):
    friendly_name: str = ""
    status: str = "init"
    participants: list[Participant] = field(default_factory=list)
    callback: str | None = None
    callback_method: str = "POST"
    events: frozenset[str] = frozenset()
    reason_ended: str | None = None
    call_sid_ending: str | None = None
    sequence: int = 0
    joined: list[str] = field(default_factory=list)  # every call that was ever in it
    callbacks: ThreadPoolExecutor | None = None

    @property
    def uri_base(self) -> str:
        return f"{ACCOUNT_PATH}/Conferences/{self.sid}"

    def resource(self) -> dict[str, Any]:
        return {
            "account_sid": ACCOUNT_SID,
            "api_version": API_VERSION,
            "call_sid_ending_conference": self.call_sid_ending,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "friendly_name": self.friendly_name,
            "reason_conference_ended": self.reason_ended,
            "region": "us1",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "participants": f"{self.uri_base}/Participants.json",
                "recordings": f"{self.uri_base}/Recordings.json",
            },
            "uri": f"{self.uri_base}.json",
        }

    def details(self) -> dict[str, Any]:
        return {
            **self.resource(),
            "simulator": {
                "participants": [p.call.sid for p in self.participants],
                "joined": list(self.joined),
                "history": list(self.history),
            },
        }


class ConferenceHub:
    """Every conference, behind the registry's lock; joins, leaves, ends and their callbacks."""

    def __init__(self, registry: Registry, sender: WebhookSender) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._sender = sender

    # ------------------------------------------------------------ lookups

    def find(self, ident: str) -> Conference:
        """By SID, or by friendly name (the live one, else the newest); else Twilio's 404."""
        with self._lock:
            conferences = self._registry.conferences
            if ident in conferences:
                return conferences[ident]
            named = [c for c in conferences.values() if c.friendly_name == ident]
        if not named:
            raise TwilioError(404, 20404, f"The requested resource {ident} was not found")
        live = [c for c in named if c.status != "completed"]
        return (live or named)[-1]

    def participant(self, conference: Conference, call_sid: str) -> Participant:
        with self._lock:
            for one in conference.participants:
                if one.call.sid == call_sid or (one.settings.label or None) == call_sid:
                    return one
        raise TwilioError(404, 20404, f"The requested resource {call_sid} was not found")

    def open(self, name: str) -> Conference:
        """The live conference of that name, or a new one (`init`)."""
        with self._lock:
            for conference in self._registry.conferences.values():
                if conference.friendly_name == name and conference.status != "completed":
                    return conference
            conference = Conference(sid=new_sid("CF"), friendly_name=name)
            conference.history.append("init")
            conference.callbacks = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"sim-cf-{conference.sid[-6:]}"
            )
            self._registry.conferences[conference.sid] = conference
            return conference

    # ------------------------------------------------------------ joining and leaving

    def add(
        self, call: Call, settings: JoinSettings, conference: Conference, *, via_api: bool
    ) -> Participant:
        """A participant on its way in (`queued`): listed, not yet in the room."""
        with self._lock:
            participant = Participant(call, conference, settings, via_api, muted=settings.muted)
            conference.participants.append(participant)
            call.participant = participant
            return participant

    def set_status(self, participant: Participant, status: str) -> None:
        with self._lock:
            participant.status = status
            participant.date_updated = now()

    def drop(self, participant: Participant) -> None:
        """A participant whose call never answered: gone, nothing said (no join, no leave). A
        room nobody ever joined closes with it."""
        conference = participant.conference
        with self._lock:
            if participant in conference.participants:
                conference.participants.remove(participant)
            participant.left = True
            if not conference.participants and not conference.joined:
                conference.status = "completed"
                conference.reason_ended = "last-participant-left"
                conference.date_updated = now()
                conference.history.append("completed")
                conference.done.set()
                if conference.callbacks is not None:
                    conference.callbacks.shutdown(wait=False)

    def connect(self, participant: Participant) -> bool:
        """The participant's call is answered: into the room, bridged with everyone there who is
        not on hold. False when its conference has already ended."""
        conference = participant.conference
        with self._lock:
            if conference.status == "completed":
                self.drop(participant)
                return False
            settings = participant.settings
            if settings.status_callback and not conference.callback:
                conference.callback = settings.status_callback
                conference.callback_method = settings.status_callback_method
                conference.events = settings.events
            participant.status = "connected"
            participant.date_updated = now()
            conference.joined.append(participant.call.sid)
            self._bridge(participant)
            self._notify(conference, "participant-join", participant)
            connected = [p for p in conference.participants if p.status == "connected"]
            if (
                conference.status == "init"
                and len(connected) >= 2
                and any(p.settings.start_conference_on_enter for p in connected)
            ):
                conference.status = "in-progress"
                conference.date_updated = now()
                conference.history.append("in-progress")
                self._notify(conference, "conference-start")
            return True

    def leave(self, participant: Participant, reason: str, *, kicked: bool = False) -> None:
        """The participant leaves (hung up, redirected, kicked); the conference ends if it had
        `endConferenceOnExit` or was the last one."""
        conference = participant.conference
        with self._lock:
            if participant.left:
                return
            participant.left = True
            if participant in conference.participants:
                conference.participants.remove(participant)
            participant.call.wake.set()
            if participant.call.aborted or conference.status == "completed":
                return
            self._notify(conference, "participant-leave", participant, reason)
            connected = [p for p in conference.participants if p.status == "connected"]
            if participant.settings.end_conference_on_exit:
                how = "kicked" if kicked else "left"
                self.end(
                    conference,
                    f"participant-with-end-conference-on-exit-{how}",
                    participant.call.sid,
                )
            elif not connected:
                how = "kicked" if kicked else "left"
                self.end(conference, f"last-participant-{how}", participant.call.sid)

    def end(self, conference: Conference, reason: str, call_sid: str | None = None) -> None:
        """Close the room: everyone left in it leaves (their calls go on or hang up), then
        `conference-end`."""
        with self._lock:
            if conference.status == "completed":
                return
            conference.status = "completed"
            conference.reason_ended = reason
            conference.call_sid_ending = call_sid
            conference.date_updated = now()
            conference.history.append("completed")
            remaining, conference.participants = conference.participants, []
            for participant in remaining:
                participant.left = True
                participant.call.wake.set()
                if participant.via_api and participant.status != "connected":
                    # Still ringing: the room it was called for is gone, so the call is too.
                    participant.call.hangup_requested = True
                if participant.status == "connected" and not participant.call.aborted:
                    self._notify(conference, "participant-leave", participant, reason)
            self._notify(conference, "conference-end")
            conference.done.set()
            if conference.callbacks is not None:
                conference.callbacks.shutdown(wait=False)

    def _bridge(self, participant: Participant) -> None:
        """Connect the participant's audio with everyone in the room who is not on hold (the
        call records keep who was bridged with whom; the caller holds the lock)."""
        if participant.hold:
            return
        for other in participant.conference.participants:
            if other is participant or other.status != "connected" or other.hold:
                continue
            if other.call.sid not in participant.call.bridged_with:
                participant.call.bridged_with.append(other.call.sid)
            if participant.call.sid not in other.call.bridged_with:
                other.call.bridged_with.append(participant.call.sid)

    def update(self, participant: Participant, form: dict[str, list[str]]) -> None:
        """Mute/unmute, hold/unhold (other update fields are accepted and not simulated)."""

        def flag(name: str) -> bool | None:
            values = form.get(name)
            return None if not values else values[0].strip().lower() == "true"

        with self._lock:
            for name, attr, event in (("Muted", "muted", "mute"), ("Hold", "hold", "hold")):
                value = flag(name)
                if value is None or value == getattr(participant, attr):
                    continue
                setattr(participant, attr, value)
                participant.date_updated = now()
                word = f"participant-{event}" if value else f"participant-un{event}"
                self._notify(participant.conference, word, participant)
                if attr == "hold" and not value and participant.status == "connected":
                    self._bridge(participant)
            if (flag("EndConferenceOnExit")) is not None:
                participant.settings = JoinSettings(
                    **{
                        **participant.settings.__dict__,
                        "end_conference_on_exit": flag("EndConferenceOnExit"),
                    }
                )

    # ------------------------------------------------------------ callbacks

    def _notify(
        self,
        conference: Conference,
        event: str,
        participant: Participant | None = None,
        reason: str | None = None,
    ) -> None:
        """Queue the conference's status callback for `event`, if it asked for it (the caller
        holds the lock)."""
        word = event.split("-", 1)[1].removeprefix("un")
        if not conference.callback or word not in conference.events or conference.aborted:
            return
        conference.sequence += 1
        params = {
            "AccountSid": ACCOUNT_SID,
            "ConferenceSid": conference.sid,
            "FriendlyName": conference.friendly_name,
            "StatusCallbackEvent": event,
            "SequenceNumber": str(conference.sequence),
            "Timestamp": rfc2822(now()) or "",
        }
        if participant is not None:
            call = participant.call
            params.update(
                {
                    "CallSid": call.sid,
                    "Muted": str(participant.muted).lower(),
                    "Hold": str(participant.hold).lower(),
                    "Coaching": "false",
                    "EndConferenceOnExit": str(participant.settings.end_conference_on_exit).lower(),
                    "StartConferenceOnEnter": str(
                        participant.settings.start_conference_on_enter
                    ).lower(),
                }
            )
            if participant.settings.label:
                params["ParticipantLabel"] = participant.settings.label
            if event == "participant-leave":
                params["ReasonParticipantLeft"] = reason or "participant_hung_up"
                params["ParticipantCallStatus"] = call.status
        if event == "conference-end":
            params["ReasonConferenceEnded"] = conference.reason_ended or ""
            if conference.call_sid_ending:
                params["CallSidEndingConference"] = conference.call_sid_ending
        url, method, queue = conference.callback, conference.callback_method, conference.callbacks

        def send() -> None:
            if not conference.aborted:
                self._sender.deliver(
                    url, params, method, kind=f"conference-status:{event}", owner=conference
                )

        if queue is not None:
            with contextlib.suppress(RuntimeError):  # shut down after an abort
                queue.submit(send)
