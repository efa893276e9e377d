"""The suppression ledger's rules (API.md and DESIGN.md, "Compliance"): pure functions over one
number's `Suppression` item. No I/O: services read and write the item, these decide.

A number is suppressed per channel (`voice`, `sms`); each channel remembers its reason, its
source, who set it and when. The sources:

- `sms_stop`: the person texted STOP (or a word like it); only their START lifts it;
- `twilio_21610`: Twilio refused a text because the recipient unsubscribed (their STOP, seen
  by Twilio); only their START lifts it, too;
- `disposition`: a call wrapped up `do_not_call` (the person asked on the phone);
- `lead_flag`: a lead's `doNotCall`/`smsOptOut` set by a member (or migrated from the flags);
- `manual`: `POST /suppressions`; `import`: `POST /suppressions/import`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Final, Literal, get_args

from chalicelib.domain.actors import Actor
from chalicelib.domain.records import Suppression

Channel = Literal["voice", "sms"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)
Source = Literal["manual", "import", "sms_stop", "disposition", "twilio_21610", "lead_flag"]
SOURCES: Final[tuple[Source, ...]] = get_args(Source)

# The person's own opt-out: an admin cannot lift it, only their START does.
ONLY_START_LIFTS: Final = frozenset({"sms_stop", "twilio_21610"})
# What a START lifts on the SMS channel: the person's opt-outs and an opt-out flag set on a
# lead. A number suppressed by an import (the national registry), by hand or because the person
# asked on the phone stays suppressed.
LIFTED_BY_START: Final = frozenset({"sms_stop", "twilio_21610", "lead_flag"})

# API.md's refusal reasons for the ledger, in the order they are reported when several apply.
Reason = Literal["opted_out", "do_not_call", "suppressed"]
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)


def message(reason: str, channel: Channel) -> str:
    """A refusal in plain words (the dashboard shows it as is)."""
    what = "calls" if channel == "voice" else "texts"
    if reason == "opted_out":
        return (
            "this number opted out of texts (they texted STOP); only their START, texted to us, "
            "lets texts through again"
        )
    if reason == "do_not_call":
        return f"this number asked not to be contacted (do-not-call): {what} to it are refused"
    return f"this number is on the suppression list: {what} to it are refused"


def actor_ref(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"


def is_suppressed(item: Suppression | None, channel: Channel) -> bool:
    return item is not None and getattr(item, f"{channel}_source") is not None


def channels_of(item: Suppression | None) -> list[Channel]:
    return [c for c in CHANNELS if is_suppressed(item, c)]


def source_of(item: Suppression | None, channel: Channel) -> str | None:
    return None if item is None else getattr(item, f"{channel}_source")


def _reason_of(source: str | None, channel: Channel) -> Reason | None:
    if source is None:
        return None
    if channel == "sms" and source in LIFTED_BY_START:
        return "opted_out"
    if source in ("disposition", "lead_flag"):
        return "do_not_call"
    return "suppressed"


def refusal(item: Suppression | None, channel: Channel, voice_blocks_sms: bool) -> Reason | None:
    """Why a call (`voice`) or a text (`sms`) to this number is refused, or None. A voice
    suppression also refuses texts when `voice_blocks_sms` (a do-not-call person does not want
    marketing texts either). The first of API.md's order when several apply."""
    found: list[Reason] = []
    own = _reason_of(source_of(item, channel), channel)
    if own is not None:
        found.append(own)
    if channel == "sms" and voice_blocks_sms:
        voice = _reason_of(source_of(item, "voice"), "voice")
        if voice is not None:
            found.append(voice)
    return min(found, key=REASONS.index) if found else None


def blank(phone: str, at: datetime) -> Suppression:
    return Suppression(phone=phone, created_at=at, updated_at=at)


def add(
    item: Suppression,
    channels: Iterable[Channel],
    *,
    source: Source,
    reason: str | None,
    actor: Actor,
    at: datetime,
    list_id: str,
    replace: bool = False,
) -> tuple[Suppression, list[Channel]]:
    """The item with `channels` suppressed (a copy) and the channels that changed. A channel
    already suppressed keeps its record, unless `replace` (the person's own STOP takes over
    whatever else suppressed the channel before: from then on only their START lifts it)."""
    new = dataclasses.replace(item)
    changed: list[Channel] = []
    for channel in channels:
        current = source_of(new, channel)
        if current is not None and not (replace and current not in ONLY_START_LIFTS):
            continue
        setattr(new, f"{channel}_source", source)
        setattr(new, f"{channel}_reason", (reason or None) and reason[:500])
        setattr(new, f"{channel}_by", actor_ref(actor))
        setattr(new, f"{channel}_by_name", actor.name[:200])
        setattr(new, f"{channel}_at", at)
        changed.append(channel)
    if changed:
        new.updated_at = at
        if new.listed_id is None:
            new.listed_id = list_id
            new.created_at = at
    return new, changed


def remove(
    item: Suppression, channels: Iterable[Channel], at: datetime
) -> tuple[Suppression, list[Channel]]:
    """The item with `channels` no longer suppressed (a copy) and the channels that changed;
    with no channel left it leaves the list (`listed_id` None)."""
    new = dataclasses.replace(item)
    changed: list[Channel] = []
    for channel in channels:
        if source_of(new, channel) is None:
            continue
        for part in ("source", "reason", "by", "by_name", "at"):
            setattr(new, f"{channel}_{part}", None)
        changed.append(channel)
    if changed:
        new.updated_at = at
        if not channels_of(new):
            new.listed_id = None
    return new, changed


def decided_after(item: Suppression | None, by: str) -> bool:
    """Something later than `by` (a ULID) already decided the SMS channel."""
    return item is not None and item.sms_decided_by is not None and item.sms_decided_by >= by
