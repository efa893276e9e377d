"""Compliance rules as data (chalicelib/domain/compliance_rules.py and area_codes.py): windows
per state around each boundary on a frozen clock, time zones (several, unknown, DST), blocked
prefixes and countries, attempt caps, the order of reasons, `opensAt`, and the document's
parser (errors name the field) and round trip."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import area_codes
from chalicelib.domain.compliance_rules import (
    DEFAULT_RULES,
    Refusal,
    Rules,
    RulesError,
    evaluate,
    parse_rules,
    rules_to_doc,
)

NY = "+12125550142"  # New York: Eastern
MIAMI = "+13055550142"  # Florida, Eastern only
PANHANDLE = "+18505550142"  # Florida 850: Eastern and Central
OKC = "+14055550142"  # Oklahoma: Central
BALTIMORE = "+14105550142"  # Maryland: Eastern
DALLAS = "+12145550142"  # Texas: Central
TORONTO = "+14165550142"
TOLL_FREE = "+18005550142"
LONDON = "+447700900123"


def at(zone: str, text: str) -> datetime:
    """A wall-clock time in a zone, as the UTC instant `now` is."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def check(
    number: str,
    now: datetime,
    *,
    rules: Rules = DEFAULT_RULES,
    lead_state: str | None = None,
    zones: tuple[str, ...] = (),
    channel: Any = "voice",
    attempts: int = 0,
    country: str | None = None,
) -> Refusal | None:
    return evaluate(
        rules,
        number=number,
        lead_state=lead_state,
        zones=zones,
        now=now,
        channel=channel,
        attempts_24h=attempts,
        country=country,
    )


def reason(refusal: Refusal | None) -> str | None:
    return None if refusal is None else refusal.reason


def rules_with(**changes: Any) -> Rules:
    doc = rules_to_doc(DEFAULT_RULES)
    for path, value in changes.items():
        node = doc
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    return parse_rules(doc)


# ---------------------------------------------------------------- area codes


def test_area_codes_give_the_state_country_and_zones_without_phonenumbers():
    assert area_codes.state_of(MIAMI) == "FL"
    assert area_codes.state_of(NY) == "NY"
    assert area_codes.state_of("+17875550142") == "PR"  # a territory: country US
    assert area_codes.country_of("+17875550142") == "US"
    assert area_codes.state_of(TORONTO) is None
    assert area_codes.country_of(TORONTO) == "CA"
    assert area_codes.subdivision_of(TORONTO) == "ON"
    assert area_codes.country_of("+18765550142") == "JM"
    assert area_codes.state_of(TOLL_FREE) is None
    assert area_codes.country_of(TOLL_FREE) == "US"
    assert area_codes.country_of(LONDON) == "GB"
    assert area_codes.country_of("+8816123456") is None  # satellite: no country
    assert set(area_codes.zones_of_state("TX")) == {"America/Chicago", "America/Denver"}
    assert set(area_codes.zones_of_state("FL")) == {"America/New_York", "America/Chicago"}
    assert set(area_codes.zones_of_number(PANHANDLE)) == {"America/New_York", "America/Chicago"}
    assert area_codes.zones_of_number("+19155550142") == ("America/Denver",)  # El Paso
    assert area_codes.zones_of_number(TOLL_FREE) == ()
    assert {"FL", "DC", "PR", "GU"} <= area_codes.STATES and len(area_codes.STATES) == 56
    for state in area_codes.STATES:
        assert area_codes.zones_of_state(state), state
        for zone in area_codes.zones_of_state(state):
            ZoneInfo(zone)
    states = {s for c, s, _ in area_codes.AREA_CODES.values() if c == "US"}
    assert states == set(area_codes.STATES)  # every state and territory has an area code


def test_the_rules_import_no_phone_library():
    code = (
        "import sys, chalicelib.domain.compliance_rules as r; "
        "bad = [m for m in sys.modules if m.startswith(('phonenumbers', 'pydantic', 'pynamodb'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- windows per state


@pytest.mark.parametrize("channel", ["voice", "sms"])
@pytest.mark.parametrize(
    ("number", "zone", "opens", "closes"),
    [
        (NY, "America/New_York", "08:00", "21:00"),
        (MIAMI, "America/New_York", "08:00", "20:00"),
        (OKC, "America/Chicago", "08:00", "20:00"),
        (BALTIMORE, "America/New_York", "08:00", "20:00"),
        ("+14155550142", "America/Los_Angeles", "08:00", "21:00"),
        (TORONTO, "America/Toronto", "08:00", "21:00"),  # outside the US: the default
    ],
)
def test_each_window_boundary_on_a_frozen_clock(number, zone, opens, closes, channel):
    def minute_before(hhmm: str) -> str:
        h, m = map(int, hhmm.split(":"))
        total = h * 60 + m - 1
        return f"{total // 60:02d}:{total % 60:02d}"

    day = "2026-07-01 "  # a Wednesday
    for time, allowed in (
        (minute_before(opens), False),
        (opens, True),
        (minute_before(closes), True),
        (closes, False),
    ):
        refusal = check(number, at(zone, day + time), channel=channel)
        assert (refusal is None) == allowed, (number, time, refusal)
        if refusal is not None:
            assert refusal.reason == "calling_hours"
            assert refusal.details["window"] == f"{opens}-{closes}"


def test_a_florida_number_at_2030_is_refused_with_the_time_it_opens():
    refusal = check(MIAMI, at("America/New_York", "2026-07-01 20:30"))
    assert refusal is not None and refusal.reason == "calling_hours"
    assert refusal.details["opensAt"] == "2026-07-02T12:00:00Z"  # 08:00 EDT
    assert refusal.details["localTime"] == {"America/New_York": "2026-07-01T20:30"}
    assert refusal.details["state"] == "FL"
    assert "08:00-20:00" in refusal.message and "20:30" in refusal.message


def test_opens_at_the_same_morning_after_midnight():
    refusal = check(MIAMI, at("America/New_York", "2026-07-02 01:00"))
    assert refusal is not None and refusal.details["opensAt"] == "2026-07-02T12:00:00Z"


def test_the_lead_state_makes_the_window_stricter():
    evening = at("America/New_York", "2026-07-01 20:30")
    assert check(NY, evening) is None
    refusal = check(NY, evening, lead_state="fl")
    assert refusal is not None and refusal.details["window"] == "08:00-20:00"
    assert refusal.details["leadState"] == "FL"
    # A lead state that is not one is ignored, not trusted to loosen anything.
    assert check(MIAMI, evening, lead_state="ZZ") is not None


def test_texting_uses_the_texting_hours_and_refuses_with_calling_hours():
    rules = rules_with(textingHours__default="10:00-18:00")
    nine = at("America/New_York", "2026-07-01 09:00")
    assert check(NY, nine, rules=rules, channel="voice") is None
    refusal = check(NY, nine, rules=rules, channel="sms")
    assert refusal is not None and refusal.reason == "calling_hours"
    assert refusal.details["channel"] == "sms" and "texts" in refusal.message
    assert refusal.details["opensAt"] == "2026-07-01T14:00:00Z"


def test_a_state_window_cannot_loosen_the_default():
    rules = rules_with(callingHours__byState={"NY": "07:00-22:00"})
    assert check(NY, at("America/New_York", "2026-07-01 07:30"), rules=rules) is not None
    assert check(NY, at("America/New_York", "2026-07-01 21:30"), rules=rules) is not None


# ---------------------------------------------------------------- daylight saving time


def test_spring_forward_opens_at_eight_new_local_time():
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    refusal = check(NY, at("America/New_York", "2026-03-07 21:30"))
    assert refusal is not None and refusal.details["opensAt"] == "2026-03-08T12:00:00Z"
    assert check(NY, at("America/New_York", "2026-03-08 07:59")) is not None
    assert check(NY, at("America/New_York", "2026-03-08 08:00")) is None


def test_fall_back_opens_at_eight_new_local_time():
    # 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST.
    refusal = check(NY, at("America/New_York", "2026-10-31 22:00"))
    assert refusal is not None and refusal.details["opensAt"] == "2026-11-01T13:00:00Z"
    assert check(NY, datetime(2026, 11, 1, 12, 59, tzinfo=UTC)) is not None  # 07:59 EST
    assert check(NY, datetime(2026, 11, 1, 13, 0, tzinfo=UTC)) is None


# ---------------------------------------------------------------- several zones, or none


def test_a_number_spanning_zones_must_be_inside_the_window_in_every_one():
    # 850 covers Tallahassee (Eastern) and Pensacola (Central).
    morning = at("America/New_York", "2026-07-01 08:30")  # 07:30 Central
    refusal = check(PANHANDLE, morning)
    assert refusal is not None
    assert set(refusal.details["timezones"]) == {"America/New_York", "America/Chicago"}
    assert refusal.details["opensAt"] == "2026-07-01T13:00:00Z"  # 08:00 Central
    assert check(PANHANDLE, at("America/New_York", "2026-07-01 19:59")) is None
    assert check(PANHANDLE, at("America/New_York", "2026-07-01 20:00")) is not None
    # The zones the caller passes are the number's: a Pensacola exchange is Central only.
    assert check(PANHANDLE, morning, zones=("America/Chicago",)) is not None
    assert check(PANHANDLE, morning, zones=("America/New_York",)) is None


def test_a_state_spanning_zones_when_the_area_code_tells_none():
    # No zones passed, none for the area code: the state's (all of them).
    texas = rules_with()
    refusal = check(DALLAS, at("America/Chicago", "2026-07-01 08:30"), rules=texas)
    assert refusal is None  # 214 is Central only, from its area code
    zones = area_codes.zones_of_state("TX")
    refusal = check(DALLAS, at("America/Chicago", "2026-07-01 08:30"), zones=zones)
    assert refusal is not None  # 07:30 in El Paso


FAIL_CLOSED_NOON = [
    # noon local in each zone, July: the shared window is 18:00Z (08:00 Honolulu) to 22:30Z
    # (20:00 St. John's, Canada being allowed).
    ("America/New_York", False),
    ("America/Chicago", False),
    ("America/Denver", True),
    ("America/Los_Angeles", True),
    ("America/Anchorage", True),
    ("Pacific/Honolulu", True),
]


@pytest.mark.parametrize("number", [TOLL_FREE, "+15005550142", "+12115550142"])
@pytest.mark.parametrize(("zone", "allowed_at_noon"), FAIL_CLOSED_NOON)
def test_a_number_whose_zone_cannot_be_told_is_held_to_the_strictest_window(
    number, zone, allowed_at_noon
):
    night = check(number, at(zone, "2026-07-01 03:00"))
    assert night is not None and night.reason == "calling_hours"
    assert night.details["failClosed"] is True
    assert night.details["state"] is None
    noon = check(number, at(zone, "2026-07-01 12:00"))
    assert (noon is None) == allowed_at_noon, noon
    if noon is not None:
        assert noon.details["opensAt"] == "2026-07-01T18:00:00Z"


def test_fail_closed_ignores_zones_passed_for_a_number_without_a_state():
    refusal = check(TOLL_FREE, at("America/New_York", "2026-07-01 12:00"), zones=("UTC",))
    assert refusal is not None and refusal.details["failClosed"]


def test_a_number_with_no_known_zone_outside_the_tables_fails_closed():
    rules = rules_with(allowedCountries=["US", "CA", "GB"])
    london_noon = at("Europe/London", "2026-07-01 12:00")  # 07:00 New York
    refusal = check(LONDON, london_noon, rules=rules)
    assert refusal is not None and refusal.details["failClosed"]
    assert check(LONDON, london_noon, rules=rules, zones=("Europe/London",)) is None
    assert check(LONDON, london_noon, rules=rules, zones=("Not/AZone",)) is not None


# ---------------------------------------------------------------- restricted numbers


@pytest.mark.parametrize(
    ("number", "prefix"),
    [
        ("+19005550142", "+1900"),
        ("+19765550142", "+1976"),
        ("+979123456789", "+979"),
        ("+881612345678", "+881"),
        ("+882123456789", "+882"),
        ("+883123456789", "+883"),
        ("+870123456789", "+870"),
    ],
)
def test_blocked_prefixes_are_restricted_whatever_the_time(number, prefix):
    refusal = check(number, at("America/New_York", "2026-07-01 12:00"))
    assert refusal is not None and refusal.reason == "restricted_number"
    assert refusal.details == {"prefix": prefix}


def test_countries_outside_the_allowed_list_are_restricted():
    noon = at("America/New_York", "2026-07-01 12:00")
    refusal = check(LONDON, noon, zones=("Europe/London",))
    assert refusal is not None and refusal.reason == "restricted_number"
    assert refusal.details["country"] == "GB"
    assert reason(check("+18765550142", noon)) == "restricted_number"  # Jamaica is NANP
    assert check(TORONTO, noon) is None
    us_only = rules_with(allowedCountries=["US"])
    assert reason(check(TORONTO, noon, rules=us_only)) == "restricted_number"
    # The caller may know a shared code's country better (+44 is also Jersey's).
    gb = rules_with(allowedCountries=["US", "GB"])
    assert reason(check(LONDON, noon, rules=gb, country="JE")) == "restricted_number"
    assert check(LONDON, at("Europe/London", "2026-07-01 12:00"), rules=gb, country="GB",
                 zones=("Europe/London",)) is None  # fmt: skip


# ---------------------------------------------------------------- attempts


def test_attempt_caps_by_the_number_state_and_by_the_lead_state():
    noon = at("America/New_York", "2026-07-01 12:00")
    assert check(MIAMI, noon, attempts=2) is None
    refusal = check(MIAMI, noon, attempts=3)
    assert refusal is not None and refusal.reason == "attempt_limit"
    assert refusal.details["limit"] == 3 and refusal.details["attempts"] == 3
    assert check(NY, noon, attempts=50) is None  # no default cap
    assert reason(check(NY, noon, attempts=3, lead_state="MD")) == "attempt_limit"
    assert reason(check(NY, noon, attempts=3, lead_state="NY")) is None
    assert reason(check(NY, noon, attempts=3, channel="sms", lead_state="OK")) == "attempt_limit"
    capped = rules_with(maxAttemptsPer24h__default=5)
    assert reason(check(NY, noon, rules=capped, attempts=5)) == "attempt_limit"
    assert reason(check(MIAMI, noon, rules=capped, attempts=3)) == "attempt_limit"  # stricter


def test_a_number_without_a_state_gets_the_smallest_cap():
    afternoon = at("America/New_York", "2026-07-01 15:00")
    assert check(TOLL_FREE, afternoon, attempts=2) is None
    assert reason(check(TOLL_FREE, afternoon, attempts=3)) == "attempt_limit"


def test_reasons_come_in_the_documented_order():
    night = at("America/New_York", "2026-07-01 03:00")
    assert reason(check("+19005550142", night, attempts=9)) == "restricted_number"
    assert reason(check(LONDON, night, attempts=9)) == "restricted_number"
    assert reason(check(MIAMI, night, attempts=3)) == "attempt_limit"
    assert reason(check(MIAMI, night, attempts=2)) == "calling_hours"


# ---------------------------------------------------------------- weekdays and holidays


def test_texas_sundays_open_at_noon():
    sunday = "2026-07-05 "
    refusal = check(DALLAS, at("America/Chicago", sunday + "11:59"))
    assert refusal is not None and refusal.details["window"] == "12:00-21:00"
    assert refusal.details["opensAt"] == "2026-07-05T17:00:00Z"
    assert check(DALLAS, at("America/Chicago", sunday + "12:00")) is None
    assert check(DALLAS, at("America/Chicago", sunday + "20:59")) is None
    assert check(DALLAS, at("America/Chicago", sunday + "21:00")) is not None
    assert check(DALLAS, at("America/Chicago", "2026-07-04 08:00")) is None  # Saturday
    # Saturday night: opens Sunday noon, not at eight.
    refusal = check(DALLAS, at("America/Chicago", "2026-07-04 22:00"))
    assert refusal is not None and refusal.details["opensAt"] == "2026-07-05T17:00:00Z"
    # A Texas lead with a New York number: Sunday noon, New York time.
    refusal = check(NY, at("America/New_York", "2026-07-05 11:00"), lead_state="TX")
    assert refusal is not None and refusal.details["opensAt"] == "2026-07-05T16:00:00Z"


def test_a_holiday_closes_the_whole_local_day():
    rules = rules_with(holidays__default=["2026-07-03"])
    refusal = check(NY, at("America/New_York", "2026-07-03 12:00"), rules=rules)
    assert refusal is not None and refusal.details["window"] is None
    assert refusal.details["opensAt"] == "2026-07-04T12:00:00Z"
    assert "no calls are allowed today" in refusal.message
    assert check(NY, at("America/New_York", "2026-07-02 12:00"), rules=rules) is None


def test_a_yearly_holiday_and_a_state_holiday():
    rules = rules_with(holidays__default=["12-25"], holidays__byState={"FL": ["2027-01-02"]})
    assert check(NY, at("America/New_York", "2027-12-25 12:00"), rules=rules) is not None
    assert check(NY, at("America/New_York", "2027-01-02 12:00"), rules=rules) is None
    assert check(MIAMI, at("America/New_York", "2027-01-02 12:00"), rules=rules) is not None


def test_opens_at_skips_a_holiday_and_a_closed_weekend():
    rules = rules_with(
        holidays__byState={"NY": ["2026-07-03"]},  # a Friday
        weekdays__byState={"NY": {"sat": None, "sun": None}, "TX": {"sun": "12:00-21:00"}},
    )
    refusal = check(NY, at("America/New_York", "2026-07-02 21:30"), rules=rules)
    assert refusal is not None and refusal.details["opensAt"] == "2026-07-06T12:00:00Z"


def test_opens_at_is_null_when_nothing_opens_within_eight_days():
    closed = {day: None for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    rules = rules_with(weekdays__byState={"NY": closed})
    refusal = check(NY, at("America/New_York", "2026-07-01 12:00"), rules=rules)
    assert refusal is not None and refusal.details["opensAt"] is None
    assert "No moment" in refusal.message


# ---------------------------------------------------------------- the document


def test_the_defaults_are_the_documented_document_and_round_trip():
    doc = rules_to_doc(DEFAULT_RULES)
    assert doc == {
        "callingHours": {
            "default": "08:00-21:00",
            "byState": {"FL": "08:00-20:00", "MD": "08:00-20:00", "OK": "08:00-20:00"},
        },
        "textingHours": {
            "default": "08:00-21:00",
            "byState": {"FL": "08:00-20:00", "MD": "08:00-20:00", "OK": "08:00-20:00"},
        },
        "maxAttemptsPer24h": {"default": None, "byState": {"FL": 3, "MD": 3, "OK": 3}},
        "weekdays": {"byState": {"TX": {"sun": "12:00-21:00"}}},
        "holidays": {"default": [], "byState": {}},
        "blockedPrefixes": ["+1900", "+1976", "+979", "+881", "+882", "+883", "+870"],
        "allowedCountries": ["US", "CA"],
    }
    assert parse_rules(doc) == DEFAULT_RULES


def test_a_full_document_round_trips():
    doc = {
        "callingHours": {"default": "09:00-24:00", "byState": {"ca": "10:00-18:30"}},
        "textingHours": {"default": "00:00-24:00"},
        "maxAttemptsPer24h": {"default": 7, "byState": {"TX": 0}},
        "weekdays": {"byState": {"AL": {"sun": None, "sat": "09:00-12:00"}}},
        "holidays": {"default": ["12-25", "2026-11-26"], "byState": {"LA": ["02-17"]}},
        "blockedPrefixes": ["+1900"],
        "allowedCountries": ["us", "GB"],
    }
    rules = parse_rules(doc)
    out = rules_to_doc(rules)
    assert out["callingHours"]["byState"] == {"CA": "10:00-18:30"}
    assert out["textingHours"] == {"default": "00:00-24:00", "byState": {}}
    assert out["weekdays"] == {"byState": {"AL": {"sat": "09:00-12:00", "sun": None}}}
    assert out["allowedCountries"] == ["US", "GB"]
    assert parse_rules(out) == rules
    assert rules_to_doc(parse_rules(out)) == out


BAD = [
    (("callingHours", "byState", "FL"), "8-20", "callingHours.byState.FL"),
    (("callingHours", "byState", "FL"), "20:00-08:00", "callingHours.byState.FL"),
    (("callingHours", "byState", "FL"), "08:00-24:30", "callingHours.byState.FL"),
    (("callingHours", "default"), None, "callingHours.default"),
    (("textingHours", "byState"), {"XX": "08:00-20:00"}, "textingHours.byState.XX"),
    (("textingHours", "byState"), {"ON": "08:00-20:00"}, "textingHours.byState.ON"),
    (("textingHours", "byState"), {"fl": "08:00-20:00", "FL": "08:00-20:00"}, None),
    (("maxAttemptsPer24h", "byState", "FL"), -1, "maxAttemptsPer24h.byState.FL"),
    (("maxAttemptsPer24h", "byState", "FL"), None, "maxAttemptsPer24h.byState.FL"),
    (("maxAttemptsPer24h", "default"), True, "maxAttemptsPer24h.default"),
    (("maxAttemptsPer24h", "default"), 2.5, "maxAttemptsPer24h.default"),
    (("weekdays", "byState", "TX"), {"sunday": "12:00-21:00"}, "weekdays.byState.TX.sunday"),
    (("weekdays", "byState", "TX", "sun"), "noon", "weekdays.byState.TX.sun"),
    (("weekdays", "default"), {}, "weekdays.default"),
    (("holidays", "default"), ["2026-02-30"], "holidays.default[0]"),
    (("holidays", "default"), ["July 4"], "holidays.default[0]"),
    (("holidays", "byState", "NY"), ["12-25", "13-01"], "holidays.byState.NY[1]"),
    (("holidays", "default"), "12-25", "holidays.default"),
    (("blockedPrefixes",), ["+1900", "1976"], "blockedPrefixes[1]"),
    (("blockedPrefixes",), ["+"], "blockedPrefixes[0]"),
    (("allowedCountries",), ["US", "XX"], "allowedCountries[1]"),
    (("allowedCountries",), ["USA"], "allowedCountries[0]"),
    (("allowedCountries",), "US", "allowedCountries"),
    (("surprise",), 1, "surprise"),
    (("callingHours", "extra"), 1, "callingHours.extra"),
]


@pytest.mark.parametrize(("where", "value", "path"), BAD, ids=[str(b[2]) for b in BAD])
def test_a_bad_document_names_the_field(where, value, path):
    doc = copy.deepcopy(rules_to_doc(DEFAULT_RULES))
    node = doc
    for key in where[:-1]:
        node = node.setdefault(key, {})
    node[where[-1]] = value
    with pytest.raises(RulesError) as info:
        parse_rules(doc)
    if path is not None:
        assert info.value.path == path
        assert str(info.value).startswith(path + ": ")
    assert isinstance(info.value, ValueError)


def test_a_missing_field_or_a_document_that_is_not_an_object():
    doc = rules_to_doc(DEFAULT_RULES)
    del doc["holidays"]
    with pytest.raises(RulesError, match=r"^holidays: required"):
        parse_rules(doc)
    with pytest.raises(RulesError, match="expected an object"):
        parse_rules([])  # type: ignore[arg-type]
    with pytest.raises(RulesError, match="expected HH:MM-HH:MM"):
        parse_rules({**rules_to_doc(DEFAULT_RULES), "callingHours": {"default": "8am-9pm"}})


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def test_any_edit_of_the_document_parses_or_names_a_field():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = rules_to_doc(DEFAULT_RULES)
    paths = _paths(base)
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 2000),
        st.floats(allow_nan=True),
        st.text(max_size=12),
        st.sampled_from(["08:00-20:00", "24:00-01:00", "12-25", "+44", "CA", "TX", "sun"]),
    )
    values = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=6,
    )

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(paths), value=values, extra=st.text(max_size=6))
    def run(path: tuple[Any, ...], value: Any, extra: str) -> None:
        doc = copy.deepcopy(base)
        node = doc
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and extra:
            node[extra] = value
        else:
            node[path[-1]] = value
        try:
            rules = parse_rules(doc)
        except RulesError as exc:
            assert exc.path and str(exc).startswith(exc.path + ": ")
            return
        assert parse_rules(rules_to_doc(rules)) == rules

    run()


def test_member_phones_and_caller_ids_are_checked_for_restricted_numbers_alone():
    from chalicelib.domain.compliance_rules import restricted

    assert restricted(DEFAULT_RULES, "+14155550100") is None
    assert restricted(DEFAULT_RULES, TORONTO) is None
    refusal = restricted(DEFAULT_RULES, "+19005550100")
    assert refusal is not None and refusal.reason == "restricted_number"
    assert reason(restricted(DEFAULT_RULES, LONDON)) == "restricted_number"
    assert reason(restricted(DEFAULT_RULES, "not a number")) == "restricted_number"
