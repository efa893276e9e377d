"""DynamoDB requests per operation, asserted: the scripted pass of `make bench`'s cost benchmark
(bench/bench_ddb_cost.py) run under moto, every route and webhook in the states that cost
differently. A change that adds a request to a route shows up here, on purpose: update the
table only when the new request is worth it (and the README's figures with it)."""

from __future__ import annotations

from typing import Any

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
    # issue 17: the leads' search tokens (~20 a lead here) are written first, in
    # BatchWriteItems of 25
    "lead_import_10": {S: 1, "BatchGetItem": 1, "BatchWriteItem": 8, T: 1, P: 1},
    # + the funnel item for `total` (first pages of lists the funnel counts: all, a status)
    "lead_list": {Q: 1, "BatchGetItem": 1, G: 1},  # + the page's flags
    "lead_list_by_status": {Q: 1, "BatchGetItem": 1, G: 1},
    "lead_list_by_assignee": {Q: 1, "BatchGetItem": 1},  # no total: a count would read
    # search: each term's token partition (one consistent keys-only Query a term: "jane do"
    # reads two, intersected), the leads left (one consistent BatchGetItem), the page's flags
    "lead_search_name": {Q: 2, B: 2},
    "lead_search_phone": {Q: 1, B: 2},
    "lead_search_new": {Q: 1, B: 2},
    # sorts and filters: one Query on the index that fits (+ the funnel for `total` where
    # it counts the list: sorted lists of every lead)
    "lead_list_sort_name": {Q: 1, B: 1, G: 1},
    "lead_list_sort_contact": {Q: 1, B: 1, G: 1},
    "lead_list_never_called": {Q: 1, B: 1},
    "lead_list_source": {Q: 1, B: 1},
    # the ledger's list (one Query); nothing is suppressed yet in this pass, so no guards and
    # leads to read (with numbers listed: + one BatchGetItem each and the page's flags, as
    # tests/api/test_lead_search.py asserts)
    "lead_list_opted_out": {Q: 1},
    # still one transaction: the old name's tokens deleted, the new one's put with the lead
    "lead_rename": {G: 2, T: 1},
    "lead_list_campaign": {Q: 1, B: 1},  # the by-campaign index
    # the file is read, nothing written; an owner column reads the team (owners no member
    # matches are listed)
    "lead_import_preview": {S: 1},
    # + the audit entry; + the flags, one BatchGetItem per 100 leads (an export re-imports as
    # the same suppressions); + the team, once, for the assignees' names
    "lead_export_13": {Q: 1, S: 1, P: 1, "BatchGetItem": 1},
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
    # the call read and updated with its disposition counters (one transaction); a meeting
    # booked moves the lead to `qualified`: the lead read, then `leads.update` (its read and
    # its transaction with the funnel)
    "call_wrap_up": {G: 3, T: 2},
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
    # campaigns (issue 15): the rules document (the caller ID's restricted check) and each
    # member; the campaign; the audit entry
    "campaign_create": {G: 2, P: 2},
    "campaign_list": {Q: 1},
    "campaign_get": {G: 1},
    "campaign_update": {G: 1, U: 1, P: 1},  # edited by an Update of the changed fields
    # the campaign, the leads (one BatchGetItem per 100), one transaction per 49 leads (each:
    # its campaign lead item and the guard on the lead; the campaign's counter), audit
    "campaign_add_lead": {G: 1, B: 1, T: 1, P: 1},
    # the filter walks the lead list's index (a Query per 100 leads) instead
    "campaign_add_filter": {G: 1, Q: 1, T: 1, P: 1},
    "campaign_leads_ready": {G: 1, Q: 1, B: 1},  # + the page's leads (names, phones)
    # counters on the campaign item; its answered/abandoned days of the last 30 (one Query)
    "campaign_stats": {G: 1, Q: 1},
    # the campaign, the campaign lead and the lead (consistent); one transaction; audit
    "campaign_remove_lead": {G: 3, T: 1, P: 1},
    "campaign_archive": {G: 1, U: 1, P: 1},  # its leads are released lazily: O(1)
    "callback_create": {G: 2, P: 1},  # the lead, the owner
    "callback_list": {Q: 1},
    "callback_delete": {G: 1, D: 1, P: 1},  # + the audit entry
    # working the lists (issue 17). The call log: one Query on by-day per day of the range
    # (this day holds fewer than a chunk of calls), or on by-member over the range's ids
    "call_log_day": {Q: 1},
    "call_log_member": {Q: 1},
    # a page of the inbox's `all` index and its leads (names, who may see them); the unread
    # count: the sparse unread index's lead ids and their leads
    "inbox_list": {Q: 2, B: 2},
    # the lead (may the actor read it), the thread's Update; the unread count
    "inbox_read": {G: 1, U: 1, Q: 1, B: 1},
    # the member (active), the leads (one BatchGetItem per 100), one transaction per 40 leads
    # (each lead's Put on its version; the funnel, when statuses move, summed), the audit entry
    "lead_bulk_assign_10": {G: 1, B: 1, T: 1, P: 1},
    "lead_bulk_status_10": {B: 1, T: 1, P: 1},
    # the leads; the ledger's items (one BatchGetItem per 100 numbers), one BatchWriteItem per
    # 25 numbers; the audit entry
    "lead_bulk_suppress_10": {B: 2, "BatchWriteItem": 1, P: 1},
    # The power dialer (issue 15), a session over a person, a machine and a busy line. Start:
    # the campaign, the member, the rules (the member's number and the caller ID checked);
    # the session and the member's guard (one transaction); the member's call SID; the audit
    "dialer_start": {G: 5, T: 1, P: 2},
    "dialer_member_answered": {G: 2},  # the session; the campaign's name for the greeting
    "dialer_member_gather": {G: 1, P: 1},  # `ready`: one conditional Put of the session
    # a dial: the session (read once by the webhook), the campaign; take_next (the member's
    # due callbacks, the queue: 2 Query; the reservation: 1 UpdateItem; the lead; the
    # compliance check: 1 BatchGetItem); the Call + the session + the day's counters in one
    # transaction; the SID; the session read again (a session ended meanwhile hangs up)
    "dialer_conference_join_dial": {G: 4, Q: 2, U: 2, B: 1, T: 1},
    "dialer_session_get": {G: 1},
    "dialer_lead_status_ringing": {G: 1, T: 1},  # the call's transition alone
    "dialer_lead_answered_human": {G: 4, T: 1, P: 1},  # + the verdict saved; bridged: a Put
    "dialer_lead_status_answered": {G: 1, T: 1},
    # the final status with the campaign's counters (one transaction), the session to wrap_up
    "dialer_lead_status_completed_wrap_up": {G: 2, T: 1, P: 1},
    "dialer_lead_status_duplicate": {G: 2},  # the session and the call: nothing written
    # the disposition saved on the call as a wrap-up is (its counters and a meeting's lead
    # status move with it: the call, the lead, a transaction; + the call read back), the
    # attempt recorded (the campaign, the entry, a transaction, the entry as written), then a
    # dial as above
    "dialer_next": {G: 11, Q: 2, U: 2, B: 1, T: 4},
    # the verdict and the message in one write; the session moved on; the attempt; a dial
    "dialer_lead_answered_machine": {G: 10, Q: 2, U: 2, B: 1, T: 3, P: 1},
    "dialer_lead_status_machine_completed": {G: 2, T: 1},  # not the current call: counted only
    # the attempt recorded, the queue found empty: the session waits (`ready`, `no_leads`)
    "dialer_lead_status_busy_none_left": {G: 6, Q: 2, T: 2, P: 2},
    "dialer_end": {G: 2, D: 1, P: 2},  # the session ended, its guard freed, the audit entry
    "dialer_member_status_completed": {G: 2},  # the session has ended: nothing to do
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
    """Scans are for the team table only (team list, the import's and its preview's owners, the
    export's assignee names, stats' leaderboard names), never calls, messages or leads."""
    scanning = {name for name, f in scripted.figures.items() if f.requests.get(S)}
    assert scanning == {
        "team_list",
        "lead_import_10",
        "lead_import_preview",
        "lead_export_13",
        "stats",
    }


def _queue_world(size: int, suppressed: bool) -> tuple[Any, Any, Any]:
    from chalicelib import providers
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import campaigns, leads, suppressions, team

    d = providers.deps()
    member, _ = team.create(d, team.NewMember(name="Ann", phone="+14155550100"))
    made = [
        leads.create(d, leads.NewLead(name=f"L{i}", phone=f"+1212555{i:04d}")) for i in range(size)
    ]
    if suppressed:
        suppressions.add_many(d, SYSTEM, [(x.phone, ["voice"]) for x in made], source="manual")
    campaign = campaigns.create(d, SYSTEM, {"name": "Bench"})
    campaigns.add_leads_by_id(d, SYSTEM, campaign.id, [x.id for x in made])
    return d, d.store.campaigns.get(campaign.id, consistent=True), member


@pytest.mark.parametrize("size", [10, 60])
def test_taking_the_next_lead_costs_the_same_whatever_the_campaigns_size(
    api, ddb_requests, clock, size
):
    """A good first candidate: the member's due callbacks (one Query), the queue (one Query),
    the reservation (one conditional UpdateItem), the lead, the compliance check (one
    BatchGetItem). Every candidate refused (all suppressed): at most MAX_CANDIDATES examined,
    each a reservation, the lead, the check and its move (a transaction): the same for 10
    leads and 60."""
    from chalicelib.services import queue

    d, campaign, member = _queue_world(size, suppressed=False)
    ddb_requests.reset()
    assert queue.take_next(d, campaign, "S1", member.id) is not None
    assert dict(ddb_requests.calls) == {Q: 2, U: 1, G: 1, B: 1}


@pytest.mark.parametrize("size", [10, 60])
def test_a_take_whose_candidates_are_all_refused_stays_bounded(api, ddb_requests, clock, size):
    from chalicelib.domain import campaigns as rules
    from chalicelib.services import queue

    d, campaign, member = _queue_world(size, suppressed=True)
    ddb_requests.reset()
    assert queue.take_next(d, campaign, "S1", member.id) is None
    n = rules.MAX_CANDIDATES
    assert dict(ddb_requests.calls) == {Q: 2, U: n, G: n, B: n, T: n}


def _dialer_world(api: Any, size: int) -> tuple[Any, Any, Any]:
    """A member and a campaign of `size` leads (imported), a session whose member pressed 1:
    `ready`, waiting for the conference join that dials."""
    from chalicelib import providers
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import dialer, dialer_hooks, team

    d = providers.deps()
    member, _ = team.create(d, team.NewMember(name="Ann", phone="+14155550100"))
    rows = "\n".join(f"L{i},+1212555{i:04d}" for i in range(size))
    status, _, _ = api.request(
        "POST", "/leads/import", raw=f"name,phone\n{rows}\n", headers={"Content-Type": "text/csv"}
    )
    assert status == 200
    status, campaign, _ = api.post(
        "/campaigns", {"name": "Dial", "callerId": "+15005550006", "memberIds": [member.id]}
    )
    assert status == 201, campaign
    status, added, _ = api.post(f"/campaigns/{campaign['id']}/leads", {"filter": {}})
    assert added["added"] == size, added
    session = dialer.start(d, SYSTEM, campaign["id"], member.id)
    dialer_hooks.member_gather(d, session.id, "1")
    return d, dialer._read(d, session.id), member


def test_a_dials_requests_by_type(api, telephony, clock, ddb_requests):
    """The member joins the conference and the first lead rings; a lead call ends unanswered
    and the next rings: each DynamoDB request by type (tests/unit/test_dialer_cost.py shows
    the same number of requests for 10 leads or 200)."""
    size = 10
    from chalicelib.services import dialer, dialer_hooks
    from chalicelib.telephony import webhooks as hooks

    d, session, _ = _dialer_world(api, size)
    join = {"StatusCallbackEvent": "participant-join", "CallSid": session.member_call_sid}
    ddb_requests.reset()
    dialer_hooks.conference_event(d, session.id, hooks.ConferenceEvent.parse(join))
    assert dict(ddb_requests.calls) == EXPECTED["dialer_conference_join_dial"]
    now = dialer._read(d, session.id)
    assert now.status == "dialing" and now.dialed == 1
    ddb_requests.reset()
    dialer_hooks.lead_status(d, session.id, now.current_call_id or "", "no-answer", 0)
    # the final status + the campaign's counters, the session moved on, the attempt, a dial
    assert dict(ddb_requests.calls) == {G: 8, Q: 2, U: 2, B: 1, T: 3, P: 1}
    assert dialer._read(d, session.id).dialed == 2
