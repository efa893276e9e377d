"""The check at the moment of sending (API.md, "Compliance"): every call (placed by hand, or
about to be dialled after the member's key press) and every text goes through `check`, the
single place that decides whether a number may be contacted now.

It reads the number's ledger item and the rules document in ONE request (a BatchGetItem over
both tables; for a number whose state caps attempts, a Query of the lead's calls and one of
its messages too) and refuses with 422
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
from chalicelib.domain.records import Lead, Setting, Suppression
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
    state: str | None = None,
) -> tuple[str, str, dict[str, Any]] | None:
    """(reason, message, details) of the first rule that refuses, or None. No audit here.
    `ours`: our side's numbers by field (the member's phone, the caller ID, the sender), held
    to `blockedPrefixes` and `allowedCountries` too. Without a `lead` (the member's key press:
    the call already counts as this attempt), `state` is the lead's `state` field as the call
    recorded it, and attempts are not counted."""
    # the one request: the number's ledger item and the rules document
    item, document = deps.store.suppressions.get_with_document(phone, compliance_rules.KEY)
    return _refusal(deps, item, document, phone, channel, lead, ours, state)


def _refusal(
    deps: Deps,
    item: Suppression | None,
    document: Setting | None,
    phone: str,
    channel: Channel,
    lead: Lead | None,
    ours: Mapping[str, str] | None,
    state: str | None,
) -> tuple[str, str, dict[str, Any]] | None:
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
    now = deps.rules_now()

    def evaluate(attempts: int) -> rules_domain.Refusal | None:
        return rules_domain.evaluate(
            rules,
            number=phone,
            lead_state=lead.state if lead is not None else state,
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
    if ruled is None and lead is not None:
        capped = evaluate(_NO_CAP_HOLDS)
        if capped is not None and capped.reason == rules_domain.ATTEMPT_LIMIT:
            ruled = evaluate(_attempts_24h(deps, lead, phone, channel, now))
    if ruled is not None:
        found.append((ruled.reason, ruled.message, dict(ruled.details)))

    if not found:
        return None
    return min(found, key=lambda f: REASON_ORDER.index(f[0]))


# More attempts than any cap: evaluating with it tells whether a cap applies to the number.
_NO_CAP_HOLDS: Final = 1_000_000


def _attempts_24h(deps: Deps, lead: Lead, phone: str, channel: Channel, now: datetime) -> int:
    """Calls placed and texts sent to `phone` through the lead holding it in the last 24 hours
    (the caps count both: Florida's, Oklahoma's and Maryland's laws count a text as a call;
    README, "Compliance rules"): a page of
    the lead's calls and one of its messages, newest first (no cap is anywhere near a page).

    A text answering the person (they texted this number in the last 24 hours) is a
    conversation they started, not an attempt: it is not refused by the cap."""
    since = now - timedelta(hours=24)
    texts = deps.store.messages.page_by_lead(lead.id, 100, None).items
    recent = [m for m in texts if m.created_at > since]
    if channel == "sms" and any(
        m.direction == "inbound" and m.from_number in (None, phone) for m in recent
    ):
        return 0
    calls = deps.store.calls.page_by_lead(lead.id, 100, None).items
    placed = sum(1 for c in calls if c.created_at > since and c.lead_phone in (None, phone))
    sent = sum(1 for m in recent if m.direction == "outbound" and m.to_number == phone)
    return placed + sent


def check(
    deps: Deps,
    actor: Actor,
    *,
    phone: str,
    channel: Channel,
    lead: Lead | None,
    ours: Mapping[str, str] | None = None,
    state: str | None = None,
    lead_id: str | None = None,
) -> None:
    """Refuse (422 `blocked`, audited as `compliance.blocked`) a call or text to `phone` that a
    rule forbids now (or from one of `ours` that a rule restricts); return quietly otherwise.
    `state` and `lead_id` name the lead when no `lead` record is at hand (see `refusal`)."""
    refused = refusal(deps, phone=phone, channel=channel, lead=lead, ours=ours, state=state)
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
    lead_id = lead.id if lead is not None else lead_id
    if lead_id is not None:
        details["leadId"] = lead_id
    audit.record(
        deps,
        actor,
        "compliance.blocked",
        ("lead", lead_id) if lead_id is not None else None,
        {**details, "phone": phone},  # masked by the audit log
    )
    raise Blocked(message, details)


def preview(deps: Deps, actor: Actor, lead_id: str) -> dict[str, Any]:
    """Whether the lead's number may be called and texted right now, and when not, why and
    when it may (the lead page): the checks of `check` without an audit entry, for both
    channels from one read of the ledger item and the rules (plus the attempt Queries when a
    cap applies). Anyone who may read the lead may ask."""
    from chalicelib.services import leads

    lead = leads.get(deps, lead_id, actor)
    item, document = deps.store.suppressions.get_with_document(lead.phone, compliance_rules.KEY)
    out: dict[str, Any] = {"leadId": lead.id, "phone": lead.phone, "suppression": item}
    channels: tuple[Channel, ...] = ("voice", "sms")
    for channel in channels:
        refused = (
            _refusal(deps, item, document, lead.phone, channel, lead, None, None)
            if lead.archived_at is None
            else ("archived", "The lead is archived: restore it to call or text it.", {})
        )
        if refused is None:
            out[channel] = {"allowed": True, "reason": None, "message": None, "details": {}}
        else:
            reason, message, details = refused
            out[channel] = {
                "allowed": False,
                "reason": reason,
                "message": message,
                "details": details,
            }
    return out


def restricted_number(deps: Deps, number: str) -> str | None:
    """Why our own number (a member's phone, a caller ID) may not be used, or None: the rules'
    `blockedPrefixes` and `allowedCountries` (one GetItem of the rules)."""
    refused = rules_domain.restricted(compliance_rules.get_rules(deps), number)
    return refused.message if refused is not None else None
