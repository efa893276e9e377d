"""Limits on calling (API.md, "Identity and roles"): one live call per member and per lead,
and calls and texts per member per minute.

A live call holds two guard items, `member#<id>` and `lead#<id>`, written in the call's own
transaction on the condition that nobody holds them (or the holder's lease ran out): two
simultaneous `POST /calls` for one member or one lead cannot both win, whatever runs where.
The guards are released when the call's member leg ends (its final status callback, the
reconciler, or a failed placement) and by a manager (`POST /calls/{id}/release`). A guard whose
call already ended (its release was lost) is taken over at the next attempt.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from chalicelib.clock import iso
from chalicelib.domain.records import Call, LiveCall
from chalicelib.domain.statuses import CALL_FINAL
from chalicelib.errors import Conflict, RateLimited
from chalicelib.services.deps import Deps
from chalicelib.store.base import Before, ConditionFailed, Delete, Eq, Op, Put

# Twilio ends a call after 4 hours unless told otherwise (`timeLimit`): no call outlives this.
LEASE = timedelta(hours=4)
GUARDS = {"member-live": "member", "lead-live": "lead"}


def _key(kind: str, ident: str) -> str:
    return f"{kind}#{ident}"


def _keys(call: Call) -> dict[str, str]:
    return {
        "member-live": _key("member", call.team_member_id),
        "lead-live": _key("lead", call.lead_id),
    }


def check_rate(deps: Deps, who: str) -> None:
    """One more call or text for `who` this minute; 429 past RATE_LIMIT_PER_MINUTE."""
    now = deps.clock.now()
    stamp = int(now.timestamp())
    minute = stamp // 60
    count = deps.store.throttles.hit(f"rate#{who}#{minute}", now + timedelta(minutes=5))
    limit = deps.settings.rate_limit_per_minute
    if count > limit:
        raise RateLimited(
            f"at most {limit} calls and texts a minute per member; wait a moment",
            60 - stamp % 60,
            {"limitPerMinute": limit},
        )


def hold_ops(call: Call, now: datetime) -> list[Op]:
    """The guards of a new call, for its creation transaction."""
    until = iso(now + LEASE) or ""
    free = {"expires_at": Before(iso(now) or "")}  # absent, or its lease ran out
    return [
        Put(name, LiveCall(key, call.id, until), when=free) for name, key in _keys(call).items()
    ]


def clear_stale(deps: Deps, call: Call, failed: frozenset[str]) -> None:
    """After the guards of `call` were refused: free those held by a call that already ended
    (a release that was lost) and return; raise 409 naming the live call otherwise."""
    keys = _keys(call)
    for name in sorted(failed & set(keys)):
        holder = deps.store.live_calls.get(keys[name])
        if holder is None:
            continue  # released meanwhile
        held = deps.store.calls.get(holder.call_id, consistent=True)
        if held is None or held.status in CALL_FINAL:
            with contextlib.suppress(ConditionFailed):
                deps.store.write(
                    Delete("stale", LiveCall, keys[name], {"call_id": Eq(holder.call_id)})
                )
            continue
        who = "this team member" if GUARDS[name] == "member" else "this lead"
        raise Conflict(
            f"{who} is already on a live call; wait for it to end (a manager can release a "
            "stuck call)",
            {"reason": f"{GUARDS[name]}_busy", "callId": held.id},
        )


def release(deps: Deps, call: Call) -> None:
    """Free the call's guards (each only if it still names this call)."""
    for key in _keys(call).values():
        with contextlib.suppress(ConditionFailed):
            deps.store.write(Delete("release", LiveCall, key, {"call_id": Eq(call.id)}))
