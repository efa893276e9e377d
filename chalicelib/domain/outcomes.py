"""What became of a call, in one word (the call log's `outcome` and its filter), from its
statuses and Twilio's answering-machine verdict. Pure: no storage, no I/O.

- `connected`: the lead leg completed and no machine answered it (a conversation);
- `voicemail`: the lead leg completed and a machine answered it (voicemail, fax);
- `busy`, `failed`: the lead leg ended so;
- `no_answer`: the lead leg rang out (`no-answer`) or was hung up before it was answered
  (`canceled`);
- `not_connected`: the lead was never dialled (the member did not answer or press 1, or the
  member leg ended before the lead leg began);
- `in_progress`: not settled yet (the lead leg is not final and the call is still live)."""

from __future__ import annotations

from typing import Final, Literal, Protocol, get_args

from chalicelib.domain.statuses import CALL_FINAL, LEAD_LEG_FINAL, NOT_CONNECTED, is_machine

Outcome = Literal[
    "connected", "voicemail", "no_answer", "busy", "failed", "not_connected", "in_progress"
]
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)

_BY_LEG: Final[dict[str, Outcome]] = {
    "busy": "busy",
    "no-answer": "no_answer",
    "canceled": "no_answer",
    "failed": "failed",
    NOT_CONNECTED: "not_connected",
}


class CallStatuses(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def lead_leg_status(self) -> str | None: ...
    @property
    def answered_by(self) -> str | None: ...


def outcome(call: CallStatuses) -> Outcome:
    leg = call.lead_leg_status
    if leg in LEAD_LEG_FINAL:
        if leg == "completed":
            return "voicemail" if is_machine(call.answered_by) else "connected"
        return _BY_LEG[str(leg)]
    if leg is None and call.status in CALL_FINAL:
        return "not_connected"  # the member leg ended before the lead was dialled
    return "in_progress"
