"""The power dialer's rules (API.md, "Campaigns and the dialer"): a session's statuses and
which member action each allows, what a dial's outcome means (automatic disposition, counters,
what the session does next), and the abandonment rule. Pure: services/dialer.py (with
dialer_core.py and dialer_hooks.py) applies them.

A session: `connecting` (the member's phone rings) -> `ready` (they pressed 1 and wait in the
session's conference) -> `dialing` (a lead call rings) -> `connected` (a person was bridged)
-> `wrap_up` (the person hung up; the member saves a disposition) -> `dialing` ... -> `ended`.
`paused` from `ready` or `wrap_up`; `ready` also when no lead may be called now (the session
waits and tries again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

CONNECTING: Final = "connecting"
READY: Final = "ready"
DIALING: Final = "dialing"
CONNECTED: Final = "connected"
WRAP_UP: Final = "wrap_up"
PAUSED: Final = "paused"
ENDED: Final = "ended"
STATUSES: Final = (CONNECTING, READY, DIALING, CONNECTED, WRAP_UP, PAUSED, ENDED)
LIVE: Final = frozenset(STATUSES) - {ENDED}

Action = Literal["next", "pause", "resume", "end", "drop-voicemail"]

# The statuses each member action is allowed from (409 otherwise).
ALLOWED: Final[dict[str, frozenset[str]]] = {
    "next": frozenset({WRAP_UP, READY}),
    "pause": frozenset({READY, WRAP_UP}),
    "resume": frozenset({PAUSED}),
    "end": LIVE,
    "drop-voicemail": frozenset({CONNECTED}),
}

# A person who answers and is not bridged to the member within this many seconds of the
# machine-detection verdict is an abandoned call (FTC TSR 16 CFR 310.4(b)(4)(i); 47 CFR
# 64.1200(a)(7)): at most 3 % of answered calls per campaign over 30 days.
ABANDON_AFTER_SECONDS: Final = 2
ABANDON_RATE_LIMIT: Final = 0.03

# Answering-machine verdicts (Twilio's `AnsweredBy`): `unknown` counts as a person.
MACHINE_VERDICTS: Final = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
)

# How long a reserved lead stays the session's without news (a crashed session's lapses).
RESERVATION_SECONDS: Final = 600
# A session `ready` this long with nothing ringing is nudged to dial (a lost conference
# callback, or no lead was callable a moment ago). The default of DIALER_IDLE_RETRY_SECONDS.
IDLE_RETRY_SECONDS: Final = 15
# A session `connecting`, `dialing` or `connected` with no news of its call this long asks
# Twilio how the call is (a lost status callback), at most once per this period. Longer than a
# lead's ring and machine detection together. The default of DIALER_STALE_SECONDS.
STALE_SECONDS: Final = 90
# A lead call with no Twilio SID this long after it was created was never placed (the request
# placing it died): longer than any placing request can take (the API's timeout is 30 s).
UNPLACED_AFTER_SECONDS: Final = 120


def is_person(answered_by: str | None) -> bool:
    """A person answered (or AMD was off, or could not tell: `unknown` is a person)."""
    return answered_by is None or answered_by.strip().lower() not in MACHINE_VERDICTS


@dataclass(frozen=True)
class Outcome:
    """What a finished dial was, for the call record, the campaign lead and the stats."""

    kind: Literal["human", "machine", "voicemail", "no_answer", "busy", "failed", "abandoned"]
    disposition: str | None  # set on the call automatically (None: the member decides)
    reached: bool  # a person was reached (the lead is `done` once dispositioned)


def outcome_of(
    status: str, answered_by: str | None, *, voicemail_left: bool, bridged: bool
) -> Outcome:
    """The outcome of a lead call that ended with Twilio `status`."""
    if not is_person(answered_by):
        if voicemail_left:
            return Outcome("voicemail", "left_voicemail", False)
        return Outcome("machine", "no_answer", False)
    if status == "completed":
        if bridged:
            return Outcome("human", None, True)
        return Outcome("abandoned", None, True)
    if status == "busy":
        return Outcome("busy", "no_answer", False)
    if status in ("no-answer", "canceled"):
        return Outcome("no_answer", "no_answer", False)
    return Outcome("failed", None, False)


def conference_name(session_id: str) -> str:
    """The Twilio conference a session's member waits in (named for the session)."""
    return f"session-{session_id}"
