"""Lead statuses (in funnel order), roles, call dispositions, the SMS length limit, and the
fields a PATCH may clear. Each tuple is derived from its Literal type, so the two cannot drift.

Pure on purpose: any layer imports it at no cold-start cost (tests/unit/test_cold_start.py)."""

from __future__ import annotations

from typing import Final, Literal, get_args

# Funnel order: the dashboard's `byStatus` and the `?status=` error list them in this order.
LeadStatus = Literal["new", "contacted", "qualified", "not_interested", "converted"]
LEAD_STATUSES: Final[tuple[LeadStatus, ...]] = get_args(LeadStatus)

Role = Literal["admin", "manager", "caller"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)

# What a team member records when wrapping up a call.
Disposition = Literal[
    "connected",
    "left_voicemail",
    "no_answer",
    "wrong_number",
    "callback_requested",
    "not_interested",
    "meeting_booked",
    # The person asked not to be called or texted again: suppresses the number (voice and SMS).
    "do_not_call",
]
DO_NOT_CALL: Final = "do_not_call"
DISPOSITIONS: Final[tuple[Disposition, ...]] = get_args(Disposition)

# Twilio's limit for one (concatenated) SMS, counted in characters, not bytes.
SMS_MAX_CHARS: Final = 1600

# Fields that may be cleared with an explicit null in a PATCH.
NULLABLE_LEAD_FIELDS: Final = frozenset({"email", "company", "notes", "assigned_to_id", "state"})
NULLABLE_MEMBER_FIELDS: Final = frozenset({"email"})
