"""A suppression import that takes longer than its time budget stops between slices of numbers
and answers `nextRow`; the same file sent again `fromRow` it goes on
(services/suppressions.import_numbers): every number is handled exactly once, whatever the
number of requests. The timer is a fake: no sleeping."""

from __future__ import annotations

import pytest

from chalicelib.domain import suppressions as rules
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Suppression
from chalicelib.errors import ValidationError
from chalicelib.services import suppressions
from chalicelib.store.memory import MemoryStore

MANAGER = Actor("member", "M1", "Max Manager", "manager")
SLICE = 10


@pytest.fixture(autouse=True)
def small_slices(monkeypatch):
    monkeypatch.setattr(suppressions, "SLICE_NUMBERS", SLICE)


def _phone(i: int) -> str:
    return f"+1415{2000000 + i:07d}"


def _file(lines: list[str], header: bool = True) -> bytes:
    return ("\n".join((["phone"] if header else []) + lines) + "\n").encode()


def _numbers(count: int) -> list[str]:
    return [_phone(i) for i in range(count)]


class SpentAfterFirstSlice:
    """A monotonic clock: 0 when the import starts, far past any budget when next asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0 if self.calls == 1 else 1000.0


def _import_all(deps, raw: bytes, budget: float = 20.0, channels=None):
    """The file imported request after request (a fresh clock each, as each request has)."""
    reports = []
    from_row = None
    while True:
        report = suppressions.import_numbers(
            deps,
            MANAGER,
            raw,
            channels,
            from_row=from_row,
            budget_seconds=budget,
            monotonic=SpentAfterFirstSlice(),
        )
        reports.append(report)
        if report.next_row is None:
            return reports
        assert from_row is None or report.next_row > from_row  # progress, always
        from_row = report.next_row
        assert len(reports) < 100


def _ledger(deps) -> dict[str, Suppression]:
    store = deps.store
    assert isinstance(store, MemoryStore)
    return {s.phone: s for s in store.tables[Suppression].values()}


def test_past_the_budget_the_answer_names_the_next_row(deps):
    raw = _file(_numbers(25))
    first = suppressions.import_numbers(
        deps, MANAGER, raw, budget_seconds=20, monotonic=SpentAfterFirstSlice()
    )
    # the header is line 1: the first slice is lines 2 to SLICE + 1
    assert (first.added, first.rows, first.next_row, first.total_rows) == (SLICE, SLICE, 12, 25)
    body = first.to_body()
    assert body["nextRow"] == 12 and body["totalRows"] == 25
    assert sorted(_ledger(deps)) == _numbers(SLICE)


def test_requests_from_next_row_import_every_number_exactly_once(deps):
    reports = _import_all(deps, _file(_numbers(25)))
    assert [r.next_row for r in reports] == [12, 22, None]
    assert [r.added for r in reports] == [10, 10, 5]
    assert sum(r.duplicates for r in reports) == 0
    assert sum(r.rows for r in reports) == 25 and {r.total_rows for r in reports} == {25}
    ledger = _ledger(deps)
    assert sorted(ledger) == _numbers(25)
    assert all(rules.channels_of(s) == ["voice", "sms"] for s in ledger.values())


def test_a_slice_is_its_gets_then_its_writes(deps):
    """Each slice reads its numbers (one BatchGetItem) and writes them (one BatchWriteItem per
    25, here SLICE): one request = slices x 2 + the audit entry."""
    before = deps.store.requests
    reports = _import_all(deps, _file(_numbers(30)), budget=1e9)
    assert len(reports) == 1 and reports[0].added == 30
    assert deps.store.requests - before == 3 * 2 + 1


def test_a_number_an_earlier_request_added_is_a_duplicate(deps):
    lines = _numbers(25)
    lines[15] = _phone(3)  # the second request's; the first added it
    lines[22] = "(415) 200-0004"  # the third's, in another form
    reports = _import_all(deps, _file(lines))
    assert [r.duplicates for r in reports] == [0, 1, 1]
    assert sum(r.added for r in reports) == 23
    assert sorted(_ledger(deps)) == [p for i, p in enumerate(_numbers(25)) if i not in (15, 22)]


def test_a_number_listed_on_fewer_channels_is_merged_once(deps):
    """A number already listed for calls, asked for both: added by the first request that
    reads it; a later line with it is a duplicate (listed on every channel asked by then)."""
    suppressions.add(deps, MANAGER, _phone(2), ["voice"], source="manual")
    lines = [*_numbers(15), _phone(2)]
    reports = _import_all(deps, _file(lines))
    assert [r.added for r in reports] == [10, 5]
    assert [r.duplicates for r in reports] == [0, 1]
    assert rules.channels_of(_ledger(deps)[_phone(2)]) == ["voice", "sms"]


def test_a_budget_of_zero_still_writes_a_slice_a_request(deps):
    reports = _import_all(deps, _file(_numbers(35)), budget=0)
    assert [r.added for r in reports] == [10, 10, 10, 5]
    assert len(_ledger(deps)) == 35


def test_errors_are_reported_once_by_the_request_that_read_them(deps):
    lines = _numbers(23)
    lines[3] = "not a number"  # line 5
    lines[14] = "12"  # line 16: the second request's
    reports = _import_all(deps, _file(lines))
    assert [[e["row"] for e in r.errors] for r in reports] == [[5], [16], []]
    assert [r.error_count for r in reports] == [1, 1, 0]
    assert sum(r.added for r in reports) == 21
    assert sum(r.rows for r in reports) == 23


def test_from_row_skips_the_lines_before_it(deps):
    raw = _file(_numbers(10))
    report = suppressions.import_numbers(deps, MANAGER, raw, from_row=7)
    assert (report.added, report.rows, report.total_rows, report.next_row) == (5, 5, 10, None)
    assert sorted(_ledger(deps)) == _numbers(10)[5:]


def test_the_header_is_skipped_only_as_the_files_first_line(deps):
    raw = b"\n\nArea Code,Phone Number\n415,2000000\nphone\n"
    report = suppressions.import_numbers(deps, MANAGER, raw)
    assert (report.rows, report.added, report.total_rows) == (2, 1, 2)
    assert [e["row"] for e in report.errors] == [5]
    again = suppressions.import_numbers(deps, MANAGER, raw, from_row=3)
    assert (again.rows, again.duplicates, again.error_count) == (2, 1, 1)


@pytest.mark.parametrize("from_row", [0, 13, 1_000])
def test_a_from_row_outside_the_file_is_refused(deps, from_row):
    with pytest.raises(ValidationError) as caught:
        suppressions.import_numbers(deps, MANAGER, _file(_numbers(10)) + b"\n\n", from_row=from_row)
    assert caught.value.details == {"field": "fromRow", "firstRow": 1, "lastRow": 11}
    assert _ledger(deps) == {}


def test_a_from_row_of_an_empty_file_is_refused(deps):
    with pytest.raises(ValidationError) as caught:
        suppressions.import_numbers(deps, MANAGER, b"\n \n", from_row=1)
    assert caught.value.details == {"field": "fromRow", "firstRow": 1, "lastRow": 0}


def test_a_request_takes_at_most_max_import_numbers_then_names_the_next_row(deps, monkeypatch):
    monkeypatch.setattr(suppressions, "MAX_IMPORT_NUMBERS", 2 * SLICE)
    reports = _import_all(deps, _file(_numbers(45)), budget=1e9)
    assert [r.added for r in reports] == [20, 20, 5]
    assert [r.next_row for r in reports] == [22, 42, None]
    assert all(r.error_count == 0 for r in reports)


def test_each_request_has_its_audit_entry_with_where_it_began_and_stopped(deps):
    _import_all(deps, _file(_numbers(15)))
    entries = deps.store.audit.page("suppression.added", 100, None).items
    details = sorted(e.details or "" for e in entries)
    assert len(details) == 2
    assert any('"nextRow":12' in d and "fromRow" not in d for d in details), details
    assert any('"fromRow":12' in d and "nextRow" not in d for d in details), details
