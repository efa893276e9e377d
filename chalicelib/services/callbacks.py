"""Callbacks: a member's promise to call a lead back at a given time. Listed soonest first by
member (a sparse GSI by member and due time) or for everyone (managers and admins); a due
callback of the member comes first in their dialer session (services.queue) and appears on
their dashboard. Done when the owner completes a call to the lead (`complete_callbacks`), or
deleted."""

from __future__ import annotations

from datetime import datetime

from chalicelib.clock import new_id
from chalicelib.domain import campaigns as rules
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Callback
from chalicelib.errors import Forbidden, ValidationError, not_found
from chalicelib.services import audit, leads, team
from chalicelib.services.deps import Deps
from chalicelib.store.base import ConditionFailed, Delete, Eq, Page, Put, Update

# Open callbacks of one lead and member closed per completed call, at most (a lead has a few).
_COMPLETE_PAGE = 100


def _owner(actor: Actor, team_member_id: str | None) -> str:
    """Whose callback it is: the actor's own by default; managers and admins may name anyone."""
    if team_member_id and team_member_id != actor.member_id:
        if not actor.may("callbacks.others"):
            raise Forbidden(
                "a caller sets and lists only their own callbacks", {"field": "teamMemberId"}
            )
        return team_member_id
    if actor.member_id is not None:
        return actor.member_id
    if team_member_id:
        return team_member_id
    raise ValidationError(
        "teamMemberId is required: an API key acts for no team member", {"field": "teamMemberId"}
    )


def create(
    deps: Deps,
    actor: Actor,
    lead_id: str,
    at: datetime,
    note: str | None = None,
    team_member_id: str | None = None,
) -> Callback:
    """A callback on a lead the actor may read, at a moment in the future, for the actor (or,
    for managers and admins, another active member)."""
    lead = leads.get(deps, lead_id, actor)  # 404 for a lead the actor may not read
    if lead.archived_at is not None:
        raise ValidationError(f"lead {lead_id} is archived", {"field": "leadId"})
    owner = check(deps, actor, team_member_id, at)
    now = deps.clock.now()
    callback = new_callback(lead.id, lead.name, owner, at, now, actor.id, note)
    deps.store.write(Put("callback", callback, if_absent=True))
    return callback


def check(
    deps: Deps, actor: Actor, team_member_id: str | None, at: datetime, field: str = "at"
) -> str:
    """The owner a callback at `at` would have, if the actor may set it: `at` in the future
    (400 on `field`), the owner the actor (or anyone, for managers and admins) and active."""
    if at <= deps.clock.now():
        raise ValidationError(f"{field} must be in the future", {"field": field})
    owner = _owner(actor, team_member_id)
    team.require_active(deps, owner, "teamMemberId")
    return owner


def new_callback(
    lead_id: str,
    lead_name: str,
    owner: str,
    at: datetime,
    now: datetime,
    created_by: str,
    note: str | None = None,
) -> Callback:
    """A callback record, open (not saved): for the wrap-up of a call (`callbackAt`) too."""
    callback_id = new_id()
    when = rules.stamp(at)
    return Callback(
        id=callback_id,
        lead_id=lead_id,
        lead_name=lead_name,
        team_member_id=owner,
        at=when,
        note=note or None,
        created_at=now,
        created_by=created_by,
        due_key=rules.callback_due_key(when, callback_id),
        member_pk=owner,
        open_pk=rules.OPEN_CALLBACKS_KEY,
    )


def page(
    deps: Deps,
    actor: Actor,
    team_member_id: str | None,
    due: bool,
    limit: int,
    cursor: str | None,
) -> Page[Callback]:
    """Open callbacks, soonest first. A caller lists their own (naming another member: 403);
    managers and admins anyone's, or everyone's when they name nobody. `due`: only those whose
    time has come."""
    up_to = rules.due_bound(deps.clock.now()) if due else None
    if team_member_id is None and actor.may("callbacks.others"):
        return deps.store.callbacks.page(None, up_to, limit, cursor)
    if team_member_id is None and actor.member_id is None:
        return Page([], None)  # a caller's API key acts for no member: it owns none
    owner = _owner(actor, team_member_id)
    return deps.store.callbacks.page(owner, up_to, limit, cursor)


def get(deps: Deps, actor: Actor, callback_id: str) -> Callback:
    callback = deps.store.callbacks.get(callback_id)
    if callback is None or not (
        actor.may("callbacks.others") or callback.team_member_id == actor.member_id
    ):
        raise not_found("callback", callback_id)
    return callback


def delete(deps: Deps, actor: Actor, callback_id: str) -> None:
    """Its owner, managers and admins delete a callback (others: 404, as if it did not exist)."""
    callback = get(deps, actor, callback_id)
    deps.store.write(Delete("callback", Callback, callback.id))
    audit.record(
        deps,
        actor,
        "callback.deleted",
        ("callback", callback.id),
        {"leadId": callback.lead_id, "teamMemberId": callback.team_member_id},
    )


def complete_callbacks(deps: Deps, lead_id: str, member_id: str) -> int:
    """A call by `member_id` to the lead was completed: their open callbacks on the lead (due
    or not: the call kept the promise) are done, out of their lists. Returns how many. One
    Query of the member's open callbacks (the first _COMPLETE_PAGE, soonest first) and a
    conditional update each."""
    now = deps.clock.now()
    mine = deps.store.callbacks.page(member_id, None, _COMPLETE_PAGE, None)
    done = 0
    for callback in mine.items:
        if callback.lead_id != lead_id:
            continue
        try:
            deps.store.write(
                Update(
                    "callback",
                    Callback,
                    callback.id,
                    {"done_at": now, "member_pk": None, "open_pk": None},
                    when={"member_pk": Eq(member_id)},
                )
            )
            done += 1
        except ConditionFailed:
            continue  # done or deleted meanwhile
    return done
