"""Shared fixtures: a clean environment per test, moto, the tables, a Chalice test client, and a
counter of DynamoDB requests (costs are asserted, not timed)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

TOKEN = "test-token-0123456789"

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "APP_NAME": "coldcall",
    "STAGE": "test",
    "API_TOKEN": TOKEN,
    "PUBLIC_BASE_URL": "https://api.example.test/api",
    # imports answer in one request however slow the machine running the tests; the tests of
    # the budget set it (or pass `budget_seconds`)
    "IMPORT_BUDGET_SECONDS": "3600",
}

# Variables a developer's shell might carry that would change what the tests see.
SCRUB = [
    "DYNAMODB_ENDPOINT",
    "API_TOKEN_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_AUTH_TOKEN_SECRET",
    "TWILIO_API_BASE",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_SERVICE_ID",
    "CALLING_HOURS",
    "STATS_TIMEZONE",
    "DASHBOARD_ORIGIN",
    "MAX_IMPORT_BYTES",
    "EXPORT_BUCKET",
    "EXPORT_INLINE_MAX_BYTES",
    "PUBLIC_BASE_URLS",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SCRUB:
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    from chalicelib.config import reset_settings

    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    from chalicelib.store import dynamo

    # moto's TransactWriteItems copies the tables unlocked: transactions sent from several
    # threads at once (the import's groups) break it. DynamoDB itself takes them; under moto
    # they go one at a time.
    monkeypatch.setattr(dynamo, "_WRITERS", 1)
    with mock_aws():
        yield


@pytest.fixture
def tables(aws: None) -> None:
    from chalicelib import providers
    from chalicelib.store.tables import ensure_tables

    ensure_tables(providers.settings())


class DdbCounter:
    """Counts DynamoDB API calls made through PynamoDB and the shared botocore client."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.capacity = 0.0

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
        self.capacity = 0.0


@pytest.fixture
def ddb_requests(monkeypatch: pytest.MonkeyPatch) -> DdbCounter:
    from botocore.client import BaseClient

    counter = DdbCounter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            counter.calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return counter


class Api:
    """A small wrapper over chalice.test.Client: JSON in, (status, JSON) out, token by default."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        hdrs = {"Content-Type": "application/json"}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        resp = self.client.http.request(method, path, headers=hdrs, body=payload)
        ctype = resp.headers.get("Content-Type", resp.headers.get("content-type", ""))
        if ctype.startswith("audio/"):
            return resp.status_code, resp.body, resp.headers  # the bytes as they are
        text = resp.body.decode() if isinstance(resp.body, bytes) else resp.body
        data: Any = text
        if text and "json" in ctype:
            data = json.loads(text)
        return resp.status_code, data, resp.headers

    def get(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The app through chalice.test.Client. Its store is the in-memory one (the same contract,
    tests/contract/), unless the test counts DynamoDB requests or is marked `dynamo`: then
    DynamoDB on moto."""
    from chalice.test import Client

    from app import app
    from chalicelib import providers

    if "ddb_requests" in request.fixturenames or request.node.get_closest_marker("dynamo"):
        request.getfixturevalue("tables")
    else:
        from chalicelib.store.memory import MemoryStore

        providers.override(store=MemoryStore())
        request.addfinalizer(lambda: providers.override(store=None))

    # The test client applies .chalice/config.json's variables of the stage it is given on
    # every request; a stage of its own keeps the dev stage's variables out of the tests.
    with Client(app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def make_member(api: Api):
    counter = iter(range(100, 10_000))

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"name": "Sam Caller", "phone": f"+1415555{next(counter):04d}", "role": "caller"}
        body.update(overrides)
        status, data, _ = api.post("/team-members", body)
        assert status == 201, data
        return data

    return make


@pytest.fixture
def make_lead(api: Api):
    counter = iter(range(1000, 10_000))

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"name": "Jane Doe", "phone": f"+1212555{next(counter):04d}"}
        body.update(overrides)
        status, data, _ = api.post("/leads", body)
        assert status == 201, data
        return data

    return make


@pytest.fixture(scope="session")
def repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


SIM_TOKEN = "simulated-auth-token"


@pytest.fixture
def telephony(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The recording fake Twilio, installed for this test; webhooks signed with SIM_TOKEN."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.telephony.fake import FakeTelephony

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", SIM_TOKEN)
    reset_settings()
    fake = FakeTelephony()
    providers.override(telephony=fake)
    yield fake
    providers.override(telephony=None)


CLOCK_START = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[Any]:
    """The app's one clock, frozen; `clock.set(dt)` moves it. Starts on a weekday at 17:00 UTC
    (12:00 in New York, 09:00 in Los Angeles: inside calling hours for both)."""
    from chalicelib import providers
    from chalicelib.clock import ManualClock

    c = ManualClock(CLOCK_START)
    providers.override(clock=c)
    yield c
    providers.override(clock=None)


class _Pairs(dict[str, list[str]]):
    """Form pairs as the SDK's validator takes a multi-valued form (Django's `getlist`)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def _sign_pairs(token: str, url: str, pairs: list[tuple[str, str]]) -> str:
    """Twilio's signature of a form with repeated keys, straight from the SDK."""
    from twilio.request_validator import RequestValidator

    form = _Pairs()
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return str(RequestValidator(token).compute_signature(url, form))


def post_webhook(
    api: Api,
    path: str,
    params: dict[str, str] | list[tuple[str, str]],
    *,
    token: str = SIM_TOKEN,
    sign: bool = True,
    base: str | None = None,
    signed_url: str | None = None,
    signed_params: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """POST a form-encoded Twilio webhook signed as Twilio would: over the public URL (`base`,
    PUBLIC_BASE_URL unless given, + `path`, query included), or over `signed_url` if given.
    `params` may be a list of pairs to repeat a key; `signed_params` signs other params."""
    from urllib.parse import urlencode

    from chalicelib.telephony.signature import sign as make_signature

    url = signed_url or (base or BASE_ENV["PUBLIC_BASE_URL"]) + path
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign and isinstance(params, list) and signed_params is None:
        headers["X-Twilio-Signature"] = _sign_pairs(token, url, params)
    elif sign:
        headers["X-Twilio-Signature"] = make_signature(token, url, signed_params or params)
    return api.request("POST", path, raw=urlencode(params), token=None, headers=headers)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `pytest -n 2 --dist loadgroup` (make test), tests that share a costly session
    stack run in one worker: the browser suite (one dev stack), the integration tier (one
    DynamoDB Local and one live stack) and the deploy checks (one `chalice package`)."""
    for item in items:
        parts = item.path.parts
        for group in ("browser", "integration", "deploy"):
            if group in parts:
                item.add_marker(pytest.mark.xdist_group(group))
                break
