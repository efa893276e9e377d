"""The inbox: one thread per lead holding its latest inbound item (a text, a missed call, a
voicemail), newest first, with an unread flag.

Storage (`inbox` table, keyed by lead id): the item is written in the SAME transaction as the
inbound record (`inbound_ops`: messages.receive puts it beside the message and its SID guard),
so a redelivered webhook, refused by the SID guard, changes nothing (it never marks a thread
unread twice). The Put is conditioned on the stored item being older (`item_id`, a ULID,
`Before`): a text ingested late by the recovery never replaces a newer one (that transaction
is then retried without the inbox item). Two GSIs: `all` (every thread, one partition, newest
first) and `unread` (sparse: `unread_key` is present only while the thread is unread).

Who sees what: a caller sees the threads of their leads and of unassigned ones. Assignment
lives on the lead and changes without touching the inbox (PATCH, bulk assign, import), so the
inbox holds no assignee: every page reads the leads of its threads (one BatchGetItem, which
also gives the current names) and keeps the threads the actor may see now. A reassigned
lead's thread therefore follows the lead at once (the new assignee sees it, the old one no
longer does), with no write to keep in step. A per-assignee index would have to be rewritten
in every reassignment's transaction (services/leads.py, the import, bulk assign) and would go
stale otherwise. The cost: a caller's page reads the team's threads past the ones they may
not see (pages of 100, at most `_MAX_READS` Queries per request, then a shorter page with a
cursor); the unread count reads the sparse unread index (lead ids only) and their leads
(a BatchGetItem per 100 unread threads): unread threads are few, people read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.clock import new_id
from chalicelib.domain.actors import Actor
from chalicelib.domain.records import InboxItem, Lead
from chalicelib.errors import Forbidden, ValidationError
from chalicelib.services import leads
from chalicelib.services.deps import Deps
from chalicelib.store.base import Before, ConditionFailed, Eq, Op, Put, Update

KINDS = ("text", "missed_call", "voicemail")
PREVIEW_CHARS = 160
_MAX_READS = 5
_CALLER_CHUNK = 100


def preview_of(text: str) -> str:
    """One line, at most PREVIEW_CHARS characters (an ellipsis when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def thread(lead_id: str, kind: str, item_id: str, at: datetime, preview: str) -> InboxItem:
    if kind not in KINDS:
        raise ValueError(f"inbox kind must be one of {KINDS}")
    return InboxItem(
        lead_id=lead_id, item_id=item_id, kind=kind, at=at, preview=preview_of(preview)
    )


def inbound_ops(item: InboxItem) -> list[Op]:
    """The inbox's part of an inbound record's transaction (the operation is named `inbox`:
    it fails when the stored thread holds a newer item, or this very one)."""
    return [Put("inbox", item, when={"item_id": Before(item.item_id)})]


def record_inbound(
    deps: Deps,
    lead: Lead | str,
    kind: str,
    at: datetime,
    preview: str,
    *,
    item_id: str | None = None,
) -> bool:
    """A missed call or a voicemail (issue 16), or any inbound item written outside a
    transaction of its own: the lead's thread shows it, unread, unless the thread already
    holds a newer item or this one (`item_id`: the record's ULID, e.g. the call's id, so a
    redelivered webhook changes nothing; default: a new ULID of `at`). True if written."""
    lead_id = lead if isinstance(lead, str) else lead.id
    item = thread(lead_id, kind, item_id or new_id(at), at, preview)
    try:
        deps.store.write(Put("inbox", item, when={"item_id": Before(item.item_id)}))
    except ConditionFailed:
        return False
    return True


@dataclass
class Thread:
    item: InboxItem
    lead: Lead


@dataclass
class InboxPage:
    threads: list[Thread]
    next_cursor: str | None
    unread_count: int


def _require_lister(actor: Actor) -> None:
    if not actor.sees_all_leads and actor.member_id is None:
        raise Forbidden("this API key's role cannot read the inbox")


def _visible(actor: Actor, lead: Lead | None) -> bool:
    return lead is not None and lead.archived_at is None and actor.sees_lead(lead.assigned_to_id)


def list_threads(
    deps: Deps, actor: Actor, unread_only: bool, limit: int, cursor: str | None
) -> InboxPage:
    """Newest first; a caller's threads are those of their leads and unassigned ones (read
    from the leads now, see the module's docstring)."""
    _require_lister(actor)
    repo = deps.store.inbox
    chunk = limit if actor.sees_all_leads else max(limit, _CALLER_CHUNK)
    taken: list[Thread] = []
    position = cursor
    for _ in range(_MAX_READS):
        page = repo.page(unread_only, chunk, position)
        found = deps.store.leads.get_many([i.lead_id for i in page.items]) if page.items else {}
        for index, item in enumerate(page.items):
            lead = found.get(item.lead_id)
            if _visible(actor, lead):
                assert lead is not None
                taken.append(Thread(item, lead))
            if len(taken) == limit:
                more = index < len(page.items) - 1 or page.next_cursor is not None
                nxt = repo.cursor_after(item, unread_only) if more else None
                return InboxPage(taken, nxt, unread_count(deps, actor))
        position = page.next_cursor
        if position is None:
            break
    return InboxPage(taken, position, unread_count(deps, actor))


def unread_count(deps: Deps, actor: Actor) -> int:
    """Unread threads the actor may see: the sparse unread index's lead ids (one Query, paged)
    and their leads (a BatchGetItem per 100)."""
    _require_lister(actor)
    ids = deps.store.inbox.unread_lead_ids()
    if not ids:
        return 0
    found = deps.store.leads.get_many(ids)
    return sum(1 for lead_id in ids if _visible(actor, found.get(lead_id)))


def mark_read(
    deps: Deps, actor: Actor, lead_id: str, item_id: str | None = None
) -> tuple[Lead, InboxItem | None]:
    """Mark the lead's thread read (a lead the actor may not read: 404). `item_id`: only if the
    thread still holds that item (a text that arrived after the reader saw the list stays
    unread). The lead, and its thread as it is after (None: the lead has no thread)."""
    lead = leads.get(deps, lead_id, actor)
    if item_id is not None and (not isinstance(item_id, str) or len(item_id) > 64):
        raise ValidationError("itemId must be a thread's itemId", {"field": "itemId"})
    when = {"item_id": Eq(item_id)} if item_id else {}
    op = Update("read", InboxItem, lead_id, {"unread_key": None, "read_at": deps.clock.now()}, when)
    try:
        written = deps.store.write(op)
    except ConditionFailed:
        return lead, deps.store.inbox.get(lead_id)
    assert written is None or isinstance(written, InboxItem)
    return lead, written
