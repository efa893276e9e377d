"""Campaigns and their queue, the pure part: states, index keys, limits and what an attempt's
outcome does to a lead's place in the queue (API.md, "Campaigns and the dialer")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final, Literal

READY: Final = "ready"
SCHEDULED: Final = "scheduled"
DONE: Final = "done"
STATES: Final = (READY, SCHEDULED, DONE)
State = Literal["ready", "scheduled", "done"]

ACTIVE: Final = "active"
PAUSED: Final = "paused"
ARCHIVED: Final = "archived"
STATUSES: Final = (ACTIVE, PAUSED, ARCHIVED)
AMD_MODES: Final = ("off", "hangup", "voicemail")

# The partition key of every open callback in the all-open list (callbacks, by due time).
OPEN_CALLBACKS_KEY: Final = "open"

# A reservation lapses after this long (a crashed session's lead comes back to the queue).
RESERVATION_MINUTES: Final = 10
# Candidates one take examines at most (due callbacks and queue items each): a take costs a
# bounded number of requests whatever the campaign's size.
MAX_CANDIDATES: Final = 5
# POST /campaigns/{id}/leads: ids per request, and leads a filter walks per request (the
# answer carries a cursor to go on from).
MAX_LEAD_IDS: Final = 500
MAX_FILTER_LEADS: Final = 10_000
# Leads written per transaction when adding (2 items each, plus the campaign's counter: 99).
ADD_GROUP: Final = 49
# A lead whose attempt cap of the compliance rules (24 h) refuses it waits at least this long.
ATTEMPT_LIMIT_WAIT: Final = timedelta(hours=1)
# A lead rescheduled for its member's callback waits this long past the callback's time in the
# queue: the owner's session takes it first (due callbacks come first), anyone's after.
CALLBACK_GRACE: Final = timedelta(minutes=30)
# A refusal whose window never opens in the look-ahead (opensAt null): try again then.
CLOSED_WAIT: Final = timedelta(hours=24)

# Reasons a lead is done with (`doneReason`).
REASON_MAX_ATTEMPTS: Final = "max_attempts"
REASON_REACHED: Final = "reached"
REASON_DO_NOT_CALL: Final = "do_not_call"
REASON_SUPPRESSED: Final = "suppressed"
REASON_ARCHIVED: Final = "lead_archived"
REASON_RESTRICTED: Final = "restricted_number"

# Compliance reasons that never pass with time: the lead is done in the campaign.
NEVER_CALLABLE: Final = frozenset({"suppressed", "do_not_call", "opted_out", "restricted_number"})

# Dispositions after which a person reached is not called again by the campaign (the others,
# `callback_requested`, `left_voicemail`, `no_answer`, or none, leave them in the queue).
FINAL_DISPOSITIONS: Final = frozenset(
    {"connected", "meeting_booked", "not_interested", "wrong_number", "do_not_call"}
)

Outcome = Literal["human", "machine", "voicemail", "no_answer", "busy", "failed", "canceled"]
OUTCOMES: Final = ("human", "machine", "voicemail", "no_answer", "busy", "failed", "canceled")


def stamp(moment: datetime) -> str:
    """A moment as a fixed-width, sortable ISO string (UTC, milliseconds, Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def entry_id(campaign_id: str, lead_id: str) -> str:
    return f"{campaign_id}:{lead_id}"


def queue_key(due: str, lead_id: str) -> str:
    return f"{due}#{lead_id}"


def due_bound(now: datetime) -> str:
    """The highest queue key due at `now` ("~" sorts after every ULID character)."""
    return f"{stamp(now)}#~"


def state_key(campaign_id: str, state: str) -> str:
    return f"{campaign_id}#{state}"


def index_keys(campaign_id: str, lead_id: str, state: str, due: str) -> dict[str, str | None]:
    """The index fields of a campaign lead in `state`, due at `due` (queue keys only while not
    done: the queue index is sparse)."""
    queued = state != DONE
    return {
        "state": state,
        "state_pk": state_key(campaign_id, state),
        "queue_pk": campaign_id if queued else None,
        "queue_sk": queue_key(due, lead_id) if queued else None,
    }


def callback_due_key(at: str, callback_id: str) -> str:
    return f"{at}#{callback_id}"


def after_attempt(
    *,
    outcome: str,
    disposition: str | None,
    attempts: int,
    max_attempts: int,
    now: datetime,
    retry_after_minutes: int,
    callback_at: datetime | None = None,
) -> tuple[str, str, str | None]:
    """Where a lead goes after an attempt (`attempts` counts it): (state, next attempt at,
    done reason). Done when a person was reached and the disposition is final, the person asked
    not to be called, or the attempts reached the cap; otherwise scheduled `retryAfterMinutes`
    later (for a callback the member set: CALLBACK_GRACE past its time, so that the owner's
    session, where it comes first, takes it before anyone else's)."""
    if disposition == "do_not_call":
        return DONE, stamp(now), REASON_DO_NOT_CALL
    if outcome == "human" and disposition in FINAL_DISPOSITIONS:
        return DONE, stamp(now), REASON_REACHED
    if callback_at is not None:
        return SCHEDULED, stamp(callback_at + CALLBACK_GRACE), None
    if attempts >= max_attempts:
        return DONE, stamp(now), REASON_MAX_ATTEMPTS
    return SCHEDULED, stamp(now + timedelta(minutes=retry_after_minutes)), None


def counts_delta(before: str | None, after: str | None) -> dict[str, int]:
    """The campaign's state counters when a lead moves from `before` to `after` (None: not in
    the campaign)."""
    out: dict[str, int] = {}
    if before == after:
        return out
    if before is not None:
        out[f"count_{before}"] = -1
    if after is not None:
        out[f"count_{after}"] = out.get(f"count_{after}", 0) + 1
    return out
