"""The simulator's dialer rules that need no network: detection verdicts and their timing,
whose phone a REST call rings, conference event words, the conference room's rules (start,
end on exit, last leave, kicks), and what counts as a voicemail left."""

from __future__ import annotations

import threading

import pytest

from localdev.twilio_sim import SimConfig
from localdev.twilio_sim.conference import ConferenceHub, JoinSettings
from localdev.twilio_sim.faults import FaultInjector
from localdev.twilio_sim.resources import Call
from localdev.twilio_sim.rules import (
    AMD_HUMAN_S,
    AMD_VERDICTS,
    GREETING_S,
    MACHINE_START_S,
    amd_result,
    amd_verdict,
    conference_events,
    is_lead_call,
    new_sid,
    truthy,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.webhooks import WebhookSender


@pytest.mark.parametrize(
    ("mode", "outcome", "expected"),
    [
        ("DetectMessageEnd", "machine", ("machine_end_beep", GREETING_S)),
        ("Enable", "machine", ("machine_start", MACHINE_START_S)),
        ("Enable", "answered", ("human", AMD_HUMAN_S)),
        ("DetectMessageEnd", "answered", ("human", AMD_HUMAN_S)),
        (None, "machine", None),
        ("enable", "machine", None),  # Twilio's values are case-sensitive
    ],
)
def test_detection_verdict_and_when_it_comes(mode, outcome, expected) -> None:
    assert amd_verdict(mode, outcome) == expected
    if expected is not None:
        assert expected[0] in AMD_VERDICTS


def test_a_verdict_past_the_timeout_is_unknown() -> None:
    assert amd_result("DetectMessageEnd", "machine", 3) == ("unknown", 3)
    assert amd_result("DetectMessageEnd", "machine", 30) == ("machine_end_beep", GREETING_S)
    assert amd_result("Enable", "answered", 3) == ("human", AMD_HUMAN_S)
    assert amd_result(None, "answered", 3) is None


@pytest.mark.parametrize(
    ("machine_detection", "via_participants", "lead"),
    [
        ("Enable", False, True),
        ("DetectMessageEnd", False, True),
        (None, True, True),
        (None, False, False),
        ("", False, False),
        ("Bogus", False, False),
    ],
)
def test_whose_phone_a_rest_call_rings(machine_detection, via_participants, lead) -> None:
    assert is_lead_call(machine_detection, via_participants) is lead


def test_conference_event_words_and_booleans() -> None:
    assert conference_events(["start end", "join", "LEAVE bogus"]) == {
        "start",
        "end",
        "join",
        "leave",
    }
    assert conference_events([""]) == frozenset()
    assert (truthy("TRUE", False), truthy("false", True), truthy("maybe", True)) == (
        True,
        False,
        True,
    )


# ---------------------------------------------------------------- the room's rules


@pytest.fixture
def hub() -> ConferenceHub:
    registry = Registry()
    lock = registry.lock
    sender = WebhookSender(SimConfig(), FaultInjector(lock), lock, threading.Event())
    return ConferenceHub(registry, sender)


def joined(hub: ConferenceHub, name: str, to: str, *, via_api: bool = False, **settings):
    call = Call(sid=new_sid("CA"), to=to, from_="+15005550006", status="in-progress")
    participant = hub.add(
        call, JoinSettings(name=name, **settings), hub.open(name), via_api=via_api
    )
    return call, participant


def test_two_and_a_moderator_start_the_room_and_leaving_with_end_on_exit_ends_it(
    hub: ConferenceHub,
) -> None:
    member, mp = joined(hub, "room", "+14155550100", end_conference_on_exit=True)
    room = mp.conference
    assert room.status == "init" and hub.connect(mp)
    assert room.status == "init"  # alone: waiting for someone
    lead, lp = joined(hub, "room", "+12125550100")
    assert lp.conference is room and hub.connect(lp)
    assert room.status == "in-progress"
    assert member.bridged_with == [lead.sid] and lead.bridged_with == [member.sid]
    hub.leave(mp, "participant_hung_up")
    assert room.status == "completed"
    assert room.reason_ended == "participant-with-end-conference-on-exit-left"
    assert room.call_sid_ending == member.sid
    assert lp.left and room.participants == []
    # The name is free again: the next join opens a new room.
    _, again = joined(hub, "room", "+14155550100")
    assert again.conference is not room


def test_the_last_one_out_ends_the_room_and_kicks_say_so(hub: ConferenceHub) -> None:
    _, a = joined(hub, "r2", "+14155550100")
    _, b = joined(hub, "r2", "+12125550100")
    hub.connect(a)
    hub.connect(b)
    hub.leave(a, "participant_kicked", kicked=True)
    assert a.conference.status == "in-progress"
    hub.leave(b, "participant_kicked", kicked=True)
    assert a.conference.reason_ended == "last-participant-kicked"


def test_a_room_without_a_moderator_waits_and_held_parties_are_not_bridged(
    hub: ConferenceHub,
) -> None:
    first, a = joined(hub, "r3", "+14155550100", start_conference_on_enter=False)
    hub.connect(a)
    assert a.conference.status == "init"
    hub.update(a, {"Hold": ["true"]})
    second, b = joined(hub, "r3", "+12125550100")
    hub.connect(b)
    assert a.conference.status == "in-progress"
    assert first.bridged_with == [] and second.bridged_with == []
    hub.update(a, {"Hold": ["false"]})
    assert first.bridged_with == [second.sid] and second.bridged_with == [first.sid]


def test_a_room_nobody_joined_closes_when_its_only_caller_never_answers(
    hub: ConferenceHub,
) -> None:
    _, lead = joined(hub, "r5", "+12125550101", via_api=True)
    hub.drop(lead)
    assert lead.conference.status == "completed"
    _, member = joined(hub, "r5", "+14155550100")
    assert member.conference is not lead.conference


def test_ending_the_room_hangs_up_participants_still_ringing(hub: ConferenceHub) -> None:
    _, member = joined(hub, "r4", "+14155550100")
    hub.connect(member)
    ringing, lead = joined(hub, "r4", "+12125550100", via_api=True)
    hub.set_status(lead, "ringing")
    hub.end(member.conference, "conference-ended-via-api")
    assert ringing.hangup_requested and lead.left
    assert not hub.connect(lead)  # answered too late: the room is gone


def test_the_voicemail_is_what_the_machine_heard_after_its_beep() -> None:
    call = Call(sid=new_sid("CA"), to="+12125550104", outcome="machine")
    call.hear("say: too early", 1.0)
    call.beep_at = 2.0
    call.hear("pause 1s", 2.5)
    call.hear("say: please call back", 3.0)
    assert call.voicemail() == {
        "beeped": True,
        "left": True,
        "message": ["say: please call back"],
    }
    assert Call(sid=new_sid("CA"), outcome="human").voicemail() is None
    silent = Call(sid=new_sid("CA"), outcome="machine")
    assert silent.voicemail() == {"beeped": False, "left": False, "message": []}


def test_a_dialer_lead_call_without_detection_still_rings_a_lead() -> None:
    """A campaign with machine detection off: its lead calls answer at the dialer's lead URL."""
    url = "http://127.0.0.1:8000/twilio/dialer/lead/S1/C1"
    assert is_lead_call(None, False, url) is True
    assert is_lead_call(None, False, "http://127.0.0.1:8000/twilio/dialer/member/S1") is False
