import csv
import io
import json
from typing import NamedTuple

from tests.conftest import TOKEN
from tests.helpers import funnel

CSV = {"Content-Type": "text/csv"}


def import_csv(api, text, encoding="utf-8"):
    raw = text.encode(encoding) if isinstance(text, str) else text
    status, body, _ = api.post("/leads/import", raw=raw, headers=CSV)
    return status, body


def test_good_rows_kept_bad_rows_reported_by_row_number(api):
    text = (
        "name,phone,email,company,notes,status\n"
        "Ann,(415) 555-0101,ann@example.com,Acme,,\n"
        "Bob,not-a-number,,,,\n"
        ",4155550102,,,,\n"
        "Cid,4155550103,bad-email,,,\n"
        "Dee,4155550104,,,,won\n"
        "Eve,4155550105,,,,qualified\n"
    )
    status, body = import_csv(api, text)
    assert status == 200
    assert body["created"] == 2 and body["duplicates"] == 0 and body["rows"] == 6
    assert [e["row"] for e in body["errors"]] == [3, 4, 5, 6]
    assert "phone" in body["errors"][0]["message"]
    _, page, _ = api.get("/leads")
    assert sorted(x["name"] for x in page["items"]) == ["Ann", "Eve"]
    assert {x["source"] for x in page["items"]} == {"csv_import"}
    assert funnel() == {"status#new": 1, "status#qualified": 1, "total": 2}


def test_duplicates_in_file_and_against_existing_are_counted_not_created(api, make_lead):
    make_lead(phone="+14155550101")
    text = "name,phone\nA,4155550101\nB,4155550102\nC,(415) 555-0102\nD,+1 415 555 0103\n"
    status, body = import_csv(api, text)
    assert status == 200 and body["created"] == 2 and body["duplicates"] == 2
    status, again = import_csv(api, text)
    assert again["created"] == 0 and again["duplicates"] == 4


def test_bom_crlf_quotes_and_unicode(api):
    text = (
        "\ufeffName,Phone,Company,Notes\r\n"
        '"Zoë Ünal","(415) 555-0101","Smith, Jones & Co","said ""call me"", twice"\r\n'
        '"李雷",4155550102,,"line one\r\nline two"\r\n'
    )
    status, body = import_csv(api, text)
    assert status == 200, body
    assert body["created"] == 2 and body["errors"] == []
    _, page, _ = api.get("/leads")
    by_name = {x["name"]: x for x in page["items"]}
    assert by_name["Zoë Ünal"]["company"] == "Smith, Jones & Co"
    assert by_name["Zoë Ünal"]["notes"] == 'said "call me", twice'
    assert by_name["李雷"]["notes"] == "line one\r\nline two"


def test_header_is_required_and_must_name_name_and_phone(api):
    status, body = import_csv(api, "")
    assert status == 400
    status, body = import_csv(api, "email,company\nx@y.z,Acme\n")
    assert status == 400 and body["error"]["details"]["missingColumns"] == ["name", "phone"]


def test_unknown_columns_are_ignored_and_reported(api):
    status, body = import_csv(api, "name,phone,favourite colour\nA,4155550101,blue\n")
    assert status == 200 and body["created"] == 1
    assert body["ignoredColumns"] == ["favourite colour"]


def test_neither_utf8_utf16_nor_windows_1252_is_a_clear_400(api):
    # 0x81 and 0x8d are undefined in Windows-1252 and invalid UTF-8 here
    status, body = import_csv(api, b"name,phone\nJos\x81\x8d,4155550101\n")
    assert status == 400 and "UTF-8" in body["error"]["message"]
    assert body["error"]["details"]["byteOffset"] == 14
    status, body = import_csv(api, b"\xff\xfen\x00a\x00m")  # a UTF-16 BOM, odd length
    assert status == 400 and "utf-16le" in body["error"]["message"]


def test_over_the_size_limit_is_413(api, monkeypatch):
    monkeypatch.setenv("MAX_IMPORT_BYTES", "100")
    from chalicelib.config import reset_settings

    reset_settings()
    status, body = import_csv(api, "name,phone\n" + "A,4155550101\n" * 20)
    assert status == 413 and body["error"]["code"] == "payload_too_large"


def test_assignee_in_csv_must_exist(api, make_member):
    member = make_member()
    text = f"name,phone,assignedToId\nA,4155550101,{member['id']}\nB,4155550102,01NOBODY\n"
    _status, body = import_csv(api, text)
    assert body["created"] == 1 and body["errors"][0]["row"] == 3
    _, mine, _ = api.get(f"/leads?assignedToId={member['id']}")
    assert [x["name"] for x in mine["items"]] == ["A"]


class Row(NamedTuple):
    name: str
    phone: str
    email: str | None
    company: str | None


def test_rows_are_written_in_guarded_groups(api, ddb_requests):
    """Moto copies all its tables on every transaction: 40 rows here; `make bench` imports
    10,000 into DynamoDB Local (bench_csv_import), and the unit tier 10,000 in memory."""
    from chalicelib.domain import search

    rows = ["name,phone,company"]
    rows += [f"Lead {i},+1415{2000000 + i:07d},Co {i % 50}" for i in range(40)]
    rows.append("Lead dup,+14152000000,x")  # a duplicate inside the file
    ddb_requests.reset()
    status, body = import_csv(api, "\n".join(rows) + "\n")
    assert status == 200
    assert body["created"] == 40 and body["duplicates"] == 1 and body["errorCount"] == 0
    # 1 BatchGetItem (100 keys each); the leads' search tokens first, in BatchWriteItems of 25
    # (each lead's words and digit runs); then one TransactWriteItems: 40 leads, each with its
    # guard written on the condition the number is free, and the group's funnel count
    assert ddb_requests.calls["BatchGetItem"] == 1
    tokens = sum(
        len(search.tokens(Row(f"Lead {i}", f"+1415{2000000 + i:07d}", None, f"Co {i % 50}")))
        for i in range(40)
    )
    assert ddb_requests.calls["BatchWriteItem"] == -(-tokens // 25)
    assert ddb_requests.calls["TransactWriteItems"] == 1
    # one PutItem: the audit entry of the import; no lead is written on its own
    assert ddb_requests.calls["PutItem"] == 1 and "Scan" in ddb_requests.calls  # team scan
    assert funnel() == {"status#new": 40, "total": 40}


def test_errors_are_capped_but_counted(api):
    rows = ["name,phone"] + ["X,bad"] * 1500
    status, body = import_csv(api, "\n".join(rows))
    assert status == 200
    assert body["errorCount"] == 1500 and len(body["errors"]) == 1000
    assert body["errorsTruncated"] is True


def test_export_round_trips_and_neutralises_formulas(api, make_lead):
    make_lead(name='=HYPERLINK("http://evil")', phone="+14155550101", company="Acme, Inc")
    make_lead(name="Plain", phone="+14155550102", notes="-5 is fine? @home")
    status, text, headers = api.get("/leads/export")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["phone"] for r in rows] == ["+14155550102", "+14155550101"]
    assert rows[1]["name"].startswith("'=")
    assert rows[1]["company"] == "Acme, Inc"
    assert rows[0]["notes"] == "'-5 is fine? @home"
    # what was exported can be imported again (as duplicates)
    status, body = import_csv(api, text)
    assert body["duplicates"] == 2 and body["created"] == 0


def test_the_report_stays_small_whatever_the_file(api):
    """The worst case within MAX_IMPORT_BYTES: a header of long and of countless ignored
    columns, then more bad rows than are listed. The answer stays far under Lambda's 6 MB."""
    from chalicelib import providers
    from chalicelib.services.lead_csv import (
        MAX_COLUMN_CHARS,
        MAX_REPORTED_COLUMNS,
        MAX_REPORTED_ERRORS,
    )

    limit = providers.settings().max_import_bytes
    long_names = [f"{i:03d}" + "x" * 100_000 for i in range(20)]  # ~2 MB of names
    short_names = ["y"] * 1_000_000  # ~2 MB of one-letter columns
    header = ",".join(["name", "phone", *long_names, *short_names])
    rows = [f"X{i},bad" for i in range(150_000)]  # ~1.5 MB of errors
    text = header + "\n" + "\n".join(rows) + "\n"
    raw = text.encode()
    assert len(raw) <= limit
    resp = api.client.http.post(
        "/leads/import",
        headers={**CSV, "Authorization": f"Bearer {TOKEN}"},
        body=raw,
    )
    assert resp.status_code == 200
    assert len(resp.body) < 512 * 1024, len(resp.body)
    body = json.loads(resp.body)
    assert body["ignoredColumnCount"] == 1_000_020 and body["ignoredColumnsTruncated"] is True
    assert len(body["ignoredColumns"]) == MAX_REPORTED_COLUMNS
    assert all(len(c) <= MAX_COLUMN_CHARS for c in body["ignoredColumns"])
    assert body["ignoredColumns"][0].startswith("000x")
    assert body["errorCount"] == 150_000 and len(body["errors"]) == MAX_REPORTED_ERRORS


def test_long_error_messages_and_header_details_are_clipped(api):
    from chalicelib.services.lead_csv import MAX_MESSAGE_CHARS, ImportResult

    result = ImportResult()
    result.add_error(2, "m" * 100_000)
    assert len(result.errors[0]["message"]) == MAX_MESSAGE_CHARS
    assert result.error_count == 1
    status, body = import_csv(api, ",".join(["z" * 100_000] * 50) + "\n")
    assert status == 400
    assert all(len(h) <= 100 for h in body["error"]["details"]["header"])


def test_a_few_ignored_columns_are_listed_in_full(api):
    status, body = import_csv(api, "name,phone,a,b\nA,4155550101,1,2\n")
    assert status == 200
    assert body["ignoredColumns"] == ["a", "b"] and body["ignoredColumnCount"] == 2
    assert body["ignoredColumnsTruncated"] is False


def test_small_export_is_the_csv_itself_even_with_a_bucket(aws, api, make_lead, monkeypatch):
    make_lead(name="Plain", phone="+14155550102")
    _, before, _ = api.get("/leads/export")
    monkeypatch.setenv("EXPORT_BUCKET", "coldcall-test-exports")
    from chalicelib.config import reset_settings

    reset_settings()
    status, text, headers = api.get("/leads/export")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert text == before and "Location" not in headers


def test_large_export_in_aws_is_a_303_to_a_presigned_s3_url(aws, api, make_lead, monkeypatch):
    from urllib.parse import parse_qs, urlparse

    import boto3

    for i in range(5):
        make_lead(name=f"Lead {i}", phone=f"+141555501{i:02d}")
    _, inline, _ = api.get("/leads/export")  # no EXPORT_BUCKET (make dev): the CSV itself
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="coldcall-test-exports")
    monkeypatch.setenv("EXPORT_BUCKET", "coldcall-test-exports")
    monkeypatch.setenv("EXPORT_INLINE_MAX_BYTES", "100")
    from chalicelib.config import reset_settings

    reset_settings()
    status, body, headers = api.get("/leads/export")
    assert status == 303 and not body
    url = urlparse(headers["Location"])
    assert url.scheme == "https" and "coldcall-test-exports" in url.netloc + url.path
    assert int(parse_qs(url.query)["X-Amz-Expires"][0]) <= 900
    key = url.path.split("coldcall-test-exports/")[-1].lstrip("/")
    obj = s3.get_object(Bucket="coldcall-test-exports", Key=key)
    assert obj["ContentType"].startswith("text/csv")
    assert "attachment" in obj["ContentDisposition"]
    assert obj["Body"].read().decode() == inline
