"""Cost per operation: DynamoDB requests and consumed capacity units of every route and webhook.

One scripted pass over the API in process (`chalice.test.Client`, the recording fake Twilio,
webhooks signed as Twilio signs them), against DynamoDB Local (in memory; moto where Java is
missing). Every DynamoDB request is seen at botocore: counted, and sent with
`ReturnConsumedCapacity=TOTAL` so the capacity it consumed is summed. DynamoDB Local computes
capacity the way DynamoDB documents it (item size in 4 KB read / 1 KB write units, index
writes, strongly consistent reads at full price, transactions at double price); moto answers
fixed numbers (0.5 per GetItem, 1 per Put, Query and Scan, nothing for transactions or
updates), so its capacity figures are printed but mean little.

Figures, per operation (route or webhook, in one state; e.g. a status callback that moves the
call versus its duplicate): `ddb_requests_<operation>` (count) and `ddb_capacity_<operation>`
(units). Also the whole life of a connected call (placed, both legs' callbacks, the connect
fetches): `ddb_requests_call_lifecycle`, `ddb_capacity_call_lifecycle`.

The same pass runs in tests/api/test_request_counts.py (under moto), which asserts every
request count: counts do not depend on the machine, so they are tested, not only measured.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

Report = Callable[[str, float, str], None]

# Operations that accept ReturnConsumedCapacity.
_CAPACITY_OPS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


@dataclass
class Figures:
    requests: Counter[str] = field(default_factory=Counter)
    capacity: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def add(self, other: Figures) -> None:
        self.requests.update(other.requests)
        self.capacity += other.capacity


def _units(consumed: Any) -> float:
    if isinstance(consumed, dict):
        return float(consumed.get("CapacityUnits") or 0)
    if isinstance(consumed, list):
        return sum(_units(c) for c in consumed)
    return 0.0


class Meter:
    """Counts DynamoDB requests made through botocore (PynamoDB's and ours) and sums the
    capacity they consumed, asking for it where the caller did not."""

    def __init__(self) -> None:
        self.current = Figures()

    def reset(self) -> Figures:
        done, self.current = self.current, Figures()
        return done

    @contextlib.contextmanager
    def installed(self) -> Iterator[Meter]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            meter.current.requests[operation] += 1
            if operation in _CAPACITY_OPS and "ReturnConsumedCapacity" not in params:
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            response = original(client, operation, params)
            meter.current.capacity += _units(response.get("ConsumedCapacity"))
            return response

        BaseClient._make_api_call = metered
        try:
            yield self
        finally:
            BaseClient._make_api_call = original


class Pass:
    """The scripted pass: `step(name, ...)` sends one request and records its figures under
    `name`. `client` is a `chalice.test.Client`; `base_url` the public base URL webhooks are
    signed for (PUBLIC_BASE_URL); `auth_token` Twilio's."""

    def __init__(
        self, client: Any, meter: Meter, token: str, auth_token: str, base_url: str
    ) -> None:
        self.client, self.meter = client, meter
        self.token, self.auth_token, self.base_url = token, auth_token, base_url
        self.figures: dict[str, Figures] = {}
        self.routes: dict[str, str] = {}

    def _send(
        self, method: str, path: str, body: str | None, headers: dict[str, str]
    ) -> tuple[int, Any]:
        resp = self.client.http.request(method, path, headers=headers, body=body)
        text = resp.body.decode() if isinstance(resp.body, bytes) else resp.body
        ctype = resp.headers.get("Content-Type", resp.headers.get("content-type", ""))
        return resp.status_code, json.loads(text) if text and "json" in ctype else text

    def step(
        self,
        name: str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        expect: int = 200,
        csv: str | None = None,
    ) -> Any:
        """An API request (bearer token, JSON or CSV body); `name` None: not measured."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        payload = json.dumps(body) if body is not None else None
        if csv is not None:
            headers["Content-Type"], payload = "text/csv", csv
        return self._measured(name, f"{method} {path}", expect, method, path, payload, headers)

    def hook(
        self, name: str | None, path: str, params: dict[str, str], *, expect: int = 200
    ) -> Any:
        """A Twilio webhook: form-encoded, signed for the public URL."""
        from chalicelib.telephony.signature import sign

        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(self.auth_token, self.base_url + path, params),
        }
        return self._measured(
            name, f"POST {path}", expect, "POST", path, urlencode(params), headers
        )

    def _measured(
        self,
        name: str | None,
        label: str,
        expect: int,
        method: str,
        path: str,
        payload: str | None,
        headers: dict[str, str],
    ) -> Any:
        self.meter.reset()
        status, data = self._send(method, path, payload, headers)
        figures = self.meter.reset()
        if status != expect:
            raise AssertionError(f"{label}: {status} (expected {expect}): {data}")
        if name is not None:
            if name in self.figures:
                raise AssertionError(f"operation {name} measured twice")
            self.figures[name] = figures
            self.routes[name] = label
        return data

    def run(self) -> dict[str, Figures]:
        """Every route and webhook, in the states that cost differently."""
        step, hook = self.step, self.hook
        ours = "+15005550006"
        step("health", "GET", "/health")

        # team
        member = step(
            "team_create",
            "POST",
            "/team-members",
            {"name": "Ana Caller", "phone": "+14155550100", "email": "ana@example.com"},
            expect=201,
        )
        spare = step(
            None, "POST", "/team-members", {"name": "Ben", "phone": "+14155550101"}, expect=201
        )
        step("team_list", "GET", "/team-members")
        step("team_get", "GET", f"/team-members/{member['id']}")
        step("team_update", "PATCH", f"/team-members/{member['id']}", {"name": "Ana B. Caller"})
        step("team_deactivate", "DELETE", f"/team-members/{spare['id']}")

        # leads
        lead = step(
            "lead_create",
            "POST",
            "/leads",
            {"name": "Jane Doe", "phone": "+12125550142", "assignedToId": member["id"]},
            expect=201,
        )
        gone = step(None, "POST", "/leads", {"name": "Old", "phone": "+12125550143"}, expect=201)
        step("lead_get", "GET", f"/leads/{lead['id']}")
        step("lead_compliance", "GET", f"/leads/{lead['id']}/compliance")
        step("lead_update", "PATCH", f"/leads/{lead['id']}", {"notes": "Prefers mornings"})
        rows = "\n".join(f"Lead {i},+1312555{i:04d},l{i}@example.com,Acme" for i in range(10))
        step("lead_import_10", "POST", "/leads/import", csv=f"name,phone,email,company\n{rows}\n")
        owned = "\n".join(f"Lead {i};+1312555{i:04d};Ana B. Caller" for i in range(10))
        step(
            "lead_import_preview",
            "POST",
            "/leads/import/preview",
            csv=f"Name;Mobile;Owner\n{owned}\n",
        )
        step("lead_list", "GET", "/leads")
        step("lead_list_by_status", "GET", "/leads?status=new")
        step("lead_list_by_assignee", "GET", f"/leads?assignedToId={member['id']}")
        step("lead_search_name", "GET", "/leads?q=jane%20do")
        step("lead_search_phone", "GET", "/leads?q=0142")
        step("lead_search_new", "GET", "/leads?q=lead&status=new")
        step("lead_list_sort_name", "GET", "/leads?sort=name")
        step("lead_list_sort_contact", "GET", "/leads?sort=lastContactedAt")
        step("lead_list_never_called", "GET", "/leads?neverCalled=true")
        step("lead_list_source", "GET", "/leads?source=csv_import")
        step("lead_list_opted_out", "GET", "/leads?optedOut=true")
        step("lead_rename", "PATCH", f"/leads/{lead['id']}", {"name": "Janet Doe-Smith"})
        step("lead_export_13", "GET", "/leads/export")
        step("lead_archive", "DELETE", f"/leads/{gone['id']}")
        step("phone_numbers", "GET", "/twilio/phone-numbers")

        # a connected call, callback by callback, with duplicates
        before = dict(self.figures)
        call = step(
            "call_place",
            "POST",
            "/calls",
            {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": ours},
            expect=201,
        )
        cid = call["id"]
        status, lead_status = f"/twilio/voice/status/{cid}", f"/twilio/voice/lead-status/{cid}"
        hook("voice_status_initiated", status, {"CallStatus": "initiated"})
        hook("voice_status_ringing", status, {"CallStatus": "ringing"})
        hook("voice_status_answered", status, {"CallStatus": "in-progress"})
        hook("voice_connect_whisper", f"/twilio/voice/connect/{cid}", {})
        hook("voice_gather_dial", f"/twilio/voice/gather/{cid}", {"Digits": "1"})
        hook("voice_lead_status_initiated", lead_status, {"CallStatus": "initiated"})
        hook("voice_lead_status_ringing", lead_status, {"CallStatus": "ringing"})
        hook("voice_lead_status_answered", lead_status, {"CallStatus": "in-progress"})
        hook(
            "voice_lead_status_completed",
            lead_status,
            {"CallStatus": "completed", "CallDuration": "42"},
        )
        hook(
            "voice_dial_action_after_completed",
            lead_status,
            {"DialCallStatus": "completed", "DialCallDuration": "42"},
        )
        hook("voice_status_completed", status, {"CallStatus": "completed", "CallDuration": "60"})
        lifecycle = Figures()
        for name, figures in self.figures.items():
            if name not in before and name.startswith(("call_", "voice_")):
                lifecycle.add(figures)
        hook(
            "voice_status_duplicate",
            status,
            {"CallStatus": "completed", "CallDuration": "60"},
        )
        hook("voice_status_late_ringing", status, {"CallStatus": "ringing"})
        other = step(
            None,
            "POST",
            "/calls",
            {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": ours},
            expect=201,
        )
        hook("voice_gather_no_press", f"/twilio/voice/gather/{other['id']}", {"Digits": ""})
        # the hang-up ends the member leg: the member and the lead are free for the next call
        hook(None, f"/twilio/voice/status/{other['id']}", {"CallStatus": "completed"})
        busy = step(
            None,
            "POST",
            "/calls",
            {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": ours},
            expect=201,
        )
        hook(
            "voice_status_busy_undialled",
            f"/twilio/voice/status/{busy['id']}",
            {"CallStatus": "busy", "CallDuration": "0"},
        )
        step("call_get", "GET", f"/calls/{cid}")
        step("call_list_by_lead", "GET", f"/calls?leadId={lead['id']}")
        step("call_list_by_member", "GET", f"/calls?teamMemberId={member['id']}")
        wrap = {"disposition": "meeting_booked", "notes": "Demo on Tuesday"}
        step("call_wrap_up", "PATCH", f"/calls/{cid}", wrap)
        step("lead_update_status", "PATCH", f"/leads/{lead['id']}", {"status": "qualified"})

        # SMS
        msg = step(
            "message_send",
            "POST",
            "/messages",
            {
                "leadId": lead["id"],
                "body": "Hello from Ana",
                "teamMemberId": member["id"],
                "from": ours,
            },
            expect=201,
        )
        sms_status = f"/twilio/sms/status/{msg['id']}"
        hook(
            "sms_status_sent", sms_status, {"MessageStatus": "sent", "MessageSid": msg["twilioSid"]}
        )
        delivered = {"MessageStatus": "delivered", "MessageSid": msg["twilioSid"]}
        hook("sms_status_delivered", sms_status, delivered)
        hook("sms_status_duplicate", sms_status, delivered)
        inbound = {"From": "+12125550142", "To": ours, "Body": "Sounds good"}
        sid = "SM" + uuid.uuid4().hex
        hook("sms_incoming", "/twilio/sms/incoming", {**inbound, "MessageSid": sid})
        hook("sms_incoming_redelivered", "/twilio/sms/incoming", {**inbound, "MessageSid": sid})
        stranger = {"From": "+16175550199", "To": ours, "Body": "Who is this?"}
        hook(
            "sms_incoming_new_lead",
            "/twilio/sms/incoming",
            {**stranger, "MessageSid": "SM" + uuid.uuid4().hex},
        )
        stop = {"From": "+12125550142", "To": ours, "Body": "STOP"}
        hook(
            "sms_incoming_stop",
            "/twilio/sms/incoming",
            {**stop, "MessageSid": "SM" + uuid.uuid4().hex},
        )
        step("message_list", "GET", f"/messages?leadId={lead['id']}")

        step("stats", "GET", "/dashboard/stats")

        # campaigns and callbacks
        campaign = step(
            "campaign_create",
            "POST",
            "/campaigns",
            {"name": "Spring", "memberIds": [member["id"]], "callerId": ours},
            expect=201,
        )
        path = f"/campaigns/{campaign['id']}"
        step("campaign_list", "GET", "/campaigns")
        step("campaign_get", "GET", path)
        step("campaign_update", "PATCH", path, {"script": "Hi, this is Ana from Acme."})
        step("campaign_add_lead", "POST", f"{path}/leads", {"leadIds": [lead["id"]]})
        step("campaign_add_filter", "POST", f"{path}/leads", {"filter": {"status": "new"}})
        step("lead_list_campaign", "GET", f"/leads?campaignId={campaign['id']}")
        step("campaign_leads_ready", "GET", f"{path}/leads?state=ready")
        step("campaign_stats", "GET", f"{path}/stats")
        step("campaign_remove_lead", "DELETE", f"{path}/leads/{lead['id']}", expect=204)
        callback = step(
            "callback_create",
            "POST",
            f"/leads/{lead['id']}/callbacks",
            {"at": "2030-06-03T15:00:00Z", "teamMemberId": member["id"]},
            expect=201,
        )
        step("callback_list", "GET", f"/callbacks?teamMemberId={member['id']}&due=true")
        step("callback_delete", "DELETE", f"/callbacks/{callback['id']}", expect=204)
        step("campaign_archive", "DELETE", path)

        # working the lists (issue 17): the call log, the inbox, bulk actions on 10 leads
        day = call["createdAt"][:10]
        step("call_log_day", "GET", f"/calls?from={day}&to={day}")
        step("call_log_member", "GET", f"/calls?from={day}&to={day}&teamMemberId={member['id']}")
        step("inbox_list", "GET", "/inbox")
        step("inbox_read", "POST", f"/inbox/{lead['id']}/read")
        listed = step(None, "GET", "/leads?limit=100")
        ten = [x["id"] for x in listed["items"] if x["name"].startswith("Lead ")]
        assert len(ten) == 10, ten
        assign = {"leadIds": ten, "action": "assign", "value": member["id"]}
        step("lead_bulk_assign_10", "POST", "/leads/bulk", assign)
        status_body = {"leadIds": ten, "action": "status", "value": "qualified"}
        step("lead_bulk_status_10", "POST", "/leads/bulk", status_body)
        step("lead_bulk_suppress_10", "POST", "/leads/bulk", {"leadIds": ten, "action": "suppress"})
        self._dialer(member["id"], ours)
        self.figures["call_lifecycle"] = lifecycle
        self.routes["call_lifecycle"] = "POST /calls + its 11 webhooks (connected call)"
        return self.figures

    def _dialer(self, member_id: str, ours: str) -> None:
        """A power-dialer session over three leads (a person, a machine, a busy line), webhook
        by webhook as Twilio sends them (the recording fake's SIDs), with the member's Next."""
        from chalicelib import providers
        from chalicelib.telephony import webhooks as hooks

        step, hook = self.step, self.hook
        twilio = providers.deps().telephony
        leads = [
            step(
                None,
                "POST",
                "/leads",
                {"name": f"Dial {i}", "phone": f"+1415555{i:04d}"},
                expect=201,
            )
            for i in range(7001, 7004)
        ]
        campaign = step(
            None,
            "POST",
            "/campaigns",
            {
                "name": "Power hour",
                "memberIds": [member_id],
                "callerId": ours,
                "amd": "voicemail",
                "voicemailMessage": "Hi, this is Ana from Acme. Call me back at 500 555 0006.",
            },
            expect=201,
        )
        ids = [lead["id"] for lead in leads]
        step(None, "POST", f"/campaigns/{campaign['id']}/leads", {"leadIds": ids})
        body = {"campaignId": campaign["id"], "teamMemberId": member_id}
        session = step("dialer_start", "POST", "/dialer/sessions", body, expect=201)
        sid = session["id"]
        member_sid = twilio.calls[-1]["sid"]  # type: ignore[attr-defined]
        path = f"/dialer/sessions/{sid}"
        hook("dialer_member_answered", hooks.url("", hooks.DIALER_MEMBER, session_id=sid), {})
        gather = hooks.url("", hooks.DIALER_MEMBER_GATHER, session_id=sid)
        hook("dialer_member_gather", gather, {"Digits": "1"})
        conference = hooks.url("", hooks.DIALER_CONFERENCE, session_id=sid)
        join = {"StatusCallbackEvent": "participant-join", "CallSid": member_sid}
        hook("dialer_conference_join_dial", conference, join)  # the first lead rings

        def current() -> tuple[str, str, str]:
            now = step(None, "GET", path)
            call = twilio.calls[-1]  # type: ignore[attr-defined]
            lead_url = hooks.url(
                "", hooks.DIALER_LEAD, session_id=sid, call_id=now["currentCallId"]
            )
            status_url = hooks.url(
                "", hooks.DIALER_LEAD_STATUS, session_id=sid, call_id=now["currentCallId"]
            )
            return str(call["sid"]), lead_url, status_url

        step("dialer_session_get", "GET", path)
        call_sid, lead_url, status_url = current()
        hook(
            "dialer_lead_status_ringing", status_url, {"CallSid": call_sid, "CallStatus": "ringing"}
        )
        human = {"CallSid": call_sid, "AnsweredBy": "human"}
        hook("dialer_lead_answered_human", lead_url, human)  # bridged
        answered = {"CallSid": call_sid, "CallStatus": "in-progress", "AnsweredBy": "human"}
        hook("dialer_lead_status_answered", status_url, answered)
        done = {"CallSid": call_sid, "CallStatus": "completed", "CallDuration": "42"}
        hook("dialer_lead_status_completed_wrap_up", status_url, done)
        hook("dialer_lead_status_duplicate", status_url, done)
        wrap = {"disposition": "meeting_booked", "notes": "Demo on Tuesday"}
        step("dialer_next", "POST", f"{path}/next", wrap)  # saved, and the next lead rings
        call_sid, lead_url, status_url = current()
        machine = {"CallSid": call_sid, "AnsweredBy": "machine_end_beep"}
        hook("dialer_lead_answered_machine", lead_url, machine)  # the message, the next lead
        left = {**done, "CallSid": call_sid, "CallDuration": "20"}
        hook("dialer_lead_status_machine_completed", status_url, left)
        call_sid, lead_url, status_url = current()
        busy = {"CallSid": call_sid, "CallStatus": "busy", "CallDuration": "0"}
        hook("dialer_lead_status_busy_none_left", status_url, busy)  # nothing more to dial
        step("dialer_end", "POST", f"{path}/end")
        member_status = hooks.url("", hooks.DIALER_MEMBER_STATUS, session_id=sid)
        hook(
            "dialer_member_status_completed",
            member_status,
            {"CallSid": member_sid, "CallStatus": "completed"},
        )


def print_table(figures: dict[str, Figures], routes: dict[str, str], engine: str) -> None:
    print(f"# DynamoDB requests and capacity units per operation ({engine})")
    print(f"# {'operation':<36} {'req':>4} {'units':>6}  requests by type / route")
    for name, f in figures.items():
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(f.requests.items())) or "-"
        print(f"# {name:<36} {f.total:>4} {f.capacity:>6.1f}  {kinds}  [{routes[name]}]")


@contextlib.contextmanager
def _engine() -> Iterator[str]:
    """DynamoDB Local in memory when Java is present (real capacity figures), else moto."""
    from localdev import ddb_local

    if ddb_local.java_available():
        from localdev.stack import ddb_local_running

        with ddb_local_running() as endpoint:
            os.environ["DYNAMODB_ENDPOINT"] = endpoint
            try:
                yield "DynamoDB Local, in memory"
            finally:
                os.environ.pop("DYNAMODB_ENDPOINT", None)
        return
    from moto import mock_aws

    os.environ.pop("DYNAMODB_ENDPOINT", None)
    with mock_aws():
        yield "moto in process (Java missing: capacity figures are moto's constants)"


def run(report: Report) -> None:
    from chalice.test import Client

    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.store.tables import ensure_tables
    from chalicelib.telephony.fake import FakeTelephony
    from localdev.stack import temp_env

    token, auth_token, base = "bench-token", "bench-twilio-token", "https://api.example.test/api"
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": None,
        "AWS_DEFAULT_REGION": "us-east-1",
        "STAGE": "cost" + uuid.uuid4().hex[:6],
        "API_TOKEN": token,
        "API_TOKEN_SECRET": None,
        "PUBLIC_BASE_URL": base,
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_AUTH_TOKEN_SECRET": None,
        "TWILIO_API_BASE": None,
        "TWILIO_MESSAGING_SERVICE_SID": None,
        "TWILIO_SERVICE_ID": None,
        "CALLING_HOURS": "00:00-23:59",
        "STATS_TIMEZONE": None,
        "DASHBOARD_ORIGIN": None,
    }
    from app import app

    quiet = logging.getLogger("coldcall")  # one log line per request: not for this table
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    with temp_env(env), _engine() as engine:
        reset_settings()
        ensure_tables(providers.settings())
        providers.override(telephony=FakeTelephony())
        try:
            with Meter().installed() as meter, Client(app, stage_name="bench") as client:
                scripted = Pass(client, meter, token, auth_token, base)
                figures = scripted.run()
        finally:
            providers.override(telephony=None)
            reset_settings()
            quiet.setLevel(level)
    print_table(figures, scripted.routes, engine)
    for name, f in figures.items():
        report(f"ddb_requests_{name}", f.total, "count")
        report(f"ddb_capacity_{name}", round(f.capacity, 1), "units")
