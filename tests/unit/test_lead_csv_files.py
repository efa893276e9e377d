"""The import's reading of a file (services/lead_csv.py), without a store: encodings, delimiters,
line ends, broken quotes, header suggestions and the mapping."""

from __future__ import annotations

import codecs

import pytest

from chalicelib.errors import ValidationError
from chalicelib.services import lead_csv
from chalicelib.services.lead_csv import (
    columns_of,
    decode,
    detect_delimiter,
    parse_mapping,
    records,
    suggest,
)


def rows(text: str, delimiter: str = ",") -> list[tuple[int, list[str] | None]]:
    return [(r.row, r.cells) for r in records(lead_csv._lines(text), delimiter)]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["First Name", "LAST_NAME", "Mobile Phone", "E-mail", "Account Name", "Sales Rep"],
            ["firstName", "lastName", "phone", "email", "company", "assignedTo"],
        ),
        (
            ["Given Name", "Family Name", "Cell", "Email Address", "Organization", "Lead Owner"],
            ["firstName", "lastName", "phone", "email", "company", "assignedTo"],
        ),
        (["Full Name", "Telephone", "Business"], ["name", "phone", "company"]),
        (["Contact", "Phone Number", "Comments"], ["name", "phone", "notes"]),
        (
            ["Surname", "First", "Province", "Lead Status"],
            ["lastName", "firstName", "state", "status"],
        ),
        (["Description", "Region", "Rep"], ["notes", "state", "assignedTo"]),
        # the best spelling wins, then the leftmost column; the others are left alone
        (["Work Phone", "Phone", "Mobile"], [None, None, "phone"]),
        (["Phone", "Work Phone"], ["phone", None]),
        (["Sales Rep", "Assigned To"], [None, "assignedTo"]),
        (["Name", "Name"], ["name", None]),
        # accents, spacing and punctuation ignored; unknown headers are None
        (["  NAME ", "Téléphone", "Colour", ""], ["name", "phone", None, None]),
        (["assignedToId", "doNotCall", "SMS opt-out"], ["assignedToId", "doNotCall", "smsOptOut"]),
    ],
)
def test_suggest(headers, expected):
    assert suggest(headers) == expected


def test_decode_names_the_encoding_and_never_mangles():
    assert decode("José €".encode()) == ("José €", "utf-8")
    assert decode(codecs.BOM_UTF8 + "José".encode()) == ("José", "utf-8")
    assert decode("José Müller €".encode("cp1252")) == ("José Müller €", "windows-1252")
    assert decode(codecs.BOM_UTF16_LE + "a\tb".encode("utf-16-le")) == ("a\tb", "utf-16le")
    assert decode(codecs.BOM_UTF16_BE + "ü".encode("utf-16-be")) == ("ü", "utf-16be")
    # UTF-16 without a BOM: the NULs say which byte order
    assert decode("name\tphone\r\nZoë".encode("utf-16-le")) == ("name\tphone\r\nZoë", "utf-16le")
    assert decode("name,phone".encode("utf-16-be")) == ("name,phone", "utf-16be")
    with pytest.raises(ValidationError):
        decode(b"name\x81")  # undefined in Windows-1252, invalid UTF-8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,phone\nA,1\n", ","),
        ("name;phone;company\nA;1;Smith, Jones\nB;2;X, Y\n", ";"),
        ("name\tphone\nA, B\t1\n", "\t"),
        ('"name";"phone"\n"A";"1"\n', ";"),
        ("name\nA\n", ","),  # one column
        ("name;phone\nA,B,C,D;1\n", ";"),  # the sniffer may pick `,`: the header decides
    ],
)
def test_detect_delimiter(text, expected):
    assert detect_delimiter(lead_csv._lines(text)) == expected


def test_line_ends_and_empty_lines():
    assert rows("a,b\r1,2\r\r3,4") == [(1, ["a", "b"]), (2, ["1", "2"]), (3, []), (4, ["3", "4"])]
    assert rows("a,b\r\n1,2\n3,4\r") == [(1, ["a", "b"]), (2, ["1", "2"]), (3, ["3", "4"])]


def test_a_quoted_field_may_span_lines_and_rows_are_counted_as_records():
    assert rows('a,b\n1,"x\ny"\n2,z\n') == [(1, ["a", "b"]), (2, ["1", "x\ny"]), (3, ["2", "z"])]


def test_an_unclosed_quote_costs_its_own_row_only():
    got = list(records(lead_csv._lines('a,b\n1,"open\n2,two\n3,"three"\n'), ","))
    assert [(r.row, r.cells) for r in got] == [
        (1, ["a", "b"]),
        (2, None),
        (3, ["2", "two"]),
        (4, ["3", "three"]),
    ]
    assert "never closed" in (got[1].error or "")


def test_text_after_a_closing_quote_is_an_error_on_its_row():
    got = list(records(lead_csv._lines('a,b\n"x"y,1\n2,2\n'), ","))
    assert [(r.row, r.cells) for r in got] == [(1, ["a", "b"]), (2, None), (3, ["2", "2"])]
    assert (got[1].error or "").startswith("not valid CSV")


def test_the_mapping_wins_over_the_suggestion_and_each_field_is_taken_once():
    header = ["Name", "Phone", "Mobile", "Boss"]
    assert columns_of(header, None) == ["name", None, "phone", None]
    mapping = parse_mapping('{"Phone":"phone","Boss":"assignedTo","Name":"ignore"}')
    assert mapping == {"Phone": "phone", "Boss": "assignedTo", "Name": None}
    assert columns_of(header, mapping) == [None, "phone", None, "assignedTo"]
    with pytest.raises(ValidationError, match="two columns"):
        columns_of(header, {"Phone": "phone", "Mobile": "phone"})
    with pytest.raises(ValidationError, match="does not have"):
        columns_of(header, {"Fax": "phone"})


def test_states_and_statuses_as_people_write_them():
    assert lead_csv._state("new york") == "NY"
    assert lead_csv._state(" tx ") == "TX"
    assert lead_csv._state("District of Columbia") == "DC"
    assert lead_csv._state("Atlantis") == "Atlantis"  # refused later, by the wire schema
    assert lead_csv._status("Not Interested") == "not_interested"
    assert lead_csv._status("Qualified") == "qualified"
    assert lead_csv._status("hot") == "hot"
