"""Load without loss: a burst of signed Twilio status callbacks against the local stack.

DynamoDB Local (in memory) and the API under `chalice local` over HTTP, on free ports. N calls
(and their leads, `new`) are written straight into the tables, as `POST /calls` would have left
them (`queued`, the day's `calls` counters moved). Then every callback Twilio would send for
them (the member leg's status callbacks, the connect fetch and the key press, the lead leg's
status callbacks and the Dial action; each outcome drawn at random) is signed, some are
duplicated (Twilio repeats), all are shuffled, and SENDERS threads POST them concurrently, each
over its own keep-alive connection.

Then every call is read back and compared with what its sequence implies (status, lead leg,
talk time), and so is every counter of the day item and of the lead funnel; each difference is
a lost (or doubled) update. The day's records are also rolled up the way the scheduled rollup
derives them, which must agree with the live counters.

Figures: `webhook_burst_rps` (callbacks answered per second over the whole burst),
`webhook_burst_p50_ms`, `webhook_burst_p99_ms` (per-request latency as a sender sees it),
`webhook_burst_lost_updates` (must be 0), `webhook_burst_5xx` (must be 0).

`chalice local` is Python's threaded development server (a thread per connection, one
interpreter, so one core at a time): the figures are a floor for this machine, not what Lambda
does (one request per container, as many containers as requests).
"""

from __future__ import annotations

import itertools
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import RULES_NOW

CALLS = 200
SENDERS = 16
MEMBERS = 4
SEED = 20261123
_numbers = itertools.count()
Report = Callable[[str, float, str], None]

MEMBER_FINALS = [("completed", 70), ("busy", 8), ("no-answer", 10), ("failed", 4), ("canceled", 8)]
LEAD_FINALS = [("completed", 60), ("busy", 10), ("no-answer", 15), ("failed", 5), ("none", 10)]


@dataclass
class Expected:
    """What one call's callbacks imply."""

    call_id: str
    lead_id: str
    member_id: str
    status: str
    lead_leg: str | None
    talk: int | None
    duration: int


@dataclass(frozen=True)
class Hook:
    """One webhook. `role`: "fetch" (a TwiML fetch: Twilio waits for its answer before the call
    goes on), "after" (happens only once the call's fetches were answered: the member leg's end,
    the lead leg's callbacks, which exist only because of the <Dial> answered) or "free"."""

    call_id: str
    path: str
    params: tuple[tuple[str, str], ...]
    role: str = "free"


@dataclass
class Result:
    calls: int
    callbacks: int
    senders: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter[int]
    mismatches: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.callbacks / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights)[0]


def plan(
    call_id: str, lead_id: str, member_id: str, rng: random.Random
) -> tuple[Expected, list[Hook]]:
    """One call's outcome and the webhooks Twilio sends for it, in the call's own order."""
    voice = "/twilio/voice"

    def hook(leg: str, role: str = "free", **params: str) -> Hook:
        return Hook(call_id, f"{voice}/{leg}/{call_id}", tuple(params.items()), role)

    member_final = _pick(rng, MEMBER_FINALS)
    hooks = [hook("status", CallStatus="initiated"), hook("status", CallStatus="ringing")]
    # A member leg that never answered leaves a lead leg never dialled: settled at once.
    lead_leg: str | None = "not-connected"
    talk: int | None = None
    duration = 0
    if member_final == "completed":
        duration = rng.randrange(20, 400)
        hooks.append(hook("status", CallStatus="in-progress"))
        hooks.append(hook("connect", "fetch"))  # the whisper
        lead_final = _pick(rng, LEAD_FINALS)
        if lead_final == "none":  # the member did not press 1
            lead_leg = "not-connected"
            hooks.append(hook("gather", "fetch", Digits=""))
        else:
            lead_leg = lead_final
            hooks.append(hook("gather", "fetch", Digits="1"))
            hooks.append(hook("lead-status", "after", CallStatus="initiated"))
            if lead_final != "failed":
                hooks.append(hook("lead-status", "after", CallStatus="ringing"))
            seconds = 0
            if lead_final == "completed":
                seconds = talk = rng.randrange(5, duration)
                hooks.append(hook("lead-status", "after", CallStatus="in-progress"))
            hooks.append(
                hook("lead-status", "after", CallStatus=lead_final, CallDuration=str(seconds))
            )
            hooks.append(
                hook(
                    "lead-status",
                    "after",
                    DialCallStatus=lead_final,
                    DialCallDuration=str(seconds),
                )
            )
    end_role = "after" if member_final == "completed" else "free"
    hooks.append(hook("status", end_role, CallStatus=member_final, CallDuration=str(duration)))
    expected = Expected(call_id, lead_id, member_id, member_final, lead_leg, talk, duration)
    return expected, hooks


def duplicated_and_shuffled(hooks: list[Hook], rng: random.Random) -> list[Hook]:
    """Status callbacks repeated (15 % twice, 5 % three times: Twilio repeats some) and
    everything shuffled across calls and within each call, except that a call's TwiML fetches
    keep their order and come before its callbacks that depend on them (Twilio waits for a
    fetch's answer; `send` also waits for it before sending those)."""
    out: list[Hook] = []
    for hook in hooks:
        copies = 1 if hook.role == "fetch" else 1 + (rng.random() < 0.15) + (rng.random() < 0.05)
        out += [hook] * copies
    rng.shuffle(out)
    slots: dict[str, list[int]] = {}
    for i, hook in enumerate(out):
        slots.setdefault(hook.call_id, []).append(i)
    fetches: dict[str, list[Hook]] = {}
    for hook in hooks:
        if hook.role == "fetch":
            fetches.setdefault(hook.call_id, []).append(hook)
    ordered = list(out)
    for call_id, positions in slots.items():
        first = fetches.get(call_id, [])
        rest = [out[i] for i in positions if out[i].role != "fetch"]
        for i, hook in zip(positions, first + rest, strict=True):
            ordered[i] = hook
    return ordered


def seed(count: int, rng: random.Random) -> tuple[list[Expected], list[Hook], dict[str, int]]:
    """Write `count` leads (`new`) and their queued calls, as the API would have; return what
    the callbacks imply, the callbacks, and the day counters placing them moved. Needs the
    services pointed at the stack (`LiveStack.in_process()`)."""
    from chalicelib import providers
    from chalicelib.clock import business_day, new_id
    from chalicelib.domain import counters
    from chalicelib.domain.records import Call
    from chalicelib.services import leads
    from chalicelib.store.base import Count, Put

    deps = providers.deps()
    moment = deps.clock.now()
    day = business_day(moment, deps.settings.stats_timezone)
    members = [new_id() for _ in range(MEMBERS)]

    def one(i: int) -> tuple[Expected, list[Hook]]:
        phone = f"+1415{3000000 + next(_numbers):07d}"
        lead = leads.insert(
            deps, leads.new_lead(deps, name=f"Burst {i}", phone=phone, source="bench")
        )
        member = members[i % MEMBERS]
        call = Call(
            id=new_id(),
            lead_id=lead.id,
            team_member_id=member,
            caller_id="+15005550006",
            lead_phone=phone,
            lead_name=lead.name,
            status="queued",
            twilio_sid=f"CA{i:032x}",
            day=day,
            created_at=moment,
            updated_at=moment,
        )
        deps.store.write(Put("call", call, if_absent=True))
        return plan(call.id, lead.id, member, random.Random(rng.random()))

    # One thread: PynamoDB builds botocore clients per thread, which costs more than the writes.
    planned = [one(i) for i in range(count)]
    placed: Counter[str] = Counter({counters.CALLS_PLACED: count})
    for expected, _ in planned:
        placed[counters.member(expected.member_id, "calls")] += 1
    deps.store.write(Count("placed", counters.ALL_SCOPE, day, dict(placed), revise=True))
    hooks = duplicated_and_shuffled([h for _, hs in planned for h in hs], rng)
    return [e for e, _ in planned], hooks, dict(placed)


def send(api: str, auth_token: str, hooks: list[Hook], senders: int) -> Result:
    """POST every hook in list order, signed for `api` + path, from `senders` threads with a
    keep-alive connection each; a hook marked "after" waits until its call's fetches were
    answered. Per-request latency and status."""
    import requests

    from chalicelib.telephony.signature import sign

    prepared = []
    for hook in hooks:
        url = api + hook.path
        params = dict(hook.params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(auth_token, url, params),
            "User-Agent": "TwilioProxy/1.1",
        }
        prepared.append((hook, url, urlencode(params), headers))
    pending = Counter(h.call_id for h in hooks if h.role == "fetch")
    gates = {h.call_id: threading.Event() for h in hooks}
    for call_id, gate in gates.items():
        if not pending[call_id]:
            gate.set()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(prepared)))
    start = threading.Barrier(senders + 1)

    # One keep-alive connection per sender, opened one after the other before the burst:
    # `chalice local` listens with Python's default backlog of 5, and 16 simultaneous connects
    # overflow it (a reset connection, which API Gateway would never give).
    sessions = []
    for _ in range(senders):
        session = requests.Session()
        session.get(api + "/health", timeout=30).raise_for_status()
        sessions.append(session)

    def sender(session: requests.Session) -> None:
        mine: list[float] = []
        codes: Counter[int] = Counter()
        start.wait()
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            hook, url, body, headers = prepared[i]
            if hook.role == "after":
                # Its fetches are earlier in the list, so already taken: no deadlock.
                gates[hook.call_id].wait()
            t0 = time.perf_counter()
            try:
                status = session.post(url, data=body, headers=headers, timeout=30).status_code
            except requests.RequestException as exc:
                status = 0
                with lock:
                    errors.append(f"{hook.path} {type(exc).__name__}: {exc}")
            mine.append((time.perf_counter() - t0) * 1000)
            codes[status] += 1
            if hook.role == "fetch":
                with lock:
                    pending[hook.call_id] -= 1
                    if not pending[hook.call_id]:
                        gates[hook.call_id].set()
        session.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=sender, args=(x,), daemon=True) for x in sessions]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    return Result(0, len(prepared), senders, seconds, latencies, statuses, errors=errors)


def _snapshot() -> tuple[str, Counter[str], Counter[str]]:
    """Today's day counters and the funnel, as they are now."""
    from chalicelib import providers
    from chalicelib.clock import business_day
    from chalicelib.domain import counters
    from tests.helpers import merged_day

    deps = providers.deps()
    day = business_day(deps.clock.now(), deps.settings.stats_timezone)
    # the day item's counters and its member items' (`m#<id>#<name>`); no revision
    live = Counter(merged_day(deps.store, day))
    item = deps.store.stats.item(counters.FUNNEL_SCOPE, counters.FUNNEL_DAY, consistent=True)
    return day, live, Counter(item.counters if item else {})


def verify(
    expected: list[Expected], placed: dict[str, int], before: tuple[str, Counter[str], Counter[str]]
) -> list[str]:
    """Every difference between the tables and what the callbacks imply (services pointed at
    the stack); `before` is the counters' snapshot taken before seeding."""
    from chalicelib import providers
    from chalicelib.domain import counters
    from chalicelib.services import stats

    deps = providers.deps()
    problems: list[str] = []
    want: Counter[str] = Counter(placed)
    contacted = 0
    for e in expected:
        call = deps.store.calls.get(e.call_id, consistent=True)
        got = (
            (call.status, call.lead_leg_status, call.talk_seconds, call.duration_seconds)
            if call is not None
            else None
        )
        want_call = (e.status, e.lead_leg, e.talk, e.duration)
        if got != want_call:
            problems.append(f"call {e.call_id}: {got} != {want_call}")
        want[counters.call_status(e.status)] += 1
        if e.lead_leg is not None:
            want[counters.lead_leg_status(e.lead_leg)] += 1
        if e.lead_leg == "completed":
            contacted += 1
            talk = e.talk or 0
            want[counters.CALLS_CONNECTED] += 1
            want[counters.member(e.member_id, "connected")] += 1
            want[counters.TALK_SECONDS] += talk
            want[counters.member(e.member_id, "talk")] += talk
        lead = deps.store.leads.get(e.lead_id, consistent=True)
        status = "contacted" if e.lead_leg == "completed" else "new"
        if lead is None or lead.status != status:
            problems.append(f"lead {e.lead_id}: {lead and lead.status} != {status}")

    day, live, funnel = _snapshot()
    if day != before[0]:
        raise RuntimeError("the day changed during the burst (midnight): run it again")
    moved = Counter(live)
    moved.subtract(before[1])
    for name in sorted(set(want) | set(moved)):
        if want[name] != moved[name]:
            problems.append(f"counter {name}: moved {moved[name]}, implied {want[name]}")
    n = len(expected)
    want_funnel = {"total": n, "status#new": n - contacted, "status#contacted": contacted}
    for name, value in want_funnel.items():
        change = funnel[name] - before[2][name]
        if change != value:
            problems.append(f"funnel {name}: moved {change}, implied {value}")
    derived = Counter(stats.derive_day(deps, day))
    derived.pop(counters.REVISION, None)
    if +derived != +live:
        problems.append(f"the rollup would change the day: {dict(derived)} != {dict(live)}")
    return problems


def burst(stack: Any, calls: int = CALLS, senders: int = SENDERS, rng_seed: int = SEED) -> Result:
    """Seed, send, verify against a running `LiveStack`."""
    rng = random.Random(rng_seed)
    t0 = time.perf_counter()
    with stack.in_process():
        before = _snapshot()
        expected, hooks, placed = seed(calls, rng)
    t1 = time.perf_counter()
    result = send(stack.api, stack.sim.auth_token, hooks, senders)
    result.calls = calls
    t2 = time.perf_counter()
    with stack.in_process():
        result.mismatches = verify(expected, placed, before)
    t3 = time.perf_counter()
    print(f"# seed {t1 - t0:.1f}s, burst {t2 - t1:.1f}s, verify {t3 - t2:.1f}s", flush=True)
    return result


def run(report: Report) -> None:
    from localdev.stack import ddb_local_running, live_stack_running

    with (
        tempfile.TemporaryDirectory() as logs,
        ddb_local_running() as endpoint,
        live_stack_running(endpoint, Path(logs), DEV_NOW=RULES_NOW) as stack,
    ):
        burst(stack, calls=10, senders=4, rng_seed=1)  # warm up: JIT, connections, imports
        result = burst(stack)
    lost = len(result.mismatches)
    for line in result.mismatches[:20]:
        print(f"# LOST {line}")
    print(
        f"# {result.callbacks} callbacks for {result.calls} calls from {result.senders} senders "
        f"in {result.seconds:.1f}s: {result.rps:.0f}/s, p50 {result.percentile(0.5):.0f} ms, "
        f"p99 {result.percentile(0.99):.0f} ms, max {max(result.latencies_ms):.0f} ms; "
        f"statuses {dict(result.statuses)}; mean {statistics.mean(result.latencies_ms):.0f} ms"
    )
    report("webhook_burst_callbacks", result.callbacks, "count")
    report("webhook_burst_rps", round(result.rps, 1), "req/s")
    report("webhook_burst_p50_ms", round(result.percentile(0.5), 1), "ms")
    report("webhook_burst_p99_ms", round(result.percentile(0.99), 1), "ms")
    report("webhook_burst_5xx", result.server_errors, "count")
    report("webhook_burst_lost_updates", lost, "count")
