"""The app-side session rules (DESIGN.md, "Identity"), as pure functions: the same code in AWS
and under `make dev`, and what covers the local emulator's gaps (no global sign-out, disabling
that does not stop a sign-in, refresh after a challenge). `services/auth.py` applies them.

- A member's access token is refused once the member is deactivated, or their sessions were
  ended (sign-out, deactivation, password reset) at or after the second it was issued.
- A refresh is refused when its session record is unknown or expired, the member is
  deactivated, or their sessions ended after the session began.
- Failed sign-ins are counted in fixed 15-minute windows, per account and per address; a sign-in
  is refused while this window's and the previous one's failures reach the limit (any 15
  minutes span at most two windows, so none sees more than the limit).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.records import Session, TeamMember

LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 10
MAX_FAILURES_PER_ADDRESS = 30
SESSION_ENDED = "this session was ended (signed out or reset); sign in again"
DEACTIVATED = "this team member is deactivated"
SESSION_UNKNOWN = "this session is unknown or has expired; sign in again"


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def login_key(email: str) -> str:
    """The sign-in guard of an e-mail (unique among members)."""
    return f"email#{normalize_email(email)}"


def sub_key(sub: str) -> str:
    """The sign-in guard of a Cognito user (`sub`, what an access token names)."""
    return f"sub#{sub}"


def token_refusal(member: TeamMember | None, issued_at: int) -> str | None:
    """Why a verified access token issued at `issued_at` (epoch seconds) no longer opens a
    request for `member`, or None."""
    if member is None:
        return "this sign-in belongs to no team member"
    if not member.active:
        return DEACTIVATED
    ended = member.sessions_ended_at
    # `iat` has whole seconds: a token issued in the second the sessions ended is refused too
    # (a sign-out right after a sign-in must not leave that token working).
    if ended is not None and issued_at <= int(ended.timestamp()):
        return SESSION_ENDED
    return None


def refresh_refusal(
    session: Session | None, member: TeamMember | None, now: datetime
) -> str | None:
    """Why a refresh token's session may not get a new access token, or None."""
    if session is None or session.expires_at <= now:
        return SESSION_UNKNOWN
    if member is None or not member.active:
        return DEACTIVATED
    ended = member.sessions_ended_at
    if ended is not None and session.created_at <= ended:
        return SESSION_ENDED
    return None


def failure_window(now: datetime) -> tuple[int, int]:
    """The current 15-minute window and the seconds left in it."""
    stamp = int(now.timestamp())
    return stamp // LOGIN_WINDOW_SECONDS, LOGIN_WINDOW_SECONDS - stamp % LOGIN_WINDOW_SECONDS


def failure_counters(email: str, address: str | None, window: int) -> list[tuple[str, int]]:
    """The counters a failed sign-in adds to in `window`, each with its limit."""
    keys = [(f"login#account#{normalize_email(email)}#{window}", MAX_FAILURES_PER_ACCOUNT)]
    if address:
        keys.append((f"login#address#{address}#{window}", MAX_FAILURES_PER_ADDRESS))
    return keys
