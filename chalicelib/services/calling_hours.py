"""Calling hours: a lead may be called only while it is within the allowed window (default
08:00-21:00) in the lead's local time. A number that spans several time zones may be called
only in the window all of them share; when they share none, it cannot be called."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    zones: list[str]
    local_times: dict[str, str]
    opens_at: datetime | None  # next instant when calling is allowed (UTC), if not now

    def explain(self, window: tuple[time, time]) -> str:
        start, end = (w.strftime("%H:%M") for w in window)
        if len(self.zones) == 1:
            zone = self.zones[0]
            head = f"It is {self.local_times[zone]} for this lead ({zone})"
        else:
            head = f"This number spans {len(self.zones)} time zones"
        rule = f"calls are allowed {start}-{end} lead's local time"
        if self.opens_at is None:
            return f"{head}; {rule}, and its time zones share no such window."
        return f"{head}; {rule}. Calling opens at {self.opens_at:%Y-%m-%d %H:%M} UTC."


def _inside(moment: datetime, zone: ZoneInfo, window: tuple[time, time]) -> bool:
    local = moment.astimezone(zone).time()
    return window[0] <= local < window[1]


def check(zones: list[str], now: datetime, window: tuple[time, time]) -> Verdict:
    tzs = [ZoneInfo(z) for z in zones]
    local_times = {
        z: now.astimezone(tz).strftime("%H:%M") for z, tz in zip(zones, tzs, strict=True)
    }
    if not tzs or all(_inside(now, tz, window) for tz in tzs):
        return Verdict(True, zones, local_times, None)
    # The shared window can only open when some zone's window opens: try those instants.
    candidates = []
    for tz in tzs:
        today = now.astimezone(tz).date()
        for days in range(3):
            opening = datetime.combine(today + timedelta(days=days), window[0], tzinfo=tz)
            if opening > now:
                candidates.append(opening)
    for candidate in sorted(candidates):
        if all(_inside(candidate, tz, window) for tz in tzs):
            return Verdict(False, zones, local_times, candidate.astimezone(ZoneInfo("UTC")))
    return Verdict(False, zones, local_times, None)
