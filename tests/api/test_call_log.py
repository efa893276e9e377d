"""The call log (`GET /calls?from=&to=&teamMemberId=&outcome=&disposition=`): the team's calls
by business day, newest first, paged across days, filtered on the server, with lead names and
outcomes; a caller sees their own calls only. And dispositions in the stats: meetings booked
per member, and `meeting_booked` moving a lead to `qualified`."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import CALLER_ID, Team
from tests.api.test_calls import lead_leg, member_leg, place

# (day offset from 2026-11-23, hour, member, status, lead leg, answered by, disposition)
SHAPES = [
    (0, 16, "caller", "completed", "completed", "human", "meeting_booked"),
    (0, 15, "other", "completed", "completed", "machine_end_beep", "left_voicemail"),
    (0, 14, "caller", "busy", "not-connected", None, None),
    (0, 13, "other", "completed", "no-answer", None, "no_answer"),
    (-1, 12, "caller", "completed", "busy", None, None),
    (-1, 11, "other", "completed", "failed", None, None),
    (-1, 10, "caller", "in-progress", "ringing", None, None),
    (-2, 9, "other", "completed", "canceled", None, None),
    (-3, 9, "caller", "completed", None, None, None),
    (-8, 9, "caller", "completed", "completed", "human", "meeting_booked"),  # out of range
]
OUTCOME = {
    0: "connected",
    1: "voicemail",
    2: "not_connected",
    3: "no_answer",
    4: "busy",
    5: "failed",
    6: "in_progress",
    7: "no_answer",
    8: "not_connected",
    9: "connected",
}


@pytest.fixture
def log(api: Any, clock: Any, people: Team) -> dict[str, Any]:
    """Calls stored as they end up, each created at its moment (its ULID of that moment)."""
    from chalicelib import providers
    from chalicelib.clock import new_id
    from chalicelib.domain.records import Call
    from chalicelib.store.base import Put

    d = providers.deps()
    members = {"caller": people.caller.id, "other": people.other.id}
    ids = []
    for n, (offset, hour, who, status, leg, answered, disposition) in enumerate(SHAPES):
        moment = datetime(2026, 11, 23, hour, 0, tzinfo=UTC) + timedelta(days=offset)
        call = Call(
            id=new_id(moment),
            lead_id=f"L{n}",
            lead_name=f"Lead {n}",
            team_member_id=members[who],
            caller_id=CALLER_ID,
            day=moment.date().isoformat(),
            created_at=moment,
            updated_at=moment,
            status=status,
            lead_leg_status=leg,
            answered_by=answered,
            disposition=disposition,
        )
        d.store.transact([Put("call", call, if_absent=True)])
        ids.append(call.id)
    return {"ids": ids, "team": people}


RANGE = "from=2026-11-17&to=2026-11-23"


def _all(api: Any, query: str, token: str | None = None, limit: int = 100) -> list[dict]:
    """Every page of a query, following the cursor."""
    kw = {"token": token} if token else {}
    items: list[dict] = []
    cursor = ""
    for _ in range(50):
        status, body, _ = api.get(f"/calls?{query}&limit={limit}{cursor}", **kw)
        assert status == 200, body
        items += body["items"]
        if body["nextCursor"] is None:
            return items
        cursor = f"&cursor={body['nextCursor']}"
    raise AssertionError("the cursor never ended")


def _ns(log: dict, items: list[dict]) -> list[int]:
    return [log["ids"].index(i["id"]) for i in items]


def test_the_teams_calls_of_the_range_newest_first_with_names_and_outcomes(api, log):
    items = _all(api, RANGE)
    assert _ns(log, items) == list(range(9))
    assert [i["outcome"] for i in items] == [OUTCOME[n] for n in range(9)]
    assert items[0]["leadName"] == "Lead 0" and items[0]["disposition"] == "meeting_booked"
    # the default range is the last 7 business days to today
    assert _ns(log, _all(api, "to=2026-11-23")) == list(range(9))
    assert _ns(log, _all(api, "from=2026-11-15&to=2026-11-15")) == [9]
    assert _all(api, "from=2026-11-18&to=2026-11-19") == []


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_pages_span_days_without_repeats_or_gaps(api, log, limit):
    assert _ns(log, _all(api, RANGE, limit=limit)) == list(range(9))
    assert _ns(log, _all(api, f"{RANGE}&outcome=no_answer", limit=limit)) == [3, 7]


@pytest.mark.parametrize("limit", [1, 2, 100])
@pytest.mark.parametrize("member", ["caller", "other", None])
@pytest.mark.parametrize("outcome", [None, "connected", "no_answer", "not_connected", "busy"])
@pytest.mark.parametrize("disposition", [None, "meeting_booked", "left_voicemail"])
def test_every_filter_combination(api, log, limit, member, outcome, disposition):
    team = log["team"]
    ids = {"caller": team.caller.id, "other": team.other.id}
    query = RANGE
    if member:
        query += f"&teamMemberId={ids[member]}"
    if outcome:
        query += f"&outcome={outcome}"
    if disposition:
        query += f"&disposition={disposition}"
    want = [
        n
        for n, shape in enumerate(SHAPES[:9])
        if (member is None or shape[2] == member)
        and (outcome is None or OUTCOME[n] == outcome)
        and (disposition is None or shape[6] == disposition)
    ]
    assert _ns(log, _all(api, query, limit=limit)) == want


def test_a_caller_sees_their_own_calls_only(api, log):
    team = log["team"]
    mine = [n for n, shape in enumerate(SHAPES[:9]) if shape[2] == "caller"]
    assert _ns(log, _all(api, RANGE, token=team.tokens["caller"])) == mine
    query = f"{RANGE}&teamMemberId={team.caller.id}&outcome=busy"
    assert _ns(log, _all(api, query, token=team.tokens["caller"])) == [4]
    status, err, _ = api.get(
        f"/calls?{RANGE}&teamMemberId={team.other.id}", token=team.tokens["caller"]
    )
    assert status == 403 and err["error"]["code"] == "forbidden"
    status, err, _ = api.get(f"/calls?{RANGE}", token=team.tokens["caller key"])
    assert status == 403
    # managers see everyone's
    assert len(_all(api, RANGE, token=team.tokens["manager"])) == 9


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-11-24&to=2026-11-23",
        "from=2026-13-01",
        "from=yesterday",
        "from=2025-01-01&to=2026-11-23",
        f"{RANGE}&outcome=great",
        f"{RANGE}&disposition=maybe",
        f"{RANGE}&cursor=nope",
        f"{RANGE}&cursor=eyJiIjoxfQ",
        f"{RANGE}&leadId=L1",
        f"{RANGE}&limit=0",
        f"{RANGE}&teamMemberId={'x' * 65}",
    ],
)
def test_bad_queries_are_400(api, log, query):
    status, err, _ = api.get(f"/calls?{query}")
    assert status == 400 and err["error"]["code"] == "validation_error", err


def test_a_cursor_of_another_range_is_400(api, log):
    _, body, _ = api.get(f"/calls?{RANGE}&limit=1")
    status, err, _ = api.get(f"/calls?from=2026-11-01&to=2026-11-05&cursor={body['nextCursor']}")
    assert status == 400 and err["error"]["code"] == "validation_error"


def test_the_old_modes_still_answer_as_before(api, log):
    assert api.get("/calls")[0] == 400
    team = log["team"]
    status, body, _ = api.get(f"/calls?teamMemberId={team.other.id}")
    assert status == 200 and len(body["items"]) == 4  # every day, the by-member index


def test_a_long_quiet_range_answers_with_a_cursor_and_ends(api, log, clock):
    """92 days, nine of them with calls: the days are walked a bounded number at a time."""
    items = _all(api, "from=2026-08-24&to=2026-11-23", limit=100)
    assert _ns(log, items) == list(range(10))


# ---------------------------------------------------------------- dispositions and meetings


@pytest.fixture
def calling(api, telephony, clock, make_member, make_lead):
    member = make_member(name="Ann Caller", phone="+14155550100")
    counter = itertools.count(200)

    def call(status: str = "new", **lead_over: Any) -> tuple[dict, dict]:
        lead = make_lead(
            name="Jane Doe", phone=f"+1212555{next(counter):04d}", status=status, **lead_over
        )
        _, made, _ = place(api, member, lead)
        for s in ("initiated", "ringing", "in-progress"):
            member_leg(api, made["id"], s)
            lead_leg(api, made["id"], s)
        lead_leg(api, made["id"], "completed", CallDuration="40")
        member_leg(api, made["id"], "completed", CallDuration="50")
        return made, lead

    return member, call


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("new", "qualified"),
        ("contacted", "qualified"),
        ("not_interested", "qualified"),
        ("qualified", "qualified"),
        ("converted", "converted"),
    ],
)
def test_a_meeting_booked_moves_the_lead_to_qualified_unless_further(api, calling, before, after):
    _, call = calling
    made, lead = call(before)
    status, got, _ = api.patch(f"/calls/{made['id']}", {"disposition": "meeting_booked"})
    assert status == 200 and got["disposition"] == "meeting_booked"
    assert got["outcome"] == "connected" and got["leadName"] == "Jane Doe"
    _, now, _ = api.get(f"/leads/{lead['id']}")
    assert now["status"] == after


def test_meetings_count_in_the_stats_and_on_the_leaderboard(api, calling):
    from chalicelib import providers
    from chalicelib.services import stats

    member, call = calling
    first, _ = call()
    second, _ = call()
    api.patch(f"/calls/{first['id']}", {"disposition": "meeting_booked"})
    api.patch(f"/calls/{second['id']}", {"disposition": "meeting_booked"})
    api.patch(f"/calls/{second['id']}", {"disposition": "not_interested"})  # changed its mind
    _, body, _ = api.get("/dashboard/stats")
    assert body["calls"]["byDisposition"]["meeting_booked"] == 1
    assert body["calls"]["byDisposition"]["not_interested"] == 1
    row = next(r for r in body["leaderboard"] if r["teamMemberId"] == member["id"])
    assert row["meetings"] == 1
    # the rollup derives the same from the calls: nothing to fix
    report = stats.rollup(providers.deps())
    assert not any(d.fixed for d in report.days), report
    _, again, _ = api.get("/dashboard/stats")
    assert again["calls"]["byDisposition"] == body["calls"]["byDisposition"]
    # clearing the disposition takes it away
    api.patch(f"/calls/{first['id']}", {"disposition": None})
    _, body, _ = api.get("/dashboard/stats")
    assert body["calls"]["byDisposition"]["meeting_booked"] == 0
    assert (
        next(r for r in body["leaderboard"] if r["teamMemberId"] == member["id"])["meetings"] == 0
    )
