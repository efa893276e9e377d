"""Generate chalicelib/domain/area_codes_data.py: every geographic NANP area code with its
country, US state / Canadian province and time zones, and the ITU country calling codes.

Source: Google's libphonenumber data as shipped in the `phonenumbers` package (its English
geocoding names per area code, its time zones per prefix, and its NANP territory metadata),
read once here so that the app never imports `phonenumbers.geocoder` (300-480 ms of cold start).
Run it again after upgrading `phonenumbers`:

    .venv/bin/python scripts/gen_area_codes.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE as CODES
from phonenumbers import PhoneMetadata
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.tzdata import TIMEZONE_DATA

OUT = Path(__file__).resolve().parents[1] / "chalicelib" / "domain" / "area_codes_data.py"

US_STATES = {
    "Alabama": "AL",
    "Alaska": "AK",
    "Arizona": "AZ",
    "Arkansas": "AR",
    "California": "CA",
    "Colorado": "CO",
    "Connecticut": "CT",
    "Delaware": "DE",
    "Washington D.C.": "DC",
    "Washington DC": "DC",
    "District of Columbia": "DC",
    "Florida": "FL",
    "Georgia": "GA",
    "Hawaii": "HI",
    "Idaho": "ID",
    "Illinois": "IL",
    "Indiana": "IN",
    "Iowa": "IA",
    "Kansas": "KS",
    "Kentucky": "KY",
    "Louisiana": "LA",
    "Maine": "ME",
    "Maryland": "MD",
    "Massachusetts": "MA",
    "Michigan": "MI",
    "Minnesota": "MN",
    "Mississippi": "MS",
    "Missouri": "MO",
    "Montana": "MT",
    "Nebraska": "NE",
    "Nevada": "NV",
    "New Hampshire": "NH",
    "New Jersey": "NJ",
    "New Mexico": "NM",
    "New York": "NY",
    "North Carolina": "NC",
    "North Dakota": "ND",
    "Ohio": "OH",
    "Oklahoma": "OK",
    "Oregon": "OR",
    "Pennsylvania": "PA",
    "Rhode Island": "RI",
    "South Carolina": "SC",
    "South Dakota": "SD",
    "Tennessee": "TN",
    "Texas": "TX",
    "Utah": "UT",
    "Vermont": "VT",
    "Virginia": "VA",
    "Washington": "WA",
    "West Virginia": "WV",
    "Wisconsin": "WI",
    "Wyoming": "WY",
    "Washington State": "WA",
}
PROVINCES = {
    "Alberta": "AB",
    "British Columbia": "BC",
    "Manitoba": "MB",
    "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL",
    "Newfoundland/Labrador": "NL",
    "Nova Scotia": "NS",
    "Northwest Territories": "NT",
    "Nunavut": "NU",
    "Ontario": "ON",
    "Prince Edward Island": "PE",
    "Quebec": "QC",
    "Saskatchewan": "SK",
    "Yukon": "YT",
    "Nova Scotia/Prince Edward Island": "NS",
    "Northwest Territories/Nunavut/Yukon": "YT",
    "Yukon/Northwest Territories/Nunavut": "YT",
    "British Colombia": "BC",
}
# NANP territories of the US: country US, their USPS code as the "state".
US_TERRITORIES = {"PR": "PR", "VI": "VI", "GU": "GU", "AS": "AS", "MP": "MP"}


def _zones(npa: str) -> tuple[str, ...]:
    found: set[str] = set()
    for key, zones in TIMEZONE_DATA.items():
        if key.startswith("1" + npa):
            found.update(z for z in zones if z != "Etc/Unknown")
    return tuple(sorted(found))


def _territory_patterns() -> dict[str, re.Pattern[str]]:
    out = {}
    for region in CODES[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        leading = metadata.leading_digits if metadata is not None else None
        if leading:
            out[region] = re.compile(f"(?:{leading})")
    return out


def main() -> None:
    territories = _territory_patterns()
    rows: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    unknown: list[str] = []
    for n in range(200, 1000):
        npa = str(n)
        region = next((r for r, p in territories.items() if p.match(npa + "2")), None)
        if region is not None and region != "DO":  # DO: 809/829/849 (8001 is not an NPA)
            country, sub = (
                ("US", US_TERRITORIES[region])
                if region in US_TERRITORIES
                else (
                    region,
                    "",
                )
            )
            rows[npa] = (country, sub, _zones(npa))
            continue
        if region == "DO":
            rows[npa] = ("DO", "", _zones(npa))
            continue
        name = (GEOCODE_DATA.get("1" + npa) or {}).get("en")
        if not name:
            continue
        if name in PROVINCES:
            rows[npa] = ("CA", PROVINCES[name], _zones(npa))
        elif name in US_STATES:
            rows[npa] = ("US", US_STATES[name], _zones(npa))
        elif re.search(r", ([A-Z]{2})$", name):
            code = name[-2:]
            rows[npa] = (
                ("US", code, _zones(npa))
                if code in US_STATES.values()
                else (
                    "CA",
                    code,
                    _zones(npa),
                )
            )
        else:
            unknown.append(f"{npa}: {name}")
    if unknown:
        raise SystemExit("unmapped area codes: " + "; ".join(unknown))
    by_code: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for calling, regions in CODES.items():
        if calling != 1 and regions and regions[0] != "001":
            by_code[str(calling)] = tuple(regions)
    lines = [
        '"""Generated by scripts/gen_area_codes.py from the data of libphonenumber (Google)',
        "(the `phonenumbers` package): do not edit by hand.",
        "",
        "AREA_CODES: geographic NANP area code -> (ISO country, US state / Canadian province or",
        '"", the IANA time zones its numbers are in). COUNTRY_CODES: calling code -> regions."""',
        "",
        "from __future__ import annotations",
        "",
        "AREA_CODES: dict[str, tuple[str, str, tuple[str, ...]]] = {",
    ]
    lines += [f"    {npa!r}: {rows[npa]!r}," for npa in sorted(rows)]
    lines += ["}", "", "COUNTRY_CODES: dict[str, tuple[str, ...]] = {"]
    lines += [f"    {c!r}: {by_code[c]!r}," for c in sorted(by_code, key=int)]
    lines += ["}", ""]
    OUT.write_text("\n".join(lines).replace("'", '"'))
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUT)], check=True)
    print(f"{len(rows)} area codes, {len(by_code)} country codes -> {OUT}")


if __name__ == "__main__":
    main()
