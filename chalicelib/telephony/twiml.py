"""TwiML for the click-to-call bridge, built with the SDK's VoiceResponse (escaping included).

The member hears a whisper with the lead's name and must press 1 (so a member's voicemail is
never bridged to the lead); then the lead is dialled with the caller ID, the lead leg reporting
to its own status callback and answering-machine detection to its own."""

from __future__ import annotations

LEAD_LEG_EVENTS = "initiated ringing answered completed"
GATHER_TIMEOUT_SECONDS = 8
DIAL_TIMEOUT_SECONDS = 25


def _press_1(prompt: str, action_url: str, *, goodbye: str | None) -> str:
    """A one-key Gather posting to its own URL (`actionOnEmptyResult`: no key posts too), then
    `goodbye` (reached only if Twilio does not post the empty result) and a hang-up."""
    from twilio.twiml.voice_response import Gather, VoiceResponse

    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=action_url,
        method="POST",
        timeout=GATHER_TIMEOUT_SECONDS,
        action_on_empty_result=True,
    )
    gather.say(prompt)
    response.append(gather)
    if goodbye:
        response.say(goodbye)
    response.hangup()
    return str(response)


def whisper(lead_name: str, action_url: str) -> str:
    return _press_1(
        f"Lead {lead_name}. Press 1 to connect.", action_url, goodbye="No key pressed. Goodbye."
    )


def dial(
    lead_phone: str,
    caller_id: str,
    lead_status_url: str,
    amd_url: str,
    *,
    recording_url: str | None = None,
    notice_url: str | None = None,
) -> str:
    """The lead dialled, with answering-machine detection: Twilio posts who answered
    (`AnsweredBy`) to `amd_url` once a machine's greeting ended (DetectMessageEnd), so a
    voicemail is not counted as a conversation. Recorded (`recording_url`: both channels from
    the answer), the lead first hears the notice (`notice_url`, played on their leg before
    the bridge)."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    options: dict[str, object] = {}
    if recording_url:
        options = {
            "record": "record-from-answer-dual",
            "recording_status_callback": recording_url,
            "recording_status_callback_event": "completed",
        }
    dial_verb = Dial(
        caller_id=caller_id,
        action=lead_status_url,
        method="POST",
        timeout=DIAL_TIMEOUT_SECONDS,
        **options,
    )
    number_options: dict[str, object] = {"url": notice_url, "method": "POST"} if notice_url else {}
    dial_verb.number(
        lead_phone,
        status_callback=lead_status_url,
        status_callback_event=LEAD_LEG_EVENTS,
        status_callback_method="POST",
        machine_detection="DetectMessageEnd",
        amd_status_callback=amd_url,
        amd_status_callback_method="POST",
        **number_options,
    )
    response.append(dial_verb)
    return str(response)


def goodbye() -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say("No key pressed. Goodbye.")
    response.hangup()
    return str(response)


def cancelled() -> str:
    """For a call we already settled as failed (Twilio placed it anyway): say so, hang up."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say("This call was cancelled. Goodbye.")
    response.hangup()
    return str(response)


def refused(words: str) -> str:
    """Compliance refused to dial the lead after the key press: say why, hang up."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(f"{words} Goodbye.")
    response.hangup()
    return str(response)


def empty() -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response />'


# ---------------------------------------------------------------- the power dialer


def session_greeting(campaign_name: str, action_url: str) -> str:
    """The member's phone answered a dialer session: press 1 to start (a member's voicemail
    never starts a session), the Gather posting to its own URL."""
    prompt = f"Dialer session for {campaign_name}. Press 1 to start calling."
    return _press_1(prompt, action_url, goodbye="No key pressed. Goodbye.")


def park_member(conference: str, status_url: str) -> str:
    """The member waits in the session's conference: it starts when they enter and ends when
    they leave (taking any bridged lead with it); its events report to `status_url`."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    response.say("Connected. Calling your leads.")
    dial_verb = Dial()
    dial_verb.conference(
        conference,
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        beep=False,
        wait_url="",
        status_callback=status_url,
        status_callback_event="start end join leave",
        status_callback_method="POST",
    )
    response.append(dial_verb)
    return str(response)


def bridge_lead(conference: str, notice: str | None = None) -> str:
    """A person answered: into the member's conference at once (after a recording notice when
    the call is recorded). The lead leaving does not end the conference."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    if notice:
        response.say(notice)
    dial_verb = Dial()
    dial_verb.conference(
        conference,
        start_conference_on_enter=False,
        end_conference_on_exit=False,
        beep=False,
        wait_url="",
    )
    response.append(dial_verb)
    return str(response)


def voicemail(message: str) -> str:
    """A machine's greeting ended (the beep): leave the message and hang up."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.pause(length=1)
    response.say(message)
    response.hangup()
    return str(response)


def hang_up() -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.hangup()
    return str(response)


def abandoned(company: str, callback_number: str) -> str:
    """A person answered and nobody can take the call (47 CFR 64.1200(a)(7)(i)(A): within two
    seconds, a recorded message with the seller's name and a number to opt out)."""
    from twilio.twiml.voice_response import VoiceResponse

    digits = " ".join(callback_number.lstrip("+"))
    response = VoiceResponse()
    response.say(
        f"Hello, this is {company}. Sorry, nobody is free to take this call. "
        f"To ask us not to call again, call {digits}. Goodbye."
    )
    response.hangup()
    return str(response)


def say_and_hang_up(words: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(words)
    response.hangup()
    return str(response)


# ---------------------------------------------------------------- calls to our number

RECORDING_NOTICE = "This call may be recorded."
VOICEMAIL_MAX_SECONDS = 120


def inbound_ring(
    numbers: list[tuple[str, str]],
    *,
    caller_id: str,
    action_url: str,
    timeout: int,
    notice: str | None = None,
    recording_url: str | None = None,
) -> str:
    """Ring members at once (`numbers`: phone and whisper URL each); the first to press 1 in
    their whisper is bridged, and the `<Dial action>` reports how it ended. The caller hears
    the recording notice first when the call is recorded (both channels, from the answer)."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    if notice:
        response.say(notice)
    options: dict[str, object] = {}
    if recording_url:
        options = {
            "record": "record-from-answer-dual",
            "recording_status_callback": recording_url,
            "recording_status_callback_event": "completed",
        }
    dial_verb = Dial(
        caller_id=caller_id, action=action_url, method="POST", timeout=timeout, **options
    )
    for phone, whisper_url in numbers:
        dial_verb.number(phone, url=whisper_url, method="POST")
    response.append(dial_verb)
    return str(response)


def inbound_whisper(lead_name: str, action_url: str) -> str:
    """A rung member answered: who is calling, press 1 to take it; otherwise their leg hangs
    up and the others ring on."""
    return _press_1(f"Call from {lead_name}, press 1.", action_url, goodbye=None)


def voicemail_prompt(company: str, *, action_url: str, recording_url: str) -> str:
    """Nobody took the call: a short greeting, then the caller's message (at most two
    minutes), its audio reported to `recording_url`."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(
        f"You have reached {company}. Nobody can take your call right now. "
        "Please leave a message after the tone."
    )
    response.record(
        action=action_url,
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        timeout=5,
        play_beep=True,
        recording_status_callback=recording_url,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    response.say("No message was recorded. Goodbye.")
    response.hangup()
    return str(response)


def notice() -> str:
    """What the lead hears before a recorded call is bridged."""
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(RECORDING_NOTICE)
    return str(response)
