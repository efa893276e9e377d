"""The simulator's inbound-call and recording rules that need no network: the inbound-call
request and the caller's behaviour, recording events and <Dial record> values, REST recording
parameters, the WAV it serves, whose phone a multi-number Dial rings and its DialCallStatus,
the inbound geographic parameters, and the Recording resource's shape."""

from __future__ import annotations

import io
import wave

import pytest

from localdev.twilio_sim.callers import CALLER_PATIENCE_S, CallerBehaviour, parse_inbound
from localdev.twilio_sim.legs import geo_params
from localdev.twilio_sim.recordings import (
    Recording,
    RecordRequest,
    dial_recording,
    recording_events,
    rest_record_request,
    wav_bytes,
)
from localdev.twilio_sim.resources import TwilioError
from localdev.twilio_sim.ringing import dial_status, phone_outcome
from localdev.twilio_sim.rules import ACCOUNT_SID

LEAD, OURS = "+12125550100", "+15005550006"


def test_an_inbound_call_waits_by_default() -> None:
    assert parse_inbound({"from": f" {LEAD} ", "to": OURS}) == (LEAD, OURS, CallerBehaviour())
    assert CallerBehaviour().patience == CALLER_PATIENCE_S


def test_the_callers_behaviour_is_read_with_its_numbers() -> None:
    _, _, message = parse_inbound(
        {"from": LEAD, "to": OURS, "behaviour": "message", "messageSeconds": 7}
    )
    assert (message.mode, message.message_seconds, message.hangup_after) == ("message", 7.0, None)
    _, _, hangup = parse_inbound({"from": LEAD, "to": OURS, "behavior": "hangup", "hangupAfter": 3})
    assert (hangup.mode, hangup.patience) == ("hangup", 3.0)
    _, _, keyed = parse_inbound({"from": LEAD, "to": OURS, "digits": "1#"})
    assert keyed.digits == "1#"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"to": OURS},
        {"from": "2125550100", "to": OURS},
        {"from": LEAD},
        {"from": LEAD, "to": OURS, "behaviour": "sing"},
        {"from": LEAD, "to": OURS, "behaviour": "hangup"},  # needs hangupAfter
        {"from": LEAD, "to": OURS, "messageSeconds": 0},
        {"from": LEAD, "to": OURS, "messageSeconds": True},
        {"from": LEAD, "to": OURS, "hangupAfter": "5"},
        {"from": LEAD, "to": OURS, "digits": "1a"},
        {"from": LEAD, "to": OURS, "colour": "blue"},
    ],
)
def test_nonsense_inbound_calls_are_refused(body: object) -> None:
    with pytest.raises(ValueError):
        parse_inbound(body)


def test_recording_events_default_to_completed_and_ignore_unknown_words() -> None:
    assert recording_events([]) == {"completed"}
    assert recording_events([""]) == {"completed"}
    assert recording_events(["in-progress completed", "absent", "bogus"]) == {
        "in-progress",
        "completed",
        "absent",
    }
    assert recording_events(["bogus"]) == {"completed"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("record-from-answer", (False, 1)),
        ("record-from-answer-dual", (False, 2)),
        ("record-from-ringing", (True, 1)),
        ("Record-From-Ringing-Dual", (True, 2)),
        ("true", (False, 1)),
        ("do-not-record", None),
        ("false", None),
        (None, None),
        ("record-everything", None),
    ],
)
def test_dial_record_values(value: str | None, expected: tuple[bool, int] | None) -> None:
    assert dial_recording(value) == expected


def test_rest_record_parameters_are_checked_like_twilios() -> None:
    assert rest_record_request({"To": [LEAD]}) is None
    assert rest_record_request({"Record": ["false"]}) is None
    assert rest_record_request({"Record": ["true"]}) == RecordRequest()
    request = rest_record_request(
        {
            "Record": ["True"],
            "RecordingChannels": ["dual"],
            "RecordingStatusCallback": ["https://app.example/rec"],
            "RecordingStatusCallbackMethod": ["get"],
            "RecordingStatusCallbackEvent": ["in-progress", "completed"],
        }
    )
    assert request == RecordRequest(
        channels=2,
        callback="https://app.example/rec",
        callback_method="GET",
        events=frozenset({"in-progress", "completed"}),
    )
    for bad in (
        {"RecordingChannels": ["stereo"]},
        {"RecordingStatusCallback": ["not a url"]},
        {"RecordingStatusCallbackMethod": ["PUT"]},
    ):
        with pytest.raises(TwilioError) as err:
            rest_record_request({"Record": ["true"], **bad})
        assert err.value.status == 400


@pytest.mark.parametrize(("seconds", "channels"), [(5, 1), (3, 2), (0, 1)])
def test_the_wav_is_real_audio_of_the_right_length(seconds: int, channels: int) -> None:
    data = wav_bytes(seconds, channels)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data), "rb") as audio:
        assert audio.getnchannels() == channels
        assert (audio.getframerate(), audio.getsampwidth()) == (8000, 2)
        assert audio.getnframes() == seconds * 8000
        frames = audio.readframes(audio.getnframes())
    assert seconds == 0 or any(frames)  # a tone, not silence


def test_a_wav_has_one_or_two_channels() -> None:
    with pytest.raises(ValueError):
        wav_bytes(1, 3)


def test_whose_phones_a_dial_rings() -> None:
    # Inbound: the team's phones (member digits); outbound: the lead digits.
    assert [phone_outcome(f"+1415555010{d}", True) for d in "12349"] == [
        "busy",
        "no-answer",
        "answered",
        "answered",
        "no-press",
    ]
    assert [phone_outcome(f"+1212555010{d}", False) for d in "12349"] == [
        "busy",
        "no-answer",
        "failed",
        "answered",
        "no-press",
    ]


@pytest.mark.parametrize(
    ("statuses", "bridged", "caller_left", "expected"),
    [
        (["completed", "canceled"], True, False, "completed"),
        (["completed"], True, True, "completed"),
        (["canceled", "canceled"], False, True, "canceled"),
        (["busy", "busy"], False, False, "busy"),
        (["failed"], False, False, "failed"),
        (["busy", "no-answer"], False, False, "no-answer"),
        (["completed"], False, False, "no-answer"),  # answered, refused in the whisper
    ],
)
def test_dial_call_status(
    statuses: list[str], bridged: bool, caller_left: bool, expected: str
) -> None:
    assert dial_status(statuses, bridged, caller_left) == expected


def test_inbound_geographic_parameters() -> None:
    params = geo_params(LEAD, "+442071234567")
    assert params["FromCountry"] == params["CallerCountry"] == "US"
    assert params["ToCountry"] == params["CalledCountry"] == ""
    assert {k for k in params if k.startswith("From")} == {
        "FromCity",
        "FromState",
        "FromZip",
        "FromCountry",
    }
    assert len(params) == 16


def test_the_recording_resource_has_twilios_fields() -> None:
    recording = Recording("RE" + "a" * 32, "CA" + "b" * 32, "DialVerb", 2, duration=12)
    recording.status = "completed"
    body = recording.resource("http://127.0.0.1:8900")
    assert set(body) == {
        "account_sid",
        "api_version",
        "call_sid",
        "channels",
        "conference_sid",
        "date_created",
        "date_updated",
        "duration",
        "encryption_details",
        "error_code",
        "media_url",
        "price",
        "price_unit",
        "sid",
        "source",
        "start_time",
        "status",
        "subresource_uris",
        "track",
        "uri",
    }
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording.sid}"
    assert body["uri"] == path + ".json"
    assert body["media_url"] == "http://127.0.0.1:8900" + path
    assert (body["duration"], body["channels"], body["status"]) == ("12", 2, "completed")
