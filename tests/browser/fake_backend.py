"""Contract-shaped stand-ins (API.md) for calls, SMS, stats and phone numbers, served to the
page through Playwright's request interception: they let the UI tests pick exact situations
(a status sequence, a refusal, a thread with a hostile body, known numbers) in seconds.
test_live_flows.py runs the same flows against the real routes and the Twilio simulator."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

CALL_STEPS = ["queued", "initiated", "ringing", "in-progress", "completed"]
SMS_STEPS = ["queued", "sent", "delivered"]
NUMBERS = {
    "items": [
        {"phoneNumber": "+15005550006", "friendlyName": "Main line"},
        {"phoneNumber": "+15005550007", "friendlyName": "(500) 555-0007"},
    ]
}


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FakeBackend:
    api: str
    origin: str
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    call_outcome: str = "completed"
    blocked: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    # GET /leads/{id}/compliance (API.md's shape); None: both channels allowed.
    lead_compliance: dict[str, Any] | None = None
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def install(self, page: Any) -> FakeBackend:
        for path in ("/calls", "/messages", "/dashboard/stats", "/twilio/phone-numbers"):
            page.route(f"{self.api}{path}*", self.handle)
            page.route(f"{self.api}{path}/*", self.handle)
        page.route(f"{self.api}/leads/*/compliance", self.handle)
        return self

    # ------------------------------------------------------------ plumbing

    def _headers(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": self.origin,
            "Access-Control-Allow-Headers": "Authorization,Content-Type",
            "Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE,OPTIONS",
            "Content-Type": "application/json",
        }

    def _reply(self, route: Any, status: int, body: Any) -> None:
        route.fulfill(status=status, headers=self._headers(), body=json.dumps(body))

    def handle(self, route: Any) -> None:
        request = route.request
        url = urlparse(request.url)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if request.method == "OPTIONS":
            route.fulfill(status=200, headers=self._headers(), body="")
            return
        body = json.loads(request.post_data) if request.post_data else None
        self.requests.append((request.method, path, body))
        status, payload = self.dispatch(request.method, path, query, body)
        self._reply(route, status, payload)

    def dispatch(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if path == "/twilio/phone-numbers":
            return 200, NUMBERS
        if path == "/dashboard/stats":
            return 200, self.stats or self.make_stats(query["from"], query["to"])
        if parts[0] == "leads" and parts[-1] == "compliance":
            allowed = {"allowed": True, "reason": None, "message": None, "details": {}}
            answer = self.lead_compliance or {"voice": allowed, "sms": allowed}
            return 200, {"leadId": parts[1], "phone": None, "suppression": None, **answer}
        if parts[0] == "calls":
            if len(parts) == 1 and method == "POST":
                return self.create_call(body)
            if len(parts) == 1:
                items = [
                    c
                    for c in self.calls.values()
                    if query.get("leadId") in (None, c["leadId"])
                    and query.get("teamMemberId") in (None, c["teamMemberId"])
                ]
                return 200, {
                    "items": sorted(items, key=lambda c: c["id"], reverse=True),
                    "nextCursor": None,
                }
            call = self.calls[parts[1]]
            if method == "PATCH":
                call.update(body)
                call["updatedAt"] = now()
                return 200, call
            return 200, self.advance_call(call)
        if parts[0] == "messages":
            if method == "POST":
                return self.create_message(body)
            for m in self.messages:
                self.advance_message(m)
            return 200, {
                "items": [m for m in self.messages if m["leadId"] == query.get("leadId")],
                "nextCursor": None,
            }
        return 404, {"error": {"code": "not_found", "message": "no such fake route"}}

    # ------------------------------------------------------------ calls

    def create_call(self, body: dict[str, Any]) -> tuple[int, Any]:
        if self.blocked:
            return 422, {"error": {"code": "blocked", **self.blocked}}
        call_id = f"CALL{next(self.ids):04d}"
        stamp = now()
        call = {
            "id": call_id,
            "leadId": body["leadId"],
            "teamMemberId": body["teamMemberId"],
            "callerId": body["callerId"],
            "status": "queued",
            "leadLegStatus": None,
            "twilioSid": f"CA{call_id}",
            "durationSeconds": None,
            "talkSeconds": None,
            "answeredAt": None,
            "endedAt": None,
            "errorCode": None,
            "errorMessage": None,
            "disposition": None,
            "notes": None,
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.calls[call_id] = call
        return 201, call

    def advance_call(self, call: dict[str, Any]) -> dict[str, Any]:
        steps = [*CALL_STEPS[:-1], self.call_outcome]
        final = call["status"] == "completed" or call["status"] not in steps
        at = len(steps) - 1 if final else steps.index(call["status"])
        if at < len(steps) - 1:
            call["status"] = steps[at + 1]
            call["updatedAt"] = now()
            if call["status"] == "in-progress":
                if self.call_outcome == "completed":
                    call["leadLegStatus"] = "in-progress"
                    call["answeredAt"] = now()
                else:  # the lead is being dialled, and will not answer
                    call["leadLegStatus"] = "ringing"
            if call["status"] == "completed":
                call.update(
                    leadLegStatus="completed", talkSeconds=30, durationSeconds=41, endedAt=now()
                )
            elif call["status"] in ("busy", "no-answer", "failed"):
                # As Twilio reports it: the member's leg completes, the lead's leg says why.
                call.update(
                    status="completed",
                    leadLegStatus=call["status"],
                    endedAt=now(),
                    durationSeconds=12,
                )
        return dict(call)

    # ------------------------------------------------------------ messages

    def add_message(self, **fields: Any) -> dict[str, Any]:
        stamp = now()
        message = {
            "id": f"MSG{next(self.ids):04d}",
            "teamMemberId": None,
            "direction": "outbound",
            "from": "+15005550006",
            "to": "+12125550100",
            "status": "queued",
            "twilioSid": None,
            "errorCode": None,
            "errorMessage": None,
            "createdAt": stamp,
            "updatedAt": stamp,
            **fields,
        }
        self.messages.append(message)
        return message

    def create_message(self, body: dict[str, Any]) -> tuple[int, Any]:
        if self.blocked:
            return 422, {"error": {"code": "blocked", **self.blocked}}
        message = self.add_message(
            leadId=body["leadId"], body=body["body"], teamMemberId=body.get("teamMemberId")
        )
        return 201, dict(message)

    def advance_message(self, message: dict[str, Any]) -> None:
        if message["direction"] == "outbound" and message["status"] in SMS_STEPS[:-1]:
            message["status"] = SMS_STEPS[SMS_STEPS.index(message["status"]) + 1]
            message["updatedAt"] = now()

    # ------------------------------------------------------------ stats

    @staticmethod
    def make_stats(start: str, end: str, member: tuple[str, str] = ("m1", "Ann Caller")) -> Any:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
        daily = [
            {
                "date": d,
                "calls": 3 + i % 4,
                "connected": 1 + i % 2,
                "talkSeconds": 120 * (1 + i % 2),
                "messagesSent": 2 + i % 3,
                "messagesInbound": i % 2,
            }
            for i, d in enumerate(days)
        ]
        calls = sum(d["calls"] for d in daily)
        connected = sum(d["connected"] for d in daily)
        talk = sum(d["talkSeconds"] for d in daily)
        sent = sum(d["messagesSent"] for d in daily)
        return {
            "from": start,
            "to": end,
            "timezone": "UTC",
            "leads": {
                "total": 40,
                "byStatus": {
                    "new": 20,
                    "contacted": 10,
                    "qualified": 5,
                    "not_interested": 3,
                    "converted": 2,
                },
            },
            "calls": {
                "placed": calls,
                "byStatus": {"completed": connected},
                "byLeadLegStatus": {"completed": connected},
                "connected": connected,
                "connectRate": connected / calls,
                "talkSeconds": talk,
                "avgTalkSeconds": talk / connected,
            },
            "messages": {
                "sent": sent,
                "delivered": sent - 1,
                "failed": 1,
                "inbound": sum(d["messagesInbound"] for d in daily),
                "deliveryRate": (sent - 1) / sent,
            },
            "daily": daily,
            "leaderboard": [
                {
                    "teamMemberId": member[0],
                    "name": member[1],
                    "calls": calls,
                    "connected": connected,
                    "talkSeconds": talk,
                    "messagesSent": sent,
                    "converted": 2,
                },
                {
                    "teamMemberId": "m2",
                    "name": "<b>Bob</b>",
                    "calls": 1,
                    "connected": 0,
                    "talkSeconds": 0,
                    "messagesSent": 0,
                    "converted": 0,
                },
            ],
        }
