"""What reaches CloudWatch: one JSON line per request (route template, status, latency, the
AWS request ids), and never a phone number, a name, an email, notes, a token or a body."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.conftest import TOKEN

NAME, EMAIL, NOTES = "Jane Privatelead", "jane.private@example.com", "Met at the expo, VIP"
PHONE, PHONE_NATIONAL, PHONE_DIGITS = "+12125550142", "212 555 0142", "2125550142"
MEMBER_PHONE = "+14155550177"


@pytest.fixture
def log_lines(api) -> Iterator[io.StringIO]:
    """Swap the stream of the app logger's real handlers (Chalice's stdout handler with our
    JSON formatter) for a buffer."""
    logger = logging.getLogger("coldcall")
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the app logger has no stream handler"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


def read(buffer: io.StringIO) -> list[dict]:
    """Every line written, parsed: each must be one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def assert_no_pii(lines: list[dict]) -> None:
    text = json.dumps(lines)
    for secret in (PHONE, PHONE_DIGITS, PHONE_NATIONAL, MEMBER_PHONE, MEMBER_PHONE[2:]):
        assert secret not in text
    for secret in (NAME, "Privatelead", EMAIL, NOTES, TOKEN, "Bearer"):
        assert secret not in text


def test_one_json_line_per_request_with_route_status_latency_and_request_ids(api, log_lines):
    status, _, _ = api.post(
        "/team-members", {"name": "Sam Caller", "phone": MEMBER_PHONE, "email": EMAIL}
    )
    assert status == 201
    status, lead, _ = api.post(
        "/leads", {"name": NAME, "phone": PHONE_NATIONAL, "email": EMAIL, "notes": NOTES}
    )
    assert status == 201
    assert api.get(f"/leads/{lead['id']}")[0] == 200
    patch = {"notes": NOTES + " again", "version": lead["version"]}
    assert api.patch(f"/leads/{lead['id']}", patch)[0] == 200
    assert api.get("/leads/01NOTTHERE0000000000000000")[0] == 404
    assert api.get("/leads", token="wrong-" + TOKEN)[0] == 401

    lines = read(log_lines)
    requests = [line for line in lines if line.get("msg") == "request"]
    assert len(requests) == len(lines) == 6
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/team-members", 201),
        ("POST", "/leads", 201),
        ("GET", "/leads/{lead_id}", 200),
        ("PATCH", "/leads/{lead_id}", 200),
        ("GET", "/leads/{lead_id}", 404),
        ("GET", "/leads", 401),
    ]
    for line in requests:
        assert isinstance(line["ms"], float) and line["ms"] >= 0
        assert line["requestId"] and line["lambdaRequestId"]
        assert line["level"] == "INFO"
    assert len({r["requestId"] for r in requests}) == 6
    assert lead["id"] not in json.dumps(lines)  # the template, never the concrete path
    assert_no_pii(lines)


def test_an_unhandled_error_is_logged_by_type_and_location_not_by_its_message(
    api, log_lines, monkeypatch
):
    from chalicelib.services import leads

    def explode(deps, lead_id: str, *rest):
        raise ValueError(f"cannot dial {PHONE} for {NAME} <{EMAIL}>")

    monkeypatch.setattr(leads, "get", explode)
    status, body, _ = api.get("/leads/01ANYTHING0000000000000000")
    assert status == 500 and body["error"]["code"] == "internal"

    lines = read(log_lines)
    error = next(line for line in lines if line.get("msg") == "unhandled error")
    assert error["error"] == "ValueError"
    assert error["level"] == "ERROR"
    assert error["route"] == "/leads/{lead_id}"
    assert error["requestId"]
    assert any("explode" in frame for frame in error["trace"])
    assert_no_pii(lines)


def test_phone_numbers_in_any_log_message_are_masked(api, log_lines):
    logging.getLogger("coldcall").info("texting %s from %s", PHONE, MEMBER_PHONE)
    (line,) = read(log_lines)
    assert line["msg"] == "texting +1********42 from +1********77"
    assert_no_pii([line])


def test_in_lambda_the_request_id_is_api_gateways(api, log_lines):
    """Invoke the handler as Lambda does, with an API Gateway proxy event and a context."""
    from app import app

    class LambdaContext:
        aws_request_id = "lambda-invocation-id"
        function_name = "coldcall-prod-APIHandler-X"
        memory_limit_in_mb = 1024

        def get_remaining_time_in_millis(self) -> int:
            return 10_000

    event = {
        "resource": "/health",
        "path": "/health",
        "httpMethod": "GET",
        "headers": {"Host": "abc.execute-api.us-east-1.amazonaws.com"},
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": "apigw-request-id",
            "resourcePath": "/health",
            "httpMethod": "GET",
            "stage": "api",
            "path": "/api/health",
        },
    }
    response = app(event, LambdaContext())
    assert response["statusCode"] == 200
    (line,) = read(log_lines)
    assert line["requestId"] == "apigw-request-id"
    assert line["lambdaRequestId"] == "lambda-invocation-id"
    assert line["route"] == "/health"
