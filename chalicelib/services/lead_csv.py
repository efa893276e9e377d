"""CSV import and export of leads.

Import is one request: rows are validated one by one (bad rows reported by row number, good
rows kept), de-duplicated within the file and against existing leads (one BatchGetItem per 100
phones on the guard table), then written with BatchWriteItem, each lead beside its phone guard
in the same batch. Batch writes have no conditions, so two imports of the same new number at
the same instant could both create it; single creates (POST /leads) are fully guarded.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from chalicelib import phone as phones
from chalicelib import providers
from chalicelib.api.schemas import LeadCreate
from chalicelib.clock import iso
from chalicelib.db import counters
from chalicelib.db.models import Lead, LeadPhone
from chalicelib.errors import AppError, PayloadTooLarge, ValidationError
from chalicelib.services import leads, team

MAX_REPORTED_ERRORS = 1000
_BATCH_WRITE = 25
_BATCH_GET = 100
_WRITERS = 8

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
}

EXPORT_COLUMNS = [
    "id",
    "name",
    "phone",
    "email",
    "company",
    "notes",
    "status",
    "assignedToId",
    "source",
    "smsOptOut",
    "doNotCall",
    "timezone",
    "lastContactedAt",
    "createdAt",
    "updatedAt",
]


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def add_error(self, row: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "message": message})

    def to_body(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "errorCount": self.error_count,
            "errorsTruncated": self.error_count > len(self.errors),
            "rows": self.rows,
            "ignoredColumns": self.ignored_columns,
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


def _first_error(exc: PydanticValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def import_csv(raw: bytes, max_bytes: int) -> ImportResult:
    if len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"the file is {len(raw)} bytes; the limit is {max_bytes} bytes (split it and import "
            "the parts one after another)",
            {"limitBytes": max_bytes, "sizeBytes": len(raw)},
        )
    providers.settings()
    text = _decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise ValidationError(f"the header row is not valid CSV: {exc}") from None
    columns: list[str | None] = [_COLUMNS.get(_key(h)) for h in header]
    result = ImportResult(
        ignored_columns=[h for h, c in zip(header, columns, strict=True) if not c]
    )
    missing = {"name", "phone"} - {c for c in columns if c}
    if missing:
        raise ValidationError(
            f"the header row must name the columns {', '.join(sorted(missing))}",
            {"missingColumns": sorted(missing), "header": header[:50]},
        )
    members = {m.id: m for m in team.all_members()}
    seen: set[str] = set()
    candidates: list[Lead] = []
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
        lead = _row_to_lead(cells, columns, members, row_number, result)
        if lead is None:
            continue
        if lead.phone in seen:
            result.duplicates += 1
            continue
        seen.add(lead.phone)
        candidates.append(lead)
    existing = _existing_phones([c.phone for c in candidates])
    fresh = [c for c in candidates if c.phone not in existing]
    result.duplicates += len(candidates) - len(fresh)
    _write(fresh)
    result.created = len(fresh)
    _count_funnel(fresh)
    return result


def _row_to_lead(
    cells: list[str],
    columns: list[str | None],
    members: dict[str, Any],
    row: int,
    result: ImportResult,
) -> Lead | None:
    values: dict[str, str] = {}
    for col, cell in zip(columns, cells, strict=False):
        if col and cell.strip():
            values[col] = cell.strip()
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        result.add_error(row, f"has {len(cells)} cells but the header has {len(columns)}")
        return None
    try:
        body = LeadCreate.model_validate({_camel(k): v for k, v in values.items()})
    except PydanticValidationError as exc:
        result.add_error(row, _first_error(exc))
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
        name=body.name,
        phone=e164,
        timezone=zone,
        source="csv_import",
        status=body.status,
        email=body.email,
        company=body.company,
        notes=body.notes,
        assigned_to_id=body.assigned_to_id,
    )


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


def _existing_phones(candidates: list[str]) -> set[str]:
    found: set[str] = set()
    client = providers.connection().client
    table = LeadPhone.Meta.table_name
    for start in range(0, len(candidates), _BATCH_GET):
        keys: list[dict[str, Any]] = [
            {"phone": {"S": p}} for p in candidates[start : start + _BATCH_GET]
        ]
        attempt = 0
        while keys:
            resp = client.batch_get_item(
                RequestItems={table: {"Keys": keys, "ProjectionExpression": "phone"}}
            )
            found.update(i["phone"]["S"] for i in resp.get("Responses", {}).get(table, []))
            keys = resp.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            attempt = _backoff(attempt) if keys else 0
    return found


def _write(fresh: list[Lead]) -> None:
    """BatchWriteItem, 12 leads and their 12 guards per request, several requests in flight
    (each one waits ~10 ms on DynamoDB: sequential writes would not fit a Lambda timeout)."""
    client = providers.connection().client
    lead_table, guard_table = Lead.Meta.table_name, LeadPhone.Meta.table_name
    per_batch = _BATCH_WRITE // 2  # each lead travels with its guard
    for lead in fresh:
        lead.version = 1  # a batch put bypasses PynamoDB's versioned save
    requests: list[dict[str, list[dict[str, Any]]]] = []
    for start in range(0, len(fresh), per_batch):
        chunk = fresh[start : start + per_batch]
        requests.append(
            {
                lead_table: [{"PutRequest": {"Item": lead.serialize()}} for lead in chunk],
                guard_table: [
                    {
                        "PutRequest": {
                            "Item": LeadPhone(phone=lead.phone, lead_id=lead.id).serialize()
                        }
                    }
                    for lead in chunk
                ],
            }
        )

    def send(request: dict[str, list[dict[str, Any]]]) -> None:
        attempt = 0
        while request:
            resp = client.batch_write_item(RequestItems=request)
            request = resp.get("UnprocessedItems") or {}
            attempt = _backoff(attempt) if request else 0

    if len(requests) <= 1:
        for request in requests:
            send(request)
        return
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        list(pool.map(send, requests))


def _backoff(attempt: int) -> int:
    time.sleep(min(0.05 * (2**attempt), 2.0))
    return attempt + 1


def _count_funnel(fresh: list[Lead]) -> None:
    if not fresh:
        return
    by_status = Counter(lead.status for lead in fresh)
    deltas = {f"status#{s}": n for s, n in by_status.items()}
    deltas["total"] = len(fresh)
    counters.funnel_item().update(actions=counters.add_actions(deltas))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ would run as a formula.
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").isdigit()
    ):
        return "'" + text
    return text


def export_rows(rows: Iterable[Lead]) -> Iterator[str]:
    """CSV text of leads, a chunk at a time (header first)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for lead in rows:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    lead.id,
                    lead.name,
                    lead.phone,
                    lead.email,
                    lead.company,
                    lead.notes,
                    lead.status,
                    lead.assigned_to_id,
                    lead.source,
                    bool(lead.sms_opt_out),
                    bool(lead.do_not_call),
                    lead.timezone,
                    iso(lead.last_contacted_at),
                    iso(lead.created_at),
                    iso(lead.updated_at),
                )
            ]
        )
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
