"""Where a phone number is: its country, its US state (from the NANP area code) and its time
zones, from small static tables (`area_codes_data.py`, generated from libphonenumber's data by
scripts/gen_area_codes.py). Nothing here imports `phonenumbers`: its geocoder costs 300-480 ms
of cold start, and a dict lookup is enough for an area code.

US territories in the NANP (Puerto Rico, the US Virgin Islands, Guam, the Northern Mariana
Islands, American Samoa) are country US with their USPS code as the state. A NANP number whose
area code is not geographic (toll-free 8xx, 5xx personal numbers, 900, 700...) or not in
service has no state and no zone: the rules treat it as in the US, zone unknown (fail closed).
"""

from __future__ import annotations

from chalicelib.domain.area_codes_data import AREA_CODES, COUNTRY_CODES

# Every IANA zone a state's numbers may be in (a state spanning zones lists all of them).
STATE_ZONES: dict[str, tuple[str, ...]] = {
    "AL": ("America/Chicago",),
    "AK": ("America/Anchorage", "America/Adak"),
    "AZ": ("America/Phoenix", "America/Denver"),  # the Navajo Nation keeps DST
    "AR": ("America/Chicago",),
    "CA": ("America/Los_Angeles",),
    "CO": ("America/Denver",),
    "CT": ("America/New_York",),
    "DE": ("America/New_York",),
    "DC": ("America/New_York",),
    "FL": ("America/New_York", "America/Chicago"),
    "GA": ("America/New_York",),
    "HI": ("Pacific/Honolulu",),
    "ID": ("America/Boise", "America/Los_Angeles"),
    "IL": ("America/Chicago",),
    "IN": ("America/Indiana/Indianapolis", "America/Chicago"),
    "IA": ("America/Chicago",),
    "KS": ("America/Chicago", "America/Denver"),
    "KY": ("America/New_York", "America/Chicago"),
    "LA": ("America/Chicago",),
    "ME": ("America/New_York",),
    "MD": ("America/New_York",),
    "MA": ("America/New_York",),
    "MI": ("America/Detroit", "America/Menominee"),
    "MN": ("America/Chicago",),
    "MS": ("America/Chicago",),
    "MO": ("America/Chicago",),
    "MT": ("America/Denver",),
    "NE": ("America/Chicago", "America/Denver"),
    "NV": ("America/Los_Angeles", "America/Denver"),
    "NH": ("America/New_York",),
    "NJ": ("America/New_York",),
    "NM": ("America/Denver",),
    "NY": ("America/New_York",),
    "NC": ("America/New_York",),
    "ND": ("America/Chicago", "America/Denver"),
    "OH": ("America/New_York",),
    "OK": ("America/Chicago",),
    "OR": ("America/Los_Angeles", "America/Boise"),
    "PA": ("America/New_York",),
    "RI": ("America/New_York",),
    "SC": ("America/New_York",),
    "SD": ("America/Chicago", "America/Denver"),
    "TN": ("America/Chicago", "America/New_York"),
    "TX": ("America/Chicago", "America/Denver"),
    "UT": ("America/Denver",),
    "VT": ("America/New_York",),
    "VA": ("America/New_York",),
    "WA": ("America/Los_Angeles",),
    "WV": ("America/New_York",),
    "WI": ("America/Chicago",),
    "WY": ("America/Denver",),
    "PR": ("America/Puerto_Rico",),
    "VI": ("America/St_Thomas",),
    "GU": ("Pacific/Guam",),
    "MP": ("Pacific/Saipan",),
    "AS": ("Pacific/Pago_Pago",),
}

STATES: frozenset[str] = frozenset(STATE_ZONES)
"""US state codes the rules accept: the 50 states, DC and the NANP territories."""

# Territories across the date line from the rest of the US: with them in the set, no moment of
# any day would be inside every window, so a number whose zone cannot be told is held to the
# zones of the states, DC, Puerto Rico and the Virgin Islands (a number known to be in one of
# these is held to its own zone).
_FAR_TERRITORIES = frozenset({"GU", "MP", "AS"})


def _area(e164: str) -> tuple[str, str, tuple[str, ...]] | None:
    if len(e164) != 12 or not e164.startswith("+1") or not e164[1:].isdigit():
        return None
    return AREA_CODES.get(e164[2:5])


def state_of(e164: str) -> str | None:
    """The US state (or DC, or territory) of a NANP number's area code; None for any other
    number, a non-geographic or unknown area code, or a Canadian or Caribbean one."""
    area = _area(e164)
    if area is None or area[0] != "US":
        return None
    return area[1]


def subdivision_of(e164: str) -> str | None:
    """The state or province of a NANP number (`FL`, `ON`), None when not known."""
    area = _area(e164)
    return area[1] or None if area is not None else None


def country_of(e164: str) -> str | None:
    """The ISO country of a number: NANP by area code (a non-geographic or unknown NANP area
    code counts as US: toll-free numbers are shared by the plan and administered there);
    other numbers by calling code, the code's main country when several share it (+44: GB,
    +7: RU). None when the calling code is not known."""
    if not e164.startswith("+") or not e164[1:].isdigit():
        return None
    if e164.startswith("+1"):
        area = _area(e164)
        return area[0] if area is not None else "US"
    for length in (1, 2, 3):
        regions = COUNTRY_CODES.get(e164[1 : 1 + length])
        if regions:
            return regions[0]
    return None


def zones_of_state(state: str) -> tuple[str, ...]:
    """Every IANA zone of a US state (several when it spans zones); () when not known."""
    return STATE_ZONES.get(state, ())


def zones_of_number(e164: str) -> tuple[str, ...]:
    """The IANA zones a NANP number's area code covers (libphonenumber's, every zone any of
    its exchanges is in); () when the area code tells none (toll-free, non-NANP, unknown)."""
    area = _area(e164)
    return area[2] if area is not None else ()


def zones_of_country(country: str) -> tuple[str, ...]:
    """Every zone numbers of a country may be in, as far as these tables know (US and the
    other NANP countries; () for the rest). For the US, without Guam, the Northern Mariana
    Islands and American Samoa (see `_FAR_TERRITORIES`)."""
    cached = _COUNTRY_ZONES.get(country)
    if cached is not None:
        return cached
    zones: set[str] = set()
    for area_country, sub, area_zones in AREA_CODES.values():
        if area_country == country and sub not in _FAR_TERRITORIES:
            zones.update(area_zones)
    if country == "US":
        for state, state_zones in STATE_ZONES.items():
            if state not in _FAR_TERRITORIES:
                zones.update(state_zones)
    _COUNTRY_ZONES[country] = tuple(sorted(zones))
    return _COUNTRY_ZONES[country]


_COUNTRY_ZONES: dict[str, tuple[str, ...]] = {}
