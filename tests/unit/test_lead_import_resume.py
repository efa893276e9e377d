"""A CSV import that takes longer than its time budget stops between slices and answers
`nextRow`; the same file sent again `fromRow` it goes on (services/lead_csv.py): every row is
handled exactly once, whatever the number of requests. The timer is a fake: no sleeping."""

from __future__ import annotations

import pytest

from chalicelib.domain import counters
from chalicelib.domain.records import Lead, LeadToken
from chalicelib.errors import ValidationError
from chalicelib.services import lead_csv
from chalicelib.services.leads import NewLead
from chalicelib.store.memory import MemoryStore

SLICE = lead_csv.SLICE_ROWS


def _parse(row: dict[str, str]) -> NewLead:
    return NewLead(name=row["name"], phone=row["phone"])


def _phone(i: int) -> str:
    return f"+1415{2000000 + i:07d}"


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(["name,phone", *rows]) + "\n").encode()


def _file(count: int) -> bytes:
    return _csv([f"Lead {i},{_phone(i)}" for i in range(count)])


class SpentAfterFirstSlice:
    """A monotonic clock: 0 when the import starts, far past any budget when next asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0 if self.calls == 1 else 1000.0


def _import_all(deps, raw: bytes, budget: float | None = 20.0) -> list[lead_csv.ImportResult]:
    """The file imported request after request (a fresh clock each, as each request has)."""
    results = []
    from_row = None
    while True:
        result = lead_csv.import_csv(
            deps,
            raw,
            1 << 24,
            _parse,
            from_row=from_row,
            budget_seconds=budget,
            monotonic=SpentAfterFirstSlice(),
        )
        results.append(result)
        if result.next_row is None:
            return results
        assert from_row is None or result.next_row > from_row  # progress, always
        from_row = result.next_row
        assert len(results) < 100


def _funnel_total(deps) -> int:
    store = deps.store
    assert isinstance(store, MemoryStore)
    return store.counters[(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)]["total"]


def test_past_the_budget_the_answer_names_the_next_row(deps):
    first = lead_csv.import_csv(
        deps, _file(2_500), 1 << 24, _parse, budget_seconds=20, monotonic=SpentAfterFirstSlice()
    )
    # the header is row 1: the first slice is rows 2 to SLICE + 1
    assert (first.created, first.rows, first.next_row) == (SLICE, SLICE, SLICE + 2)
    assert first.total_rows == 2_500
    body = first.to_body()
    assert body["nextRow"] == SLICE + 2 and body["totalRows"] == 2_500


def test_requests_from_next_row_import_every_row_exactly_once(deps):
    results = _import_all(deps, _file(2_500))
    assert len(results) == -(-2_500 // SLICE)
    assert [r.next_row for r in results] == [2 + SLICE * n for n in range(1, len(results))] + [None]
    assert sum(r.created for r in results) == 2_500
    assert sum(r.duplicates for r in results) == 0
    assert sum(r.rows for r in results) == 2_500 and {r.total_rows for r in results} == {2_500}
    store = deps.store
    assert isinstance(store, MemoryStore)
    leads_ = list(store.tables[Lead].values())
    assert sorted(lead.phone for lead in leads_) == sorted(_phone(i) for i in range(2_500))
    with_tokens = {t.lead_id for t in store.tables[LeadToken].values()}
    assert with_tokens == {lead.id for lead in leads_}
    assert _funnel_total(deps) == 2_500


def test_a_duplicate_of_a_row_an_earlier_request_imported_is_a_duplicate(deps):
    rows = [f"Lead {i},{_phone(i)}" for i in range(1_200)]
    rows[SLICE + 100] = f"Again,{_phone(10)}"  # the second request's; row 10's is the first's
    results = _import_all(deps, _csv(rows))
    assert len(results) == 3
    assert results[1].duplicates == 1 and results[0].duplicates == 0
    assert sum(r.created for r in results) == 1_199
    assert _funnel_total(deps) == 1_199


def test_a_budget_of_zero_still_writes_a_slice_a_request(deps):
    results = _import_all(deps, _file(1_600), budget=0)
    assert [r.created for r in results] == [SLICE, SLICE, SLICE, 1_600 - 3 * SLICE]
    assert _funnel_total(deps) == 1_600


def test_errors_are_reported_once_by_the_request_that_read_them(deps):
    rows = [f"Lead {i},{_phone(i)}" for i in range(1_100)]
    rows[3] = "Bad,not a number"  # row 5
    rows[SLICE + 7] = "Worse,12"  # row SLICE + 9
    results = _import_all(deps, _csv(rows))
    assert [[e["row"] for e in r.errors] for r in results] == [[5], [SLICE + 9], []]
    assert [r.error_count for r in results] == [1, 1, 0]
    assert sum(r.created for r in results) == 1_098


def test_from_row_skips_the_rows_before_it(deps):
    result = lead_csv.import_csv(deps, _file(10), 1 << 24, _parse, from_row=7)
    assert (result.created, result.rows, result.total_rows, result.next_row) == (5, 5, 10, None)
    store = deps.store
    assert isinstance(store, MemoryStore)
    assert sorted(lead.phone for lead in store.tables[Lead].values()) == [
        _phone(i) for i in range(5, 10)
    ]


@pytest.mark.parametrize("from_row", [0, 1, 12, 1_000])
def test_a_from_row_outside_the_data_rows_is_refused(deps, from_row):
    with pytest.raises(ValidationError) as caught:
        lead_csv.import_csv(deps, _file(10), 1 << 24, _parse, from_row=from_row)
    assert caught.value.details == {"field": "fromRow", "firstRow": 2, "lastRow": 11}
    store = deps.store
    assert isinstance(store, MemoryStore)
    assert store.tables[Lead] == {}


def test_rows_are_numbered_from_the_top_of_the_file(deps):
    """Empty lines before the header are rows too, as the errors number them."""
    raw = b"\n\nname,phone\nA,not a number\nB," + _phone(1).encode() + b"\n"
    result = lead_csv.import_csv(deps, raw, 1 << 24, _parse)
    assert [e["row"] for e in result.errors] == [4]
    with pytest.raises(ValidationError):
        lead_csv.import_csv(deps, raw, 1 << 24, _parse, from_row=3)
    again = lead_csv.import_csv(deps, raw, 1 << 24, _parse, from_row=5)
    assert (again.rows, again.duplicates, again.errors) == (1, 1, [])
