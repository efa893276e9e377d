"""The power dialer live: a simulated hour of one member's session, over real HTTP.

The live stack (`chalice local` on DynamoDB Local, the Twilio simulator at SIM_SPEED, default
60 here, so an hour takes about a minute) runs one session over a campaign of leads whose
numbers cycle through every outcome digit (API.md, "Simulator additions": 1 busy, 2 no answer,
3 failed, 4 an answering machine, which gets the voicemail, any other a person who talks 30 s).
The member presses 1 once (the simulator does) and, after each conversation, Next at once:
wrap-up time is the member's, not the dialer's. The bench plays the member from the
simulator's side (it sees the person hang up), so no polling of the API adds requests.

Figures:
- `dialer_dials_per_hour` (dials): lead calls placed per simulated hour, from the simulated
  clock (real time x SIM_SPEED). The app's own latency is real time too, so it counts SIM_SPEED
  times over here: the figure is a floor for what a real hour gives.
- `dialer_gap_ms` (ms, median) and `dialer_gap_p90_ms`: measured, real time, from what lets
  the dialer go on to the next lead ringing (the `ringing` callback of the next lead call): the
  member's Next after a conversation, the answering machine's verdict (the dialer moves on
  while the message is left), the final status of a busy, unanswered or failed call.
- `dialer_ddb_requests_per_dial` (requests): every DynamoDB request the API made during the
  session (webhooks and the member's Next; counted by a proxy in front of DynamoDB Local)
  divided by the dials.
"""

from __future__ import annotations

import http.client
import itertools
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import RULES_NOW

Report = Callable[[str, float, str], None]

SIM_HOUR = 3600.0
DEFAULT_SPEED = 60.0
REAL_BUDGET_S = 62.0  # the session stops here whatever the simulated time covered
LEADS = 300
OURS = "+15005550006"
VOICEMAIL = "Hi, this is Sam from Acme. Call us back at 500 555 0006."


class _Counting(BaseHTTPRequestHandler):
    """Forwards DynamoDB's JSON API to the real endpoint, counting requests by operation."""

    upstream: tuple[str, int] = ("127.0.0.1", 8000)
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "?").rsplit(".", 1)[-1]
        with self.lock:
            self.counts[target] += 1
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request("POST", self.path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            conn.close()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def counting_proxy(endpoint: str) -> Iterator[tuple[str, Counter[str]]]:
    """A counting proxy on a free port in front of DynamoDB Local; yields its URL and counts."""
    parts = urlsplit(endpoint)
    counts: Counter[str] = Counter()

    class Handler(_Counting):
        upstream = (parts.hostname or "127.0.0.1", parts.port or 80)

    Handler.counts = counts
    Handler.lock = threading.Lock()
    handler = Handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", counts
    finally:
        server.shutdown()
        server.server_close()


def stamp_webhooks(sim: Any) -> dict[tuple[str, str], float]:
    """When the simulator (in this process) began sending each call's first webhook of each
    kind, to the microsecond (its log's dates are whole seconds, as Twilio's are)."""
    stamps: dict[tuple[str, str], float] = {}
    sender = sim.engine.sender
    send = sender.deliver

    def timed(
        url: str, params: dict[str, str], method: str = "POST", *, kind: str, owner: Any = None
    ) -> Any:
        sid = owner.sid if owner is not None else params.get("CallSid", "")
        stamps.setdefault((sid, kind), time.time())
        return send(url, params, method, kind=kind, owner=owner)

    sender.deliver = timed
    return stamps


def _ok(result: tuple[int, Any], status: int = 200) -> Any:
    code, body = result
    if code != status:
        raise RuntimeError(f"expected {status}, got {code}: {body}")
    return body


def _setup(stack: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    member = _ok(
        stack.post("/team-members", {"name": "Bench Dialer", "phone": "+14155550105"}), 201
    )
    rows = "\n".join(f"Bench lead {i},+1212555{i:04d}" for i in range(LEADS))
    _import(stack, f"name,phone\n{rows}\n")
    body = {
        "name": "Bench hour",
        "callerId": OURS,
        "memberIds": [member["id"]],
        "amd": "voicemail",
        "voicemailMessage": VOICEMAIL,
    }
    campaign = _ok(stack.post("/campaigns", body), 201)
    added = _ok(stack.post(f"/campaigns/{campaign['id']}/leads", {"filter": {}}))
    if added["added"] != LEADS:
        raise RuntimeError(f"campaign filled with {added}")
    return member, campaign


def _import(stack: Any, csv: str) -> Any:
    """`POST /leads/import` (a CSV body: LiveStack's helpers send JSON)."""
    import requests

    resp = requests.post(
        stack.api + "/leads/import",
        data=csv.encode(),
        headers={"Authorization": f"Bearer {stack.token}", "Content-Type": "text/csv"},
        timeout=60,
    )
    if resp.status_code != 200:
        raise RuntimeError(f"import: {resp.status_code} {resp.text[:300]}")
    return resp.json()


def _session_hour(
    stack: Any, member: dict[str, Any], campaign: dict[str, Any], speed: float
) -> dict[str, Any]:
    """Run the session until a simulated hour passed (or the real budget): answers the
    simulated seconds covered, the gaps (s), the dials."""
    sim = stack.sim
    body = {"campaignId": campaign["id"], "teamMemberId": member["id"]}
    started = time.monotonic()
    session = _ok(stack.post("/dialer/sessions", body), 201)
    path = f"/dialer/sessions/{session['id']}"
    pressed: dict[str, float] = {}  # a conversation's lead call SID -> when Next was sent
    over: set[str] = set()  # lead calls already looked at
    while True:
        elapsed = time.monotonic() - started
        if elapsed * speed >= SIM_HOUR or elapsed >= REAL_BUDGET_S:
            break
        for call in sim.calls():
            sid = call["sid"]
            if sid in over or call["to"] == member["phone"] or call["status"] != "completed":
                continue
            if call["answered_by"] != "human":
                over.add(sid)
                continue
            # the person hung up: once the app has the final status, the member presses Next
            final = [
                h
                for h in sim.webhooks(sid)
                if h["sid"] == sid and h["kind"] == "call-status:completed" and h["status"]
            ]
            if not final:
                continue
            over.add(sid)
            pressed[sid] = time.time()
            code, answer = stack.post(f"{path}/next", {"disposition": "connected"})
            if code not in (200, 409):
                raise RuntimeError(f"next: {code} {answer}")
        time.sleep(0.02)
    covered = (time.monotonic() - started) * speed
    _ok(stack.post(f"{path}/end"))
    for call in sim.calls():
        sim.wait_call(call["sid"], timeout=30)
    return {"covered": covered, "pressed": pressed, "session": session}


def _gaps(
    sim: Any, member_phone: str, pressed: dict[str, float], stamps: dict[tuple[str, str], float]
) -> list[float]:
    """For each lead call after the first: its `ringing` callback minus what let the dialer
    go on from the previous one (Next, a machine's verdict, a final status)."""
    ringing = {
        c["sid"]: stamps[(c["sid"], "call-status:ringing")]
        for c in sim.calls()
        if c["to"] != member_phone and (c["sid"], "call-status:ringing") in stamps
    }
    calls = {c["sid"]: c for c in sim.calls()}
    ordered = sorted(ringing, key=ringing.__getitem__)
    gaps = []
    for before, after in itertools.pairwise(ordered):
        if before in pressed:
            trigger = pressed[before]
        elif str(calls[before].get("answered_by") or "").startswith("machine"):
            trigger = stamps.get((before, "voice-url"), 0.0)  # the verdict: the TwiML fetch
        else:
            trigger = stamps.get((before, "call-status:completed"), 0.0)
        if trigger:
            gaps.append(ringing[after] - trigger)
    return gaps


def run(report: Report) -> None:
    from localdev.stack import ddb_local_running, live_stack_running

    speed = float(os.environ.get("SIM_SPEED") or DEFAULT_SPEED)
    with (
        ddb_local_running() as endpoint,
        counting_proxy(endpoint) as (proxied, counts),
        tempfile.TemporaryDirectory(prefix="bench-dialer-") as logs,
        live_stack_running(proxied, Path(logs), speed=speed, DEV_NOW=RULES_NOW) as stack,
    ):
        member, campaign = _setup(stack)
        stamps = stamp_webhooks(stack.sim)
        counts.clear()
        hour = _session_hour(stack, member, campaign, speed)
        requests = sum(counts.values())
        by_type = dict(counts)
        sessions = _ok(stack.get(f"/dialer/sessions/{hour['session']['id']}"))
        stats = _ok(stack.get(f"/campaigns/{campaign['id']}/stats"))
        gaps = _gaps(stack.sim, member["phone"], hour["pressed"], stamps)
    dials = int(sessions["stats"]["dialed"])
    per_hour = dials * SIM_HOUR / hour["covered"]
    print(
        f"# one member, SIM_SPEED {speed:g}: {hour['covered']:.0f} simulated s, {dials} dials "
        f"({stats['humans']} people, {stats['machines']} machines, {stats['noAnswer']} no "
        f"answer), {len(gaps)} gaps measured"
    )
    print(f"# DynamoDB requests during the session: {requests} ({by_type})")
    report("dialer_dials_per_hour", round(per_hour), "dials")
    if gaps:
        report("dialer_gap_ms", round(statistics.median(gaps) * 1000), "ms")
        p90 = statistics.quantiles(gaps, n=10)[-1] if len(gaps) >= 2 else gaps[0]
        report("dialer_gap_p90_ms", round(p90 * 1000), "ms")
    report("dialer_ddb_requests_per_dial", round(requests / max(dials, 1), 1), "requests")
