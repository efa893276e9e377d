"""The simulator's rules that need no network: outcomes, keywords, segments, settings, faults."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from chalicelib.config import SIMULATOR_ACCOUNT_SID
from localdev import twilio_sim
from localdev.twilio_sim import (
    Engine,
    SimConfig,
    answered_by,
    is_e164,
    member_outcome_for,
    national,
    opt_keyword,
    outcome_for,
    sms_segments,
)


def test_the_account_is_the_one_the_app_expects() -> None:
    assert twilio_sim.ACCOUNT_SID == SIMULATOR_ACCOUNT_SID
    assert twilio_sim.NUMBERS == ("+15005550006", "+15005550007")


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("+12125550101", "busy"),
        ("+12125550102", "no-answer"),
        ("+12125550103", "failed"),
        ("+12125550104", "machine"),
        ("+12125550109", "no-press"),
        ("+12125550100", "answered"),
        ("+12125550105", "answered"),
    ],
)
def test_the_last_digit_scripts_the_lead(number: str, outcome: str) -> None:
    assert outcome_for(number) == outcome


@pytest.mark.parametrize(
    ("mode", "outcome", "verdict"),
    [
        ("DetectMessageEnd", "machine", "machine_end_beep"),
        ("Enable", "machine", "machine_start"),
        ("DetectMessageEnd", "answered", "human"),
        ("Enable", "answered", "human"),
        (None, "machine", None),
        ("", "answered", None),
        ("Bogus", "machine", None),
    ],
)
def test_answering_machine_detection_reports_who_answered(mode, outcome, verdict) -> None:
    assert answered_by(mode, outcome) == verdict


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("+14155550101", "busy"),
        ("+14155550102", "no-answer"),
        ("+14155550103", "answered"),  # 3 fails a lead, never a member (API.md)
        ("+14155550104", "answered"),
        ("+14155550109", "no-press"),
        ("+14155550100", "answered"),
        ("+14155550105", "answered"),
    ],
)
def test_the_last_digit_scripts_the_member(number: str, outcome: str) -> None:
    assert member_outcome_for(number) == outcome


WHISPER = (
    '<Response><Gather numDigits="1" timeout="2"><Say>Lead Jane. Press 1.</Say></Gather>'
    "<Say>No key pressed. Goodbye.</Say><Hangup/></Response>"
)


def run_member_leg(last_digit: str, twiml: str = WHISPER) -> dict[str, object]:
    """One call through the voice engine (no HTTP, no app: inline TwiML, no callbacks)."""
    engine = Engine(SimConfig(speed=1000.0))
    try:
        created = engine.create_call(
            {"To": [f"+1415555010{last_digit}"], "From": ["+15005550006"], "Twiml": [twiml]}
        )
        assert engine.activity_done(created["sid"]).wait(10)
        return engine.call(created["sid"])
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("digit", "final"), [("1", "busy"), ("2", "no-answer")], ids=["busy", "no-answer"]
)
def test_a_member_who_never_answers_ends_the_call_before_any_twiml(digit: str, final: str) -> None:
    done = run_member_leg(digit)
    assert done["status"] == final and done["duration"] == "0"
    sim = done["simulator"]
    assert isinstance(sim, dict)
    assert sim["history"] == ["queued", "initiated", "ringing", final]
    assert sim["transcript"] == [] and sim["children"] == []


def test_a_member_ending_in_9_answers_but_never_presses_a_key() -> None:
    done = run_member_leg("9")
    assert done["status"] == "completed"
    sim = done["simulator"]
    assert isinstance(sim, dict)
    assert sim["history"] == ["queued", "initiated", "ringing", "in-progress", "completed"]
    assert sim["transcript"] == [
        "say: Lead Jane. Press 1.",
        "gather: no key pressed",
        "say: No key pressed. Goodbye.",
        "hangup",
    ]


def test_any_other_member_answers() -> None:
    done = run_member_leg("5", "<Response><Say>hello</Say></Response>")
    assert done["status"] == "completed"
    sim = done["simulator"]
    assert isinstance(sim, dict)
    assert sim["history"][-2:] == ["in-progress", "completed"]
    assert sim["transcript"] == ["say: hello"]


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "STOP"),
        ("  stop! ", "STOP"),
        ("Unsubscribe.", "STOP"),
        ("stopall", "STOP"),
        ("quit", "STOP"),
        ("cancel", "STOP"),
        ("end", "STOP"),
        ("Start", "START"),
        ("yes", "START"),
        ("UNSTOP", "START"),
        ("help?", "HELP"),
        ("please stop", None),
        ("stop it", None),
        ("", None),
        ("STOPP", None),
    ],
)
def test_opt_out_keywords_are_the_whole_message(body: str, keyword: str | None) -> None:
    assert opt_keyword(body) == keyword


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("hi", 1),
        ("x" * 160, 1),
        ("x" * 161, 2),
        ("x" * 306, 2),
        ("x" * 307, 3),
        ("[" * 80, 1),  # GSM-7 extension characters take two septets each
        ("[" * 81, 2),
        ("é" * 160, 1),  # é is in the GSM-7 alphabet
        ("ł" * 70, 1),
        ("ł" * 71, 2),
        ("😀" * 35, 1),  # two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_count_like_twilio(body: str, segments: int) -> None:
    assert sms_segments(body) == segments


@pytest.mark.parametrize(
    ("number", "ok"),
    [("+14155550100", True), ("14155550100", False), ("+0415", False), ("+1 415 555", False)],
)
def test_e164(number: str, ok: bool) -> None:
    assert is_e164(number) is ok


def test_national_format() -> None:
    assert national("+15005550006") == "(500) 555-0006"
    assert national("+447700900123") == "+447700900123"


def test_settings_come_from_the_environment() -> None:
    config = SimConfig.from_env(
        {
            "SIMULATOR_PORT": "9911",
            "SIM_APP_BASE": "http://127.0.0.1:7000/api/",
            "SIMULATOR_AUTH_TOKEN": "tok",
            "SIM_SPEED": "50",
            "SIM_WEBHOOK_TIMEOUT": "2.5",
        }
    )
    assert (config.port, config.app_base, config.auth_token) == (
        9911,
        "http://127.0.0.1:7000/api",
        "tok",
    )
    assert (config.speed, config.webhook_timeout) == (50.0, 2.5)
    defaults = SimConfig.from_env({})
    assert (defaults.port, defaults.auth_token, defaults.webhook_timeout) == (
        8900,
        "simulated-auth-token",
        15.0,
    )
    assert defaults.app_base == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "bad", [{"speed": 0}, {"webhook_timeout": -1}, {"app_base": "localhost:8000"}]
)
def test_settings_refuse_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SimConfig(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spec",
    [
        {"op": "calls.create"},
        {"op": "calls.explode", "mode": "500"},
        {"op": "calls.create", "mode": "503"},
        {"op": "calls.create", "mode": "500", "count": 0},
        {"op": "calls.create", "mode": "500", "count": "2"},
        {"webhookDelaySeconds": -1},
        {"webhookDelaySeconds": "1"},
        {"op": "calls.create", "mode": "500", "surprise": True},
        {"op": "webhook", "mode": "500"},
        {"op": "calls.create", "mode": "drop"},
        {"op": "webhook", "mode": "drop", "count": 0},
        {"op": "webhook", "mode": "drop", "kind": ""},
        {"op": "calls.create", "mode": "500", "kind": "voice-url"},
        {},
    ],
)
def test_fault_specs_are_validated(spec: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Engine(SimConfig()).add_fault(spec)


def test_faults_are_used_up_in_order() -> None:
    engine = Engine(SimConfig())
    engine.add_fault({"op": "calls.create", "mode": "429", "count": 2})
    engine.add_fault({"op": "calls.create", "mode": "500"})
    taken = [engine._take_fault("calls.create") for _ in range(4)]
    assert [f.mode if f else None for f in taken] == ["429", "429", "500", None]
    assert engine._take_fault("messages.create") is None


def test_webhook_drops_are_used_up_one_webhook_each() -> None:
    engine = Engine(SimConfig())
    engine.add_fault({"op": "webhook", "mode": "drop", "count": 2})
    assert [f["op"] for f in engine.faults()["faults"]] == ["webhook"]
    assert engine._take_fault("calls.create") is None  # REST requests are not affected
    assert [engine._take_fault("webhook") is not None for _ in range(3)] == [True, True, False]


def test_a_webhook_drop_with_a_kind_spares_other_webhooks() -> None:
    """`kind` aims a drop at one kind of webhook (a prefix of its log kind): a lost conference
    join, say, while the call's other webhooks go through."""
    engine = Engine(SimConfig())
    engine.add_fault({"op": "webhook", "mode": "drop", "count": 2, "kind": "conference-status"})
    engine.add_fault({"op": "webhook", "mode": "drop", "kind": "call-status:completed"})
    assert engine.faults()["faults"][0]["kind"] == "conference-status"
    drops = engine.fault_injector.drop_webhook
    assert not drops("voice-url") and not drops("call-status:ringing")
    assert drops("conference-status:participant-join")
    assert drops("call-status:completed") and not drops("call-status:completed")
    assert drops("conference-status:conference-end")
    assert not drops("conference-status:participant-join")  # used up


def test_dial_number_and_events_parsing() -> None:
    root = ET.fromstring(
        '<Response><Gather/><Dial callerId="+1"><Number> +12125550109 </Number></Dial></Response>'
    )
    assert twilio_sim._dial_number(root) == "+12125550109"
    bare = ET.fromstring("<Response><Dial>+12125550100</Dial></Response>")
    assert twilio_sim._dial_number(bare) == "+12125550100"
    assert twilio_sim._dial_number(ET.fromstring("<Response><Say>hi</Say></Response>")) is None
    assert twilio_sim._events(["initiated ringing", "answered", "bogus"]) == {
        "initiated",
        "ringing",
        "answered",
    }


def test_twiml_must_be_a_response_document() -> None:
    with pytest.raises(ValueError):
        twilio_sim._parse_twiml(b"<Say>hi</Say>")
    with pytest.raises(ValueError):
        twilio_sim._parse_twiml(b"not xml")
    assert twilio_sim._parse_twiml(b'<?xml version="1.0"?><Response/>').tag == "Response"
