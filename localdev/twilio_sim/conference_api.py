"""The REST handlers of ``Conferences`` and their ``Participants``, in Twilio's shapes.

``Conferences.json`` lists (``FriendlyName``, ``Status`` filters, newest first, paged);
``Conferences/{CF}.json`` fetches, and ``Status=completed`` ends the conference.
``Conferences/{CF or friendly name}/Participants.json`` creates a participant: a new outbound
call to ``To`` that joins the conference once answered (a name with no live conference creates
one, as Twilio does); ``Participants/{CA or label}.json`` fetches, updates (``Muted``, ``Hold``)
and deletes (removes the participant: a call added through the API then hangs up, one that
joined through TwiML goes on with the verb after its ``<Dial>``); the list shows the participants
connecting or connected.
"""

from __future__ import annotations

from typing import Any

from localdev.twilio_sim.conference import Conference, ConferenceHub, JoinSettings
from localdev.twilio_sim.resources import Call, TwilioError, page
from localdev.twilio_sim.rules import FINAL_CALL, conference_events, is_url, truthy
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.voice import VoiceEngine

CONFERENCE_STATUSES = ("init", "in-progress", "completed")
BEEP_VALUES = ("true", "false", "onEnter", "onExit")


class ConferenceApi:
    def __init__(self, registry: Registry, voice: VoiceEngine) -> None:
        self._registry = registry
        self._lock = registry.lock
        self._voice = voice
        self._hub: ConferenceHub = voice.conferences

    def _conference(self, sid: str) -> Conference:
        with self._lock:
            conference = self._registry.conferences.get(sid)
        if conference is None:
            raise TwilioError(404, 20404, f"The requested resource {sid} was not found")
        return conference

    # ------------------------------------------------------------ conferences

    def list_conferences(self, form: dict[str, list[str]]) -> dict[str, Any]:
        name = (form.get("FriendlyName") or [""])[0]
        status = (form.get("Status") or [""])[0]
        if status and status not in CONFERENCE_STATUSES:
            raise TwilioError(400, 20001, f"Invalid Status: {status}")
        with self._lock:
            conferences = sorted(
                self._registry.conferences.values(), key=lambda c: c.date_created, reverse=True
            )
            items = [
                c.resource()
                for c in conferences
                if (not name or c.friendly_name == name) and (not status or c.status == status)
            ]
        return page("conferences", "Conferences", items, form)

    def fetch_conference(self, sid: str) -> dict[str, Any]:
        conference = self._conference(sid)
        with self._lock:
            return conference.resource()

    def update_conference(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        conference = self._conference(sid)
        status = (form.get("Status") or [""])[0]
        if status and status != "completed":
            raise TwilioError(400, 20001, "Status can only be completed")
        if status:
            self._hub.end(conference, "conference-ended-via-api")
        with self._lock:
            return conference.resource()

    # ------------------------------------------------------------ participants

    def create_participant(self, ident: str, form: dict[str, list[str]]) -> dict[str, Any]:
        def first(name: str) -> str:
            return (form.get(name) or [""])[0].strip()

        if ident.startswith("CF"):
            conference = self._conference(ident)
            if conference.status == "completed":
                raise TwilioError(400, 20001, f"Conference {ident} is already completed")
        else:
            conference = self._hub.open(ident)
        beep = first("Beep") or "true"
        if beep not in BEEP_VALUES:
            raise TwilioError(400, 20001, f"Beep must be one of {', '.join(BEEP_VALUES)}")
        for name in ("ConferenceStatusCallback", "WaitUrl"):
            if first(name) and not is_url(first(name)):
                raise TwilioError(400, 21609, f"Invalid {name} URL: {first(name)}")
        settings = JoinSettings(
            name=conference.friendly_name,
            muted=truthy(first("Muted"), False),
            beep=beep,
            start_conference_on_enter=truthy(first("StartConferenceOnEnter"), True),
            end_conference_on_exit=truthy(first("EndConferenceOnExit"), False),
            wait_url=first("WaitUrl") or None,
            label=first("Label") or None,
            status_callback=first("ConferenceStatusCallback") or None,
            status_callback_method=(first("ConferenceStatusCallbackMethod") or "POST").upper(),
            events=conference_events(form.get("ConferenceStatusCallbackEvent", [])),
        )
        call_form = dict(form)
        if first("CallerId") and not first("From"):
            call_form["From"] = [first("CallerId")]

        def register(call: Call) -> None:
            self._hub.add(call, settings, conference, via_api=True)

        call, _ = self._voice.place(call_form, join=settings, participant_setup=register)
        with self._lock:
            participant = call.participant
            return participant.resource() if participant is not None else {}

    def list_participants(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        conference = self._conference(sid)
        wanted = {
            attr: (form[param][0].lower() == "true")
            for param, attr in (("Muted", "muted"), ("Hold", "hold"))
            if form.get(param)
        }
        with self._lock:
            items = [
                p.resource()
                for p in conference.participants
                if all(getattr(p, attr) == value for attr, value in wanted.items())
            ]
        return page("participants", f"Conferences/{sid}/Participants", items, form)

    def fetch_participant(self, sid: str, call_sid: str) -> dict[str, Any]:
        participant = self._hub.participant(self._conference(sid), call_sid)
        with self._lock:
            return participant.resource()

    def update_participant(
        self, sid: str, call_sid: str, form: dict[str, list[str]]
    ) -> dict[str, Any]:
        participant = self._hub.participant(self._conference(sid), call_sid)
        self._hub.update(participant, form)
        with self._lock:
            return participant.resource()

    def delete_participant(self, sid: str, call_sid: str) -> None:
        """Kick: out of the room; a participant still ringing is hung up."""
        participant = self._hub.participant(self._conference(sid), call_sid)
        call = participant.call
        with self._lock:
            connected = participant.status == "connected"
            if not connected and call.status not in FINAL_CALL:
                call.hangup_requested = True
                call.wake.set()
        if connected:
            self._hub.leave(participant, "participant_kicked", kicked=True)
        else:
            self._hub.drop(participant)
