"""Webhook signatures are checked over the exact URL Twilio posted to (query included), for
any of the configured public base URLs, with every value of a repeated form key."""

from __future__ import annotations

import secrets

import pytest

from chalicelib.config import reset_settings
from tests.conftest import BASE_ENV, post_webhook

INCOMING = "/twilio/sms/incoming"
BASE = BASE_ENV["PUBLIC_BASE_URL"]


def params(sender: str = "+14155550123", text: str = "hello") -> dict[str, str]:
    return {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC00000000000000000000000000000000",
        "From": sender,
        "To": "+12125550100",
        "Body": text,
        "NumMedia": "0",
    }


def stored(api) -> int:
    return len(api.get("/leads")[1]["items"])


def test_the_query_string_is_part_of_the_signed_url(api, telephony):
    path = INCOMING + "?x=1"
    status, _, _ = post_webhook(api, path, params())
    assert status == 200
    assert stored(api) == 1


def test_a_signature_over_the_url_without_its_query_is_403(api, telephony):
    path = INCOMING + "?x=1"
    status, _, _ = post_webhook(api, path, params(), signed_url=BASE + INCOMING)
    assert status == 403
    assert stored(api) == 0


def test_an_encoded_query_is_signed_as_sent(api, telephony):
    path = INCOMING + "?name=a%20b&tag=1&tag=2"
    assert post_webhook(api, path, params())[0] == 200


def test_a_listed_custom_domain_passes(api, telephony, monkeypatch):
    monkeypatch.setenv(
        "PUBLIC_BASE_URLS", "https://hooks.example.org/, https://calls.example.com/v1"
    )
    reset_settings()
    assert post_webhook(api, INCOMING, params(), base="https://hooks.example.org")[0] == 200
    assert post_webhook(api, INCOMING, params(), base="https://calls.example.com/v1")[0] == 200
    # PUBLIC_BASE_URL still passes
    assert post_webhook(api, INCOMING, params())[0] == 200


def test_an_unlisted_base_is_403(api, telephony, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URLS", "https://hooks.example.org")
    reset_settings()
    assert post_webhook(api, INCOMING, params(), base="https://evil.example.net")[0] == 403
    assert stored(api) == 0


def test_a_repeated_form_key_validates_as_twilio_signs_it(api, telephony):
    pairs = [*params().items(), ("MediaUrl", "https://a.test/1"), ("MediaUrl", "https://a.test/0")]
    status, _, _ = post_webhook(api, INCOMING, pairs)
    assert status == 200
    assert stored(api) == 1


def test_a_repeated_key_signed_with_one_value_is_403(api, telephony):
    pairs = [*params().items(), ("MediaUrl", "https://a.test/1"), ("MediaUrl", "https://a.test/0")]
    # signed over the last value only (what a dict of the body signs): Twilio signs both
    status, _, _ = post_webhook(api, INCOMING, pairs, signed_params=dict(pairs))
    assert status == 403


@pytest.mark.parametrize("kind", ["unsigned", "wrong-token", "other-query"])
def test_forged_webhooks_are_still_403(api, telephony, kind):
    path = INCOMING + "?x=1"
    if kind == "unsigned":
        status, _, _ = post_webhook(api, path, params(), sign=False)
    elif kind == "wrong-token":
        status, _, _ = post_webhook(api, path, params(), token="not-the-token")
    else:
        status, _, _ = post_webhook(api, path, params(), signed_url=BASE + INCOMING + "?x=2")
    assert status == 403
    assert stored(api) == 0
