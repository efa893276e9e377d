"""Compliance rules as data (API.md, "Compliance"): when a number may be called or texted, how
often, and which numbers never. Pure: the rules document, its parser, and `evaluate`, which
says whether a call or a text may go out now and, when not, why and when it may.

The document (`GET/PUT /compliance/rules`):

    {"callingHours": {"default": "08:00-21:00", "byState": {"FL": "08:00-20:00", ...}},
     "textingHours": {"default": "08:00-21:00", "byState": {...}},
     "maxAttemptsPer24h": {"default": null, "byState": {"FL": 3, ...}},
     "weekdays": {"byState": {"TX": {"sun": "12:00-21:00"}}},
     "holidays": {"default": [], "byState": {}},
     "blockedPrefixes": ["+1900", ...],
     "allowedCountries": ["US", "CA"]}

How the pieces combine (a window is local time at the number, `HH:MM-HH:MM`, the end
excluded, `24:00` for midnight):

- A state's hours apply on top of `default`: both must allow (the default is the federal floor,
  so a state can only narrow it). Texts use `textingHours`; everything else is shared.
- `weekdays.byState.<state>.<mon..sun>` narrows that state's hours on that day of the week;
  `null` closes the whole day.
- `holidays`: dates closed all day, `YYYY-MM-DD` (that day) or `MM-DD` (that day every year),
  in the number's local date; `default` applies everywhere, `byState` to that state.
- `maxAttemptsPer24h`: `default` (null: no cap) and a cap per state; the smallest applicable
  cap wins.
- The state is the number's (its area code) and the lead's `state` when set: both must allow
  (the stricter wins). Numbers outside the US use `default`, in their own time zone.
- Fail closed: a US number with no state (toll-free, non-geographic or unknown area code) or a
  number with no known time zone must be inside every state's window in every zone of the
  allowed countries (US: the states, DC, Puerto Rico and the Virgin Islands; Canada), and is
  held to the smallest cap.

Refusals come in API.md's order: `restricted_number` (a blocked prefix, or a country not in
`allowedCountries`), `attempt_limit`, `calling_hours`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from chalicelib.domain import area_codes

Channel = Literal["voice", "sms"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RESTRICTED_NUMBER = "restricted_number"
ATTEMPT_LIMIT = "attempt_limit"
CALLING_HOURS = "calling_hours"
LOOKAHEAD_DAYS = 8  # `opensAt` is null when no moment within this many days is allowed
MAX_LIST = 1000  # entries in any list of the document (prefixes, countries, holidays)


# ---------------------------------------------------------------- the document


@dataclass(frozen=True)
class Window:
    """Minutes after local midnight: `start` included, `end` excluded (1440: midnight)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    def __and__(self, other: Window) -> Window | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Window(start, end) if start < end else None

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Hours:
    default: Window
    by_state: Mapping[str, Window] = field(default_factory=dict)


@dataclass(frozen=True)
class Attempts:
    default: int | None
    by_state: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    calling_hours: Hours
    texting_hours: Hours
    max_attempts: Attempts
    # state -> weekday (mon..sun) -> the day's window (None: closed all day)
    weekdays: Mapping[str, Mapping[str, Window | None]] = field(default_factory=dict)
    holidays: tuple[str, ...] = ()
    holidays_by_state: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    blocked_prefixes: tuple[str, ...] = ()
    allowed_countries: tuple[str, ...] = ("US", "CA")

    def hours(self, channel: Channel) -> Hours:
        return self.texting_hours if channel == "sms" else self.calling_hours

    def states(self) -> set[str]:
        """Every state a rule names (the others follow `default`)."""
        return (
            set(self.calling_hours.by_state)
            | set(self.texting_hours.by_state)
            | set(self.max_attempts.by_state)
            | set(self.weekdays)
            | set(self.holidays_by_state)
        )


_STRICT_STATES = ("FL", "OK", "MD")
DEFAULT_RULES = Rules(
    calling_hours=Hours(
        Window(8 * 60, 21 * 60), {s: Window(8 * 60, 20 * 60) for s in _STRICT_STATES}
    ),
    texting_hours=Hours(
        Window(8 * 60, 21 * 60), {s: Window(8 * 60, 20 * 60) for s in _STRICT_STATES}
    ),
    max_attempts=Attempts(None, dict.fromkeys(_STRICT_STATES, 3)),
    weekdays={"TX": {"sun": Window(12 * 60, 21 * 60)}},
    holidays=(),
    holidays_by_state={},
    blocked_prefixes=("+1900", "+1976", "+979", "+881", "+882", "+883", "+870"),
    allowed_countries=("US", "CA"),
)
"""The shipped defaults: a starting point, not legal advice (README, "Compliance rules")."""


# ---------------------------------------------------------------- parsing


class RulesError(ValueError):
    """A document that is not a valid rules document; `path` names the field
    (`callingHours.byState.FL`)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path or "(document)"
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
_PREFIX = re.compile(r"^\+\d{1,15}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEARLY_DATE = re.compile(r"^\d{2}-\d{2}$")
_KNOWN_COUNTRIES: frozenset[str] = frozenset(
    {r for regions in area_codes.COUNTRY_CODES.values() for r in regions}
    | {country for country, _, _ in area_codes.AREA_CODES.values()}
)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(
    value: Any, path: str, allowed: Sequence[str], required: Sequence[str] = ()
) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RulesError(path, "expected an object")
    for key in value:
        if key not in allowed:
            raise RulesError(
                _join(path, str(key)), f"unknown field (expected one of {', '.join(allowed)})"
            )
    for key in required:
        if key not in value:
            raise RulesError(_join(path, key), "required")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise RulesError(path, "expected a list")
    if len(value) > MAX_LIST:
        raise RulesError(path, f"at most {MAX_LIST} entries")
    return value


def parse_window(value: Any, path: str) -> Window:
    match = _WINDOW.match(value) if isinstance(value, str) else None
    if match is None:
        raise RulesError(path, "expected HH:MM-HH:MM")
    h1, m1, h2, m2, h24, _ = match.groups()
    start = int(h1) * 60 + int(m1)
    end = 24 * 60 if h24 else int(h2) * 60 + int(m2)
    if start >= end:
        raise RulesError(path, "the window must start before it ends")
    return Window(start, end)


def _state(key: Any, path: str) -> str:
    if not isinstance(key, str) or key.upper() not in area_codes.STATES:
        raise RulesError(_join(path, str(key)), "not a US state code (two letters, e.g. FL)")
    return key.upper()


def _by_state(value: Any, path: str) -> dict[str, Any]:
    """A `byState` object: state code -> raw value; codes upper-cased, each once."""
    if not isinstance(value, Mapping):
        raise RulesError(path, "expected an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        state = _state(key, path)
        if state in out:
            raise RulesError(_join(path, str(key)), f"{state} appears twice")
        out[state] = item
    return out


def _hours(value: Any, path: str) -> Hours:
    obj = _object(value, path, ("default", "byState"), ("default",))
    default = parse_window(obj["default"], _join(path, "default"))
    by_path = _join(path, "byState")
    raw = _by_state(obj.get("byState", {}), by_path)
    return Hours(default, {s: parse_window(v, _join(by_path, s)) for s, v in raw.items()})


def _cap(value: Any, path: str, nullable: bool) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        kind = "a whole number from 0 to 1000" + (" or null" if nullable else "")
        raise RulesError(path, f"expected {kind}")
    return value


def _attempts(value: Any, path: str) -> Attempts:
    obj = _object(value, path, ("default", "byState"), ("default",))
    default = _cap(obj["default"], _join(path, "default"), nullable=True)
    by_path = _join(path, "byState")
    raw = _by_state(obj.get("byState", {}), by_path)
    caps = {s: _cap(v, _join(by_path, s), nullable=False) for s, v in raw.items()}
    return Attempts(default, {s: c for s, c in caps.items() if c is not None})


def _weekdays(value: Any, path: str) -> dict[str, dict[str, Window | None]]:
    obj = _object(value, path, ("byState",))
    by_path = _join(path, "byState")
    out: dict[str, dict[str, Window | None]] = {}
    for state, days in _by_state(obj.get("byState", {}), by_path).items():
        state_path = _join(by_path, state)
        parsed: dict[str, Window | None] = {}
        for day, window in _object(days, state_path, WEEKDAYS).items():
            day_path = _join(state_path, day)
            parsed[day] = None if window is None else parse_window(window, day_path)
        out[state] = parsed
    return out


def _holiday(value: Any, path: str) -> str:
    if isinstance(value, str) and _FULL_DATE.match(value):
        text = value
    elif isinstance(value, str) and _YEARLY_DATE.match(value):
        text = "2000-" + value  # a leap year: 02-29 is a date some years
    else:
        raise RulesError(path, "expected a date, YYYY-MM-DD or MM-DD (every year)")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise RulesError(path, "not a calendar date") from None
    return value


def _holiday_list(value: Any, path: str) -> tuple[str, ...]:
    items = [_holiday(v, f"{path}[{i}]") for i, v in enumerate(_list(value, path))]
    return tuple(dict.fromkeys(items))


def _holidays(value: Any, path: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    obj = _object(value, path, ("default", "byState"))
    default = _holiday_list(obj.get("default", []), _join(path, "default"))
    by_path = _join(path, "byState")
    raw = _by_state(obj.get("byState", {}), by_path)
    return default, {s: _holiday_list(v, _join(by_path, s)) for s, v in raw.items()}


def _prefixes(value: Any, path: str) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(_list(value, path)):
        if not isinstance(item, str) or not _PREFIX.match(item):
            raise RulesError(f"{path}[{i}]", "expected + and 1 to 15 digits (e.g. +1900)")
        out.append(item)
    return tuple(dict.fromkeys(out))


def _countries(value: Any, path: str) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(_list(value, path)):
        code = item.upper() if isinstance(item, str) else None
        if code is None or not _COUNTRY.match(code) or code not in _KNOWN_COUNTRIES:
            raise RulesError(f"{path}[{i}]", "expected an ISO 3166 country code (e.g. US)")
        out.append(code)
    return tuple(dict.fromkeys(out))


_FIELDS = (
    "callingHours",
    "textingHours",
    "maxAttemptsPer24h",
    "weekdays",
    "holidays",
    "blockedPrefixes",
    "allowedCountries",
)


def parse_rules(doc: Mapping[str, Any]) -> Rules:
    """The rules of a whole document (a PUT replaces everything: every field is required).
    Raises `RulesError` (a ValueError) naming the first field that is wrong."""
    obj = _object(doc, "", _FIELDS, _FIELDS)
    holidays, holidays_by_state = _holidays(obj["holidays"], "holidays")
    return Rules(
        calling_hours=_hours(obj["callingHours"], "callingHours"),
        texting_hours=_hours(obj["textingHours"], "textingHours"),
        max_attempts=_attempts(obj["maxAttemptsPer24h"], "maxAttemptsPer24h"),
        weekdays=_weekdays(obj["weekdays"], "weekdays"),
        holidays=holidays,
        holidays_by_state=holidays_by_state,
        blocked_prefixes=_prefixes(obj["blockedPrefixes"], "blockedPrefixes"),
        allowed_countries=_countries(obj["allowedCountries"], "allowedCountries"),
    )


def rules_to_doc(rules: Rules) -> dict[str, Any]:
    """The document of `rules` (what GET answers; always a valid PUT body)."""

    def hours(h: Hours) -> dict[str, Any]:
        return {
            "default": str(h.default),
            "byState": {s: str(w) for s, w in sorted(h.by_state.items())},
        }

    return {
        "callingHours": hours(rules.calling_hours),
        "textingHours": hours(rules.texting_hours),
        "maxAttemptsPer24h": {
            "default": rules.max_attempts.default,
            "byState": dict(sorted(rules.max_attempts.by_state.items())),
        },
        "weekdays": {
            "byState": {
                state: {
                    day: None if days[day] is None else str(days[day])
                    for day in WEEKDAYS
                    if day in days
                }
                for state, days in sorted(rules.weekdays.items())
            }
        },
        "holidays": {
            "default": list(rules.holidays),
            "byState": {s: list(d) for s, d in sorted(rules.holidays_by_state.items())},
        },
        "blockedPrefixes": list(rules.blocked_prefixes),
        "allowedCountries": list(rules.allowed_countries),
    }


def changes(before: Rules, after: Rules) -> dict[str, Any]:
    """A compact diff for the audit log: each changed field (dotted path) -> [before, after]."""
    out: dict[str, Any] = {}

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), _join(path, key))
        elif a != b:
            out[path] = [a, b]

    walk(rules_to_doc(before), rules_to_doc(after), "")
    return out


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Refusal:
    """Why a call or text may not go out now: `reason` (API.md's codes), a message in plain
    words, and `details` for the API's 422 (`opensAt`, `localTime`, `window`, ...)."""

    reason: str
    message: str
    details: dict[str, Any]


def _is_holiday(day: date, dates: Sequence[str]) -> bool:
    full, yearly = day.isoformat(), day.strftime("%m-%d")
    return any(d in (full, yearly) for d in dates)


def window_on(rules: Rules, state: str | None, channel: Channel, day: date) -> Window | None:
    """The window of a state (None: the default's) on a local date; None when closed."""
    if _is_holiday(day, rules.holidays):
        return None
    if state is not None and _is_holiday(day, rules.holidays_by_state.get(state, ())):
        return None
    hours = rules.hours(channel)
    window: Window | None = hours.default
    if state is not None and state in hours.by_state:
        window = hours.by_state[state] & hours.default
    days = rules.weekdays.get(state, {}) if state is not None else {}
    weekday = WEEKDAYS[day.weekday()]
    if window is not None and weekday in days:
        override = days[weekday]
        window = None if override is None else window & override
    return window


class _Clock:
    """Windows of (profile, zone) pairs at given instants, memoised per local date."""

    def __init__(
        self,
        rules: Rules,
        channel: Channel,
        profiles: Sequence[str | None],
        zones: Sequence[ZoneInfo],
    ) -> None:
        self.rules, self.channel, self.profiles, self.zones = rules, channel, profiles, zones
        self._windows: dict[tuple[str | None, date], Window | None] = {}

    def window(self, profile: str | None, day: date) -> Window | None:
        key = (profile, day)
        if key not in self._windows:
            self._windows[key] = window_on(self.rules, profile, self.channel, day)
        return self._windows[key]

    def allowed(self, moment: datetime) -> bool:
        for zone in self.zones:
            local = moment.astimezone(zone)
            minute = local.hour * 60 + local.minute
            for profile in self.profiles:
                window = self.window(profile, local.date())
                if window is None or not window.contains(minute):
                    return False
        return True

    def opens_at(self, now: datetime) -> datetime | None:
        """The first instant after `now` (within LOOKAHEAD_DAYS) that every pair allows: the
        allowed set is an intersection of intervals, so it opens where one of them starts."""
        horizon = now + timedelta(days=LOOKAHEAD_DAYS)
        candidates: dict[float, datetime] = {}
        for zone in self.zones:
            today = now.astimezone(zone).date()
            for offset in range(-1, LOOKAHEAD_DAYS + 2):
                day = today + timedelta(days=offset)
                for profile in self.profiles:
                    window = self.window(profile, day)
                    if window is None:
                        continue
                    local = datetime.combine(day, time(window.start // 60, window.start % 60))
                    moment = local.replace(tzinfo=zone).astimezone(UTC)
                    if now < moment <= horizon:
                        candidates[moment.timestamp()] = moment
        return next(
            (candidates[k] for k in sorted(candidates) if self.allowed(candidates[k])), None
        )


_ZONES: dict[str, ZoneInfo | None] = {}  # zoneinfo's own cache keeps only a few strongly


def _zone_infos(names: Sequence[str]) -> list[ZoneInfo]:
    out: list[ZoneInfo] = []
    for name in dict.fromkeys(names):
        if name not in _ZONES:
            try:
                _ZONES[name] = ZoneInfo(name)
            except (KeyError, ValueError, OSError):  # not a zone name (ZoneInfoNotFoundError)
                _ZONES[name] = None
        zone = _ZONES[name]
        if zone is not None:
            out.append(zone)
    return out


def _distinct_offsets(zones: list[ZoneInfo], now: datetime) -> list[ZoneInfo]:
    """One zone per distinct behaviour over the look-ahead (zones whose offset agrees at every
    probe act alike): the fail-closed set has ~20 zones but a handful of behaviours."""
    probes = [now + timedelta(hours=12 * i) for i in range(2 * LOOKAHEAD_DAYS + 3)]
    seen: dict[tuple[Any, ...], ZoneInfo] = {}
    for zone in zones:
        seen.setdefault(tuple(p.astimezone(zone).utcoffset() for p in probes), zone)
    return list(seen.values())


def _stricter_cap(caps: Sequence[int | None]) -> int | None:
    known = [c for c in caps if c is not None]
    return min(known) if known else None


def evaluate(
    rules: Rules,
    *,
    number: str,
    lead_state: str | None,
    zones: Sequence[str],
    now: datetime,
    channel: Channel,
    attempts_24h: int,
    country: str | None = None,
) -> Refusal | None:
    """None when a call (`voice`) or text (`sms`) to `number` (E.164) may go out at `now`, or
    the first refusal in API.md's order.

    `zones`: the number's IANA time zones as the caller knows them (`phone.timezones`); when
    empty, the area code's, else the state's. `attempts_24h`: calls or texts to the number in
    the last 24 hours. `country`: the number's ISO country when the caller knows it better
    than the calling-code table (countries sharing a code); NANP numbers go by area code."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    lead_state = lead_state.upper() if lead_state else None
    if lead_state not in area_codes.STATES:
        lead_state = None
    # 1. restricted numbers
    refusal = restricted(rules, number, country)
    if refusal is not None:
        return refusal
    nanp = number.startswith("+1")
    where = area_codes.country_of(number) if nanp or country is None else country.upper()
    state = area_codes.state_of(number)
    number_zones = list(zones) or list(area_codes.zones_of_number(number))
    if not number_zones and state is not None:
        number_zones = list(area_codes.zones_of_state(state))
    infos = _zone_infos(number_zones)
    fail_closed = (where == "US" and state is None) or not infos
    if fail_closed:
        named = rules.states() | ({lead_state} if lead_state else set())
        profiles: list[str | None] = [None, *sorted(named)]
        names = sorted({z for c in rules.allowed_countries for z in area_codes.zones_of_country(c)})
        infos = _zone_infos(names)
    else:
        profiles = list(dict.fromkeys([state, lead_state] if lead_state else [state]))
    # 2. attempts in 24 hours
    caps = [rules.max_attempts.default]
    caps += [rules.max_attempts.by_state.get(p) for p in profiles if p is not None]
    if fail_closed:
        caps += list(rules.max_attempts.by_state.values())
    cap = _stricter_cap(caps)
    if cap is not None and attempts_24h >= cap:
        return Refusal(
            ATTEMPT_LIMIT,
            f"This number has had {attempts_24h} attempts in the last 24 hours; "
            f"the limit {_where(state, lead_state, fail_closed)} is {cap}.",
            {"attempts": attempts_24h, "limit": cap, "state": state, "leadState": lead_state},
        )
    # 3. calling (texting) hours
    clock = _Clock(rules, channel, profiles, _distinct_offsets(infos, now))
    if clock.allowed(now):
        return None
    return _hours_refusal(rules, clock, now, channel, state, lead_state, infos, fail_closed)


def restricted(rules: Rules, number: str, country: str | None = None) -> Refusal | None:
    """`restricted_number` when `number` (E.164) starts with a blocked prefix or is in a country
    not allowed; None otherwise. Also for member phones and caller IDs (API.md: they obey
    `blockedPrefixes` and `allowedCountries` too)."""
    for prefix in rules.blocked_prefixes:
        if number.startswith(prefix):
            return Refusal(
                RESTRICTED_NUMBER,
                f"Numbers starting {prefix} may not be called or texted (a blocked prefix).",
                {"prefix": prefix},
            )
    nanp = number.startswith("+1")
    where = area_codes.country_of(number) if nanp or country is None else country.upper()
    if where is None or where not in rules.allowed_countries:
        return Refusal(
            RESTRICTED_NUMBER,
            f"Numbers in {where or 'an unknown country'} may not be called or texted; "
            f"allowed: {', '.join(rules.allowed_countries) or 'none'}.",
            {"country": where, "allowedCountries": list(rules.allowed_countries)},
        )
    return None


def _where(state: str | None, lead_state: str | None, fail_closed: bool) -> str:
    if fail_closed:
        return "for a number whose state or time zone cannot be told"
    states = [s for s in dict.fromkeys([state, lead_state]) if s]
    return f"in {' and '.join(states)}" if states else "here"


def _hours_refusal(
    rules: Rules,
    clock: _Clock,
    now: datetime,
    channel: Channel,
    state: str | None,
    lead_state: str | None,
    infos: list[ZoneInfo],
    fail_closed: bool,
) -> Refusal:
    opens = clock.opens_at(now)
    opens_iso = opens.strftime("%Y-%m-%dT%H:%M:%SZ") if opens is not None else None
    local_times = {z.key: now.astimezone(z).strftime("%Y-%m-%dT%H:%M") for z in infos}
    first = infos[0] if infos else ZoneInfo("UTC")
    local = now.astimezone(first)
    windows = [clock.window(p, local.date()) for p in clock.profiles]
    today: Window | None = windows[0] if windows else None
    for w in windows[1:]:
        today = None if today is None or w is None else today & w
    verb = "texts" if channel == "sms" else "calls"
    if fail_closed:
        head = (
            "This number's state or time zone cannot be told, so it is held to the strictest "
            f"window in every time zone of {', '.join(rules.allowed_countries)}"
        )
    elif len(infos) == 1:
        head = f"It is {local:%H:%M} for this number ({first.key})"
        if today is not None:
            head += f"; {verb} are allowed {today} {_where(state, lead_state, False)}"
        else:
            head += f"; no {verb} are allowed today {_where(state, lead_state, False)}"
    else:
        head = (
            f"This number may be in {len(infos)} time zones and must be inside the window "
            "in every one"
        )
    tail = (
        f" It opens at {opens:%Y-%m-%d %H:%M} UTC."
        if opens is not None
        else f" No moment in the next {LOOKAHEAD_DAYS} days is allowed."
    )
    return Refusal(
        CALLING_HOURS,
        head + "." + tail,
        {
            "opensAt": opens_iso,
            "localTime": local_times,
            "window": str(today) if today is not None and not fail_closed else None,
            "state": state,
            "leadState": lead_state,
            "timezones": [z.key for z in infos],
            "channel": channel,
            "failClosed": fail_closed,
        },
    )
