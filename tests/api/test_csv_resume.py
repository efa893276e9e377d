"""POST /leads/import in several requests: past IMPORT_BUDGET_SECONDS the answer names
`nextRow`, and the same file sent again with `fromRow` goes on (text/csv or multipart, the
mapping in the query or a form part); a bad `fromRow` is a 400 naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.test_csv_real_files import multipart, post_csv
from tests.helpers import funnel


@pytest.fixture
def small_slices(monkeypatch):
    """Slices of 4 rows and a budget of 0 s: each request writes one slice."""
    from chalicelib.config import reset_settings
    from chalicelib.services import lead_csv

    monkeypatch.setattr(lead_csv, "SLICE_ROWS", 4)
    monkeypatch.setenv("IMPORT_BUDGET_SECONDS", "0")
    reset_settings()
    yield
    monkeypatch.delenv("IMPORT_BUDGET_SECONDS")
    reset_settings()


def _file(count: int, bad: tuple[int, ...] = ()) -> str:
    rows = [f"Lead {i},41555501{i:02d}" if i not in bad else f"Bad {i},nope" for i in range(count)]
    return "name,phone\n" + "\n".join(rows) + "\n"


def test_one_request_answers_next_row_null_and_the_total(api):
    status, body = post_csv(api, _file(10))
    assert status == 200 and body["created"] == 10
    assert body["nextRow"] is None and body["totalRows"] == 10 and body["rows"] == 10


def test_text_csv_from_next_row_until_done(api, small_slices):
    text = _file(10, bad=(5,)) + "Again,4155550101\n"  # row 12 repeats row 3
    answers: list[dict[str, Any]] = []
    query: dict[str, str] = {}
    while True:
        status, body = post_csv(api, text, **query)
        assert status == 200, body
        answers.append(body)
        if body["nextRow"] is None:
            break
        query = {"fromRow": str(body["nextRow"])}
    assert [a["nextRow"] for a in answers] == [6, 10, None]
    assert [a["rows"] for a in answers] == [4, 4, 3]
    assert {a["totalRows"] for a in answers} == {11}
    assert [a["created"] for a in answers] == [4, 3, 2]
    assert [a["duplicates"] for a in answers] == [0, 0, 1]
    # the bad row (row 7) is reported once, by the request that read it
    assert [[e["row"] for e in a["errors"]] for a in answers] == [[], [7], []]
    assert funnel()["total"] == 9
    _, page, _ = api.get("/leads?limit=100")
    assert len(page["items"]) == 9
    # each request has its audit entry, saying where it began and stopped
    _, audit, _ = api.get("/audit?action=leads.imported&limit=10")
    details = sorted(
        (e["details"].get("fromRow", 0), e["details"].get("nextRow")) for e in audit["items"]
    )
    assert details == [(0, 6), (6, 10), (10, None)]


def test_multipart_with_a_mapping_part_and_from_row(api, small_slices):
    raw = "Nom,Mobile\n" + "\n".join(f"L{i},41555501{i:02d}" for i in range(6)) + "\n"
    mapping = json.dumps({"Nom": "name", "Mobile": "phone"}).encode()
    body, headers = multipart({"mapping": (mapping, None), "file": (raw.encode(), "a.csv")})
    status, first, _ = api.post("/leads/import", raw=body, headers=headers)
    assert status == 200 and (first["created"], first["nextRow"]) == (4, 6), first
    # fromRow in the query beside the form's parts
    status, rest, _ = api.post("/leads/import?fromRow=6", raw=body, headers=headers)
    assert status == 200 and (rest["created"], rest["nextRow"], rest["totalRows"]) == (2, None, 6)
    # or as a form part (the rows are imported already: duplicates)
    body, headers = multipart(
        {"mapping": (mapping, None), "fromRow": (b"5", None), "file": (raw.encode(), "a.csv")}
    )
    status, again, _ = api.post("/leads/import", raw=body, headers=headers)
    assert status == 200 and (again["rows"], again["duplicates"], again["created"]) == (3, 3, 0)
    status, err, _ = api.post("/leads/import?fromRow=5", raw=body, headers=headers)
    assert status == 400 and err["error"]["details"]["field"] == "fromRow"
    assert "twice" in err["error"]["message"]


@pytest.mark.parametrize("from_row", ["abc", "2.5", "-3", "0", "1", "12", "99999999999"])
def test_a_bad_from_row_is_a_400_naming_it(api, from_row):
    status, body = post_csv(api, _file(10), fromRow=from_row)
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"]["field"] == "fromRow"
    assert "fromRow" in body["error"]["message"]
    _, page, _ = api.get("/leads")
    assert page["items"] == []


def test_the_last_row_is_a_good_from_row(api):
    status, body = post_csv(api, _file(10), fromRow="11")
    assert status == 200 and (body["rows"], body["created"], body["nextRow"]) == (1, 1, None)
