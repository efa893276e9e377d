"""The CSV import writes its leads in guarded groups (services/lead_csv.py): 10,000 rows in
one request (no time budget spent), slice after slice, each number's guard conditional, the
funnel counted with each group; a number taken by someone else meanwhile refuses only its own
lead."""

from __future__ import annotations

from chalicelib.domain import counters
from chalicelib.domain.records import LeadToken
from chalicelib.services import lead_csv, leads
from chalicelib.services.leads import NewLead
from chalicelib.store.memory import MemoryStore


def _parse(row: dict[str, str]) -> NewLead:
    return NewLead(name=row["name"], phone=row["phone"])


def _csv(numbers: range) -> bytes:
    rows = ["name,phone"] + [f"Lead {i},+1415{2000000 + i:07d}" for i in numbers]
    return ("\n".join(rows) + "\n").encode()


def test_ten_thousand_rows_in_guarded_groups(deps):
    store = deps.store
    assert isinstance(store, MemoryStore)
    before = store.requests
    # no time budget: one call however slow the machine (tests/unit/test_lead_import_resume.py
    # drives the budget with a fake timer)
    result = lead_csv.import_csv(
        deps, _csv(range(10_000)), 1 << 24, _parse, budget_seconds=float("inf")
    )
    assert result.created == 10_000 and result.duplicates == 0
    # the team, then 20 slices of 500 rows, each: the guards' pre-check, the slice's search
    # tokens in batches of 25 ("lead", the row's number, the phone's digit runs), then 11
    # transactions of up to 49 leads: each lead and its guard, and the group's funnel count,
    # within DynamoDB's 100 items a transaction
    tokens = store.tables[LeadToken]
    assert len({t.lead_id for t in tokens.values()}) == 10_000
    slices = 10_000 // lead_csv.SLICE_ROWS
    token_batches = store.requests - before - 1 - slices - slices * 11
    # a slice's last batch may be short
    assert -(-len(tokens) // 25) <= token_batches <= -(-len(tokens) // 25) + slices - 1
    funnel = store.counters[(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)]
    assert funnel["total"] == 10_000 and funnel["status#new"] == 10_000


def test_a_number_taken_meanwhile_refuses_only_its_lead(deps, monkeypatch):
    """Between the pre-check and the write, POST /leads takes one of the file's numbers: its
    group is refused by name and written again without it."""
    real = deps.store.leads.taken_phones

    def taken_then_raced(phones):
        seen = real(phones)
        leads.create(deps, NewLead(name="Racer", phone="+14152000007"))
        return seen

    monkeypatch.setattr(deps.store.leads, "taken_phones", taken_then_raced)
    result = lead_csv.import_csv(deps, _csv(range(100)), 1 << 24, _parse)
    assert (result.created, result.duplicates) == (99, 1)
    holder = deps.store.leads.id_by_phone("+14152000007")
    assert deps.store.leads.get(holder).name == "Racer"
    store = deps.store
    assert isinstance(store, MemoryStore)
    funnel = store.counters[(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY)]
    assert funnel["total"] == 100  # 99 imported and the racer, each counted once
    # the refused lead's search tokens were deleted again: every token names a lead
    named = {t.lead_id for t in store.tables[LeadToken].values()}
    assert len(named) == 100 and all(deps.store.leads.get(i) for i in named)


def test_an_import_that_keeps_colliding_leaves_no_tokens(deps, monkeypatch):
    """Every group collides with another writer each time it is sent: the import gives up
    with a 409 naming what was written, and the tokens written ahead of the leads go again."""
    import pytest

    from chalicelib.errors import Conflict
    from chalicelib.store.base import TransactionFailed

    monkeypatch.setattr(
        deps.store,
        "transact_each",
        lambda batches: [TransactionFailed([], conflict=True) for _ in batches],
    )
    with pytest.raises(Conflict) as caught:
        lead_csv.import_csv(deps, _csv(range(60)), 1 << 24, _parse)
    assert caught.value.details == {"created": 0, "notWritten": 60}
    store = deps.store
    assert isinstance(store, MemoryStore)
    assert store.tables[LeadToken] == {}
