"""Time and identifiers. `now()` is the one clock (tests may patch it); ids are ULIDs, so a
range key on `id` sorts by creation time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    from ulid import ULID  # on first use: ~4 ms of cold start otherwise

    return str(ULID())


def business_day(moment: datetime, tz_name: str) -> str:
    """The YYYY-MM-DD date of `moment` in the business time zone (stats buckets)."""
    return moment.astimezone(ZoneInfo(tz_name)).date().isoformat()


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and a Z, as the API shows timestamps."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
