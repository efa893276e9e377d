"""Leads as CSV (GET /leads/export): the columns are fields of the lead's API JSON
(`serialize.lead_out`), so the export and the API cannot disagree on a field's name or form,
and `assignedTo`, the assignee's name (the import reads it back as the same member). The file
is UTF-8 with a BOM: Excel opens it as UTF-8 and the import skips the BOM."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chalicelib.api.serialize import lead_out
from chalicelib.domain.records import Lead, TeamMember

BOM = "\ufeff"

EXPORT_COLUMNS = [
    "id",
    "name",
    "phone",
    "email",
    "company",
    "notes",
    "status",
    "assignedToId",
    "assignedTo",
    "source",
    "smsOptOut",
    "doNotCall",
    "timezone",
    "state",
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


class MemberNames:
    """Member names by id, the team read once, on the first lead that has an assignee."""

    def __init__(self, load: Callable[[], list[TeamMember]]) -> None:
        self._load = load
        self._names: dict[str, str] | None = None

    def __call__(self, member_id: str | None) -> str | None:
        if not member_id:
            return None
        if self._names is None:
            self._names = {m.id: m.name for m in self._load()}
        return self._names.get(member_id)


def export_rows(
    rows: Iterable[Lead], names: Callable[[str | None], str | None] = lambda _id: None
) -> Iterator[str]:
    """CSV text of leads, a chunk at a time (header first); `names` gives an assignee's name."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for lead in rows:
        out = lead_out(lead)
        out["assignedTo"] = names(lead.assigned_to_id)
        writer.writerow([_cell(out[column]) for column in EXPORT_COLUMNS])
        if buf.tell() > 64 * 1024:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


EXPORT_URL_SECONDS = 300


def upload(bucket: str, region: str, body: bytes, disposition: str) -> str:
    """Put an export in the exports bucket (its lifecycle rule deletes it after a day) and
    answer a presigned GET URL for it, valid EXPORT_URL_SECONDS."""
    import secrets

    import boto3  # imported here: only a large export in AWS needs S3
    from botocore.config import Config

    s3 = boto3.client("s3", region_name=region, config=Config(signature_version="s3v4"))
    key = f"exports/{secrets.token_urlsafe(24)}.csv"
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="text/csv; charset=utf-8",
        ContentDisposition=disposition,
    )
    url: str = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=EXPORT_URL_SECONDS
    )
    return url
