"""A dial's cost does not grow with the campaign (issue 15: the queue is an index): the
requests the store serves for the first dial (the member joins the conference) and for the
dial after an unanswered lead are the same for a campaign of 10 leads or 200. The requests by
DynamoDB type are asserted in tests/api/test_request_counts.py."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.actors import SYSTEM
from chalicelib.services import campaigns, dialer, dialer_hooks, leads, team
from chalicelib.services.deps import Deps
from chalicelib.telephony import webhooks as hooks
from chalicelib.telephony.fake import FakeTelephony
from tests.api.test_request_counts import EXPECTED

OURS = "+15005550006"


def ready_session(deps: Deps, size: int) -> Any:
    member, _ = team.create(deps, team.NewMember(name="Ann", phone="+14155550100"))
    made = [
        leads.create(deps, leads.NewLead(name=f"L{i}", phone=f"+1212555{i:04d}"))
        for i in range(size)
    ]
    campaign = campaigns.create(
        deps, SYSTEM, {"name": "Dial", "caller_id": OURS, "member_ids": [member.id]}
    )
    added = campaigns.add_leads_by_id(deps, SYSTEM, campaign.id, [x.id for x in made])
    assert added.added == size
    session = dialer.start(deps, SYSTEM, campaign.id, member.id)
    dialer_hooks.member_gather(deps, session.id, "1")
    return dialer._read(deps, session.id)


def cost(deps: Deps, step: Any) -> int:
    before = deps.store.requests  # type: ignore[attr-defined]
    step()
    return int(deps.store.requests - before)  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [10, 200])
def test_a_dial_costs_the_same_whatever_the_campaigns_size(
    deps: Deps, fake_twilio: FakeTelephony, size: int
) -> None:
    session = ready_session(deps, size)
    join = {"StatusCallbackEvent": "participant-join", "CallSid": session.member_call_sid}
    event = hooks.ConferenceEvent.parse(join)
    first = cost(deps, lambda: dialer_hooks.conference_event(deps, session.id, event))
    now = dialer._read(deps, session.id)
    assert now.status == "dialing" and now.dialed == 1
    call_id = now.current_call_id or ""
    after = cost(deps, lambda: dialer_hooks.lead_status(deps, session.id, call_id, "no-answer", 0))
    assert dialer._read(deps, session.id).dialed == 2
    assert len(fake_twilio.calls) == 3  # the member, two leads
    # the same for 10 leads and 200, and as many as DynamoDB serves (by type, under moto)
    join_dial = sum(EXPECTED["dialer_conference_join_dial"].values())
    assert (first, after) == (join_dial, 17), (first, after)
