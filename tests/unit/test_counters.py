from chalicelib.domain import counters
from chalicelib.store.dynamo import counters_of


def test_new_lead_adds_to_its_status_and_total():
    assert counters.lead_status_deltas(None, "new") == {"status#new": 1, "total": 1}


def test_status_change_moves_one_count():
    assert counters.lead_status_deltas("new", "contacted") == {
        "status#new": -1,
        "status#contacted": 1,
    }


def test_archive_removes_from_funnel():
    assert counters.lead_status_deltas("qualified", None) == {
        "status#qualified": -1,
        "total": -1,
    }


def test_no_change_no_delta():
    assert counters.lead_status_deltas("new", "new") == {}


def test_counters_of_reads_numbers_only():
    raw = {"scope": {"S": "all"}, "day": {"S": "2026-11-23"}, "total": {"N": "7"}}
    assert counters_of(raw) == {"total": 7}
