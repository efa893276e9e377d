"""The check at the moment of sending (API.md, "Compliance"): every call (placed by hand, or
about to be dialled after the member's key press) and every text goes through `check`, the
single place that decides whether a number may be contacted now.

It reads the number's ledger item and the rules document in ONE request (a BatchGetItem over
both tables; for a call to a number whose state caps attempts, a Query of the lead's calls
too) and refuses with 422
`blocked`, `details.reason` in API.md's words, writing `compliance.blocked` to the audit log
for every refusal. When several rules refuse, the reason reported is the first of API.md's
order (`REASON_ORDER`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from chalicelib.domain import compliance_rules as rules_domain
from chalicelib.domain import suppressions as ledger
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Lead
from chalicelib.errors import Blocked
from chalicelib.services import audit, compliance_rules
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
    deps: Deps,
    *,
    phone: str,
    channel: Channel,
    lead: Lead | None,
    ours: Mapping[str, str] | None = None,
) -> tuple[str, str, dict[str, Any]] | None:
    """(reason, message, details) of the first rule that refuses, or None. No audit here.
    `ours`: our side's numbers by field (the member's phone, the caller ID, the sender), held
    to `blockedPrefixes` and `allowedCountries` too."""
    # the one request: the number's ledger item and the rules document
    item, document = deps.store.suppressions.get_with_document(phone, compliance_rules.KEY)
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

    # The rules (restricted numbers, attempts in 24 h, calling and texting hours by state); the
    # attempts are counted (one Query) only when a cap applies to the number.
    rules = compliance_rules.from_document(document) or compliance_rules.defaults(deps)
    now = deps.clock.now()

    def evaluate(attempts: int) -> rules_domain.Refusal | None:
        return rules_domain.evaluate(
            rules,
            number=phone,
            lead_state=lead.state if lead is not None else None,
            zones=(),  # the area code's zones, else the state's, else fail closed
            now=now,
            channel=channel,
            attempts_24h=attempts,
        )

    for field, number in sorted((ours or {}).items()):
        restricted = rules_domain.restricted(rules, number)
        if restricted is not None:
            details = {**restricted.details, "field": field}
            found.append((restricted.reason, f"{field}: {restricted.message}", details))
    ruled = evaluate(0)
    if ruled is None and channel == "voice" and lead is not None:
        capped = evaluate(_NO_CAP_HOLDS)
        if capped is not None and capped.reason == rules_domain.ATTEMPT_LIMIT:
            ruled = evaluate(_attempts_24h(deps, lead, phone, now))
    if ruled is not None:
        found.append((ruled.reason, ruled.message, dict(ruled.details)))

    if not found:
        return None
    return min(found, key=lambda f: REASON_ORDER.index(f[0]))


# More attempts than any cap: evaluating with it tells whether a cap applies to the number.
_NO_CAP_HOLDS: Final = 1_000_000


def _attempts_24h(deps: Deps, lead: Lead, phone: str, now: datetime) -> int:
    """Calls placed to `phone` through the lead holding it in the last 24 hours: one Query on
    the calls' by-lead index, newest first, a page (no cap is anywhere near a page)."""
    since = now - timedelta(hours=24)
    page = deps.store.calls.page_by_lead(lead.id, 100, None)
    return sum(
        1 for call in page.items if call.created_at > since and (call.lead_phone in (None, phone))
    )


def check(
    deps: Deps,
    actor: Actor,
    *,
    phone: str,
    channel: Channel,
    lead: Lead | None,
    ours: Mapping[str, str] | None = None,
) -> None:
    """Refuse (422 `blocked`, audited as `compliance.blocked`) a call or text to `phone` that a
    rule forbids now (or from one of `ours` that a rule restricts); return quietly otherwise."""
    refused = refusal(deps, phone=phone, channel=channel, lead=lead, ours=ours)
    if refused is None:
        return
    reason, message, extra = refused
    details: dict[str, Any] = {"reason": reason, "channel": channel, **extra}
    # The names the calling-hours refusal carried before the rules engine (the dashboard's call
    # dialog reads them): kept beside the engine's own.
    if "localTime" in extra:
        details["leadLocalTime"] = extra["localTime"]
    if "window" in extra:
        details["allowedHours"] = extra["window"]
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
