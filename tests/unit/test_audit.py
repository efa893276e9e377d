"""The audit log of lead actions (services/audit.py): written once per action, with the actor."""

from __future__ import annotations

from chalicelib.domain.actors import Actor
from chalicelib.services import leads, team
from chalicelib.services.team import Patch


def test_a_conversion_toggled_in_and_out_is_audited_each_time_and_counts_once(deps):
    ann, _ = team.create(deps, team.NewMember(name="Ann", phone="(415) 555-0100"))
    jane = leads.create(deps, leads.NewLead(name="Jane Doe", phone="212 555 0142"))
    actor = Actor("member", ann.id, ann.name, "caller")
    leads.update(deps, jane.id, Patch({"assigned_to_id": ann.id}), actor)
    for status in ("converted", "qualified", "converted"):
        leads.update(deps, jane.id, Patch({"status": status}), actor)
    entries = deps.store.audit.page("lead.status_changed", 10, None).items
    moves = [(e.actor_id, e.details) for e in reversed(entries)]
    assert moves == [
        (ann.id, '{"from":"new","to":"converted"}'),
        (ann.id, '{"from":"converted","to":"qualified"}'),
        (ann.id, '{"from":"qualified","to":"converted"}'),
    ]
