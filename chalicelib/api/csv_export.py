"""Leads as CSV (GET /leads/export): the columns are fields of the lead's API JSON
(`serialize.lead_out`), so the export and the API cannot disagree on a field's name or form."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.api.serialize import lead_out
from chalicelib.domain.records import Lead

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
        out = lead_out(lead)
        writer.writerow([_cell(out[column]) for column in EXPORT_COLUMNS])
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
