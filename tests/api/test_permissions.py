"""The role table of API.md ("Identity and roles") over every route of the app, for a signed-in
admin, manager and caller and for an admin and a caller API key: each gets the documented
answer (allowed, 403, or 404 for a lead, call or message a caller may not read). The routes
are read from the app itself: a route without a row here fails the suite.

Then a caller's visibility in detail: their lead list (their leads and unassigned ones, newest
first, paged without repeats or gaps), 404 for what they may not read, and calls and texts
placed as themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import CALLER_ID, PASSWORD, Team
from tests.conftest import Api, post_webhook

ACTORS = ("admin", "manager", "caller", "admin key", "caller key")
OK = "2xx"


def _expect(
    admin: Any = OK, manager: Any = OK, caller: Any = OK, admin_key: Any = OK, caller_key: Any = OK
) -> dict[str, Any]:
    return dict(zip(ACTORS, (admin, manager, caller, admin_key, caller_key), strict=True))


ALL = _expect()
ADMINS = _expect(manager=403, caller=403, caller_key=403)
MANAGERS = _expect(caller=403, caller_key=403)
# Another member's lead, or its call or message: a caller (member or key) must not see it.
NOT_THEIRS = _expect(caller=404, caller_key=404)


@dataclass
class World:
    """What the requests point at: another caller's lead (with a call and a text by that
    caller), an archived lead, a spare member, a spare API key."""

    team: Team
    others_lead: Any
    fresh_lead: Any  # another caller's lead, no call on it yet
    archived_lead: Any
    call: Any
    message: Any
    spare: Any
    spare_key: str
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(people: Team, telephony: Any) -> World:
    from chalicelib import providers
    from chalicelib.domain.actors import SYSTEM
    from chalicelib.services import (
        api_keys,
        auth,
        callbacks,
        calls,
        campaigns,
        dialer,
        leads,
        messages,
        suppressions,
        team,
    )

    d = providers.deps()

    def lead(n: int, assignee: str | None) -> Any:
        return leads.create(
            d, leads.NewLead(name=f"Lead {n}", phone=f"+1212555{n:04d}", assigned_to_id=assignee)
        )

    others_lead = lead(1, people.other.id)
    fresh_lead = lead(2, people.other.id)
    archived = lead(3, people.other.id)
    leads.archive(d, archived.id)
    call = calls.place(d, calls.PlaceCall(others_lead.id, people.other.id, CALLER_ID))
    message = messages.send(
        d, messages.SendSms(others_lead.id, "Hello there", people.other.id, CALLER_ID)
    )
    spare, _ = team.create(
        d, team.NewMember(name="Spare", phone="+14155559999", email="spare@example.com")
    )
    key, _ = api_keys.create(d, auth.ENV_KEY_ACTOR, "spare", "admin")
    suppressions.add(d, SYSTEM, SUPPRESSED, ["voice", "sms"], source="manual")
    # a campaign the other caller works (not `caller`), with a lead in it, and a callback of
    # the other caller's
    campaign = campaigns.create(d, SYSTEM, {"name": "Spring", "member_ids": [people.other.id]})
    in_campaign = lead(4, people.other.id)
    campaigns.add_leads_by_id(d, SYSTEM, campaign.id, [in_campaign.id])
    at = d.clock.now() + timedelta(days=1)
    callback = callbacks.create(d, SYSTEM, others_lead.id, at, "ring", people.other.id)
    # a dialer campaign everyone is in, and a session of the other caller's (ringing them)
    everyone = [people.admin.id, people.manager.id, people.caller.id, people.other.id, spare.id]
    dialing = campaigns.create(
        d, SYSTEM, {"name": "Dialer", "member_ids": everyone, "caller_id": CALLER_ID}
    )
    session = dialer.start(d, SYSTEM, dialing.id, people.other.id)
    extra = {
        "campaign": campaign,
        "in_campaign": in_campaign,
        "callback": callback,
        "dialing": dialing,
        "session": session,
    }
    return World(people, others_lead, fresh_lead, archived, call, message, spare, key.id, extra)


@dataclass(frozen=True)
class Row:
    expect: dict[str, Any] | None  # None: public (no bearer needed)
    path: Callable[[World], str]
    body: Callable[[World, str], Any] = lambda w, who: None
    raw: str | None = None
    content_type: str = "application/json"


def _call_body(w: World, who: str) -> dict[str, Any]:
    body = {"leadId": w.fresh_lead.id, "callerId": CALLER_ID}
    if who.endswith("key"):  # a key acts for no member: it names one
        body["teamMemberId"] = w.spare.id
    return body


def _text_body(w: World, who: str) -> dict[str, Any]:
    return {"leadId": w.others_lead.id, "body": "Following up", "from": CALLER_ID}


def _rules_body(w: World, who: str) -> dict[str, Any]:
    from chalicelib.domain.compliance_rules import DEFAULT_RULES, rules_to_doc

    return rules_to_doc(DEFAULT_RULES)


def _session_body(w: World, who: str) -> dict[str, Any]:
    body = {"campaignId": w.extra["dialing"].id}
    if who.endswith("key"):  # a key acts for no member: it names one
        body["teamMemberId"] = w.spare.id
    return body


def _session(w: World) -> str:
    return f"/dialer/sessions/{w.extra['session'].id}"


# A member action on another's session that is still `connecting`: 409 for whoever may act.
SESSION_ACTION = _expect(409, 409, 404, 409, 404)


def _callback_body(w: World, who: str) -> dict[str, Any]:
    body = {"at": "2030-06-03T15:00:00Z", "note": "call after lunch"}
    if who.endswith("key"):  # a key acts for no member: it names one
        body["teamMemberId"] = w.spare.id
    return body


def _campaign(w: World) -> str:
    return f"/campaigns/{w.extra['campaign'].id}"


IMPORT_CSV = "name,phone\nImported Person,+12125559876\n"
SUPPRESSED = "+12125550777"  # on the suppression list (manual, voice and SMS)
WEBHOOK = None

TABLE: dict[tuple[str, str], Row] = {
    ("GET", "/health"): Row(None, lambda w: "/health"),
    ("POST", "/auth/login"): Row(None, lambda w: "/auth/login"),
    ("POST", "/auth/new-password"): Row(None, lambda w: "/auth/new-password"),
    ("POST", "/auth/refresh"): Row(None, lambda w: "/auth/refresh"),
    ("POST", "/auth/logout"): Row(
        _expect(admin_key=400, caller_key=400),  # a key does not sign out: it is revoked
        lambda w: "/auth/logout",
    ),
    ("GET", "/me"): Row(ALL, lambda w: "/me"),
    ("GET", "/api-keys"): Row(ADMINS, lambda w: "/api-keys"),
    ("POST", "/api-keys"): Row(
        ADMINS, lambda w: "/api-keys", lambda w, who: {"name": "new", "role": "caller"}
    ),
    ("DELETE", "/api-keys/{key_id}"): Row(ADMINS, lambda w: f"/api-keys/{w.spare_key}"),
    ("GET", "/audit"): Row(ADMINS, lambda w: "/audit"),
    ("GET", "/compliance/rules"): Row(ADMINS, lambda w: "/compliance/rules"),
    ("GET", "/compliance/rules/defaults"): Row(ADMINS, lambda w: "/compliance/rules/defaults"),
    ("PUT", "/compliance/rules"): Row(ADMINS, lambda w: "/compliance/rules", _rules_body),
    ("GET", "/team-members"): Row(ALL, lambda w: "/team-members"),
    ("POST", "/team-members"): Row(
        ADMINS,
        lambda w: "/team-members",
        lambda w, who: {"name": "New", "phone": "+14155558888", "email": "new@example.com"},
    ),
    ("GET", "/team-members/{member_id}"): Row(ALL, lambda w: f"/team-members/{w.spare.id}"),
    ("PATCH", "/team-members/{member_id}"): Row(
        ADMINS, lambda w: f"/team-members/{w.spare.id}", lambda w, who: {"name": "Renamed"}
    ),
    ("DELETE", "/team-members/{member_id}"): Row(ADMINS, lambda w: f"/team-members/{w.spare.id}"),
    ("POST", "/team-members/{member_id}/invite"): Row(
        ADMINS, lambda w: f"/team-members/{w.spare.id}/invite"
    ),
    ("POST", "/team-members/{member_id}/reset-password"): Row(
        ADMINS, lambda w: f"/team-members/{w.spare.id}/reset-password"
    ),
    ("GET", "/leads"): Row(_expect(caller_key=403), lambda w: "/leads"),
    ("POST", "/leads"): Row(
        ALL, lambda w: "/leads", lambda w, who: {"name": "New Lead", "phone": "+12125558765"}
    ),
    ("GET", "/leads/export"): Row(MANAGERS, lambda w: "/leads/export"),
    ("POST", "/leads/import"): Row(
        MANAGERS, lambda w: "/leads/import", raw=IMPORT_CSV, content_type="text/csv"
    ),
    # the preview reads the file and nothing else: it needs the import's permission
    ("POST", "/leads/import/preview"): Row(
        MANAGERS, lambda w: "/leads/import/preview", raw=IMPORT_CSV, content_type="text/csv"
    ),
    # Bulk actions: archiving is the role's (403 for callers, before any read); the other
    # actions answer 200 with a per-lead report (a lead the caller may not edit: an error row)
    ("POST", "/leads/bulk"): Row(
        MANAGERS,
        lambda w: "/leads/bulk",
        lambda w, who: {"leadIds": [w.fresh_lead.id], "action": "archive"},
    ),
    # The inbox: a caller's threads are their leads' and unassigned ones'; a caller key acts
    # for no member (as for the lead list); marking another's lead's thread read: 404
    ("GET", "/inbox"): Row(_expect(caller_key=403), lambda w: "/inbox"),
    ("POST", "/inbox/{lead_id}/read"): Row(NOT_THEIRS, lambda w: f"/inbox/{w.others_lead.id}/read"),
    ("GET", "/leads/{lead_id}"): Row(NOT_THEIRS, lambda w: f"/leads/{w.others_lead.id}"),
    ("GET", "/leads/{lead_id}/compliance"): Row(
        NOT_THEIRS, lambda w: f"/leads/{w.others_lead.id}/compliance"
    ),
    ("PATCH", "/leads/{lead_id}"): Row(
        NOT_THEIRS, lambda w: f"/leads/{w.others_lead.id}", lambda w, who: {"notes": "edited"}
    ),
    # Archiving is refused by role before any read (nothing to probe): 403 for callers.
    ("DELETE", "/leads/{lead_id}"): Row(MANAGERS, lambda w: f"/leads/{w.others_lead.id}"),
    ("POST", "/leads/{lead_id}/restore"): Row(
        MANAGERS, lambda w: f"/leads/{w.archived_lead.id}/restore"
    ),
    # Members call as themselves; an admin key may name a member, a caller key may not. A
    # lead named in a body that the caller may not read is answered as one that does not
    # exist: 400 on `leadId` (the answer for an unknown lead), never a 403.
    ("POST", "/calls"): Row(_expect(caller=400, caller_key=403), lambda w: "/calls", _call_body),
    ("GET", "/calls"): Row(NOT_THEIRS, lambda w: f"/calls?leadId={w.others_lead.id}"),
    ("GET", "/calls/{call_id}"): Row(NOT_THEIRS, lambda w: f"/calls/{w.call.id}"),
    ("PATCH", "/calls/{call_id}"): Row(
        NOT_THEIRS, lambda w: f"/calls/{w.call.id}", lambda w, who: {"notes": "wrapped up"}
    ),
    # a manager frees the member and the lead a stuck call holds; a caller may not
    ("POST", "/calls/{call_id}/release"): Row(MANAGERS, lambda w: f"/calls/{w.call.id}/release"),
    ("POST", "/messages"): Row(
        _expect(caller=400, caller_key=400), lambda w: "/messages", _text_body
    ),
    ("GET", "/messages"): Row(NOT_THEIRS, lambda w: f"/messages?leadId={w.others_lead.id}"),
    # The suppression ledger: anyone signed in adds a number; managers and admins read the
    # list and import; admins remove (API.md, "Identity and roles").
    ("GET", "/suppressions"): Row(MANAGERS, lambda w: "/suppressions"),
    ("POST", "/suppressions"): Row(
        ALL, lambda w: "/suppressions", lambda w, who: {"phone": "+12125550888"}
    ),
    ("POST", "/suppressions/import"): Row(
        MANAGERS,
        lambda w: "/suppressions/import",
        raw="+12125550901\n212,5550902\n",
        content_type="text/plain",
    ),
    ("GET", "/suppressions/{phone}"): Row(MANAGERS, lambda w: f"/suppressions/%2B{SUPPRESSED[1:]}"),
    ("DELETE", "/suppressions/{phone}"): Row(
        ADMINS, lambda w: f"/suppressions/%2B{SUPPRESSED[1:]}?channel=voice"
    ),
    # Campaigns: managers and admins write; a caller reads the campaigns they are in (this one
    # is the other caller's: 404, as if it did not exist; a caller key is no member).
    ("GET", "/campaigns"): Row(ALL, lambda w: "/campaigns"),
    ("POST", "/campaigns"): Row(
        MANAGERS, lambda w: "/campaigns", lambda w, who: {"name": "Autumn", "maxAttempts": 2}
    ),
    ("GET", "/campaigns/{campaign_id}"): Row(NOT_THEIRS, _campaign),
    ("PATCH", "/campaigns/{campaign_id}"): Row(
        MANAGERS, _campaign, lambda w, who: {"name": "Spring push"}
    ),
    ("DELETE", "/campaigns/{campaign_id}"): Row(MANAGERS, _campaign),
    ("POST", "/campaigns/{campaign_id}/leads"): Row(
        MANAGERS,
        lambda w: f"{_campaign(w)}/leads",
        lambda w, who: {"leadIds": [w.fresh_lead.id]},
    ),
    ("GET", "/campaigns/{campaign_id}/leads"): Row(
        NOT_THEIRS, lambda w: f"{_campaign(w)}/leads?state=ready"
    ),
    ("DELETE", "/campaigns/{campaign_id}/leads/{lead_id}"): Row(
        MANAGERS, lambda w: f"{_campaign(w)}/leads/{w.extra['in_campaign'].id}"
    ),
    ("GET", "/campaigns/{campaign_id}/stats"): Row(NOT_THEIRS, lambda w: f"{_campaign(w)}/stats"),
    # Callbacks: on a lead one may read; a caller's own; managers and admins anyone's.
    ("POST", "/leads/{lead_id}/callbacks"): Row(
        NOT_THEIRS, lambda w: f"/leads/{w.others_lead.id}/callbacks", _callback_body
    ),
    ("GET", "/callbacks"): Row(ALL, lambda w: "/callbacks"),
    ("DELETE", "/callbacks/{callback_id}"): Row(
        NOT_THEIRS, lambda w: f"/callbacks/{w.extra['callback'].id}"
    ),
    # The dialer: a member starts their own session (an admin key names one); a caller sees and
    # acts on their own sessions only.
    ("POST", "/dialer/sessions"): Row(
        _expect(caller_key=403), lambda w: "/dialer/sessions", _session_body
    ),
    ("GET", "/dialer/sessions"): Row(
        _expect(caller=403, caller_key=403),
        lambda w: f"/dialer/sessions?teamMemberId={w.team.other.id}",
    ),
    ("GET", "/dialer/sessions/{session_id}"): Row(NOT_THEIRS, _session),
    ("POST", "/dialer/sessions/{session_id}/next"): Row(
        SESSION_ACTION, lambda w: f"{_session(w)}/next"
    ),
    ("POST", "/dialer/sessions/{session_id}/pause"): Row(
        SESSION_ACTION, lambda w: f"{_session(w)}/pause"
    ),
    ("POST", "/dialer/sessions/{session_id}/resume"): Row(
        SESSION_ACTION, lambda w: f"{_session(w)}/resume"
    ),
    ("POST", "/dialer/sessions/{session_id}/drop-voicemail"): Row(
        SESSION_ACTION, lambda w: f"{_session(w)}/drop-voicemail"
    ),
    ("POST", "/dialer/sessions/{session_id}/end"): Row(NOT_THEIRS, lambda w: f"{_session(w)}/end"),
    ("POST", "/twilio/dialer/member/{session_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/dialer/member/{w.extra['session'].id}"
    ),
    ("POST", "/twilio/dialer/member-gather/{session_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/dialer/member-gather/{w.extra['session'].id}"
    ),
    ("POST", "/twilio/dialer/member-status/{session_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/dialer/member-status/{w.extra['session'].id}"
    ),
    ("POST", "/twilio/dialer/conference/{session_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/dialer/conference/{w.extra['session'].id}"
    ),
    ("POST", "/twilio/dialer/lead/{session_id}/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/dialer/lead/{w.extra['session'].id}/{w.call.id}"
    ),
    ("POST", "/twilio/dialer/lead-status/{session_id}/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/dialer/lead-status/{w.extra['session'].id}/{w.call.id}"
    ),
    ("GET", "/dashboard/stats"): Row(ALL, lambda w: "/dashboard/stats"),
    # a call's audio: whoever may read the call (a caller: 404 for another's; none here: 404)
    ("GET", "/calls/{call_id}/recording"): Row(
        _expect(404, 404, 404, 404, 404), lambda w: f"/calls/{w.call.id}/recording"
    ),
    ("POST", "/twilio/voice/incoming"): Row(WEBHOOK, lambda w: "/twilio/voice/incoming"),
    ("POST", "/twilio/voice/incoming-status"): Row(
        WEBHOOK, lambda w: "/twilio/voice/incoming-status"
    ),
    ("POST", "/twilio/voice/incoming-next/{call_id}/{stage}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/incoming-next/{w.call.id}/0"
    ),
    ("POST", "/twilio/voice/incoming-whisper/{call_id}/{member_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/incoming-whisper/{w.call.id}/{w.spare.id}"
    ),
    ("POST", "/twilio/voice/incoming-accept/{call_id}/{member_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/incoming-accept/{w.call.id}/{w.spare.id}"
    ),
    ("POST", "/twilio/voice/voicemail/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/voicemail/{w.call.id}"
    ),
    ("POST", "/twilio/voice/recording/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/recording/{w.call.id}"
    ),
    ("POST", "/twilio/voice/notice"): Row(WEBHOOK, lambda w: "/twilio/voice/notice"),
    ("GET", "/twilio/phone-numbers"): Row(ALL, lambda w: "/twilio/phone-numbers"),
    ("POST", "/twilio/sms/incoming"): Row(WEBHOOK, lambda w: "/twilio/sms/incoming"),
    ("POST", "/twilio/sms/status/{message_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/sms/status/{w.message.id}"
    ),
    ("POST", "/twilio/voice/amd/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/amd/{w.call.id}"
    ),
    ("POST", "/twilio/voice/connect/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/connect/{w.call.id}"
    ),
    ("POST", "/twilio/voice/gather/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/gather/{w.call.id}"
    ),
    ("POST", "/twilio/voice/lead-status/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/lead-status/{w.call.id}"
    ),
    ("POST", "/twilio/voice/status/{call_id}"): Row(
        WEBHOOK, lambda w: f"/twilio/voice/status/{w.call.id}"
    ),
}

AUTHENTICATED = sorted(k for k, row in TABLE.items() if row.expect is not None)
PUBLIC = sorted(k for k, row in TABLE.items() if row.expect is None)


def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, entry in app.routes.items() for method in entry}


def test_every_route_of_the_app_has_a_row() -> None:
    routes = _app_routes()
    assert sorted(routes - set(TABLE)) == [], "routes without a row in the permission table"
    assert sorted(set(TABLE) - routes) == [], "rows for routes the app no longer has"


def _request(api: Api, w: World, key: tuple[str, str], token: str | None, who: str) -> Any:
    method, _ = key
    row = TABLE[key]
    headers = {"Content-Type": row.content_type}
    body = row.body(w, who)
    return api.request(method, row.path(w), body, token=token, headers=headers, raw=row.raw)


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("key", AUTHENTICATED, ids=[f"{m} {p}" for m, p in AUTHENTICATED])
def test_the_role_table(api: Api, world: World, key: tuple[str, str], who: str) -> None:
    expected = TABLE[key].expect
    assert expected is not None
    status, body, _ = _request(api, world, key, world.team.tokens[who], who)
    want = expected[who]
    if want == OK:
        assert 200 <= status < 300, (status, body)
    else:
        assert status == want, (status, body)
        codes = {400: "validation_error", 403: "forbidden", 404: "not_found", 409: "conflict"}
        code = codes[want]
        assert body["error"]["code"] == code
    # And without a bearer: 401, whoever would have asked.
    status, body, _ = _request(api, world, key, None, who)
    assert status == 401 and body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("key", [k for k in PUBLIC if k[1].startswith("/twilio/")])
def test_webhooks_need_the_twilio_signature_not_a_bearer(
    api: Api, world: World, key: tuple[str, str]
) -> None:
    path = TABLE[key].path(world)
    form = {"CallSid": "CA" + "0" * 32, "From": "+12125550000", "To": CALLER_ID, "Body": "hi"}
    for token in (None, world.team.tokens["admin"]):
        status, _, _ = (
            post_webhook(api, path, form, sign=False)
            if token is None
            else (
                api.request(
                    "POST",
                    path,
                    raw="CallSid=CA00",
                    token=token,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            )
        )
        assert status == 403
    status, _, _ = post_webhook(api, path, form)  # signed: no bearer needed
    assert status != 401 and status != 403


def test_the_public_routes_need_no_bearer(api: Api, world: World, cognito: Any) -> None:
    status, body, _ = api.get("/health", token=None)
    assert (status, body) == (200, {"status": "ok"})
    status, signed, _ = api.post(
        "/auth/login", {"email": "admin@example.com", "password": PASSWORD}, token=None
    )
    assert status == 200 and signed["accessToken"]
    status, refreshed, _ = api.post(
        "/auth/refresh", {"refreshToken": signed["refreshToken"]}, token=None
    )
    assert status == 200 and refreshed["accessToken"]
    status, invited, _ = api.post(f"/team-members/{world.spare.id}/invite")
    temporary = invited["invite"]["temporaryPassword"]
    status, challenge, _ = api.post(
        "/auth/login", {"email": "spare@example.com", "password": temporary}, token=None
    )
    assert status == 200 and challenge["challenge"] == "NEW_PASSWORD_REQUIRED"
    status, answer, _ = api.post(
        "/auth/new-password",
        {"email": "spare@example.com", "session": challenge["session"], "newPassword": PASSWORD},
        token=None,
    )
    assert status == 200 and answer["member"]["id"] == world.spare.id


# ---------------------------------------------------------------- a caller's visibility


def test_a_callers_lead_list_is_theirs_and_unassigned_newest_first(api: Api, people: Team) -> None:
    from chalicelib import providers
    from chalicelib.services import leads

    d = providers.deps()
    me, other = people.caller.id, people.other.id
    plan = [me, None, other, other, me, None, None, other, me, me, other, None, me]
    statuses = ["new", "contacted"]
    made = []
    for n, assignee in enumerate(plan):
        made.append(
            leads.create(
                d,
                leads.NewLead(
                    name=f"L{n}",
                    phone=f"+1212555{n:04d}",
                    assigned_to_id=assignee,
                    status=statuses[n % 2],
                ),
            )
        )
    token = people.tokens["caller"]
    for status in (None, "contacted", "new"):
        expected = [
            lead.id
            for lead in sorted(made, key=lambda lead: lead.id, reverse=True)
            if lead.assigned_to_id in (me, None) and status in (None, lead.status)
        ]
        for limit in (1, 2, 3, 25):
            seen: list[str] = []
            cursor = None
            for _ in range(len(plan) + 2):
                query = f"/leads?limit={limit}" + (f"&status={status}" if status else "")
                query += f"&cursor={cursor}" if cursor else ""
                code, page, _ = api.get(query, token=token)
                assert code == 200, page
                assert len(page["items"]) <= limit
                seen += [item["id"] for item in page["items"]]
                cursor = page["nextCursor"]
                if cursor is None:
                    break
            assert seen == expected, (status, limit)
    # Their own only, on request; another member's: 403.
    code, page, _ = api.get(f"/leads?assignedToId={me}", token=token)
    newest = sorted(made, key=lambda x: x.id, reverse=True)
    assert [i["id"] for i in page["items"]] == [x.id for x in newest if x.assigned_to_id == me]
    code, _, _ = api.get(f"/leads?assignedToId={other}", token=token)
    assert code == 403


def test_a_caller_gets_404_for_what_they_may_not_read(api: Api, world: World) -> None:
    token = world.team.tokens["caller"]
    lead = world.others_lead.id
    for path in (
        f"/leads/{lead}",
        f"/calls?leadId={lead}",
        f"/calls/{world.call.id}",
        f"/messages?leadId={lead}",
    ):
        status, body, _ = api.get(path, token=token)
        assert status == 404 and body["error"]["code"] == "not_found", path
    # The same answer as for an id that does not exist.
    status, missing, _ = api.get("/leads/01ARZ3NDEKTSV4RRFFQ69G5FAV", token=token)
    _, hidden, _ = api.get(f"/leads/{lead}", token=token)
    assert status == 404
    assert missing["error"]["message"].replace("01ARZ3NDEKTSV4RRFFQ69G5FAV", "X") == hidden[
        "error"
    ]["message"].replace(lead, "X")
    # Placing a call or a text on it is answered as for a lead that does not exist.
    for route in ("/calls", "/messages"):
        answers = []
        for lead_id in (lead, "01ARZ3NDEKTSV4RRFFQ69G5FAV"):
            body = {"leadId": lead_id, "callerId": CALLER_ID, "body": "Hi", "from": CALLER_ID}
            if route == "/calls":
                body = {k: body[k] for k in ("leadId", "callerId")}
            else:
                body.pop("callerId")
            status, answer, _ = api.post(route, body, token=token)
            answers.append((status, answer["error"]["message"].replace(lead_id, "X")))
        assert answers[0] == answers[1], route
    # Once the lead is theirs, they read it and its history.
    api.patch(f"/leads/{lead}", {"assignedToId": world.team.caller.id})
    for path in (f"/leads/{lead}", f"/calls?leadId={lead}", f"/calls/{world.call.id}"):
        status, _, _ = api.get(path, token=token)
        assert status == 200, path


def test_calls_are_placed_as_the_signed_in_member(api: Api, world: World) -> None:
    from chalicelib import providers
    from chalicelib.services import leads

    team = world.team
    mine = leads.create(
        providers.deps(),
        leads.NewLead(name="Mine", phone="+12125554444", assigned_to_id=team.caller.id),
    )
    token = team.tokens["caller"]
    status, call, _ = api.post("/calls", {"leadId": mine.id, "callerId": CALLER_ID}, token=token)
    assert status == 201 and call["teamMemberId"] == team.caller.id
    status, body, _ = api.post(
        "/calls",
        {"leadId": mine.id, "callerId": CALLER_ID, "teamMemberId": team.other.id},
        token=token,
    )
    assert status == 403 and body["error"]["code"] == "forbidden"
    # Naming themselves is fine.
    unassigned = leads.create(providers.deps(), leads.NewLead(name="Free", phone="+12125554445"))
    status, text, _ = api.post(
        "/messages",
        {"leadId": unassigned.id, "body": "Hi", "from": CALLER_ID, "teamMemberId": team.caller.id},
        token=token,
    )
    assert status == 201 and text["teamMemberId"] == team.caller.id
    status, body, _ = api.post(
        "/messages",
        {"leadId": unassigned.id, "body": "Hi", "from": CALLER_ID, "teamMemberId": team.other.id},
        token=token,
    )
    assert status == 403
    # A manager calls as themselves too, and may not name another member.
    status, body, _ = api.post(
        "/calls",
        {"leadId": world.fresh_lead.id, "callerId": CALLER_ID, "teamMemberId": team.other.id},
        token=team.tokens["manager"],
    )
    assert status == 403
    # An admin may name another member.
    status, call, _ = api.post(
        "/calls",
        {"leadId": world.fresh_lead.id, "callerId": CALLER_ID, "teamMemberId": world.spare.id},
        token=team.tokens["admin"],
    )
    assert status == 201 and call["teamMemberId"] == world.spare.id
