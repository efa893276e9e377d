"""The CSV import writes its leads in guarded groups (services/lead_csv.py): 10,000 rows in
one request, each number's guard conditional, the funnel counted with each group; a number
taken by someone else meanwhile refuses only its own lead."""

from __future__ import annotations

from chalicelib.domain import counters
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
    result = lead_csv.import_csv(deps, _csv(range(10_000)), 1 << 24, _parse)
    assert result.created == 10_000 and result.duplicates == 0
    # the team, the guards' pre-check, then 2,000 transactions of 5 leads: each lead is its
    # item, its guard and its search tokens ("lead", the row's number, the phone's digit
    # runs: up to 17), within DynamoDB's 100 items a transaction
    assert store.requests - before == 1 + 1 + 2000
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
