"""Time and identifiers. The one clock is an object handed to whoever needs the time
(`Deps.clock`): `SystemClock` in the app, `ManualClock` in tests, which set the time in one
place. Ids are ULIDs, so a range key on `id` sorts by creation time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None:
        """Wait (a manual clock moves on instead)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class OffsetClock:
    """The system clock moved by a fixed offset: the compliance rules' clock under `make dev`
    with `DEV_NOW` (try them at 20:30 in Florida whatever the hour here). Never used in AWS."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, moment: datetime) -> None:
        self.at = moment

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds=seconds)


def new_id(at: datetime | None = None) -> str:
    """A new ULID; `at` gives its time part (a record of something that happened then, e.g.
    an inbound text ingested late), so ids still sort in the order things happened."""
    from ulid import ULID  # on first use: ~4 ms of cold start otherwise

    return str(ULID.from_datetime(at) if at is not None else ULID())


def business_day(moment: datetime, tz_name: str) -> str:
    """The YYYY-MM-DD date of `moment` in the business time zone (stats buckets)."""
    return moment.astimezone(ZoneInfo(tz_name)).date().isoformat()


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and a Z, as the API shows timestamps."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
