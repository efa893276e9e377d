"""The body of a CSV import (POST /leads/import and /leads/import/preview), a wire format: the
file's bytes and the column mapping, sent either as the CSV itself (`text/csv`, the mapping in
the query's `mapping`) or as `multipart/form-data` with a `file` part and an optional `mapping`
part (what the dashboard sends: a browser's file upload, its bytes untouched). `fromRow` (an
import going on where an earlier request stopped) is a query parameter or a form part, as
`mapping`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalice.app import Request

from chalicelib.errors import ValidationError

MAX_MAPPING_BYTES = 64 * 1024


@dataclass
class Upload:
    raw: bytes
    mapping: dict[str, str | None] | None
    from_row: int | None = None


def _boundary(content_type: str) -> bytes:
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type, re.IGNORECASE)
    if not match:
        raise ValidationError("multipart/form-data without a boundary")
    return (match.group(1) or match.group(2)).encode("latin-1")


def _part_name(headers: bytes) -> str | None:
    for line in headers.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-disposition":
            match = re.search(rb'\bname="([^"]*)"', value) or re.search(rb"\bname=([^;\s]+)", value)
            if match:
                return match.group(1).decode("utf-8", "replace")
    return None


def multipart_parts(body: bytes, content_type: str) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (the first of a repeated name), each
    part's bytes exactly as sent."""
    delimiter = b"--" + _boundary(content_type)
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise ValidationError("the multipart body has no parts; send a part named file")
    parts: dict[str, bytes] = {}
    for chunk in chunks[1:-1]:
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValidationError("a part of the multipart body has no headers")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = _part_name(head)
        if name is not None and name not in parts:
            parts[name] = data
    return parts


def read_upload(request: Request) -> Upload:
    from chalicelib.services.lead_csv import parse_mapping

    raw: Any = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    content_type = request.headers.get("content-type") or ""
    params: dict[str, str] = dict(request.query_params or {})
    mapping_text: str | bytes | None = params.get("mapping") or None
    from_row_text: str | bytes | None = params.get("fromRow") or None
    if content_type.lower().startswith("multipart/form-data"):
        parts = multipart_parts(raw, content_type)
        if "file" not in parts:
            raise ValidationError(
                "the multipart body has no part named file", {"parts": sorted(parts)[:20]}
            )
        raw = parts["file"]
        if "mapping" in parts and parts["mapping"].strip():
            if mapping_text is not None:
                raise ValidationError(
                    "mapping is given twice (query and form part); send one",
                    {"field": "mapping"},
                )
            mapping_text = parts["mapping"]
        if "fromRow" in parts and parts["fromRow"].strip():
            if from_row_text is not None:
                raise ValidationError(
                    "fromRow is given twice (query and form part); send one", {"field": "fromRow"}
                )
            from_row_text = parts["fromRow"]
    if mapping_text is not None and len(mapping_text) > MAX_MAPPING_BYTES:
        raise ValidationError(
            f"mapping is larger than {MAX_MAPPING_BYTES} bytes", {"field": "mapping"}
        )
    mapping = parse_mapping(mapping_text) if mapping_text is not None else None
    return Upload(bytes(raw), mapping, from_row_param(from_row_text))


def from_row_param(text: str | bytes | None) -> int | None:
    """`fromRow`, a row number (the file's own range is checked when it is read); also the
    suppression import's (POST /suppressions/import?fromRow=)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    if not text.isdigit() or len(text) > 9:
        raise ValidationError(
            "fromRow must be a whole number: the row to go on from (the last answer's nextRow)",
            {"field": "fromRow"},
        )
    return int(text)
