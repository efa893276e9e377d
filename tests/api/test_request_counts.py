"""DynamoDB requests per operation, asserted: the scripted pass of `make bench`'s cost benchmark
(bench/bench_ddb_cost.py) run under moto, every route and webhook in the states that cost
differently. A change that adds a request to a route shows up here, on purpose: update the
table only when the new request is worth it (and the README's figures with it)."""

from __future__ import annotations

import pytest

from bench.bench_ddb_cost import Meter, Pass
from tests.conftest import BASE_ENV, SIM_TOKEN, TOKEN

# Every request counted here is a DynamoDB request: this module runs on moto.
pytestmark = pytest.mark.dynamo

G, Q, S, T, U, P = "GetItem", "Query", "Scan", "TransactWriteItems", "UpdateItem", "PutItem"
D, B = "DeleteItem", "BatchGetItem"

EXPECTED: dict[str, dict[str, int]] = {
    "health": {},
    # the member and its e-mail's guard (unique e-mails); + the audit entry (every admin action
    # is audited: one PutItem each)
    "team_create": {T: 1, P: 1},
    "team_list": {S: 1},  # the team table is small: a Scan by design
    "team_get": {G: 1},
    "team_update": {G: 1, P: 2},  # + the audit entry
    "team_deactivate": {G: 1, P: 2},  # + the audit entry (sessions end with the same Put)
    # The compliance ledger (issue 14): a lead's doNotCall/smsOptOut are views of its number's
    # suppression item, so every answer holding one lead reads that item (+1 GetItem) and
    # every page of leads reads its numbers' items (+1 BatchGetItem, at most 100 keys).
    "lead_create": {G: 2, T: 1},  # assignee check; lead + phone guard + funnel; + the flags
    "lead_get": {G: 2},  # + the flags
    # the lead; its number's ledger item and the rules (both channels from one read)
    "lead_compliance": {G: 1, B: 1},
    "lead_update": {G: 2, T: 1},  # + the flags
    # the team (assignees), the guards (duplicates), one transaction per 49 leads with their
    # guards written on the condition the number is free and the group's funnel count, audit
    "lead_import_10": {S: 1, "BatchGetItem": 1, T: 1, P: 1},
    "lead_list": {Q: 1, "BatchGetItem": 1},  # + the page's flags
    "lead_list_by_status": {Q: 1, "BatchGetItem": 1},
    "lead_list_by_assignee": {Q: 1, "BatchGetItem": 1},
    # + the audit entry; + the flags, one BatchGetItem per 100 leads (an export re-imports as
    # the same suppressions)
    "lead_export_13": {Q: 1, P: 1, "BatchGetItem": 1},
    "lead_archive": {G: 2, T: 1, P: 1},  # + the audit entry; + the flags
    "phone_numbers": {},  # Twilio's list, cached: no DynamoDB
    # lead, the number's suppression item (compliance: one GetItem per call), member; the
    # member's rate counter; call + counters + the member's and the lead's live-call guards;
    # the SID
    "call_place": {G: 2, B: 1, T: 1, U: 2},  # the ledger item and the rules: one BatchGetItem
    "voice_status_initiated": {G: 1, T: 1},
    "voice_status_ringing": {G: 1, T: 1},
    "voice_status_answered": {G: 1, T: 1},
    "voice_connect_whisper": {G: 1},
    # the key press records the lead leg `queued` (dialled), so that a member hanging up
    # before the lead leg's first callback never settles a dialled lead leg `not-connected`
    # + the number's suppression item and the rules, read again right before the <Dial> (a
    # number suppressed since the call was placed is not dialled): one BatchGetItem
    "voice_gather_dial": {G: 1, B: 1, T: 1},
    "voice_lead_status_initiated": {G: 1, T: 1},
    "voice_lead_status_ringing": {G: 1, T: 1},
    "voice_lead_status_answered": {G: 1, T: 1},
    "voice_lead_status_completed": {G: 2, T: 2},  # + the lead marked contacted
    "voice_dial_action_after_completed": {G: 1},  # read, nothing to write
    "voice_status_completed": {G: 1, T: 1, D: 2},  # + the live-call guards released
    "voice_status_duplicate": {G: 1},
    "voice_status_late_ringing": {G: 1},
    "voice_gather_no_press": {G: 1, T: 1},  # the gather route reads once (connect read twice)
    # + the undialled lead leg settled at once; the live-call guards released
    "voice_status_busy_undialled": {G: 2, T: 2, D: 2},
    "call_get": {G: 1},
    "call_list_by_lead": {Q: 1},
    "call_list_by_member": {Q: 1},
    "call_wrap_up": {U: 1},
    "lead_update_status": {G: 2, T: 1},  # + the flags
    # the lead, the number's suppression item and the rules (compliance: one BatchGetItem per
    # text); the rate counter; the SID alone: the contact waits for `delivered`
    "message_send": {G: 1, B: 1, T: 1, U: 2},
    "sms_status_sent": {G: 1, T: 1},
    # + the lead read and its contact stamped (already contacted here: one update)
    "sms_status_delivered": {G: 2, T: 1, U: 1},
    "sms_status_duplicate": {G: 1},
    "sms_incoming": {G: 1, T: 1},
    "sms_incoming_redelivered": {G: 1, T: 1},  # the SID guard refuses it
    "sms_incoming_new_lead": {G: 1, T: 1},
    # the opt-out is the number's: its suppression item read and put back on its version
    # (ordered by the message's ULID), and the audit entry `suppression.added`
    "sms_incoming_stop": {G: 2, T: 1, P: 2},
    "message_list": {Q: 1},
    # day items, funnel, team (names for the leaderboard); + one Query for the member items of
    # the range: each member's day counters live in an item of their own, so that no day item
    # grows with the team past DynamoDB's 400 KB item limit
    "stats": {Q: 2, G: 1, S: 1},
    # + the rate counter and the guards released; + the suppression item at placing and at
    # the key press
    "call_lifecycle": {G: 14, B: 2, T: 11, U: 2, D: 2},
}


@pytest.fixture
def scripted(api, telephony, clock, monkeypatch) -> Pass:
    monkeypatch.setenv("CALLING_HOURS", "00:00-23:59")
    from chalicelib.config import reset_settings

    reset_settings()
    with Meter().installed() as meter:
        scripted = Pass(api.client, meter, TOKEN, SIM_TOKEN, BASE_ENV["PUBLIC_BASE_URL"])
        scripted.run()
    return scripted


def test_every_route_and_webhook_makes_the_requests_it_should(scripted: Pass) -> None:
    got = {name: dict(f.requests) for name, f in scripted.figures.items()}
    assert got == EXPECTED


def test_no_list_or_webhook_scans(scripted: Pass) -> None:
    """Scans are for the team table only (team list, the import's assignee check, stats'
    leaderboard names), never calls, messages or leads."""
    scanning = {name for name, f in scripted.figures.items() if f.requests.get(S)}
    assert scanning == {"team_list", "lead_import_10", "stats"}
