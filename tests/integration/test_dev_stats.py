"""Under `make dev`: a call made through the simulator is in the stats as soon as its last
webhook has landed, and the rollup timer repairs a drifted day item and otherwise stays quiet."""

from __future__ import annotations

import time
import urllib.parse
from datetime import date, timedelta

import pytest

from localdev.stack import free_ports
from tests.helpers import wait_for
from tests.integration.test_make_dev import call, start_dev, stop

pytestmark = pytest.mark.integration


def test_stats_follow_simulated_calls_and_the_rollup_repairs_drift(tmp_path, monkeypatch):
    import boto3

    ports = free_ports()  # all different
    monkeypatch.setenv("ROLLUP_SECONDS", "1")
    monkeypatch.setenv("SIM_SPEED", "30")
    monkeypatch.setenv("CALLING_HOURS", "00:00-23:59")
    monkeypatch.delenv("STATS_TIMEZONE", raising=False)
    run = start_dev(tmp_path, ports)  # its reader keeps every line (and the pipe drained)
    proc, api, lines = run.proc, run.api, run.lines
    try:
        _, member = call("POST", f"{api}/team-members", {"name": "Ann", "phone": "+14155550100"})
        # the simulator answers a lead whose number ends in 0, and talks 30 s
        _, lead = call("POST", f"{api}/leads", {"name": "Jane", "phone": "+12125550140"})
        status, placed = call(
            "POST",
            f"{api}/calls",
            {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+15005550006"},
        )
        assert status == 201

        def settled():
            _, got = call("GET", f"{api}/calls/{placed['id']}")
            final = got["status"] == "completed" and got["leadLegStatus"] == "completed"
            return got if final else None

        done = wait_for(settled, timeout=30)
        # no waiting for any job: the last webhook's transaction moved the counters. The range
        # is pinned to the call's day (UTC, the default STATS_TIMEZONE), so a run that crosses
        # midnight reads the same days twice.
        day = placed["createdAt"][:10]
        week = urllib.parse.urlencode(
            {"from": (date.fromisoformat(day) - timedelta(days=6)).isoformat(), "to": day}
        )
        _, body = call("GET", f"{api}/dashboard/stats?{week}")
        calls = body["calls"]
        assert calls["placed"] == 1 and calls["byStatus"]["completed"] == 1
        assert calls["connected"] == 1 and calls["talkSeconds"] == done["talkSeconds"] == 30
        assert body["leaderboard"][0]["teamMemberId"] == member["id"]

        # drift the day item behind the API's back; the timer puts it right
        ddb = boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{ports['DDB_PORT']}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        ddb.update_item(
            TableName="coldcall-dev-stats",
            Key={"scope": {"S": "all"}, "day": {"S": day}},
            UpdateExpression="SET #c = :bad",
            ExpressionAttributeNames={"#c": "calls"},
            ExpressionAttributeValues={":bad": {"N": "41"}},
        )

        def placed_count():
            q = urllib.parse.urlencode({"from": day, "to": day})
            return call("GET", f"{api}/dashboard/stats?{q}")[1]["calls"]["placed"]

        wait_for(lambda: placed_count() == 1, timeout=30)
        time.sleep(2.5)  # a few more runs with nothing to fix
        _, again = call("GET", f"{api}/dashboard/stats?{week}")
        assert again == body
    finally:
        stop(proc)
    assert proc.returncode == 0
    output = "".join(lines)
    rollup_lines = [line for line in lines if '"msg":"rollup"' in line]
    assert len(rollup_lines) == 1, output  # one line: the repair; quiet runs print nothing
    assert '"calls":[41,1]' in rollup_lines[0]
