"""Who is acting, and what each role may do (API.md, "Identity and roles").

Every request resolves one `Actor` (a signed-in member, an API key, or the system itself:
webhooks and the scheduled job); services receive it and enforce the table below. Visibility
of leads (a caller sees their own and unassigned ones) is enforced in the store query, not
here: `Actor.sees_all_leads` only says which query to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ADMIN = "admin"
MANAGER = "manager"
CALLER = "caller"

ActorKind = Literal["member", "apiKey", "system"]

# Actions beyond reading and editing the leads one can see (every role does that).
_MANAGERS = frozenset({MANAGER, ADMIN})
_ADMINS = frozenset({ADMIN})
PERMISSIONS: dict[str, frozenset[str]] = {
    "leads.all": _MANAGERS,  # read and edit every lead (callers: theirs and unassigned)
    "leads.archive": _MANAGERS,
    "leads.restore": _MANAGERS,
    "leads.import": _MANAGERS,
    "leads.export": _MANAGERS,
    "calls.release": _MANAGERS,  # free a member or lead held by a stuck live call
    "act_as_member": _ADMINS,  # place calls and texts as another member (`teamMemberId`)
    "team.write": _ADMINS,
    "apikeys": _ADMINS,
    "audit.read": _ADMINS,
    "compliance.rules": _ADMINS,  # read and replace the compliance rules document
    # The suppression ledger: anyone signed in adds a number; reading the list, importing and
    # removing are the table's (API.md, "Identity and roles").
    "suppressions.read": _MANAGERS,
    "suppressions.import": _MANAGERS,
    "suppressions.remove": _ADMINS,
    # Clearing a lead's doNotCall/smsOptOut is removing a suppression.
    "leads.clear_flags": _ADMINS,
    # Campaigns: managers and admins create, edit, archive and fill them; callers read the
    # campaigns they are members of.
    "campaigns.write": _MANAGERS,
    # Set, list and delete other members' callbacks (callers: their own).
    "callbacks.others": _MANAGERS,
}


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    name: str
    role: str
    request_id: str | None = None  # API Gateway's, for the audit log

    @property
    def member_id(self) -> str | None:
        """The member this actor is (None for an API key or the system)."""
        return self.id if self.kind == "member" else None

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    @property
    def sees_all_leads(self) -> bool:
        return self.may("leads.all")

    def sees_lead(self, assigned_to_id: str | None) -> bool:
        return self.sees_all_leads or assigned_to_id in (None, self.member_id)


SYSTEM = Actor("system", "system", "system", ADMIN)
