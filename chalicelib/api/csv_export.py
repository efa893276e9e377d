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
