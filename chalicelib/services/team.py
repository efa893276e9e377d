"""Team members. The team table is small (a sales team, not a customer list), so listing it
is a Scan by design (DESIGN.md); members are deactivated, never deleted, so their calls and
messages keep a name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib import phone as phones
from chalicelib import providers
from chalicelib.api.patch import explicit_nulls, provided
from chalicelib.clock import new_id, now
from chalicelib.db import cursor as cursors
from chalicelib.db.models import TeamMember
from chalicelib.db.pagination import Page
from chalicelib.domain.constants import NULLABLE_MEMBER_FIELDS
from chalicelib.errors import Conflict, NotFound, ValidationError, not_found

if TYPE_CHECKING:
    from chalicelib.api.schemas import TeamMemberCreate, TeamMemberUpdate


def create(body: TeamMemberCreate) -> TeamMember:
    providers.settings()
    stamp = now()
    member = TeamMember(
        id=new_id(),
        name=body.name,
        phone=phones.normalize(body.phone),
        email=body.email,
        role=body.role,
        active=body.active,
        created_at=stamp,
        updated_at=stamp,
    )
    member.save()
    return member


def get(member_id: str) -> TeamMember:
    providers.settings()
    try:
        return TeamMember.get(member_id)
    except DoesNotExist:
        raise not_found("team member", member_id) from None


def all_members() -> list[TeamMember]:
    """Every member, active or not (one Scan; the leaderboard and the team page use it)."""
    providers.settings()
    return sorted(TeamMember.scan(), key=lambda m: m.id)


def list_members(active: bool | None, limit: int, cursor: str | None) -> Page[TeamMember]:
    after = cursors.decode(cursor, {"id"})
    members = [m for m in all_members() if active is None or m.active == active]
    if after is not None:
        members = [m for m in members if m.id > after["id"]["S"]]
    page = members[:limit]
    more = len(members) > limit
    return Page(page, cursors.encode({"id": {"S": page[-1].id}}) if more and page else None)


def update(member_id: str, body: TeamMemberUpdate) -> TeamMember:
    member = get(member_id)
    if body.version is not None and body.version != member.version:
        raise Conflict(
            "team member was changed by someone else; reload and try again",
            {"currentVersion": member.version},
        )
    for field, value in provided(body).items():
        if field == "version":
            continue
        if field == "phone":
            value = phones.normalize(value)
        setattr(member, field, value)
    for field in explicit_nulls(body, NULLABLE_MEMBER_FIELDS):
        setattr(member, field, None)
    nulls = {f for f in body.model_fields_set if getattr(body, f) is None} - NULLABLE_MEMBER_FIELDS
    nulls.discard("version")
    if nulls:
        raise ValidationError(f"{sorted(nulls)[0]} cannot be null", {"fields": sorted(nulls)})
    member.updated_at = now()
    _save_versioned(member)
    return member


def deactivate(member_id: str) -> TeamMember:
    member = get(member_id)
    if member.active:
        member.active = False
        member.updated_at = now()
        _save_versioned(member)
    return member


def _save_versioned(member: TeamMember) -> None:
    try:
        member.save()
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(
                "team member was changed by someone else; reload and try again"
            ) from None
        raise


def require_active(member_id: str, field: str = "teamMemberId") -> TeamMember:
    """The member, who must exist and be active (assignment, calls); else a 400 on `field`."""
    try:
        member = get(member_id)
    except NotFound:
        raise ValidationError(f"team member {member_id} does not exist", {"field": field}) from None
    if not member.active:
        raise ValidationError(f"team member {member_id} is deactivated", {"field": field})
    return member
