"""Team members: /team-members."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.patch import patch_of
from chalicelib.api.serialize import team_member_out
from chalicelib.domain.actors import Actor
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import team

bp = Blueprint(__name__)


def _active_param(params: dict[str, str]) -> bool | None:
    raw = params.get("active")
    if raw in (None, ""):
        return None
    if raw in ("true", "false"):
        return raw == "true"
    raise ValidationError("active must be true or false", {"field": "active"})


@route(bp, "/team-members", ["GET"])
def list_members(request: Request) -> dict[str, Any]:
    params = query(request)
    page = team.list_members(
        deps(), _active_param(params), limit_param(params), params.get("cursor")
    )
    return page_body([team_member_out(m) for m in page.items], page.next_cursor)


def _with_invite(member: team.TeamMember, invite: team.Invite | None) -> dict[str, Any]:
    out = team_member_out(member)
    if invite is not None:
        # Shown once: only where no e-mail carries it (make dev); Cognito e-mails it in AWS.
        out["invite"] = (
            {"temporaryPassword": invite.temporary_password}
            if invite.temporary_password
            else {"emailed": True}
        )
    return out


@route(bp, "/team-members", ["POST"])
def create_member(request: Request, actor: Actor) -> Any:
    from chalicelib.api.schemas import TeamMemberCreate, parse

    body = parse(TeamMemberCreate, json_body(request))
    member, invite = team.create(deps(), team.NewMember(**body.model_dump()), actor)
    return created(_with_invite(member, invite))


@route(bp, "/team-members/{member_id}", ["GET"])
def get_member(request: Request, member_id: str) -> dict[str, Any]:
    return team_member_out(team.get(deps(), member_id))


@route(bp, "/team-members/{member_id}", ["PATCH"])
def update_member(request: Request, member_id: str, actor: Actor) -> dict[str, Any]:
    from chalicelib.api.schemas import TeamMemberUpdate, parse

    body = parse(TeamMemberUpdate, json_body(request))
    member, invite = team.update(deps(), member_id, patch_of(body), actor)
    return _with_invite(member, invite)


@route(bp, "/team-members/{member_id}", ["DELETE"])
def deactivate_member(request: Request, member_id: str, actor: Actor) -> dict[str, Any]:
    return team_member_out(team.deactivate(deps(), member_id, actor))


@route(bp, "/team-members/{member_id}/reset-password", ["POST"])
def reset_password(request: Request, member_id: str, actor: Actor) -> dict[str, Any]:
    """A new temporary password (also: re-send an invite), shown once under make dev."""
    member, invite = team.reset_password(deps(), member_id, actor)
    return _with_invite(member, invite)


@route(bp, "/team-members/{member_id}/invite", ["POST"])
def resend_invite(request: Request, member_id: str, actor: Actor) -> dict[str, Any]:
    member, invite = team.reset_password(deps(), member_id, actor)
    return _with_invite(member, invite)
