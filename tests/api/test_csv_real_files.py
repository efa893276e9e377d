"""Imports of the spreadsheets people really have (issue 17 item 6): the files are made here, as
Excel on Windows, Excel's "Unicode text", Google Sheets and a hand-edited file write them; the
column mapping (query and multipart), owners by e-mail or name, the preview, and the export's
filters, BOM and assignee name."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import funnel

CSV = {"Content-Type": "text/csv"}


def post_csv(api: Any, raw: bytes | str, path: str = "/leads/import", **query: str):
    qs = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    status, body, _ = api.post(f"{path}?{qs}" if qs else path, raw=raw, headers=CSV)
    return status, body


def multipart(parts: dict[str, tuple[bytes, str | None]], boundary: str = "XyZ-b0undary"):
    """A multipart/form-data body as a browser sends it: {name: (bytes, filename or None)}."""
    out = b""
    for name, (data, filename) in parts.items():
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: text/csv\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def leads_by_phone(api: Any) -> dict[str, dict[str, Any]]:
    _, page, _ = api.get("/leads?limit=100")
    return {x["phone"]: x for x in page["items"]}


@pytest.fixture
def owners(make_member):
    ann = make_member(name="Ann Owner", email="ann.owner@example.com")
    bob = make_member(name="Bob Rep", email="bob@example.com")
    return ann, bob


def test_an_excel_windows_1252_file_with_semicolons_imports_with_the_suggested_mapping(api, owners):
    ann, bob = owners
    text = (
        "First Name;Last Name;Mobile;E-mail;Account Name;Owner;State;Lead Status;Comments\r\n"
        "José;Müller;(415) 555-0101;jose@example.com;Café Crème GmbH;ann.owner@example.com;"
        "California;New;costs 5 €\r\n"
        'Zoë;Ångström;415.555.0102;;"Smith; Jones";bob rep;tx;Qualified;\r\n'
        "Nobody;Known;415-555-0103;;;Carla Unknown;;;\r\n"
        ";Solo;4155550104;;;;;;\r\n"
    )
    raw = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # what Excel writes on Windows is not UTF-8
    status, body = post_csv(api, raw)
    assert status == 200, body
    assert body["encoding"] == "windows-1252" and body["delimiter"] == ";"
    assert body["rows"] == 4 and body["created"] == 3 and body["errorCount"] == 1
    assert body["errors"][0]["row"] == 4 and "Carla Unknown" in body["errors"][0]["message"]
    assert body["ignoredColumns"] == []
    leads = leads_by_phone(api)
    jose = leads["+14155550101"]
    assert jose["name"] == "José Müller" and jose["company"] == "Café Crème GmbH"
    assert jose["notes"] == "costs 5 €" and jose["email"] == "jose@example.com"
    assert jose["assignedToId"] == ann["id"] and jose["state"] == "CA"
    zoe = leads["+14155550102"]
    assert zoe["name"] == "Zoë Ångström" and zoe["company"] == "Smith; Jones"
    assert zoe["assignedToId"] == bob["id"] and zoe["state"] == "TX"
    assert zoe["status"] == "qualified"
    assert leads["+14155550104"]["name"] == "Solo"  # a last name alone is a name
    assert funnel() == {"status#new": 2, "status#qualified": 1, "total": 3}


def test_a_tab_separated_utf16_file_with_a_bom_imports(api):
    text = (
        "Full Name\tPhone Number\tCompany\tNotes\r\n"
        "Łukasz Żółć\t+48 601 234 567\tKraków Sp. z o.o.\tpolski\r\n"
        "李雷\t(212) 555-0188\t\t\r\n"
    )
    for codec, bom, name in (
        ("utf-16-le", b"\xff\xfe", "utf-16le"),
        ("utf-16-be", b"\xfe\xff", "utf-16be"),
    ):
        status, body = post_csv(api, bom + text.encode(codec))
        assert status == 200, body
        assert body["delimiter"] == "\t" and body["encoding"] == name
        assert body["created"] == (2 if codec == "utf-16-le" else 0)
        assert body["errors"] == []
    leads = leads_by_phone(api)
    assert leads["+48601234567"]["name"] == "Łukasz Żółć"
    assert leads["+48601234567"]["company"] == "Kraków Sp. z o.o."
    assert leads["+12125550188"]["name"] == "李雷"


def test_a_google_sheets_export_imports(api):
    # Google Sheets: UTF-8 without a BOM, CRLF, quotes only where needed, no final newline
    text = (
        "Contact,Email Address,Cell,Organization,Description\r\n"
        'Renée Dupont,renee@example.fr,+33 6 12 34 56 78,"Dupont, Fils & Cie","line one\r\n'
        'line ""two"""\r\n'
        "Ana Li,ana@example.com,212-555-0111,,"
    )
    status, body = post_csv(api, text.encode("utf-8"))
    assert status == 200 and body["created"] == 2 and body["errors"] == [], body
    leads = leads_by_phone(api)
    assert leads["+33612345678"]["company"] == "Dupont, Fils & Cie"
    assert leads["+33612345678"]["notes"] == 'line one\r\nline "two"'
    assert leads["+12125550111"]["name"] == "Ana Li"


def test_old_mac_line_ends_and_empty_lines(api):
    text = "name,phone\r\rA,4155550101\r\r\rB,4155550102\r"
    status, body = post_csv(api, text)
    assert status == 200 and body["created"] == 2 and body["rows"] == 2, body


def test_an_unclosed_quote_is_reported_at_its_row_and_the_rest_still_imports(api):
    text = (
        "name,phone,notes\n"
        "Row Two,4155550102,fine\n"
        'Row Three,4155550103,"quoted, closed"\n'
        'Row Four,4155550104,"never closed\n'
        'Row Five,4155550105,"quoted again"\n'
        "Row Six,4155550106,last\n"
    )
    status, body = post_csv(api, text)
    assert status == 200, body
    assert body["rows"] == 5 and body["created"] == 4 and body["errorCount"] == 1
    assert body["errors"][0]["row"] == 4
    assert "never closed" in body["errors"][0]["message"]
    leads = leads_by_phone(api)
    assert "+14155550104" not in leads
    assert leads["+14155550105"]["notes"] == "quoted again"
    assert leads["+14155550106"]["name"] == "Row Six"
    # The same quote on the file's last row: the rows before it import
    status, body = post_csv(api, 'name,phone\nLast Quote,"4155550107\n')
    assert body["created"] == 0 and body["errors"][0]["row"] == 2


def test_a_file_without_a_header_row_is_a_clear_400(api):
    status, body = post_csv(api, "Jane Doe,4155550101,jane@example.com\nJoe,4155550102,\n")
    assert status == 400
    assert "header row" in body["error"]["message"]
    assert body["error"]["details"]["missingColumns"] == ["name", "phone"]
    status, body = post_csv(api, "\n\n\r\n")
    assert status == 400 and "empty" in body["error"]["message"]
    assert leads_by_phone(api) == {}


def test_a_mapping_in_the_query_names_columns_no_synonym_knows(api, owners):
    ann, _ = owners
    text = "Who,Digits,Where,Boss,Colour\nKim Park,4155550101,ny,Ann Owner,blue\n"
    status, body = post_csv(api, text)
    assert status == 400 and body["error"]["details"]["missingColumns"] == ["name", "phone"]
    mapping = {"Who": "name", "Digits": "phone", "Where": "state", "Boss": "assignedTo"}
    status, body = post_csv(api, text, mapping=json.dumps(mapping))
    assert status == 200 and body["created"] == 1, body
    assert body["ignoredColumns"] == ["Colour"]
    lead = leads_by_phone(api)["+14155550101"]
    assert lead["name"] == "Kim Park" and lead["state"] == "NY"
    assert lead["assignedToId"] == ann["id"]


def test_a_mapping_overrides_and_ignores_suggested_columns(api):
    text = "Name,Phone,Mobile,Company\nA,4155550101,4155550201,Acme\n"
    # suggested: Mobile is the phone (a better synonym than Phone)
    status, body = post_csv(api, text)
    assert status == 200 and "+14155550201" in leads_by_phone(api)
    assert body["ignoredColumns"] == ["Phone"]
    text = text.replace("A,", "B,").replace("0101", "0102").replace("0201", "0202")
    status, body = post_csv(api, text, mapping=json.dumps({"Phone": "phone", "Company": None}))
    assert status == 200 and body["created"] == 1, body
    lead = leads_by_phone(api)["+14155550102"]
    assert lead["name"] == "B" and lead["company"] is None
    assert sorted(body["ignoredColumns"]) == ["Company", "Mobile"]


def test_a_mapping_in_a_multipart_part_beside_the_file(api, owners):
    _, bob = owners
    raw = "Nom;Téléphone;Responsable\r\nÉlodie Brûlé;4155550101;bob@example.com\r\n"
    mapping = {"Nom": "name", "Téléphone": "phone", "Responsable": "assignedTo"}
    body, headers = multipart(
        {
            "mapping": (json.dumps(mapping).encode(), None),
            "file": (raw.encode("cp1252"), "export.csv"),
        }
    )
    status, report, _ = api.post("/leads/import", raw=body, headers=headers)
    assert status == 200 and report["created"] == 1, report
    assert report["encoding"] == "windows-1252"
    lead = leads_by_phone(api)["+14155550101"]
    assert lead["name"] == "Élodie Brûlé" and lead["assignedToId"] == bob["id"]
    # without a mapping part: the suggestion alone (Téléphone is a phone, Nom is unknown)
    body, headers = multipart({"file": (raw.encode("cp1252"), "export.csv")})
    status, err, _ = api.post("/leads/import", raw=body, headers=headers)
    assert status == 400 and err["error"]["details"]["missingColumns"] == ["name"]
    # no file part, or the mapping twice
    body, headers = multipart({"mapping": (b"{}", None)})
    status, err, _ = api.post("/leads/import", raw=body, headers=headers)
    assert status == 400 and "file" in err["error"]["message"]
    body, headers = multipart({"mapping": (b"{}", None), "file": (b"name,phone\n", "a.csv")})
    status, err, _ = api.post("/leads/import?mapping=%7B%7D", raw=body, headers=headers)
    assert status == 400 and "twice" in err["error"]["message"]


@pytest.mark.parametrize(
    ("mapping", "says"),
    [
        ("not json", "JSON object"),
        ('["name"]', "JSON object"),
        ('{"Who":"nickname"}', "maps to one of"),
        ('{"Who":"name","Digits":"name"}', "mapped from two columns"),
        ('{"Nope":"name"}', "does not have"),
    ],
)
def test_a_bad_mapping_is_a_400_naming_the_problem(api, mapping, says):
    status, body = post_csv(api, "Who,Digits\nA,4155550101\n", mapping=mapping)
    assert status == 400 and body["error"]["code"] == "validation_error"
    assert says in body["error"]["message"]
    assert leads_by_phone(api) == {}


def test_owners_by_email_by_name_and_unknown(api, owners, make_member):
    ann, bob = owners
    make_member(name="Twin Name", email="twin1@example.com")
    make_member(name="Twin Name", email="twin2@example.com")
    gone = make_member(name="Gone Rep", email="gone@example.com")
    api.delete(f"/team-members/{gone['id']}")
    text = (
        "name,phone,owner\n"
        "A,4155550101,ANN.OWNER@example.com\n"
        "B,4155550102,  bob   REP \n"
        f"C,4155550103,{ann['id']}\n"
        "D,4155550104,nobody@example.com\n"
        "E,4155550105,Twin Name\n"
        "F,4155550106,Gone Rep\n"
        "G,4155550107,\n"
    )
    status, body = post_csv(api, text)
    assert status == 200 and body["created"] == 4
    errors = {e["row"]: e["message"] for e in body["errors"]}
    assert sorted(errors) == [5, 6, 7]
    assert "nobody@example.com" in errors[5]
    assert "e-mail instead" in errors[6]
    assert "no longer an active" in errors[7]
    leads = leads_by_phone(api)
    assert leads["+14155550101"]["assignedToId"] == ann["id"]
    assert leads["+14155550102"]["assignedToId"] == bob["id"]
    assert leads["+14155550103"]["assignedToId"] == ann["id"]
    assert leads["+14155550107"]["assignedToId"] is None


def test_the_preview_shows_headers_suggestions_and_a_sample_and_writes_nothing(
    api, owners, ddb_requests
):
    rows = [f"Lead;{i};+1415555{i:04d};Ann Owner" for i in range(7)]
    rows.insert(3, "Odd;One;+14155559999;Someone Else")
    text = "First Name;Surname;Telefon;Lead Owner;\r\n" + "\r\n".join(rows) + "\r\n\r\n"
    ddb_requests.reset()
    status, body = post_csv(api, text.encode("cp1252"), path="/leads/import/preview")
    assert status == 200, body
    assert body["headers"] == ["First Name", "Surname", "Telefon", "Lead Owner", ""]
    assert body["suggested"] == {
        "First Name": "firstName",
        "Surname": "lastName",
        "Telefon": None,
        "Lead Owner": "assignedTo",
        "": None,
    }
    assert body["delimiter"] == ";" and body["encoding"] == "utf-8"  # ASCII is UTF-8
    assert body["rowCount"] == 8 and len(body["rows"]) == 5
    assert body["rows"][0] == {
        "First Name": "Lead",
        "Surname": "0",
        "Telefon": "+14155550000",
        "Lead Owner": "Ann Owner",
        "": "",
    }
    assert body["missingColumns"] == ["phone"]
    assert body["unknownOwners"] == ["Someone Else"] and body["unknownOwnerCount"] == 1
    assert "phone" in body["fields"] and "assignedTo" in body["fields"]
    # only the team was read (the owners); nothing written
    assert dict(ddb_requests.calls) == {"Scan": 1}
    # with a mapping: the suggestion of the mapped header is replaced
    status, body = post_csv(
        api, text, path="/leads/import/preview", mapping=json.dumps({"Telefon": "phone"})
    )
    assert status == 200 and body["suggested"]["Telefon"] == "phone"
    assert body["missingColumns"] == []
    assert leads_by_phone(api) == {}


def test_the_preview_of_a_file_without_an_owner_reads_nothing(api, ddb_requests):
    ddb_requests.reset()
    text = "\ufeffname\tphone\nA\t4155550101\n"
    status, body = post_csv(api, text.encode("utf-8"), path="/leads/import/preview")
    assert status == 200 and body["delimiter"] == "\t" and body["rowCount"] == 1
    assert body["headers"] == ["name", "phone"] and body["missingColumns"] == []
    assert "unknownOwners" not in body
    assert ddb_requests.total == 0
    status, body = post_csv(api, 'a,b\n1,"2\n3,4\n', path="/leads/import/preview")
    assert status == 200 and body["errors"] == [
        {
            "row": 2,
            "message": "a quoted field opened on this row is never closed (the rows after it "
            "were read on their own)",
        }
    ]
    assert body["rowCount"] == 2 and body["rows"] == [{"a": "3", "b": "4"}]


def test_the_preview_stays_small_whatever_the_header_and_clipped_names_map(api):
    from chalicelib.services.lead_csv import PREVIEW_CHARS, PREVIEW_COLUMNS

    long_name = "Telefonnummer " + "x" * 5000
    header = ["Name", long_name] + [f"c{i}" for i in range(15_000)]
    row = ["Kim", "4155550101"] + ["v" * 250] * 15_000
    text = ",".join(header) + "\n" + ",".join(row) + "\n"
    status, body = post_csv(api, text, path="/leads/import/preview")
    assert status == 200
    assert len(json.dumps(body)) < 256 * 1024
    assert len(body["headers"]) == PREVIEW_COLUMNS and body["headersTruncated"] is True
    assert body["columnCount"] == 15_002
    shown = body["headers"][1]
    assert len(shown) == PREVIEW_CHARS and shown.endswith("\u2026")
    assert body["rows"][0]["c0"] == "v" * (PREVIEW_CHARS - 1) + "\u2026"
    assert body["missingColumns"] == ["phone"]
    # the clipped name, as the preview showed it, names the column in a mapping
    status, report = post_csv(api, text, mapping=json.dumps({shown: "phone"}))
    assert status == 200 and report["created"] == 1, report
    assert leads_by_phone(api)["+14155550101"]["name"] == "Kim"


def test_a_header_twice_the_first_column_counts(api):
    text = "Name,Phone,Phone\nA,4155550101,4155550999\n"
    status, body = post_csv(api, text, path="/leads/import/preview")
    assert body["headers"] == ["Name", "Phone", "Phone"]
    assert body["suggested"] == {"Name": "name", "Phone": "phone"}
    assert body["rows"] == [{"Name": "A", "Phone": "4155550101"}]
    status, report = post_csv(api, text, mapping=json.dumps({"Phone": "phone"}))
    assert status == 200 and report["created"] == 1 and report["ignoredColumns"] == ["Phone"]
    assert "+14155550101" in leads_by_phone(api)


def export(api: Any, query: str = "") -> tuple[str, list[dict[str, str]]]:
    status, text, headers = api.get(f"/leads/export{query}")
    assert status == 200, text
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert text.startswith("\ufeff")
    return text, list(csv.DictReader(io.StringIO(text[1:])))


def test_the_export_takes_the_lists_filters_and_names_the_assignee(api, make_lead, owners):
    ann, bob = owners
    make_lead(name="Zoë Ångström", phone="+14155550101", assignedToId=ann["id"])
    make_lead(name="Bob's Lead", phone="+14155550102", assignedToId=bob["id"], status="qualified")
    make_lead(name="Unassigned", phone="+12125550103", company="Café Crème", email="xavier@caf.fr")
    _, rows = export(api)
    assert [r["name"] for r in rows] == ["Unassigned", "Bob's Lead", "Zoë Ångström"]
    header = list(rows[0])
    assert header.index("assignedTo") == header.index("assignedToId") + 1
    by_name = {r["name"]: r for r in rows}
    assert by_name["Zoë Ångström"]["assignedTo"] == "Ann Owner"
    assert by_name["Zoë Ångström"]["assignedToId"] == ann["id"]
    assert by_name["Unassigned"]["assignedTo"] == ""
    names = lambda q: [r["name"] for r in export(api, q)[1]]  # noqa: E731
    assert names("?status=qualified") == ["Bob's Lead"]
    assert names(f"?assignedToId={ann['id']}") == ["Zoë Ångström"]
    assert names(f"?assignedToId={ann['id']}&status=qualified") == []
    assert names("?q=zoe") == ["Zoë Ångström"]  # accents and case folded
    assert names("?q=CAFE") == ["Unassigned"]  # the company
    assert names("?q=xavier%40caf") == ["Unassigned"]  # the e-mail
    assert names("?q=555-0102") == ["Bob's Lead"]  # 4+ digits of the phone, any format
    assert names("?q=0103&status=new") == ["Unassigned"]
    assert names("?q=nobody") == []
    status, body, _ = api.get("/leads/export?status=bogus")
    assert status == 400 and body["error"]["details"]["field"] == "status"
    status, body, _ = api.get("/leads/export?q=" + "x" * 201)
    assert status == 400 and body["error"]["details"]["field"] == "q"


def test_an_export_imports_again_into_an_empty_stage_with_its_owners(api, make_lead, owners):
    from chalicelib import providers
    from chalicelib.store.memory import MemoryStore

    ann, _ = owners
    make_lead(name="José Müller", phone="+14155550101", assignedToId=ann["id"], state="CA")
    text, _ = export(api)
    providers.override(store=MemoryStore())
    status, report = post_csv(api, text)
    # the assignee's id is of the old stage: their name is no help while the id is given
    assert status == 200 and report["created"] == 0 and report["errorCount"] == 1
    assert "assignedToId" in report["errors"][0]["message"]
    # with the id column ignored, the name finds the member of this stage
    status, member, _ = api.post(
        "/team-members", {"name": "Ann Owner", "phone": "+14155550999", "role": "caller"}
    )
    status, report = post_csv(api, text, mapping=json.dumps({"assignedToId": None}))
    assert status == 200 and report["created"] == 1, report
    lead = leads_by_phone(api)["+14155550101"]
    assert lead["name"] == "José Müller" and lead["state"] == "CA"
    assert lead["assignedToId"] == member["id"]
