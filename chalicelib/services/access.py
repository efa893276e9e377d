"""The permission table of API.md ("Identity and roles") applied to requests: what an `Actor`
may do, which leads they see, and for whom they act.

A lead a caller may not read (nor its calls and messages) answers 404, never 403, so ids
cannot be probed; an action the role does not allow answers 403."""

from __future__ import annotations

from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Lead
from chalicelib.errors import Forbidden, ValidationError, not_found


def require(actor: Actor, permission: str, what: str) -> None:
    if not actor.may(permission):
        raise Forbidden(f"your role ({actor.role}) cannot {what}")


def check_lead(actor: Actor, lead: Lead | None, lead_id: str) -> Lead:
    """The lead if the actor may read it; a 404 otherwise (as if it did not exist)."""
    if lead is None or not actor.sees_lead(lead.assigned_to_id):
        raise not_found("lead", lead_id)
    return lead


def check_assignment(actor: Actor, assigned_to_id: str | None) -> None:
    """A caller may take a lead or leave it unassigned, not hand it to someone else."""
    if actor.sees_all_leads or assigned_to_id in (None, actor.member_id):
        return
    raise Forbidden("a caller can assign leads only to themselves", {"field": "assignedToId"})


def acting_member(actor: Actor, team_member_id: str | None) -> str:
    """Whom a call or text is placed as: the signed-in member; another member only for an
    admin (`teamMemberId`); an API key must name one (and be an admin key)."""
    if team_member_id and team_member_id != actor.member_id:
        if not actor.may("act_as_member"):
            raise Forbidden("only admins can act as another team member", {"field": "teamMemberId"})
        return team_member_id
    if actor.member_id is not None:
        return actor.member_id
    if team_member_id:
        return team_member_id
    raise ValidationError(
        "teamMemberId is required: an API key acts for no team member", {"field": "teamMemberId"}
    )
