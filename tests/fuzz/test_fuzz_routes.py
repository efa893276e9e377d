"""Hostile input on every JSON route and every webhook: random and malformed JSON, wrong types,
huge and Unicode strings, missing fields, forged and replayed signatures. Whatever comes in:
never a 500, never a stack trace, always the error shape, and no record changed by a request
that was refused."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.db.models import ALL_MODELS
from tests.conftest import SIM_TOKEN, post_webhook

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.text(min_size=300, max_size=2000),
    st.sampled_from(["", " ", "+14155550100", "(415) 555-0100", "\u0000", "🙂" * 10, "null"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "name",
    "phone",
    "email",
    "company",
    "notes",
    "status",
    "assignedToId",
    "role",
    "active",
    "version",
    "leadId",
    "teamMemberId",
    "callerId",
    "disposition",
    "doNotCall",
    "smsOptOut",
    "body",
    "from",
]
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
)
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.just(b"{" * 5000),
)


def snapshot() -> dict[str, Any]:
    return {
        m.Meta.table_name: sorted(json.dumps(i.serialize(), sort_keys=True) for i in m.scan())
        for m in ALL_MODELS
    }  # type: ignore[attr-defined]


def check_shape(status: int, body: Any) -> None:
    assert status < 500, body
    if status >= 400:
        assert isinstance(body, dict) and set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
        assert "Traceback" not in json.dumps(body)


@pytest.fixture
def world(api, telephony, clock, make_member, make_lead):
    member = make_member()
    lead = make_lead()
    _, call, _ = api.post(
        "/calls", {"leadId": lead["id"], "teamMemberId": member["id"], "callerId": "+15005550006"}
    )
    _, message, _ = api.post(
        "/messages", {"leadId": lead["id"], "body": "hi", "from": "+15005550006"}
    )
    return {"member": member, "lead": lead, "call": call, "message": message}


JSON_ROUTES = [
    ("POST", "/team-members"),
    ("PATCH", "/team-members/{member}"),
    ("POST", "/leads"),
    ("PATCH", "/leads/{lead}"),
    ("POST", "/calls"),
    ("PATCH", "/calls/{call}"),
    ("POST", "/messages"),
]


def path_for(template: str, world: dict[str, Any]) -> str:
    return template.format(
        member=world["member"]["id"],
        lead=world["lead"]["id"],
        call=world["call"]["id"],
        message=world["message"]["id"],
    )


@pytest.mark.parametrize("method, template", JSON_ROUTES)
def test_random_json_bodies(api, world, method, template):
    path = path_for(template, world)

    @FUZZ
    @given(body=bodies)
    def run(body: Any) -> None:
        before = snapshot()
        status, data, _ = api.request(method, path, body)
        check_shape(status, data)
        if status >= 400:
            assert snapshot() == before

    run()


@pytest.mark.parametrize("method, template", [*JSON_ROUTES, ("POST", "/leads/import")])
def test_raw_garbage_bodies(api, world, method, template):
    path = path_for(template, world)
    ctype = "text/csv" if template.endswith("import") else "application/json"

    @FUZZ
    @given(raw=raw_bodies)
    def run(raw: bytes) -> None:
        status, data, _ = api.request(method, path, raw=raw, headers={"Content-Type": ctype})
        check_shape(status, data)

    run()


@pytest.mark.parametrize(
    "template",
    ["/leads", "/team-members", "/calls", "/leads/{lead}", "/calls/{call}", "/messages"],
)
def test_random_query_strings_and_ids(api, world, template):
    path = path_for(template, world)

    @FUZZ
    @given(
        params=st.dictionaries(
            st.sampled_from(
                [
                    "limit",
                    "cursor",
                    "status",
                    "assignedToId",
                    "leadId",
                    "teamMemberId",
                    "active",
                    "x",
                ]
            ),
            st.text(max_size=60),
            max_size=4,
        )
    )
    def run(params: dict[str, str]) -> None:
        status, data, _ = api.get(path + ("?" + urlencode(params) if params else ""))
        check_shape(status, data)

    run()


dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=40),
    st.sampled_from(["2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "2026-11-23T00:00"]),
)


def test_stats_query_strings(api, world):
    """Random, reversed, impossible and far-apart dates: 200 with the shape, or a 400."""

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(["from", "to", "x"]), dates, max_size=3))
    def run(params: dict[str, str]) -> None:
        query = "?" + urlencode(params) if params else ""
        status, data, _ = api.get("/dashboard/stats" + query)
        check_shape(status, data)
        assert status in (200, 400), data
        if status == 200:
            assert len(data["daily"]) <= 366 and data["from"] <= data["to"]

    run()


WEBHOOKS = [
    "/twilio/voice/connect/{call}",
    "/twilio/voice/status/{call}",
    "/twilio/voice/lead-status/{call}",
    "/twilio/sms/status/{message}",
    "/twilio/sms/incoming",
]
form_values = st.dictionaries(
    st.sampled_from(
        [
            "CallStatus",
            "CallDuration",
            "Digits",
            "DialCallStatus",
            "DialCallDuration",
            "CallSid",
            "Junk",
        ]
    ),
    st.one_of(
        st.sampled_from(["completed", "ringing", "in-progress", "busy", "1", "", "-5", "9" * 30]),
        st.text(max_size=40),
    ),
    max_size=5,
)


@pytest.mark.parametrize("template", WEBHOOKS)
def test_forged_or_replayed_webhooks_are_refused_and_change_nothing(api, world, template):
    path = path_for(template, world)
    other = path_for("/twilio/voice/status/{member}", world)

    @FUZZ
    @given(params=form_values, how=st.sampled_from(["none", "wrong-token", "other-url", "garbage"]))
    def run(params: dict[str, str], how: str) -> None:
        before = snapshot()
        if how == "none":
            status, data, _ = post_webhook(api, path, params, sign=False)
        elif how == "wrong-token":
            status, data, _ = post_webhook(api, path, params, token="guess")
        elif how == "other-url":
            from chalicelib.telephony.signature import sign

            sig = sign(SIM_TOKEN, "https://api.example.test/api" + other, params)
            status, data, _ = api.request(
                "POST",
                path,
                raw=urlencode(params),
                token=None,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": sig,
                },
            )
        else:
            status, data, _ = api.request(
                "POST",
                path,
                raw=urlencode(params),
                token=None,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": "x" * 28,
                },
            )
        assert status == 403, data
        check_shape(status, data)
        assert snapshot() == before

    run()


@pytest.mark.parametrize("template", WEBHOOKS)
def test_signed_random_webhooks_never_500(api, world, template):
    path = path_for(template, world)

    @FUZZ
    @given(params=form_values)
    def run(params: dict[str, str]) -> None:
        status, data, _ = post_webhook(api, path, params)
        if status >= 400:
            check_shape(status, data)
        assert status < 500

    run()
