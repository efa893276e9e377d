"""The check at the moment of sending (API.md, "Compliance"): every call (placed by hand, or
about to be dialled after the member's key press) and every text goes through `check`, the
single place that decides whether a number may be contacted now.

It reads the number's ledger item (ONE GetItem per outgoing call or text) and refuses with 422
`blocked`, `details.reason` in API.md's words, writing `compliance.blocked` to the audit log
for every refusal. When several rules refuse, the reason reported is the first of API.md's
order (`REASON_ORDER`).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from chalicelib.domain import suppressions as ledger
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Lead
from chalicelib.errors import Blocked
from chalicelib.services import audit
from chalicelib.services.deps import Deps

Channel = Literal["voice", "sms"]

# A voice suppression (do-not-call) also refuses texts: someone who asked not to be called does
# not want marketing texts either. A rule: the rules engine will carry it as data.
VOICE_SUPPRESSION_BLOCKS_SMS: Final = True

# API.md: "When several rules refuse, the reason reported is the first of: ..."
REASON_ORDER: Final = (
    "restricted_number",
    "opted_out",
    "do_not_call",
    "suppressed",
    "attempt_limit",
    "calling_hours",
)


def refusal(
    deps: Deps, *, phone: str, channel: Channel, lead: Lead | None
) -> tuple[str, str, dict[str, Any]] | None:
    """(reason, message, details) of the first rule that refuses, or None. No audit here."""
    item = deps.store.suppressions.get(phone)  # the one GetItem
    found: list[tuple[str, str, dict[str, Any]]] = []
    reason = ledger.refusal(item, channel, VOICE_SUPPRESSION_BLOCKS_SMS)
    if reason is None and lead is not None:
        # A flag stored on the lead before the ledger existed (until the backfill moves it).
        if lead.sms_opt_out and channel == "sms":
            reason = "opted_out"
        elif lead.do_not_call and (channel == "voice" or VOICE_SUPPRESSION_BLOCKS_SMS):
            reason = "do_not_call"
    if reason is not None:
        found.append((reason, ledger.message(reason, channel), {}))

    # ---- RULES ENGINE PLUGS IN HERE --------------------------------------------------------
    # `compliance_rules.evaluate(...)` (restricted_number, attempt_limit, calling_hours) adds
    # its refusal to `found`; the first of REASON_ORDER is reported.
    # -----------------------------------------------------------------------------------------

    if not found:
        return None
    return min(found, key=lambda f: REASON_ORDER.index(f[0]))


def check(deps: Deps, actor: Actor, *, phone: str, channel: Channel, lead: Lead | None) -> None:
    """Refuse (422 `blocked`, audited as `compliance.blocked`) a call or text to `phone` that a
    rule forbids now; return quietly otherwise."""
    refused = refusal(deps, phone=phone, channel=channel, lead=lead)
    if refused is None:
        return
    reason, message, extra = refused
    details: dict[str, Any] = {"reason": reason, "channel": channel, **extra}
    if lead is not None:
        details["leadId"] = lead.id
    audit.record(
        deps,
        actor,
        "compliance.blocked",
        ("lead", lead.id) if lead is not None else None,
        {**details, "phone": phone},  # masked by the audit log
    )
    raise Blocked(message, details)
