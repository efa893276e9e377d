"""Call and message statuses and their order: a status only moves forward, a final one never
changes (DESIGN.md, "Data model")."""

from __future__ import annotations

CALL_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
CALL_PROGRESS = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
# The lead leg has one more final state: the member never pressed 1, so it was never dialled.
NOT_CONNECTED = "not-connected"
LEAD_LEG_FINAL = CALL_FINAL | {NOT_CONNECTED}
# Stable orders for reports.
CALL_FINAL_ORDER = ("completed", "busy", "no-answer", "failed", "canceled")
LEAD_LEG_FINAL_ORDER = (*CALL_FINAL_ORDER, NOT_CONNECTED)

# Twilio's answering-machine detection (`AnsweredBy`): these mean no person took the call
# (`human` and `unknown` do not).
MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)

SMS_FINAL = frozenset({"delivered", "undelivered", "failed"})
SMS_FINAL_ORDER = ("delivered", "undelivered", "failed")
SMS_PROGRESS = {"queued": 0, "sending": 1, "sent": 2}
# Error codes of our own, for records the reconcilers settle without a status from Twilio.
NOT_PLACED = "not_placed"  # created, never handed to Twilio (the request died in between)
UNKNOWN_TO_TWILIO = "twilio_404"  # Twilio answers 404 for its SID: settled once, never asked again

OUTBOUND = "outbound"
INBOUND = "inbound"
RECEIVED = "received"


def call_rank(status: str | None) -> int:
    if status is None:
        return -1
    if status in LEAD_LEG_FINAL:
        return 4
    return CALL_PROGRESS.get(status, -1)


def is_call_status(status: str) -> bool:
    return status in CALL_FINAL or status in CALL_PROGRESS


def is_machine(answered_by: str | None) -> bool:
    return answered_by in MACHINE_ANSWERS


def sms_rank(status: str | None) -> int:
    if status is None:
        return -1
    if status in SMS_FINAL:
        return 3
    return SMS_PROGRESS.get(status, -1)
