"""TwiML for the click-to-call bridge, built with the SDK's VoiceResponse (escaping included).

The member hears a whisper with the lead's name and must press 1 (so a member's voicemail is
never bridged to the lead); then the lead is dialled with the caller ID, the lead leg reporting
to its own status callback and answering-machine detection to its own."""

from __future__ import annotations

LEAD_LEG_EVENTS = "initiated ringing answered completed"
GATHER_TIMEOUT_SECONDS = 8
DIAL_TIMEOUT_SECONDS = 25


def whisper(lead_name: str, action_url: str) -> str:
    from twilio.twiml.voice_response import Gather, VoiceResponse

    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=action_url,
        method="POST",
        timeout=GATHER_TIMEOUT_SECONDS,
        action_on_empty_result=True,
    )
    gather.say(f"Lead {lead_name}. Press 1 to connect.")
    response.append(gather)
    # Reached only if Twilio does not post the empty result to the action.
    response.say("No key pressed. Goodbye.")
    response.hangup()
    return str(response)


def dial(lead_phone: str, caller_id: str, lead_status_url: str, amd_url: str) -> str:
    """The lead dialled, with answering-machine detection: Twilio posts who answered
    (`AnsweredBy`) to `amd_url` once a machine's greeting ended (DetectMessageEnd), so a
    voicemail is not counted as a conversation."""
    from twilio.twiml.voice_response import Dial, VoiceResponse

    response = VoiceResponse()
    dial_verb = Dial(
        caller_id=caller_id,
        action=lead_status_url,
        method="POST",
        timeout=DIAL_TIMEOUT_SECONDS,
    )
    dial_verb.number(
        lead_phone,
        status_callback=lead_status_url,
        status_callback_event=LEAD_LEG_EVENTS,
        status_callback_method="POST",
        machine_detection="DetectMessageEnd",
        amd_status_callback=amd_url,
        amd_status_callback_method="POST",
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
