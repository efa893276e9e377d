"""The compliance rules document (API.md, "Compliance"; the rules themselves are
`domain/compliance_rules.py`): one settings item, read with one consistent GetItem per use and
never cached across requests, so a PUT applies from the next request. Until an admin saves a
document the shipped defaults apply. Reading and replacing it are for admins; a replacement is
audited with what changed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.domain import compliance_rules as rules_domain
from chalicelib.domain.actors import Actor
from chalicelib.domain.compliance_rules import DEFAULT_RULES, Rules, RulesError
from chalicelib.domain.records import Setting
from chalicelib.errors import ValidationError
from chalicelib.services import access, audit
from chalicelib.services.deps import Deps
from chalicelib.store.base import Put

KEY = "compliance-rules"


def _stored(deps: Deps) -> Rules | None:
    return from_document(deps.store.documents.get(KEY))


def from_document(item: Setting | None) -> Rules | None:
    """The rules a stored document holds (None: none stored, or it no longer parses)."""
    if item is None:
        return None
    # Stored only after parsing: a document that no longer parses (a later release made the
    # rules stricter) falls back to the defaults rather than letting everything through.
    try:
        return rules_domain.parse_rules(json.loads(item.value))
    except (ValueError, TypeError):
        return None


def defaults(deps: Deps) -> Rules:
    """The shipped rules, their federal window for calls and texts taken from CALLING_HOURS
    (default 08:00-21:00) until an admin saves a document."""
    start, end = deps.settings.calling_hours
    window = rules_domain.Window(start.hour * 60 + start.minute, end.hour * 60 + end.minute)
    if window == DEFAULT_RULES.calling_hours.default:
        return DEFAULT_RULES
    return dataclasses.replace(
        DEFAULT_RULES,
        calling_hours=dataclasses.replace(DEFAULT_RULES.calling_hours, default=window),
        texting_hours=dataclasses.replace(DEFAULT_RULES.texting_hours, default=window),
    )


def get_rules(deps: Deps) -> Rules:
    """The rules in force: the saved document, or the shipped defaults (one GetItem)."""
    return _stored(deps) or defaults(deps)


def read(deps: Deps, actor: Actor) -> Rules:
    """`GET /compliance/rules` (admins)."""
    access.require(actor, "compliance.rules", "read the compliance rules")
    return get_rules(deps)


def shipped(deps: Deps, actor: Actor) -> Rules:
    """`GET /compliance/rules/defaults` (admins): the shipped defaults, whatever is saved (the
    rules editor's "Restore shipped defaults"; nothing is stored by reading them)."""
    access.require(actor, "compliance.rules", "read the compliance rules")
    return defaults(deps)


def put_rules(deps: Deps, actor: Actor, doc: Any) -> Rules:
    """Replace the whole document (admins). A 400 names the first wrong field
    (`details.field`, e.g. `callingHours.byState.FL`); the audit entry lists what changed."""
    access.require(actor, "compliance.rules", "change the compliance rules")
    if not isinstance(doc, Mapping):
        raise ValidationError("the rules document must be a JSON object", {"field": "(document)"})
    try:
        new = rules_domain.parse_rules(doc)
    except RulesError as exc:
        raise ValidationError(str(exc), {"field": exc.path}) from None
    before = get_rules(deps)
    value = json.dumps(rules_domain.rules_to_doc(new), separators=(",", ":"), sort_keys=True)
    deps.store.write(Put("rules", Setting(KEY, value, deps.clock.now(), actor.id)))
    audit.record(
        deps,
        actor,
        "compliance.rules_changed",
        ("complianceRules", KEY),
        {"changes": rules_domain.changes(before, new)},
    )
    return new
