"""Leads who call back (API.md, "Inbound calls and recordings"), on the recording fake Twilio:
the TwiML of each routing case (assignee, then the last caller, everyone only for a lead with
neither, available members only), the whisper and the first key press, the voicemail stored
out of Twilio and streamed to whoever may read the call, duplicated and out-of-order
webhooks, an unknown caller, an archived lead, and the day's counters."""

from __future__ import annotations

import io
import wave
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from chalicelib.telephony import webhooks as hooks
from tests.api.conftest import CALLER_ID
from tests.conftest import BASE_ENV, post_webhook

BASE = BASE_ENV["PUBLIC_BASE_URL"]
CALLER = "+12125550150"


def wav(seconds: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * seconds)
    return out.getvalue()


@pytest.fixture(autouse=True)
def audio_dir(tmp_path, monkeypatch):
    from chalicelib.config import reset_settings

    monkeypatch.setenv("RECORDINGS_DIR", str(tmp_path / "recordings"))
    reset_settings()
    return tmp_path / "recordings"


def ring(api: Any, sid: str = "CA" + "1" * 32, sender: str = CALLER) -> ET.Element:
    form = {
        "CallSid": sid,
        "From": sender,
        "To": CALLER_ID,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    status, body, _ = post_webhook(api, hooks.VOICE_INCOMING, form)
    assert status == 200, body
    return ET.fromstring(body)


def hook(api: Any, path: str, params: dict[str, str] | None = None, **ids: str) -> ET.Element:
    status, body, _ = post_webhook(api, path.format(**ids), params or {})
    assert status == 200, body
    return ET.fromstring(body)


def numbers(twiml: ET.Element) -> list[str]:
    return [n.text or "" for n in twiml.iter("Number")]


def dial(twiml: ET.Element) -> ET.Element:
    (verb,) = twiml.iter("Dial")
    return verb


def inbound_call(api: Any, lead_id: str) -> dict[str, Any]:
    _, page, _ = api.get(f"/calls?leadId={lead_id}")
    (call,) = [c for c in page["items"] if c["direction"] == "inbound"]
    return call


def test_the_assignee_then_the_last_caller_then_the_voicemail(
    api, telephony, clock, make_member, make_lead
):
    owner = make_member(name="Olga Owner", phone="+14155550111")
    last = make_member(name="Lars Last", phone="+14155550122")
    make_member(name="Bystander", phone="+14155550133")
    lead = make_lead(name="Jane Doe", phone=CALLER, assignedToId=owner["id"])
    status, placed, _ = api.post(
        "/calls", {"leadId": lead["id"], "teamMemberId": last["id"], "callerId": CALLER_ID}
    )
    assert status == 201, placed
    post_webhook(api, f"/twilio/voice/status/{placed['id']}", {"CallStatus": "busy"})

    twiml = ring(api)
    call = inbound_call(api, lead["id"])
    assert call["status"] == "ringing" and call["teamMemberId"] == "-"
    verb = dial(twiml)
    assert numbers(twiml) == [owner["phone"]]
    assert verb.get("timeout") == "15" and verb.get("callerId") == CALLER
    assert verb.get("action") == f"{BASE}/twilio/voice/incoming-next/{call['id']}/0"
    (number,) = twiml.iter("Number")
    assert number.get("url") == (f"{BASE}/twilio/voice/incoming-whisper/{call['id']}/{owner['id']}")

    nobody = {"DialCallStatus": "no-answer", "CallSid": "CA" + "1" * 32}
    twiml = hook(api, hooks.VOICE_INCOMING_NEXT, nobody, call_id=call["id"], stage="0")
    assert numbers(twiml) == [last["phone"]]
    assert dial(twiml).get("action").endswith(f"/incoming-next/{call['id']}/1")
    # the stage-0 action delivered again rings nobody twice
    again = hook(api, hooks.VOICE_INCOMING_NEXT, nobody, call_id=call["id"], stage="0")
    assert numbers(again) == [] and again.find("Hangup") is not None

    busy = {"DialCallStatus": "busy"}
    twiml = hook(api, hooks.VOICE_INCOMING_NEXT, busy, call_id=call["id"], stage="1")
    (record,) = twiml.iter("Record")
    assert record.get("maxLength") == "120" and record.get("playBeep") == "true"
    assert record.get("action") == f"{BASE}/twilio/voice/voicemail/{call['id']}"
    assert record.get("recordingStatusCallback") == f"{BASE}/twilio/voice/recording/{call['id']}"
    assert numbers(twiml) == []  # the bystander is never rung for a lead with an owner


def test_everyone_available_rings_for_a_lead_with_neither_and_the_first_1_wins(
    api, telephony, make_member
):
    from chalicelib import providers
    from chalicelib.domain.records import LiveCall
    from chalicelib.store.base import Put

    free = [make_member(name=f"Free {i}", phone=f"+1415555020{i}") for i in range(3)]
    busy = make_member(name="On a call", phone="+14155550299")
    gone = make_member(name="Gone", phone="+14155550298")
    api.delete(f"/team-members/{gone['id']}")
    providers.deps().store.write(
        Put("busy", LiveCall(f"member#{busy['id']}", "CALL1", "2099-01-01T00:00:00Z"))
    )
    twiml = ring(api, sender="+13125550177")  # unknown: becomes a lead
    rung = numbers(twiml)
    assert sorted(rung) == sorted(m["phone"] for m in free) and busy["phone"] not in rung
    _, leads, _ = api.get("/leads?limit=100")
    (lead,) = [x for x in leads["items"] if x["phone"] == "+13125550177"]
    assert lead["source"] == "inbound_call" and lead["name"] == "+13125550177"
    call = inbound_call(api, lead["id"])

    whisper = hook(api, hooks.VOICE_INCOMING_WHISPER, call_id=call["id"], member_id=free[0]["id"])
    (gather,) = whisper.iter("Gather")
    assert gather.findtext("Say") == "Call from +13125550177, press 1."
    assert gather.get("action") == (
        f"{BASE}/twilio/voice/incoming-accept/{call['id']}/{free[0]['id']}"
    )
    first = hook(
        api,
        hooks.VOICE_INCOMING_ACCEPT,
        {"Digits": "1"},
        call_id=call["id"],
        member_id=free[1]["id"],
    )
    assert list(first) == []  # an empty response: Twilio bridges this member
    second = hook(
        api,
        hooks.VOICE_INCOMING_ACCEPT,
        {"Digits": "1"},
        call_id=call["id"],
        member_id=free[0]["id"],
    )
    assert second.find("Hangup") is not None
    other_key = hook(
        api,
        hooks.VOICE_INCOMING_ACCEPT,
        {"Digits": "2"},
        call_id=call["id"],
        member_id=free[2]["id"],
    )
    assert other_key.find("Hangup") is not None
    taken = inbound_call(api, lead["id"])
    assert taken["teamMemberId"] == free[1]["id"] and taken["status"] == "in-progress"

    done = {"DialCallStatus": "completed", "DialCallDuration": "30"}
    twiml = hook(api, hooks.VOICE_INCOMING_NEXT, done, call_id=call["id"], stage="2")
    assert twiml.find("Hangup") is not None
    over = inbound_call(api, lead["id"])
    assert over["status"] == "completed" and over["talkSeconds"] == 30
    _, stats, _ = api.get("/dashboard/stats")
    assert stats["inboundCalls"] == {"total": 1, "answered": 1, "missed": 0, "voicemails": 0}
    (row,) = [r for r in stats["leaderboard"] if r["teamMemberId"] == free[1]["id"]]
    assert row["inboundAnswered"] == 1 and row["talkSeconds"] == 30


def test_a_voicemail_is_copied_out_of_twilio_once_and_streamed_to_who_may_read_it(
    api, telephony, people, audio_dir
):
    from chalicelib import providers
    from chalicelib.services import leads

    lead = leads.create(
        providers.deps(),
        leads.NewLead(name="Vera Voicemail", phone=CALLER, assigned_to_id=people.caller.id),
    )
    twiml = ring(api)  # the assignee is available: rung first
    assert numbers(twiml) == [people.caller.phone]
    call = inbound_call(api, lead.id)
    hook(
        api,
        hooks.VOICE_INCOMING_NEXT,
        {"DialCallStatus": "no-answer"},
        call_id=call["id"],
        stage="0",
    )
    sid = "RE" + "a" * 32
    telephony.recordings[sid] = wav(5)
    event = {
        "RecordingSid": sid,
        "RecordingStatus": "completed",
        "RecordingDuration": "5",
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{sid}",
        "CallSid": "CA" + "1" * 32,
    }
    # the recording's callback before the Record action, and twice: stored once
    hook(api, hooks.VOICE_RECORDING, event, call_id=call["id"])
    hook(api, hooks.VOICE_RECORDING, event, call_id=call["id"])
    thanks = hook(api, hooks.VOICE_VOICEMAIL, {"RecordingDuration": "5"}, call_id=call["id"])
    assert thanks.find("Hangup") is not None
    assert [f for f in telephony.fetches if f[0] == "fetch_recording"] == [("fetch_recording", sid)]
    assert telephony.deleted_recordings == [sid] and sid not in telephony.recordings
    assert len(list(audio_dir.rglob("*.wav"))) == 1

    stored = inbound_call(api, lead.id)
    assert stored["status"] == "no-answer"
    assert stored["voicemail"] == {
        "durationSeconds": 5,
        "recordingUrl": f"/calls/{stored['id']}/recording",
    }
    assert stored["recording"] is None
    status, audio, headers = api.request(
        "GET",
        f"/calls/{stored['id']}/recording",
        token=people.tokens["caller"],
        headers={"Accept": "audio/wav"},  # API Gateway answers binary to a matching Accept
    )
    assert status == 200 and headers["Content-Type"] == "audio/wav", audio
    with wave.open(io.BytesIO(audio)) as w:
        assert w.getnframes() == 5 * 8000
    status, _, _ = api.request(
        "GET",
        f"/calls/{stored['id']}/recording",
        token=people.tokens["other"],
        headers={"Accept": "audio/wav"},
    )
    assert status == 404  # another caller may not read the lead's calls
    _, stats, _ = api.get("/dashboard/stats")
    assert stats["inboundCalls"] == {"total": 1, "answered": 0, "missed": 1, "voicemails": 1}


def test_a_redelivered_incoming_webhook_stores_one_call(api, telephony, make_member, make_lead):
    make_member()
    lead = make_lead(phone=CALLER)
    first = ring(api)
    second = ring(api)
    assert numbers(first) == numbers(second)
    _, page, _ = api.get(f"/calls?leadId={lead['id']}")
    assert len(page["items"]) == 1


def test_an_archived_leads_number_restores_the_lead(api, telephony, make_member, make_lead):
    make_member()
    lead = make_lead(phone=CALLER)
    api.delete(f"/leads/{lead['id']}")
    ring(api)
    _, back, _ = api.get(f"/leads/{lead['id']}")
    assert back["archivedAt"] is None
    assert inbound_call(api, lead["id"])["leadId"] == lead["id"]


def test_nobody_available_goes_straight_to_the_voicemail(api, telephony):
    twiml = ring(api, sender="+13125550188")
    assert numbers(twiml) == [] and len(list(twiml.iter("Record"))) == 1


def test_a_forged_incoming_call_is_refused(api, telephony):
    form = {"CallSid": "CA" + "2" * 32, "From": CALLER, "To": CALLER_ID}
    status, _, _ = post_webhook(api, hooks.VOICE_INCOMING, form, token="forged")
    assert status == 403


def test_record_calls_records_click_to_call_after_a_notice(
    api, telephony, clock, monkeypatch, make_member, make_lead
):
    """RECORD_CALLS=1: the lead hears the notice on their leg before the bridge, the Dial
    records both channels from the answer, and the conversation is kept (not as a
    voicemail)."""
    from chalicelib.config import reset_settings

    monkeypatch.setenv("RECORD_CALLS", "1")
    reset_settings()
    member = make_member()
    lead = make_lead()
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
    status, call, _ = api.post("/calls", body)
    assert status == 201
    twiml = hook(api, "/twilio/voice/gather/{call_id}", {"Digits": "1"}, call_id=call["id"])
    verb = dial(twiml)
    assert verb.get("record") == "record-from-answer-dual"
    assert verb.get("recordingStatusCallback") == f"{BASE}/twilio/voice/recording/{call['id']}"
    (number,) = twiml.iter("Number")
    assert number.get("url") == f"{BASE}/twilio/voice/notice"
    notice = hook(api, hooks.VOICE_NOTICE)
    assert notice.findtext("Say") == "This call may be recorded."
    sid = "RE" + "b" * 32
    telephony.recordings[sid] = wav(3)
    event = {"RecordingSid": sid, "RecordingStatus": "completed", "RecordingDuration": "3"}
    hook(api, hooks.VOICE_RECORDING, event, call_id=call["id"])
    _, stored, _ = api.get(f"/calls/{call['id']}")
    assert stored["recording"] == {"durationSeconds": 3, "url": f"/calls/{call['id']}/recording"}
    assert stored["voicemail"] is None


def test_a_machines_recording_is_not_kept(api, telephony, clock, make_member, make_lead):
    member = make_member()
    lead = make_lead()
    body = {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": CALLER_ID}
    call = api.post("/calls", body)[1]
    hook(api, "/twilio/voice/amd/{call_id}", {"AnsweredBy": "machine_end_beep"}, call_id=call["id"])
    sid = "RE" + "c" * 32
    telephony.recordings[sid] = wav(2)
    event = {"RecordingSid": sid, "RecordingStatus": "completed", "RecordingDuration": "2"}
    hook(api, hooks.VOICE_RECORDING, event, call_id=call["id"])
    assert telephony.deleted_recordings == [sid]
    assert api.get(f"/calls/{call['id']}")[1]["recording"] is None


def test_missed_calls_and_voicemails_show_in_the_inbox(api, telephony, people):
    """API.md's inbox: a missed call, then the voicemail left on it, each the lead's latest
    unread item; the caller whose lead it is sees it."""
    from chalicelib import providers
    from chalicelib.services import leads

    lead = leads.create(
        providers.deps(),
        leads.NewLead(name="Mia Missed", phone=CALLER, assigned_to_id=people.caller.id),
    )
    ring(api)
    call = inbound_call(api, lead.id)
    hook(
        api,
        hooks.VOICE_INCOMING_NEXT,
        {"DialCallStatus": "no-answer"},
        call_id=call["id"],
        stage="0",
    )
    hook(api, hooks.VOICE_VOICEMAIL, {"RecordingDuration": "0"}, call_id=call["id"])
    _, box, _ = api.get("/inbox", token=people.tokens["caller"])
    (item,) = [i for i in box["items"] if i["leadId"] == lead.id]
    assert item["kind"] == "missed_call" and item["unread"] is True
    sid = "RE" + "d" * 32
    telephony.recordings[sid] = wav(4)
    event = {"RecordingSid": sid, "RecordingStatus": "completed", "RecordingDuration": "4"}
    hook(api, hooks.VOICE_RECORDING, event, call_id=call["id"])
    hook(api, hooks.VOICE_RECORDING, event, call_id=call["id"])  # redelivered
    _, box, _ = api.get("/inbox", token=people.tokens["caller"])
    (item,) = [i for i in box["items"] if i["leadId"] == lead.id]
    assert item["kind"] == "voicemail" and item["preview"] == "Voicemail (4 s)"
    assert box["unreadCount"] >= 1
