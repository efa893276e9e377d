"""Team members. The team table is small (a sales team, not a customer list), so listing it
is a Scan by design (DESIGN.md); members are deactivated, never deleted, so their calls and
messages keep a name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib import phone as phones
from chalicelib.clock import new_id
from chalicelib.domain.constants import NULLABLE_MEMBER_FIELDS
from chalicelib.domain.records import TeamMember
from chalicelib.errors import Conflict, NotFound, ValidationError, found
from chalicelib.services.deps import Deps
from chalicelib.store import cursor as cursors
from chalicelib.store.base import ConditionFailed, Page, Put

_STALE = "team member was changed by someone else; reload and try again"


@dataclass(frozen=True)
class NewMember:
    name: str
    phone: str
    email: str | None = None
    role: str = "caller"
    active: bool = True


@dataclass(frozen=True)
class Patch:
    """The fields a client sent (None: clear the field), and the version it edited."""

    values: Mapping[str, Any]
    version: int | None = None


def create(deps: Deps, cmd: NewMember) -> TeamMember:
    stamp = deps.clock.now()
    member = TeamMember(
        id=new_id(),
        name=cmd.name,
        phone=phones.normalize(cmd.phone),
        email=cmd.email,
        role=cmd.role,
        active=cmd.active,
        created_at=stamp,
        updated_at=stamp,
    )
    deps.store.write(Put("member", member, if_absent=True))
    return member


def get(deps: Deps, member_id: str) -> TeamMember:
    return found(deps.store.members.get(member_id), "team member", member_id)


def list_members(
    deps: Deps, active: bool | None, limit: int, cursor: str | None
) -> Page[TeamMember]:
    after = cursors.decode(cursor, {"id"})
    members = [m for m in deps.store.members.all() if active is None or m.active == active]
    if after is not None:
        members = [m for m in members if m.id > after["id"]["S"]]
    page = members[:limit]
    more = len(members) > limit
    return Page(page, cursors.encode({"id": {"S": page[-1].id}}) if more and page else None)


def update(deps: Deps, member_id: str, patch: Patch) -> TeamMember:
    member = get(deps, member_id)
    if patch.version is not None and patch.version != member.version:
        raise Conflict(_STALE, {"currentVersion": member.version})
    nulls = {f for f, v in patch.values.items() if v is None} - NULLABLE_MEMBER_FIELDS
    if nulls:
        raise ValidationError(f"{sorted(nulls)[0]} cannot be null", {"fields": sorted(nulls)})
    for field, value in patch.values.items():
        if field == "phone":
            value = phones.normalize(value)
        setattr(member, field, value)
    member.updated_at = deps.clock.now()
    _save(deps, member)
    return member


def deactivate(deps: Deps, member_id: str) -> TeamMember:
    member = get(deps, member_id)
    if member.active:
        member.active = False
        member.updated_at = deps.clock.now()
        _save(deps, member)
    return member


def _save(deps: Deps, member: TeamMember) -> None:
    try:
        deps.store.write(Put("member", member))
    except ConditionFailed:
        raise Conflict(_STALE) from None


def require_active(deps: Deps, member_id: str, field: str = "teamMemberId") -> TeamMember:
    """The member, who must exist and be active (assignment, calls); else a 400 on `field`."""
    try:
        member = get(deps, member_id)
    except NotFound:
        raise ValidationError(f"team member {member_id} does not exist", {"field": field}) from None
    if not member.active:
        raise ValidationError(f"team member {member_id} is deactivated", {"field": field})
    return member
