"""POST /suppressions/import in several requests: past IMPORT_BUDGET_SECONDS the answer names
`nextRow`, and the same file sent again with `?fromRow=` goes on; a bad `fromRow` is a 400
naming it; one request that does it all answers `nextRow: null`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest


@pytest.fixture
def small_slices(monkeypatch):
    """Slices of 4 numbers and a budget of 0 s: each request writes one slice."""
    from chalicelib.config import reset_settings
    from chalicelib.services import suppressions

    monkeypatch.setattr(suppressions, "SLICE_NUMBERS", 4)
    monkeypatch.setenv("IMPORT_BUDGET_SECONDS", "0")
    reset_settings()
    yield
    monkeypatch.delenv("IMPORT_BUDGET_SECONDS")
    reset_settings()


def _file(count: int, bad: tuple[int, ...] = ()) -> str:
    lines = [f"41555501{i:02d}" if i not in bad else "nope" for i in range(count)]
    return "phone\n" + "\n".join(lines) + "\n"


def post(api: Any, text: str, content_type: str = "text/plain", **params: str) -> tuple[int, Any]:
    path = "/suppressions/import" + (f"?{urlencode(params)}" if params else "")
    status, body, _ = api.post(path, raw=text, headers={"Content-Type": content_type})
    return status, body


def listed(api: Any) -> set[str]:
    return {i["phone"] for i in api.get("/suppressions?limit=100")[1]["items"]}


def test_one_request_answers_next_row_null_and_the_total(api):
    status, body = post(api, _file(10))
    assert status == 200 and body["added"] == 10
    assert body["nextRow"] is None and body["totalRows"] == 10 and body["rows"] == 10
    assert set(body) >= {"rows", "added", "duplicates", "errors", "errorCount", "errorsTruncated"}


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv"])
def test_from_next_row_until_done(api, small_slices, content_type):
    text = _file(10, bad=(5,)) + "4155550101\n"  # line 12 repeats line 3
    answers: list[dict[str, Any]] = []
    query: dict[str, str] = {}
    while True:
        status, body = post(api, text, content_type, channels="voice", **query)
        assert status == 200, body
        answers.append(body)
        if body["nextRow"] is None:
            break
        query = {"fromRow": str(body["nextRow"])}
    assert [a["nextRow"] for a in answers] == [6, 11, None]
    assert [a["rows"] for a in answers] == [4, 5, 2]
    assert {a["totalRows"] for a in answers} == {11}
    assert [a["added"] for a in answers] == [4, 4, 1]
    assert [a["duplicates"] for a in answers] == [0, 0, 1]
    # the bad line (line 7) is reported once, by the request that read it
    assert [[e["row"] for e in a["errors"]] for a in answers] == [[], [7], []]
    assert listed(api) == {f"+141555501{i:02d}" for i in range(10) if i != 5}
    assert api.get("/suppressions/%2B14155550109")[1]["channels"] == ["voice"]
    # each request has its audit entry, saying where it began and stopped
    _, audit, _ = api.get("/audit?action=suppression.added&limit=10")
    details = sorted(
        (e["details"].get("fromRow", 0), e["details"].get("nextRow")) for e in audit["items"]
    )
    assert details == [(0, 6), (6, 11), (11, None)]


@pytest.mark.parametrize("from_row", ["abc", "2.5", "-3", "0", "13", "99999999999"])
def test_a_bad_from_row_is_a_400_naming_it(api, from_row):
    status, body = post(api, _file(10) + "\n", fromRow=from_row)
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"]["field"] == "fromRow"
    assert "fromRow" in body["error"]["message"]
    if from_row in ("0", "13"):
        assert body["error"]["details"]["lastRow"] == 11
    assert listed(api) == set()


def test_the_first_and_the_last_line_are_good_from_rows(api):
    status, body = post(api, _file(10), fromRow="11")
    assert status == 200 and (body["rows"], body["added"], body["nextRow"]) == (1, 1, None)
    status, body = post(api, _file(10), fromRow="1")  # the header, skipped as without fromRow
    assert status == 200 and (body["rows"], body["added"], body["duplicates"]) == (10, 9, 1)
