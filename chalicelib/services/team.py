"""Team members. The team table is small (a sales team, not a customer list), so listing it
is a Scan by design (DESIGN.md); members are deactivated, never deleted, so their calls and
messages keep a name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib import phone as phones
from chalicelib.clock import new_id
from chalicelib.domain.actors import ADMIN, SYSTEM, Actor
from chalicelib.domain.constants import NULLABLE_MEMBER_FIELDS
from chalicelib.domain.records import Login, TeamMember
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationError, found
from chalicelib.identity import secrets, sessions
from chalicelib.identity.provider import UserExists
from chalicelib.services import audit, auth
from chalicelib.services.deps import Deps
from chalicelib.store import cursor as cursors
from chalicelib.store.base import (
    Check,
    ConditionFailed,
    Delete,
    Eq,
    Op,
    Page,
    Put,
    TransactionFailed,
)

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


@dataclass(frozen=True)
class Invite:
    """A sign-in just created or reset: the temporary password when the API shows it (no
    e-mail is sent: `make dev`), else None (Cognito e-mailed it)."""

    temporary_password: str | None


_EMAIL_TAKEN = "another team member has this e-mail"


def _require_admin(actor: Actor) -> None:
    if not actor.may("team.write"):
        raise Forbidden("only admins can add, edit or deactivate team members")


def create(deps: Deps, cmd: NewMember, actor: Actor = SYSTEM) -> tuple[TeamMember, Invite | None]:
    """The member and, with an e-mail, their sign-in (an invite with a temporary password).

    The e-mail's guard item is written in the member's transaction: two members can never
    share one, whatever runs at the same time."""
    _require_admin(actor)
    stamp = deps.clock.now()
    email = sessions.normalize_email(cmd.email) if cmd.email else None
    member = TeamMember(
        id=new_id(),
        name=cmd.name,
        phone=phones.normalize(cmd.phone),
        email=email,
        role=cmd.role,
        active=cmd.active,
        created_at=stamp,
        updated_at=stamp,
    )
    if email:
        try:
            deps.store.transact(
                [
                    Put("member", member, if_absent=True),
                    Put("email", Login(sessions.login_key(email), member.id), if_absent=True),
                ]
            )
        except TransactionFailed as exc:
            if "email" in exc.failed:
                raise Conflict(_EMAIL_TAKEN, {"field": "email"}) from None
            raise
    else:
        deps.store.write(Put("member", member, if_absent=True))
    invite = _invite(deps, member) if email else None
    audit.record(
        deps,
        actor,
        "member.created",
        ("member", member.id),
        {"role": member.role, "email": email, "invited": invite is not None},
    )
    return member, invite


def _invite(deps: Deps, member: TeamMember) -> Invite | None:
    """Create the member's sign-in (or give an existing one a new temporary password)."""
    if not member.email or not auth.identity_configured(deps):
        return None
    temporary = secrets.temporary_password()
    emailed = deps.settings.invite_emails
    try:
        sub = deps.identity.create_user(member.email, temporary, send_email=emailed)
    except UserExists:
        deps.identity.reset_password(member.email, temporary, send_email=emailed)
        sub = deps.identity.user_sub(member.email) or ""
    auth.note_temporary_password(deps, member, temporary)
    if sub:
        deps.store.write(Put("sub", Login(sessions.sub_key(sub), member.id)))
    if not member.active:
        deps.identity.set_enabled(member.email, False)
    return Invite(None if emailed else temporary)


def reset_password(deps: Deps, member_id: str, actor: Actor = SYSTEM) -> tuple[TeamMember, Invite]:
    """A new temporary password (the invite again, for a member who never signed in): the
    member's sessions end, and their next sign-in sets a new password."""
    _require_admin(actor)
    member = get(deps, member_id)
    if not member.email:
        raise ValidationError(
            "this member has no e-mail, so no sign-in; add one first", {"field": "email"}
        )
    if not auth.identity_configured(deps):
        raise ValidationError("sign-in is not configured (COGNITO_USER_POOL_ID is unset)")
    invite = _invite(deps, member)
    assert invite is not None
    auth.end_sessions(deps, member)
    audit.record(deps, actor, "member.password_reset", ("member", member.id))
    return member, invite


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


def update(
    deps: Deps, member_id: str, patch: Patch, actor: Actor = SYSTEM
) -> tuple[TeamMember, Invite | None]:
    _require_admin(actor)
    return _update(deps, get(deps, member_id), patch, actor)


def _update(
    deps: Deps, member: TeamMember, patch: Patch, actor: Actor
) -> tuple[TeamMember, Invite | None]:
    before = TeamMember(**vars(member))
    if patch.version is not None and patch.version != member.version:
        raise Conflict(_STALE, {"currentVersion": member.version})
    nulls = {f for f, v in patch.values.items() if v is None} - NULLABLE_MEMBER_FIELDS
    if nulls:
        raise ValidationError(f"{sorted(nulls)[0]} cannot be null", {"fields": sorted(nulls)})
    for field, value in patch.values.items():
        if field == "phone":
            value = phones.normalize(value)
        if field == "email" and value is not None:
            value = sessions.normalize_email(value)
        setattr(member, field, value)
    keeper = None  # another active admin, who must still be one when this edit commits
    if before.active and not member.active:
        keeper = _check_can_deactivate(deps, actor, before)
    if before.role == ADMIN and member.role != ADMIN:
        keeper = _check_not_last_admin(deps, before, "demote")
    member.updated_at = deps.clock.now()
    if before.active and not member.active:
        member.sessions_ended_at = member.updated_at  # saved with the deactivation
    _save(deps, member, before.email, keeper)
    auth.forget_member(deps, member.id)  # a new role (or deactivation) bites here at once
    invite = _sync_sign_in(deps, before, member)
    changed = sorted(f for f in patch.values if getattr(before, f) != getattr(member, f))
    if before.active and not member.active:
        audit.record(deps, actor, "member.deactivated", ("member", member.id))
    elif changed:
        audit.record(deps, actor, "member.updated", ("member", member.id), {"fields": changed})
    return member, invite


def _sync_sign_in(deps: Deps, before: TeamMember, member: TeamMember) -> Invite | None:
    """Carry an edit over to the sign-in: a new e-mail (the first one creates the sign-in),
    deactivation (disabled, sessions ended) and reactivation."""
    if not auth.identity_configured(deps):
        if before.active and not member.active:
            auth.forget_member(deps, member.id)
        return None
    invite = None
    if member.email and member.email != before.email:
        if before.email:
            deps.identity.change_email(before.email, member.email)
        else:
            invite = _invite(deps, member)
    if before.active != member.active and member.email:
        deps.identity.set_enabled(member.email, member.active)
    if before.active and not member.active:
        auth.end_sessions(deps, member, saved=True)
    return invite


def deactivate(deps: Deps, member_id: str, actor: Actor = SYSTEM) -> TeamMember:
    """Deactivated, never deleted (their calls and messages keep a name; their leads stay
    assigned so a manager can see and reassign them). Their sign-in is disabled and their
    sessions end: their access token stops working within auth.ACTIVE_CHECK_SECONDS."""
    _require_admin(actor)
    member = get(deps, member_id)
    if not member.active:
        return member
    member, _ = _update(deps, member, Patch({"active": False}), actor)
    return member


def _check_can_deactivate(deps: Deps, actor: Actor, member: TeamMember) -> str | None:
    if actor.member_id == member.id:
        raise Conflict("you cannot deactivate yourself; ask another admin")
    if member.role == ADMIN:
        return _check_not_last_admin(deps, member, "deactivate")
    return None


_LAST_ADMIN = "cannot {verb} the last active admin; make someone else admin first"


def _check_not_last_admin(deps: Deps, member: TeamMember, verb: str) -> str | None:
    """Another active admin's id (the edit's transaction checks they still are one, so two
    admins demoting each other at the same moment cannot both succeed); 409 when none."""
    if not member.active:
        return None
    others = [m for m in deps.store.members.all() if m.role == ADMIN and m.active]
    others = [m for m in others if m.id != member.id]
    if not others:
        raise Conflict(_LAST_ADMIN.format(verb=verb))
    return others[0].id


def _save(
    deps: Deps, member: TeamMember, old_email: str | None = None, keeper: str | None = None
) -> None:
    """The member, the e-mail guards when the e-mail changed, and the check that `keeper` is
    still an active admin (in one transaction)."""
    ops: list[Op] = [Put("member", member)]
    if keeper:
        ops.append(Check("keeper", TeamMember, keeper, {"role": Eq(ADMIN), "active": Eq(True)}))
    if member.email != old_email:
        if old_email:
            ops.append(
                Delete(
                    "old-email",
                    Login,
                    sessions.login_key(old_email),
                    {"member_id": Eq(member.id)},
                )
            )
        if member.email:
            ops.append(
                Put("email", Login(sessions.login_key(member.email), member.id), if_absent=True)
            )
    if len(ops) == 1:
        try:
            deps.store.write(Put("member", member))
        except ConditionFailed:
            raise Conflict(_STALE) from None
        return
    try:
        deps.store.transact(ops)
    except TransactionFailed as exc:
        if "email" in exc.failed:
            raise Conflict(_EMAIL_TAKEN, {"field": "email"}) from None
        if "keeper" in exc.failed:
            raise Conflict(_LAST_ADMIN.format(verb="remove")) from None
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


PLACEHOLDER_PHONE = "+12025550100"  # a fictional 555-01xx number: set a real one in the team page


def ensure_admin(
    deps: Deps, email: str, password: str | None, phone: str | None = None, name: str = "Admin"
) -> tuple[TeamMember, Invite | None]:
    """Make `email` an active admin who can sign in (the first admin: `make dev` on every start,
    the deploy once). With `password`, it is set as the permanent password (no new-password
    step); without, the member is invited (Cognito e-mails a temporary password)."""
    if password is not None:
        problem = secrets.password_problem(password)
        if problem:
            raise ValidationError(f"ADMIN_PASSWORD: {problem}")
    email = sessions.normalize_email(email)
    member_id = deps.store.logins.member_id(sessions.login_key(email))
    member = deps.store.members.get(member_id) if member_id else None
    invite = None
    if member is None:
        member, invite = create(
            deps, NewMember(name=name, phone=phone or PLACEHOLDER_PHONE, email=email, role=ADMIN)
        )
    else:
        if member.role != ADMIN or not member.active:
            member, _ = update(deps, member.id, Patch({"role": ADMIN, "active": True}))
        if deps.identity.user_sub(email) is None:  # the sign-in was lost: create it again
            invite = _invite(deps, member)
    if password is not None:
        deps.identity.set_permanent_password(email, password)
        deps.identity.set_enabled(email, True)
        invite = None
    return member, invite
