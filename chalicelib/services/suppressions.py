"""The suppression ledger (API.md, "Compliance"): one item per E.164 number, the single source
of truth for "may this number be called or texted". Lead flags (`doNotCall`, `smsOptOut`) are
views of it; STOP/START, a `do_not_call` disposition, Twilio's 21610, a lead's flags, `POST
/suppressions` and the import all write it here, and every add and removal is audited.

Writes read the number's item and put it back on the condition that its version is still the
one read (a lost race reads again), so concurrent writers never lose each other's channels.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chalicelib import phone as phones
from chalicelib.clock import new_id
from chalicelib.domain import suppressions as rules
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Lead, Suppression
from chalicelib.domain.suppressions import CHANNELS, Channel, Source
from chalicelib.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from chalicelib.services import access, audit
from chalicelib.services.deps import Deps
from chalicelib.store.base import ConditionFailed, Page, Put

_ATTEMPTS = 5


def _channels(raw: Iterable[str] | None) -> list[Channel]:
    if raw is None:
        return list(CHANNELS)
    wanted = list(dict.fromkeys(raw))
    bad = [c for c in wanted if c not in CHANNELS]
    if bad or not wanted:
        raise ValidationError(
            "channels must be a non-empty list of voice, sms", {"field": "channels"}
        )
    return [c for c in CHANNELS if c in wanted]


def _later(item: Suppression | None) -> str:
    """A fresh ULID that sorts after anything that decided the SMS channel so far."""
    by = new_id()
    if item is not None and item.sms_decided_by and item.sms_decided_by >= by:
        return item.sms_decided_by
    return by


# ---------------------------------------------------------------- writes


def _save(
    deps: Deps,
    phone: str,
    change: Any,
) -> tuple[Suppression | None, list[Channel], Suppression | None]:
    """Read the number's item, let `change(item)` decide the new one (None: nothing to write),
    put it on the version read; again on a lost race. Returns (before, changed, after)."""
    for _ in range(_ATTEMPTS):
        before = deps.store.suppressions.get(phone)
        decided = change(before)
        if decided is None:
            return before, [], before
        after, changed = decided
        try:
            deps.store.write(Put("suppression", after))
        except ConditionFailed:
            continue
        return before, changed, after
    raise Conflict("the suppression list was changed at the same moment; try again")


def add(
    deps: Deps,
    actor: Actor,
    phone: str,
    channels: Sequence[Channel],
    *,
    source: Source,
    reason: str | None = None,
    decided_by: str | None = None,
) -> tuple[Suppression | None, list[Channel]]:
    """Suppress `phone` (E.164) on `channels`; audited when a channel changed. `decided_by`: for
    a STOP, the inbound message's ULID (an older one than what decided the SMS channel since
    changes nothing); anything else decides as of now."""
    at = deps.clock.now()

    def change(item: Suppression | None) -> tuple[Suppression, list[Channel]] | None:
        wanted = list(channels)
        keyword = decided_by is not None and "sms" in wanted
        if keyword and rules.decided_after(item, str(decided_by)):
            wanted.remove("sms")  # a later START (or edit) decided already
            keyword = False
        after, changed = rules.add(
            item or rules.blank(phone, at),
            wanted,
            source=source,
            reason=reason,
            actor=actor,
            at=at,
            list_id=new_id(),
            replace=source in rules.ONLY_START_LIFTS,
        )
        if keyword:
            after.sms_decided_by = decided_by  # the order is recorded even with no change
            return after, changed
        if "sms" in changed:
            after.sms_decided_by = _later(item)
        return (after, changed) if changed else None

    _, changed, after = _save(deps, phone, change)
    if changed:
        audit.record(
            deps,
            actor,
            "suppression.added",
            None,
            {"phone": phone, "channels": changed, "source": source},
        )
    return after, changed


def remove(
    deps: Deps,
    actor: Actor,
    phone: str,
    channels: Sequence[Channel],
    *,
    permission: str = "suppressions.remove",
    what: str = "remove suppressions",
) -> Suppression:
    """Lift `phone`'s suppression on `channels` (admins). 404 when none of them is suppressed;
    409, and nothing lifted, when the SMS channel is the person's own opt-out (only their START
    lifts it). Audited."""
    access.require(actor, permission, what)
    at = deps.clock.now()

    def change(item: Suppression | None) -> tuple[Suppression, list[Channel]] | None:
        if item is None or not any(rules.is_suppressed(item, c) for c in channels):
            raise NotFound(f"{phones.mask(phone)} is not suppressed", {"phone": phone})
        _refuse_own_opt_out(item, channels)
        after, changed = rules.remove(item, channels, at)
        if "sms" in changed:
            after.sms_decided_by = _later(item)  # an older START or STOP changes nothing now
        return (after, changed) if changed else None

    before, changed, after = _save(deps, phone, change)
    if changed:
        audit.record(
            deps,
            actor,
            "suppression.removed",
            None,
            {
                "phone": phone,
                "channels": changed,
                "sources": {c: rules.source_of(before, c) for c in changed},
            },
        )
    assert after is not None
    return after


def _refuse_own_opt_out(item: Suppression | None, channels: Sequence[Channel]) -> None:
    source = rules.source_of(item, "sms")
    if "sms" in channels and source in rules.ONLY_START_LIFTS:
        raise Conflict(
            "this number opted out of texts itself (they texted STOP): only their START lifts "
            "it; the opt-out stays",
            {"reason": "opted_out", "source": source, "channel": "sms"},
        )


def apply_keyword(deps: Deps, phone: str, keyword: str | None, message_id: str) -> bool:
    """STOP/START from `phone` as of the inbound message `message_id` (a ULID: keywords apply
    in the order they were first received, whatever order their deliveries come in; a
    redelivered one changes nothing). True if a channel changed."""
    if keyword == "stop":
        _, changed = add(
            deps,
            SYSTEM,
            phone,
            ["sms"],
            source="sms_stop",
            reason="texted STOP",
            decided_by=message_id,
        )
        return bool(changed)
    if keyword != "start":
        return False
    at = deps.clock.now()

    def change(item: Suppression | None) -> tuple[Suppression, list[Channel]] | None:
        if rules.decided_after(item, message_id):
            return None
        base = item or rules.blank(phone, at)
        lifts = rules.source_of(base, "sms") in rules.LIFTED_BY_START
        after, changed = rules.remove(base, ["sms"] if lifts else [], at)
        after.sms_decided_by = message_id
        return after, changed

    before, changed, _ = _save(deps, phone, change)
    if changed:
        audit.record(
            deps,
            SYSTEM,
            "suppression.removed",
            None,
            {
                "phone": phone,
                "channels": changed,
                "sources": {"sms": rules.source_of(before, "sms")},
                "by": "start",
            },
        )
    return bool(changed)


# ---------------------------------------------------------------- lead flags (views)


def flags_of(item: Suppression | None, lead: Lead) -> tuple[bool, bool]:
    """(doNotCall, smsOptOut) of a lead: the ledger's truth for its current number, or a flag
    still stored on the lead from before the ledger (until the backfill moves it)."""
    return (
        rules.is_suppressed(item, "voice") or lead.do_not_call,
        rules.is_suppressed(item, "sms") or lead.sms_opt_out,
    )


def view(deps: Deps, lead: Lead) -> Lead:
    """The lead with `do_not_call`/`sms_opt_out` as the ledger says (one GetItem)."""
    dnc, opt_out = flags_of(deps.store.suppressions.get(lead.phone), lead)
    return replace(lead, do_not_call=dnc, sms_opt_out=opt_out)


def view_many(deps: Deps, leads: Sequence[Lead]) -> list[Lead]:
    """A page of leads with their flags from the ledger (one BatchGetItem per 100)."""
    if not leads:
        return []
    items = deps.store.suppressions.get_many([lead.phone for lead in leads])
    out = []
    for lead in leads:
        dnc, opt_out = flags_of(items.get(lead.phone), lead)
        out.append(replace(lead, do_not_call=dnc, sms_opt_out=opt_out))
    return out


def set_lead_flags(
    deps: Deps,
    actor: Actor,
    phone: str,
    *,
    do_not_call: bool | None,
    sms_opt_out: bool | None,
    check_only: bool = False,
) -> None:
    """A lead's `doNotCall`/`smsOptOut` set (True: a suppression, source `lead_flag`, by the
    actor) or cleared (False: the admin's removal, audited; 403 for anyone else; 409 for the
    person's own opt-out). A flag already so changes nothing. `check_only`: refuse what would
    be refused, write nothing."""
    wanted = {"voice": do_not_call, "sms": sms_opt_out}
    if all(v is None for v in wanted.values()):
        return
    item = deps.store.suppressions.get(phone)
    clear: list[Channel] = [
        c for c in CHANNELS if wanted[c] is False and rules.is_suppressed(item, c)
    ]
    add_: list[Channel] = [
        c for c in CHANNELS if wanted[c] is True and not rules.is_suppressed(item, c)
    ]
    if clear:
        if not actor.may("leads.clear_flags"):
            raise Forbidden(
                "only an admin can clear doNotCall or smsOptOut (it removes the number's "
                "suppression, which is audited)",
                {"field": "doNotCall" if "voice" in clear else "smsOptOut"},
            )
        _refuse_own_opt_out(item, clear)
    if check_only:
        return
    if clear:
        remove(deps, actor, phone, clear, permission="leads.clear_flags", what="clear flags")
    if add_:
        add(deps, actor, phone, add_, source="lead_flag", reason="set on the lead")


def view_iter(deps: Deps, leads: Iterable[Lead]) -> Iterator[Lead]:
    """Leads with their flags from the ledger, 100 at a time (the export)."""
    chunk: list[Lead] = []
    for lead in leads:
        chunk.append(lead)
        if len(chunk) == BATCH:
            yield from view_many(deps, chunk)
            chunk = []
    yield from view_many(deps, chunk)


BATCH = 100


# ---------------------------------------------------------------- reads


def get(deps: Deps, actor: Actor, phone: str) -> Suppression:
    access.require(actor, "suppressions.read", "read the suppression list")
    item = deps.store.suppressions.get(phone)
    if not rules.channels_of(item):
        raise NotFound(f"{phones.mask(phone)} is not suppressed", {"phone": phone})
    assert item is not None
    return item


def page(
    deps: Deps, actor: Actor, phone: str | None, limit: int, cursor: str | None
) -> Page[Suppression]:
    """Newest first (a Query on the sparse by-listed index); `phone`: that number alone (a
    GetItem)."""
    access.require(actor, "suppressions.read", "read the suppression list")
    if phone:
        item = deps.store.suppressions.get(phone)
        return Page([item] if item is not None and rules.channels_of(item) else [], None)
    return deps.store.suppressions.page(limit, cursor)


# ---------------------------------------------------------------- import

MAX_REPORTED_ERRORS = 1000
MAX_MESSAGE_CHARS = 300
MAX_IMPORT_NUMBERS = 100_000  # a call takes at most this many numbers, then answers nextRow
# New numbers read and written between two looks at the clock: 50 BatchGetItems and up to 200
# BatchWriteItems, about 1.3 s on a fresh on-demand table (~4,000 writes a second), so a call
# stopping at its budget (20 s) answers before API Gateway's 29 s.
SLICE_NUMBERS = 5_000
# The national registry's download: area code and number in two columns (`212,5550142`).
_NANP = re.compile(r"^\+?1?([2-9][0-9]{2}[2-9][0-9]{6})$")  # ASCII digits only
_AREA = re.compile(r"^[2-9][0-9]{2}$")
_LOCAL = re.compile(r"^[2-9][0-9]{6}$")
_JUNK = re.compile(r"[\s().\-\"']")


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    total_rows: int = 0  # the whole file's rows, as `rows` counts them
    next_row: int | None = None  # the first line not handled (the budget was spent); None: done

    def add_error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            text = message if len(message) <= MAX_MESSAGE_CHARS else message[:299] + "\u2026"
            self.errors.append({"row": row, "message": text})

    def to_body(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "added": self.added,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "errorCount": self.error_count,
            "errorsTruncated": self.error_count > len(self.errors),
            "nextRow": self.next_row,
            "totalRows": self.total_rows,
        }


def parse_number(line: str) -> str | None:
    """One line of an import as E.164: a number in any common form, or the registry's area
    code and number columns. None for a header line (no digit in it); a 400 for a bad number.
    The common North American shapes are read without `phonenumbers` (100,000 lines)."""
    cells = [c for c in (_JUNK.sub("", cell) for cell in line.split(",")) if c]
    if not cells or not any(ch.isdigit() for ch in line):
        return None
    if len(cells) >= 2 and _AREA.match(cells[0]) and _LOCAL.match(cells[1]):
        return f"+1{cells[0]}{cells[1]}"
    if len(cells) > 1:
        raise ValidationError("expected one number, or an area code and a number")
    fast = _NANP.match(cells[0])
    if fast and (cells[0].startswith("+1") or not cells[0].startswith("+")):
        return f"+1{fast.group(1)}"
    return phones.normalize(cells[0])


def import_numbers(
    deps: Deps,
    actor: Actor,
    raw: bytes,
    channels: Sequence[str] | None = None,
    *,
    from_row: int | None = None,
    budget_seconds: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ImportReport:
    """Suppress every number of a text or CSV file (one per line, or the registry's layout),
    from the line `from_row` (None: the first; the lines before it are not read). Numbers
    repeated in the file, or already suppressed on every channel asked, are duplicates (so a
    number an earlier request of the same file added is one too).

    The file is worked through in slices of SLICE_NUMBERS new numbers: each slice's
    BatchGetItems (one per 100 numbers) read what the ledger holds, then its BatchWriteItems
    (one per 25 items, several in flight) write the new and merged items. After a slice, with
    `budget_seconds` (None: IMPORT_BUDGET_SECONDS) spent since the call began, or
    MAX_IMPORT_NUMBERS numbers taken (a whole number of slices), and lines left, it stops:
    `next_row` is the first line not handled (numbered as `errors[].row`). At least one slice
    a call.

    Batch writes have no conditions: a keyword or an edit on one of these numbers landing
    between the read and the write can be overwritten by the import's item (the number stays
    suppressed either way; it may lose the keyword's order). Audited once a call, with the
    counts (and fromRow/nextRow when it has them)."""
    access.require(actor, "suppressions.import", "import suppressions")
    started = monotonic()
    budget = deps.settings.import_budget_seconds if budget_seconds is None else budget_seconds
    wanted = _channels(channels)
    if len(raw) > deps.settings.max_import_bytes:
        limit = deps.settings.max_import_bytes
        raise PayloadTooLarge(
            f"the file is {len(raw)} bytes; the limit is {limit} bytes",
            {"limitBytes": limit, "sizeBytes": len(raw)},
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("the file is not UTF-8 text", {"byteOffset": exc.start}) from None
    lines = [(row, line) for row, line in enumerate(text.splitlines(), start=1) if line.strip()]
    header_row = lines[0][0] if lines and _is_header(lines[0][1]) else None
    report = ImportReport(total_rows=len(lines) - (header_row is not None))
    last_row = lines[-1][0] if lines else 0
    if from_row is not None and not 1 <= from_row <= last_row:
        raise ValidationError(
            f"fromRow must be a line of the file, 1 to {last_row}"
            if lines
            else "fromRow: the file has no lines",
            {"field": "fromRow", "firstRow": 1, "lastRow": last_row},
        )
    numbers: list[str] = []  # this slice's
    seen: set[str] = set()  # this call's; those of earlier calls are in the ledger
    sliced = False  # a slice was written: from now on, look at the clock before a line
    for row, line in lines:
        if from_row is not None and row < from_row:
            continue
        if sliced and (len(seen) >= MAX_IMPORT_NUMBERS or monotonic() - started >= budget):
            report.next_row = row
            break
        sliced = False
        if row == header_row:
            continue  # a header row (no digit in it)
        report.rows += 1
        try:
            number = parse_number(line)
        except AppError as exc:
            report.add_error(row, f"{exc.message}: {line.strip()[:40]!r}")
            continue
        if number is None:
            report.add_error(row, f"not a phone number: {line.strip()[:40]!r}")
            continue
        if number in seen:
            report.duplicates += 1
            continue
        seen.add(number)
        numbers.append(number)
        if len(numbers) == SLICE_NUMBERS:
            _import_slice(deps, actor, numbers, wanted, report)
            numbers = []
            sliced = True
    _import_slice(deps, actor, numbers, wanted, report)
    details: dict[str, Any] = {
        "source": "import",
        "channels": wanted,
        "added": report.added,
        "duplicates": report.duplicates,
        "errors": report.error_count,
    }
    if from_row is not None:
        details["fromRow"] = from_row
    if report.next_row is not None:
        details["nextRow"] = report.next_row
    audit.record(deps, actor, "suppression.added", None, details)
    return report


def _is_header(line: str) -> bool:
    """Whether the file's first line is a header (parse_number reads no number in it)."""
    try:
        return parse_number(line) is None
    except AppError:
        return False


def _import_slice(
    deps: Deps, actor: Actor, numbers: list[str], wanted: list[Channel], report: ImportReport
) -> None:
    if not numbers:
        return
    added, duplicates = add_many(deps, actor, [(n, wanted) for n in numbers], source="import")
    report.added += added
    report.duplicates += duplicates


def add_many(
    deps: Deps,
    actor: Actor,
    entries: Sequence[tuple[str, Sequence[Channel]]],
    *,
    source: Source,
    reason: str | None = None,
) -> tuple[int, int]:
    """Suppress many numbers at once (each on its channels): one BatchGetItem per 100 numbers
    for what the ledger holds, one BatchWriteItem per 25 changed items, several in flight.
    Returns (numbers changed, numbers already suppressed so). Not audited here: the caller
    writes one entry for the whole batch."""
    at = deps.clock.now()
    stored = deps.store.suppressions.get_many([phone for phone, _ in entries])
    writes: list[Suppression] = []
    for phone, channels in entries:
        item = stored.get(phone)
        after, changed = rules.add(
            item or rules.blank(phone, at),
            channels,
            source=source,
            reason=reason or source,
            actor=actor,
            at=at,
            list_id=new_id(),
        )
        if not changed:
            continue
        if "sms" in changed:
            after.sms_decided_by = _later(item)
        writes.append(after)
    deps.store.suppressions.put_many(writes)
    return len(writes), len(entries) - len(writes)


def parse_channels(raw: str | None) -> list[Channel] | None:
    if raw is None or raw == "":
        return None
    return _channels(part.strip() for part in raw.split(","))


def channels_from(raw: Iterable[str] | None) -> list[Channel]:
    return _channels(raw)


def when(item: Suppression, channel: Channel) -> datetime | None:
    at: datetime | None = getattr(item, f"{channel}_at")
    return at
