"""CSV import of leads (the export is a wire format: chalicelib/api/csv_export.py).

Import is one request: rows are validated one by one (bad rows reported by row number, good
rows kept), de-duplicated within the file and against existing leads (one BatchGetItem per 100
phones on the guard table: it spares most refused writes, it decides nothing), then written in
transactions of GROUP leads, each lead with its phone guard written on the condition that the
number is free, and the group's funnel count: two imports of the same numbers, or an import and
`POST /leads`, running at once can never create two live leads for one number, and the funnel
moves exactly with the leads written. A group a taken number refuses is written again without
it (the refused op is named), so one number never costs the rest of its group.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib import phone as phones
from chalicelib.domain import counters
from chalicelib.domain import search as search_rules
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.records import Lead, LeadPhone
from chalicelib.domain.suppressions import Channel
from chalicelib.errors import AppError, Conflict, PayloadTooLarge, ValidationError
from chalicelib.services import leads, search, suppressions
from chalicelib.services.deps import Deps
from chalicelib.services.leads import NewLead
from chalicelib.store.base import MAX_TRANSACTION_OPS, Op, Put

# The report is bounded whatever the file (a Lambda response cannot pass 6 MB): at most this
# many errors and ignored column names are listed, each message and name cut to a length; the
# totals count them all. Worst case about 1000 * 300 + 100 * 100 bytes plus JSON quoting.
MAX_REPORTED_ERRORS = 1000
MAX_REPORTED_COLUMNS = 100
MAX_MESSAGE_CHARS = 300
MAX_COLUMN_CHARS = 100


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# Accepted header spellings (case, spaces, dashes and underscores ignored).
_COLUMNS = {
    "name": "name",
    "fullname": "name",
    "phone": "phone",
    "phonenumber": "phone",
    "email": "email",
    "company": "company",
    "notes": "notes",
    "status": "status",
    "assignedtoid": "assigned_to_id",
    "assignedto": "assigned_to_id",
    # The export's flags: they come back as the number's suppressions (never freed by a round
    # trip through a spreadsheet).
    "donotcall": "do_not_call",
    "dnc": "do_not_call",
    "smsoptout": "sms_opt_out",
    "state": "state",
}
_FLAGS = ("do_not_call", "sms_opt_out")
_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0", ""})


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    ignored_column_count: int = 0
    suppressed: int = 0  # numbers the file's doNotCall/smsOptOut flags suppressed

    def add_error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "message": _clip(message, MAX_MESSAGE_CHARS)})

    def ignore_columns(self, names: list[str]) -> None:
        self.ignored_column_count = len(names)
        self.ignored_columns = [_clip(n, MAX_COLUMN_CHARS) for n in names[:MAX_REPORTED_COLUMNS]]

    def to_body(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "errorCount": self.error_count,
            "errorsTruncated": self.error_count > len(self.errors),
            "rows": self.rows,
            "ignoredColumns": self.ignored_columns,
            "ignoredColumnCount": self.ignored_column_count,
            "ignoredColumnsTruncated": self.ignored_column_count > len(self.ignored_columns),
            "suppressed": self.suppressed,
        }


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "the file is not UTF-8 text; save it as CSV UTF-8 and try again",
            {"byteOffset": exc.start},
        ) from None


def _key(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


# Turns one row's cells (camelCase names, as the API's lead body) into a command, or raises
# ValueError with a message naming the field: the API layer's wire schema does the checking.
RowParser = Callable[[dict[str, str]], NewLead]


def import_csv(
    deps: Deps, raw: bytes, max_bytes: int, parse_row: RowParser, actor: Actor = SYSTEM
) -> ImportResult:
    if len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"the file is {len(raw)} bytes; the limit is {max_bytes} bytes (split it and import "
            "the parts one after another)",
            {"limitBytes": max_bytes, "sizeBytes": len(raw)},
        )
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise ValidationError(f"the header row is not valid CSV: {exc}") from None
    columns: list[str | None] = [_COLUMNS.get(_key(h)) for h in header]
    result = ImportResult()
    result.ignore_columns([h for h, c in zip(header, columns, strict=True) if not c])
    missing = {"name", "phone"} - {c for c in columns if c}
    if missing:
        raise ValidationError(
            f"the header row must name the columns {', '.join(sorted(missing))}",
            {
                "missingColumns": sorted(missing),
                "header": [_clip(h, MAX_COLUMN_CHARS) for h in header[:50]],
            },
        )
    members = {m.id: m for m in deps.store.members.all()}
    seen: set[str] = set()
    candidates: list[Lead] = []
    flagged: dict[str, list[Channel]] = {}
    row_number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            result.rows += 1
            result.add_error(row_number, f"not valid CSV: {exc}")
            break
        row_number += 1
        if not any(c.strip() for c in cells):
            continue
        result.rows += 1
        lead = _row_to_lead(deps, parse_row, cells, columns, members, row_number, result)
        if lead is None:
            continue
        channels = _flag_channels(lead)
        if channels:
            # Duplicates too: the number is suppressed whichever lead holds it.
            have = flagged.setdefault(lead.phone, [])
            have += [c for c in channels if c not in have]
        if lead.phone in seen:
            result.duplicates += 1
            continue
        seen.add(lead.phone)
        candidates.append(lead)
    existing = deps.store.leads.taken_phones([c.phone for c in candidates])
    fresh = [c for c in candidates if c.phone not in existing]
    result.duplicates += len(candidates) - len(fresh)
    written = _insert_guarded(deps, fresh)
    result.created = written
    result.duplicates += len(fresh) - written
    if flagged:
        added, _ = suppressions.add_many(
            deps, actor, sorted(flagged.items()), source="lead_flag", reason="imported lead flag"
        )
        result.suppressed = added
    return result


def _flag_channels(lead: Lead) -> list[Channel]:
    """The lead's imported flags as channels; the lead itself is stored without them."""
    channels: list[Channel] = []
    if lead.do_not_call:
        channels.append("voice")
    if lead.sms_opt_out:
        channels.append("sms")
    lead.do_not_call = lead.sms_opt_out = False
    return channels


def _row_to_lead(
    deps: Deps,
    parse_row: RowParser,
    cells: list[str],
    columns: list[str | None],
    members: dict[str, Any],
    row: int,
    result: ImportResult,
) -> Lead | None:
    values: dict[str, str] = {}
    flags: dict[str, bool] = {}
    for col, cell in zip(columns, cells, strict=False):
        if col in _FLAGS:
            word = cell.strip().lower()
            if word not in _TRUE | _FALSE:
                result.add_error(row, f"{_camel(col)}: expected true or false, not {cell!r}")
                return None
            flags[col] = word in _TRUE
        elif col and cell.strip():
            values[col] = cell.strip()
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        result.add_error(row, f"has {len(cells)} cells but the header has {len(columns)}")
        return None
    try:
        body = parse_row({_camel(k): v for k, v in values.items()})
    except ValueError as exc:
        result.add_error(row, str(exc))
        return None
    try:
        e164, zone = phones.normalize_with_zone(body.phone)
    except AppError as exc:
        result.add_error(row, f"{exc.message}: {body.phone!r}")
        return None
    if body.assigned_to_id:
        member = members.get(body.assigned_to_id)
        if member is None or not member.active:
            result.add_error(row, f"assignedToId: no active team member {body.assigned_to_id!r}")
            return None
    return leads.new_lead(
        deps,
        name=body.name,
        phone=e164,
        timezone=zone,
        source="csv_import",
        status=body.status,
        email=body.email,
        company=body.company,
        notes=body.notes,
        assigned_to_id=body.assigned_to_id,
        do_not_call=flags.get("do_not_call", False),
        sms_opt_out=flags.get("sms_opt_out", False),
        state=body.state,
    )


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


# Two items a lead (the lead, its guard), its search tokens (services/search.py, at most
# MAX_TOKENS) and one funnel count: at most 100 items a transaction (DynamoDB's limit), so a
# group holds as many leads as their tokens leave room for (about three).
GROUP = 49
_ATTEMPTS = 8


def _groups(leads_: list[Lead]) -> list[list[Lead]]:
    """The leads in groups whose operations fit one transaction (in order)."""
    groups: list[list[Lead]] = []
    group: list[Lead] = []
    size = 1  # the funnel count
    for lead in leads_:
        need = 2 + len(search_rules.tokens(lead))
        if group and (size + need > MAX_TRANSACTION_OPS or len(group) >= GROUP):
            groups.append(group)
            group, size = [], 1
        group.append(lead)
        size += need
    if group:
        groups.append(group)
    return groups


def _group_ops(group: list[Lead]) -> list[Op]:
    ops: list[Op] = []
    for lead in group:
        tokens = search.all_token_ops(lead)  # stamps the lead's search_version first
        ops.append(Put(f"lead:{lead.id}", lead, if_absent=True))
        ops.append(Put(f"phone:{lead.id}", LeadPhone(lead.phone, lead.id), if_absent=True))
        ops += tokens
    by_status = Counter(lead.status for lead in group)
    deltas = {counters.lead_status(s): n for s, n in by_status.items()}
    deltas["total"] = len(group)
    ops.append(leads.funnel("funnel", deltas))
    return ops


def _insert_guarded(deps: Deps, fresh: list[Lead]) -> int:
    """Write the leads in guarded groups; how many were written (the others' numbers were
    taken meanwhile: duplicates). A group refused for a taken number is sent again without the
    leads it names; one that collided with another writer is sent again as it was."""
    pending = fresh
    written = 0
    for _ in range(_ATTEMPTS):
        if not pending:
            return written
        groups = _groups(pending)
        outcomes = deps.store.transact_each([_group_ops(g) for g in groups])
        pending = []
        for group, failure in zip(groups, outcomes, strict=True):
            if failure is None:
                written += len(group)
                continue
            taken = {name.split(":", 1)[1] for name in failure.failed if name.startswith("phone:")}
            if not taken and not failure.conflict:
                raise failure
            pending.extend(lead for lead in group if lead.id not in taken)
    if pending:
        raise Conflict(
            "the import kept colliding with other writes; import the file again (rows already "
            "imported count as duplicates)",
            {"created": written, "notWritten": len(pending)},
        )
    return written
