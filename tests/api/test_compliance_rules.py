"""GET/PUT /compliance/rules through the API: the defaults until saved, a GET body is always a
valid PUT body, a bad document is a 400 naming the field (never a 500), admins only, every
change audited with what changed, and what it costs on DynamoDB."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.domain.compliance_rules import DEFAULT_RULES, rules_to_doc
from tests.conftest import Api

PATH = "/compliance/rules"


def edited() -> dict[str, Any]:
    doc = copy.deepcopy(rules_to_doc(DEFAULT_RULES))
    doc["callingHours"]["byState"]["NY"] = "09:00-20:00"
    doc["maxAttemptsPer24h"]["default"] = 5
    doc["holidays"]["default"] = ["12-25"]
    doc["allowedCountries"] = ["US"]
    return doc


def test_get_answers_the_defaults_until_a_document_is_saved(api: Api) -> None:
    status, body, _ = api.get(PATH)
    assert status == 200 and body == rules_to_doc(DEFAULT_RULES)


def test_put_replaces_the_document_and_get_reads_it_back(api: Api) -> None:
    status, body, _ = api.request("PUT", PATH, edited())
    assert status == 200, body
    assert body["callingHours"]["byState"]["NY"] == "09:00-20:00"
    status, got, _ = api.get(PATH)
    assert status == 200 and got == body
    status, again, _ = api.request("PUT", PATH, got)  # a GET body is a valid PUT body
    assert status == 200 and again == got


def test_the_saved_rules_apply_from_the_next_request(api: Api) -> None:
    from chalicelib import providers
    from chalicelib.services import compliance_rules

    assert compliance_rules.get_rules(providers.deps()) == DEFAULT_RULES
    api.request("PUT", PATH, edited())
    assert compliance_rules.get_rules(providers.deps()).max_attempts.default == 5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["callingHours"]["byState"].update(FL="8pm"), "callingHours.byState.FL"),
        (lambda d: d.update(extra=True), "extra"),
        (lambda d: d.pop("weekdays"), "weekdays"),
        (lambda d: d["weekdays"]["byState"]["TX"].update(sunday="12:00-21:00"), None),
        (lambda d: d["holidays"].update(default=["2026-13-01"]), "holidays.default[0]"),
        (lambda d: d.update(blockedPrefixes=[1900]), "blockedPrefixes[0]"),
        (lambda d: d.update(allowedCountries=["ZZ"]), "allowedCountries[0]"),
        (lambda d: d["maxAttemptsPer24h"].update(default="3"), "maxAttemptsPer24h.default"),
    ],
)
def test_a_bad_document_is_a_400_naming_the_field(api: Api, change: Any, field: Any) -> None:
    doc = copy.deepcopy(rules_to_doc(DEFAULT_RULES))
    change(doc)
    status, body, _ = api.request("PUT", PATH, doc)
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    expected = field or "weekdays.byState.TX.sunday"
    assert body["error"]["details"]["field"] == expected
    assert body["error"]["message"].startswith(expected + ": ")
    assert api.get(PATH)[1] == rules_to_doc(DEFAULT_RULES)  # nothing was saved


@pytest.mark.parametrize("raw", ["[]", '"rules"', "null", "{", ""])
def test_a_body_that_is_not_a_document_is_a_400(api: Api, raw: str) -> None:
    status, body, _ = api.request("PUT", PATH, raw=raw)
    assert status == 400 and body["error"]["code"] == "validation_error"


def test_only_admins_read_or_change_the_rules(api: Api, people: Any) -> None:
    for who in ("manager", "caller", "caller key"):
        token = people.tokens[who]
        assert api.get(PATH, token=token)[0] == 403
        status, body, _ = api.request("PUT", PATH, edited(), token=token)
        assert status == 403 and body["error"]["code"] == "forbidden"
    assert api.get(PATH)[1] == rules_to_doc(DEFAULT_RULES)
    for who in ("admin", "admin key"):
        assert api.request("PUT", PATH, edited(), token=people.tokens[who])[0] == 200


def test_a_change_is_audited_with_what_changed(api: Api) -> None:
    api.request("PUT", PATH, edited())
    status, body, _ = api.get("/audit?action=compliance.rules_changed")
    assert status == 200 and len(body["items"]) == 1
    entry = body["items"][0]
    assert entry["target"] == {"type": "complianceRules", "id": "compliance-rules"}
    assert entry["details"]["changes"] == {
        "callingHours.byState.NY": [None, "09:00-20:00"],
        "maxAttemptsPer24h.default": [None, 5],
        "holidays.default": [[], ["12-25"]],
        "allowedCountries": [["US", "CA"], ["US"]],
    }


@pytest.mark.dynamo
def test_reading_costs_one_get_item_and_saving_two_puts(api: Api, ddb_requests: Any) -> None:
    ddb_requests.reset()
    assert api.get(PATH)[0] == 200
    assert dict(ddb_requests.calls) == {"GetItem": 1}
    ddb_requests.reset()
    assert api.request("PUT", PATH, edited())[0] == 200
    assert dict(ddb_requests.calls) == {"GetItem": 1, "PutItem": 2}  # the previous, + audit
    ddb_requests.reset()
    status, body, _ = api.get(PATH)
    assert status == 200 and body["maxAttemptsPer24h"]["default"] == 5
    assert dict(ddb_requests.calls) == {"GetItem": 1}


def test_the_shipped_defaults_stay_readable_after_a_save(api: Api) -> None:
    """The editor's "Restore shipped defaults": GET /compliance/rules/defaults answers them
    whatever is saved, and saving that body restores them."""
    status, shipped, _ = api.get("/compliance/rules")
    assert status == 200
    changed = {**shipped, "blockedPrefixes": ["+1900"]}
    assert api.request("PUT", "/compliance/rules", changed)[0] == 200
    status, defaults, _ = api.get("/compliance/rules/defaults")
    assert status == 200 and defaults == shipped
    assert api.get("/compliance/rules")[1]["blockedPrefixes"] == ["+1900"]  # nothing stored
    assert api.request("PUT", "/compliance/rules", defaults)[0] == 200
    assert api.get("/compliance/rules")[1] == shipped
