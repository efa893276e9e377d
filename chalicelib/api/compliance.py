"""Compliance rules (/compliance/rules): admins read and replace the whole document."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import json_body, route
from chalicelib.domain.actors import Actor
from chalicelib.providers import deps

bp = Blueprint(__name__)


@route(bp, "/compliance/rules", ["GET"])
def get_rules(request: Request, actor: Actor) -> dict[str, Any]:
    from chalicelib.domain.compliance_rules import rules_to_doc
    from chalicelib.services import compliance_rules

    return rules_to_doc(compliance_rules.read(deps(), actor))


@route(bp, "/compliance/rules/defaults", ["GET"])
def get_default_rules(request: Request, actor: Actor) -> dict[str, Any]:
    """The shipped defaults (a valid PUT body), whatever rules are saved."""
    from chalicelib.domain.compliance_rules import rules_to_doc
    from chalicelib.services import compliance_rules

    return rules_to_doc(compliance_rules.shipped(deps(), actor))


@route(bp, "/compliance/rules", ["PUT"])
def put_rules(request: Request, actor: Actor) -> dict[str, Any]:
    from chalicelib.domain.compliance_rules import rules_to_doc
    from chalicelib.services import compliance_rules

    return rules_to_doc(compliance_rules.put_rules(deps(), actor, json_body(request)))


@route(bp, "/leads/{lead_id}/compliance", ["GET"])
def lead_compliance(request: Request, lead_id: str, actor: Actor) -> dict[str, Any]:
    """Whether the lead's number may be called and texted now; when not, why and when."""
    from chalicelib.api.serialize import suppression_out
    from chalicelib.services import compliance

    out = compliance.preview(deps(), actor, lead_id)
    item = out["suppression"]
    out["suppression"] = suppression_out(item) if item is not None else None
    return out
