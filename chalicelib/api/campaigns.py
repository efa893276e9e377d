"""Campaigns: /campaigns, their leads and stats (API.md, "Campaigns and the dialer")."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.patch import patch_of
from chalicelib.api.serialize import campaign_lead_out, campaign_out
from chalicelib.domain import campaigns as rules
from chalicelib.domain.actors import Actor
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import campaigns

bp = Blueprint(__name__)


@route(bp, "/campaigns", ["GET"])
def list_campaigns(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    page = campaigns.list_campaigns(deps(), actor, limit_param(params), params.get("cursor"))
    return page_body([campaign_out(c) for c in page.items], page.next_cursor)


@route(bp, "/campaigns", ["POST"])
def create_campaign(request: Request, actor: Actor) -> Response:
    from chalicelib.api.schemas import CampaignCreate, parse

    body = parse(CampaignCreate, json_body(request))
    return created(campaign_out(campaigns.create(deps(), actor, body.model_dump())))


@route(bp, "/campaigns/{campaign_id}", ["GET"])
def get_campaign(request: Request, campaign_id: str, actor: Actor) -> dict[str, Any]:
    return campaign_out(campaigns.get(deps(), campaign_id, actor))


@route(bp, "/campaigns/{campaign_id}", ["PATCH"])
def update_campaign(request: Request, campaign_id: str, actor: Actor) -> dict[str, Any]:
    from chalicelib.api.schemas import CampaignUpdate, parse

    body = parse(CampaignUpdate, json_body(request))
    return campaign_out(campaigns.update(deps(), actor, campaign_id, patch_of(body)))


@route(bp, "/campaigns/{campaign_id}", ["DELETE"])
def archive_campaign(request: Request, campaign_id: str, actor: Actor) -> dict[str, Any]:
    return campaign_out(campaigns.archive(deps(), actor, campaign_id))


@route(bp, "/campaigns/{campaign_id}/leads", ["POST"])
def add_leads(request: Request, campaign_id: str, actor: Actor) -> dict[str, Any]:
    from chalicelib.api.schemas import CampaignLeadsAdd, parse

    body = parse(CampaignLeadsAdd, json_body(request))
    if (body.lead_ids is None) == (body.filter is None):
        raise ValidationError("send either leadIds or filter", {"field": "leadIds"})
    d = deps()
    if body.lead_ids is not None:
        result = campaigns.add_leads_by_id(d, actor, campaign_id, body.lead_ids)
    else:
        f = body.filter
        assert f is not None
        result = campaigns.add_leads_by_filter(
            d, actor, campaign_id, f.status, f.assigned_to_id, f.cursor
        )
    out: dict[str, Any] = {
        "added": result.added,
        "skipped": result.skipped,
        "skippedLeads": result.examples,
    }
    if body.filter is not None:
        out["examined"] = result.examined
        out["limit"] = rules.MAX_FILTER_LEADS  # leads a filter walks per request
        out["nextCursor"] = result.next_cursor
    return out


@route(bp, "/campaigns/{campaign_id}/leads", ["GET"])
def list_campaign_leads(request: Request, campaign_id: str, actor: Actor) -> dict[str, Any]:
    params = query(request)
    state = params.get("state") or rules.READY
    if state not in rules.STATES:
        raise ValidationError(f"state must be one of {', '.join(rules.STATES)}", {"field": "state"})
    page, found = campaigns.page_leads(
        deps(), actor, campaign_id, state, limit_param(params), params.get("cursor")
    )
    items = [campaign_lead_out(e, found.get(e.lead_id)) for e in page.items]
    return page_body(items, page.next_cursor)


@route(bp, "/campaigns/{campaign_id}/leads/{lead_id}", ["DELETE"])
def remove_campaign_lead(
    request: Request, campaign_id: str, lead_id: str, actor: Actor
) -> Response:
    campaigns.remove_lead(deps(), actor, campaign_id, lead_id)
    return Response(body="", status_code=204)


@route(bp, "/campaigns/{campaign_id}/stats", ["GET"])
def campaign_stats(request: Request, campaign_id: str, actor: Actor) -> dict[str, Any]:
    return campaigns.stats(deps(), actor, campaign_id)
