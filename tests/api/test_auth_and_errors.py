import pytest


def test_health_needs_no_token(api):
    status, body, _ = api.get("/health", token=None)
    assert status == 200 and body == {"status": "ok"}


@pytest.mark.parametrize("path", ["/leads", "/team-members", "/leads/export"])
def test_missing_token_is_401(api, path):
    status, body, _ = api.get(path, token=None)
    assert status == 401 and body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong", "Basic dGVzdDp0ZXN0", "Bearer", "test-token-0123456789", "Bearer  "],
)
def test_wrong_token_is_401(api, header):
    status, body, _ = api.get("/leads", token=None, headers={"Authorization": header})
    assert status == 401 and body["error"]["code"] == "unauthorized"


def test_token_comparison_is_constant_time(monkeypatch):
    import hmac

    from chalicelib import providers
    from chalicelib.services import auth

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    actor = auth.authenticate(providers.deps(), "Bearer test-token-0123456789")
    assert actor.role == "admin" and actor.kind == "apiKey"
    assert calls == [(b"test-token-0123456789", b"test-token-0123456789")]


@pytest.mark.parametrize(
    "raw",
    ["{bad json", "[1, 2]", "null", "", '"a string"', "\xff\xfe"],
)
def test_malformed_bodies_are_400_never_500(api, raw):
    status, body, _ = api.post("/leads", raw=raw)
    assert status == 400
    assert body["error"]["code"] == "validation_error"


@pytest.mark.parametrize("depth", [1000, 50_000])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/leads"),
        ("PATCH", "/leads/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("POST", "/team-members"),
        ("PATCH", "/team-members/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("POST", "/calls"),
        ("PATCH", "/calls/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        ("POST", "/messages"),
    ],
)
def test_deeply_nested_json_is_400_never_500(api, method, path, depth):
    raw = '{"name":' + "[" * depth + "]" * depth + "}"
    status, body, _ = api.request(method, path, raw=raw)
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    assert "nested" in body["error"]["message"]


def test_wrong_content_type_is_415_in_the_error_shape(api):
    status, body, _ = api.post("/leads", raw="a,b", headers={"Content-Type": "text/plain"})
    assert status == 415
    assert body["error"]["code"] == "unsupported_media_type"


def test_wrong_method_is_405_in_the_error_shape(api):
    status, body, _ = api.request("PUT", "/leads", {"name": "x"})
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed"


def test_huge_body_is_400(api):
    status, body, _ = api.post("/leads", {"name": "x" * 300_000, "phone": "+14155550100"})
    assert status == 400 and body["error"]["code"] == "validation_error"


def test_unexpected_exception_is_500_without_a_stack_trace(api, monkeypatch):
    from chalicelib.services import leads

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(leads, "list_leads", boom)
    status, body, _ = api.get("/leads")
    assert status == 500
    assert body == {"error": {"code": "internal", "message": "internal error"}}


def test_every_request_logs_one_json_line_without_pii(api, caplog):
    import json
    import logging

    caplog.set_level(logging.INFO, logger="coldcall")
    api.post("/leads", {"name": "Jane Secret", "phone": "+14155550142"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    assert len(lines) == 1
    assert lines[0]["route"] == "/leads" and lines[0]["status"] == 201
    text = caplog.text
    assert "Jane Secret" not in text and "4155550142" not in text
    assert "test-token" not in text
