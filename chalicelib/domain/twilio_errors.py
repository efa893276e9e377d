"""Twilio's error codes and its own short descriptions (https://www.twilio.com/docs/api/errors).

A status callback carries `ErrorCode` only, never `ErrorMessage`: the message's `errorMessage`
is filled from this table. A code not in it is named as it is ("Twilio error 12345"), with
nothing invented about what it means.
"""

from __future__ import annotations

TWILIO_ERRORS: dict[int, str] = {
    # Sending (the REST API refuses the message, or Twilio fails it before the carrier).
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number",
    21610: "Attempt to send to unsubscribed recipient",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    21614: "'To' number is not a valid mobile number",
    # Delivery (reported by status callbacks with `undelivered` or `failed`).
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30009: "Missing inbound segment",
    30010: "Message price exceeds max price",
}


def error_message(code: str | int) -> str:
    """Twilio's short description of `code`; "Twilio error <code>" for one not in the table."""
    text = str(code).strip()
    try:
        known = TWILIO_ERRORS.get(int(text))
    except ValueError:
        known = None
    return known or f"Twilio error {text}"
