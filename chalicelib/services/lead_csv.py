"""CSV import of leads (the export is a wire format: chalicelib/api/csv_export.py).

Real spreadsheets first: the file's encoding (UTF-8 with or without BOM, UTF-16 with a BOM,
else Windows-1252), its delimiter (`,` `;` or tab) and its line ends (CRLF, LF, CR) are
recognised; its columns are mapped to lead fields by a `mapping` (header -> field) or, for the
headers it does not name, by `suggest` (synonyms, case and punctuation ignored). A quote that
is never closed is reported at the row where it opened and the lines after it are read on their
own: it never swallows the rest of the file. `preview` answers what the import would read
(headers, the suggested mapping, a sample) without writing anything.

Import works through the file in slices of SLICE_ROWS rows: each slice's rows are validated one by
one (bad rows reported by row number, good rows kept), de-duplicated within the file and against
existing leads (one BatchGetItem per 100 phones on the guard table: it spares most refused writes,
it decides nothing), their search tokens written in batches (services/search.py; deleted again for
leads not written), then the leads written in transactions of GROUP leads, each lead with its
phone guard written on the condition that the number is free, and the group's funnel count: two
imports of the same numbers, or an import and `POST /leads`, running at once can never create two
live leads for one number, and the funnel moves exactly with the leads written. A group a taken
number refuses is written again without it (the refused op is named), so one number never costs the
rest of its group.

Between slices the import looks at the time it has taken: past its budget (IMPORT_BUDGET_SECONDS;
API Gateway answers 504 at 29 s) with rows left, it stops and answers `nextRow`, the first row it
did not handle; the same file sent again with `fromRow` goes on from there (the rows before it
are neither read nor reported again; the numbers they imported are in the table, so a later row
with one of them is a duplicate as in one request). At least one slice is written per request.
"""

from __future__ import annotations

import codecs
import csv
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import phone as phones
from chalicelib.domain import counters
from chalicelib.domain.actors import SYSTEM, Actor
from chalicelib.domain.constants import LEAD_STATUSES
from chalicelib.domain.records import Lead, LeadPhone, TeamMember
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
PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 500  # the preview lists at most this many columns, each name and cell clipped
PREVIEW_CHARS = 200
PREVIEW_OWNERS = 20
MAX_MAPPING_COLUMNS = 1000
# Rows written between two looks at the clock: ~25 search tokens a lead, so 500 rows are about
# 13,000 writes, some 3 s on a fresh on-demand table (~4,000 writes a second): a request that
# stops at its budget (20 s) still answers before API Gateway's 29 s.
SLICE_ROWS = 500


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def shown_header(header: str) -> str:
    """A header as the preview shows it (clipped); a mapping may name it so."""
    return _clip(header, PREVIEW_CHARS)


# The fields a column can be mapped to (API.md's lead fields; `name` may come from `firstName`
# and `lastName`; `assignedTo` is a member's e-mail or exact name, `assignedToId` their id).
FIELDS = (
    "name",
    "firstName",
    "lastName",
    "phone",
    "email",
    "company",
    "notes",
    "status",
    "state",
    "assignedTo",
    "assignedToId",
    # The export's flags: they come back as the number's suppressions (never freed by a round
    # trip through a spreadsheet).
    "doNotCall",
    "smsOptOut",
)

# Header spellings per field, best first (case, spaces and punctuation ignored): when several
# headers could be the phone, `Mobile` wins over `Phone`, which wins over `Work Phone`.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "contact", "contactname", "leadname"),
    "firstName": ("firstname", "givenname", "first", "forename"),
    "lastName": ("lastname", "surname", "familyname", "last"),
    "phone": (
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cell",
        "cellphone",
        "cellnumber",
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "primaryphone",
        "workphone",
        "businessphone",
        "officephone",
    ),
    "email": ("email", "emailaddress", "mail", "primaryemail", "workemail"),
    "company": (
        "company",
        "companyname",
        "account",
        "accountname",
        "organization",
        "organisation",
        "business",
        "businessname",
    ),
    "notes": ("notes", "note", "comments", "comment", "description"),
    "status": ("status", "leadstatus"),
    "state": ("state", "province", "region", "stateprovince", "stateorprovince"),
    "assignedTo": ("owner", "assignedto", "rep", "leadowner", "salesrep", "accountowner"),
    "assignedToId": ("assignedtoid", "ownerid"),
    "doNotCall": ("donotcall", "dnc"),
    "smsOptOut": ("smsoptout",),
}
_SYNONYM_RANK: dict[str, tuple[str, int]] = {
    key: (name, rank) for name, keys in SYNONYMS.items() for rank, key in enumerate(keys)
}
_FLAGS = ("doNotCall", "smsOptOut")
_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_IGNORE = ("", "ignore")

US_STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV", "newhampshire": "NH",
    "newjersey": "NJ", "newmexico": "NM", "newyork": "NY", "northcarolina": "NC",
    "northdakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhodeisland": "RI", "southcarolina": "SC", "southdakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "westvirginia": "WV", "wisconsin": "WI", "wyoming": "WY", "districtofcolumbia": "DC",
    "washingtondc": "DC", "puertorico": "PR", "guam": "GU", "usvirginislands": "VI",
    "virginislands": "VI", "americansamoa": "AS", "northernmarianaislands": "MP",
}  # fmt: skip


def header_key(header: str) -> str:
    """A header as compared with the synonyms: accents, case, spaces and punctuation dropped."""
    folded = unicodedata.normalize("NFKD", header.casefold())
    return "".join(ch for ch in folded if ch.isalnum())


def suggest(headers: list[str]) -> list[str | None]:
    """The field each header most likely holds (None: none, or another header holds it
    better): synonyms of API.md's fields, best spelling first, then the leftmost column."""
    best: dict[str, tuple[int, int]] = {}
    for index, header in enumerate(headers):
        hit = _SYNONYM_RANK.get(header_key(header))
        if hit and (hit[0] not in best or (hit[1], index) < best[hit[0]]):
            best[hit[0]] = (hit[1], index)
    out: list[str | None] = [None] * len(headers)
    for name, (_, index) in best.items():
        out[index] = name
    return out


# ----------------------------------------------------------------------------- reading a file


def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and its encoding: a BOM decides (UTF-8, UTF-16 LE/BE), else UTF-16 when
    a third of the first bytes are NULs (which side says LE or BE), else UTF-8 if the bytes are
    valid UTF-8, else Windows-1252 (what Excel writes on Windows); bytes that are none of these
    are a 400, never mojibake."""
    for bom, codec, name in (
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16be"),
    ):
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(codec), name
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    f"the file starts with a {name} byte order mark but is not {name} text",
                    {"byteOffset": exc.start + len(bom), "encoding": name},
                ) from None
    head = raw[:512]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        # UTF-16 without a BOM: text never holds NULs, UTF-16 of Latin text every other byte
        odd_nuls = head[1::2].count(0) > head[0::2].count(0)
        codec, name = ("utf-16-le", "utf-16le") if odd_nuls else ("utf-16-be", "utf-16be")
        try:
            return raw.decode(codec), name
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        raise ValidationError(
            "the file is neither UTF-8, UTF-16 nor Windows-1252 text; save it as CSV UTF-8 and "
            "try again",
            {"byteOffset": utf8_error},
        ) from None


DELIMITERS = (",", ";", "\t")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def detect_delimiter(lines: list[str]) -> str:
    """`,` `;` or tab: csv.Sniffer on the first lines; when it cannot tell, or picks one the
    header row does not hold, the one the header row holds most (a one-column file: `,`)."""
    header = next((line for line in lines if line.strip()), "")
    sample = "".join(lines[:20])[: 64 * 1024]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in DELIMITERS and sniffed in header:
        return sniffed
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Feed:
    """Lines for csv.reader, counting how many it took."""

    def __init__(self, lines: list[str], pos: int) -> None:
        self.lines, self.pos = lines, pos

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


@dataclass
class Record:
    row: int  # as in a spreadsheet: the header is row 1
    cells: list[str] | None  # None: the row is not valid CSV (`error` says why)
    error: str | None = None


def records(lines: list[str], delimiter: str) -> Iterator[Record]:
    """The file's records, strictly parsed. A record that is not valid CSV is reported at its
    first row, and reading goes on from the line after that row's first line: an unclosed
    quote costs its own row, never the rows after it."""
    pos, row = 0, 0
    while pos < len(lines):
        feed = _Feed(lines, pos)
        reader = csv.reader(feed, delimiter=delimiter, strict=True)
        while True:
            start = feed.pos
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row += 1
                if feed.pos - start > 1 or "unexpected end of data" in str(exc):
                    message = (
                        "a quoted field opened on this row is never closed (the rows after it "
                        "were read on their own)"
                    )
                else:
                    message = f"not valid CSV: {exc}"
                yield Record(row, None, message)
                pos = start + 1
                break
            row += 1
            yield Record(row, cells)


@dataclass
class Parsed:
    encoding: str
    delimiter: str
    header: list[str]
    body: Iterator[Record]
    header_row: int = 1  # empty lines before the header count as rows


def read(raw: bytes, max_bytes: int) -> Parsed:
    """The file's encoding, delimiter, header row and its other records (lazily)."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"the file is {len(raw)} bytes; the limit is {max_bytes} bytes (split it and import "
            "the parts one after another)",
            {"limitBytes": max_bytes, "sizeBytes": len(raw)},
        )
    text, encoding = decode(raw)
    lines = _lines(text)
    delimiter = detect_delimiter(lines)
    body = records(lines, delimiter)
    for first in body:
        if first.cells is None:
            raise ValidationError(f"the header row is not valid CSV: {first.error}")
        if any(c.strip() for c in first.cells):
            return Parsed(encoding, delimiter, first.cells, body, first.row)
    raise ValidationError("the file is empty; expected a header row")


# ----------------------------------------------------------------------------- the mapping


def parse_mapping(value: Any) -> dict[str, str | None]:
    """A mapping as sent (JSON text or an object): header -> field, null or "ignore"."""
    import json

    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(
                'mapping must be a JSON object, e.g. {"Mobile":"phone"}', {"field": "mapping"}
            ) from None
    if not isinstance(value, dict):
        raise ValidationError(
            'mapping must be a JSON object, e.g. {"Mobile":"phone"}', {"field": "mapping"}
        )
    if len(value) > MAX_MAPPING_COLUMNS:
        raise ValidationError(
            f"mapping names more than {MAX_MAPPING_COLUMNS} columns", {"field": "mapping"}
        )
    out: dict[str, str | None] = {}
    bad: list[str] = []
    for header, target in value.items():
        if target is None or (isinstance(target, str) and target.strip().lower() in _IGNORE):
            out[header] = None
        elif isinstance(target, str) and target in FIELDS:
            out[header] = target
        else:
            bad.append(_clip(str(header), MAX_COLUMN_CHARS))
    if bad:
        raise ValidationError(
            f"mapping: each column maps to one of {', '.join(FIELDS)}, or null to ignore it",
            {"field": "mapping", "columns": bad[:50], "fields": list(FIELDS)},
        )
    return out


def columns_of(header: list[str], mapping: Mapping[str, str | None] | None) -> list[str | None]:
    """The field of each column: the mapping's for the headers it names (a header named twice
    in the file: its first column), the suggestion's for the others, each field once."""
    mapping = mapping or {}
    # A header is named as the file has it, or as the preview shows it (clipped).
    names = [h if h in mapping else shown_header(h) for h in header]
    known = set(header) | set(names)
    unknown = [h for h in mapping if h not in known]
    if unknown:
        raise ValidationError(
            "mapping names columns the file does not have",
            {
                "field": "mapping",
                "unknownColumns": [_clip(h, MAX_COLUMN_CHARS) for h in unknown[:50]],
                "header": [_clip(h, MAX_COLUMN_CHARS) for h in header[:50]],
            },
        )
    columns: list[str | None] = [None] * len(header)
    mapped: set[int] = set()
    seen: set[str] = set()
    taken: dict[str, str] = {}
    for index, h in enumerate(names):
        if h not in mapping or h in seen:
            continue
        seen.add(h)
        mapped.add(index)
        target = mapping[h]
        if target is None:
            continue
        if target in taken:
            raise ValidationError(
                f"mapping: {target} is mapped from two columns, {taken[target]!r} and {h!r}",
                {"field": "mapping", "target": target},
            )
        taken[target] = h
        columns[index] = target
    for index, target in enumerate(suggest(header)):
        if index not in mapped and target and target not in taken:
            columns[index] = target
    return columns


def missing_fields(columns: list[str | None]) -> list[str]:
    have = {c for c in columns if c}
    missing = []
    if not have & {"name", "firstName", "lastName"}:
        missing.append("name")
    if "phone" not in have:
        missing.append("phone")
    return missing


def _looks_like_data(header: list[str]) -> bool:
    return any("@" in h or sum(ch.isdigit() for ch in h) >= 7 for h in header if h.strip())


def _require_columns(header: list[str], columns: list[str | None]) -> None:
    missing = missing_fields(columns)
    if not missing:
        return
    message = f"the header row must name the columns {', '.join(missing)}"
    if _looks_like_data(header) and not any(columns):
        message = (
            "the first row must be a header row naming the columns (it looks like data); " + message
        )
    raise ValidationError(
        message + " (name may also come from first and last name columns; a mapping can name them)",
        {
            "missingColumns": missing,
            "header": [_clip(h, MAX_COLUMN_CHARS) for h in header[:50]],
        },
    )


# ----------------------------------------------------------------------------- cell values


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


class Owners:
    """Members by id, e-mail (case ignored) or exact name (case and spacing ignored)."""

    def __init__(self, members: list[TeamMember]) -> None:
        self.by_id = {m.id: m for m in members}
        self.by_email = {m.email.casefold(): m for m in members if m.email}
        self.by_name: dict[str, list[TeamMember]] = {}
        for m in members:
            self.by_name.setdefault(_fold(m.name), []).append(m)

    def resolve(self, value: str) -> TeamMember:
        """The member a cell names; ValueError says why none."""
        member = self.by_id.get(value) or self.by_email.get(value.casefold())
        if member is None:
            named = self.by_name.get(_fold(value), [])
            active = [m for m in named if m.active]
            if len(active) > 1:
                raise ValueError(
                    f"assignedTo: {value!r} is the name of {len(active)} members; give the "
                    "e-mail instead"
                )
            member = (active or named)[0] if named else None
        if member is None:
            raise ValueError(f"assignedTo: no team member has the e-mail or name {value!r}")
        if not member.active:
            raise ValueError(f"assignedTo: {value!r} is no longer an active team member")
        return member


def _status(value: str) -> str:
    word = re.sub(r"[\s\-]+", "_", value.strip().lower())
    return word if word in LEAD_STATUSES else value


def _state(value: str) -> str:
    text = value.strip()
    if len(text) == 2:
        return text.upper()
    return US_STATE_NAMES.get(header_key(text), text)


# ----------------------------------------------------------------------------- the result


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
    encoding: str = "utf-8"
    delimiter: str = ","
    total_rows: int = 0  # the whole file's rows, as `rows` counts them
    next_row: int | None = None  # the first row not handled (the budget was spent); None: done

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
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "nextRow": self.next_row,
            "totalRows": self.total_rows,
        }


# Turns one row's cells (camelCase names, as the API's lead body) into a command, or raises
# ValueError with a message naming the field: the API layer's wire schema does the checking.
RowParser = Callable[[dict[str, str]], NewLead]


def preview(
    deps: Deps, raw: bytes, max_bytes: int, mapping: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """What an import of the file would read, without writing anything: its headers, the
    field of each (the mapping's, else the suggestion's), the first rows, the delimiter and
    encoding, and how many rows it has. With an owner column: the owners no member matches
    (the team is read, nothing else)."""
    parsed = read(raw, max_bytes)
    header = parsed.header
    columns = columns_of(header, mapping)
    owner_col = columns.index("assignedTo") if "assignedTo" in columns else None
    shown = [shown_header(h) for h in header[:PREVIEW_COLUMNS]]
    sample: list[dict[str, str]] = []
    errors: list[dict[str, Any]] = []
    owners: dict[str, None] = {}
    count = 0
    for rec in parsed.body:
        if rec.cells is None:
            count += 1
            if len(errors) < PREVIEW_ROWS * 4:
                errors.append({"row": rec.row, "message": rec.error})
            continue
        if not any(c.strip() for c in rec.cells):
            continue
        count += 1
        if len(sample) < PREVIEW_ROWS:
            cells: dict[str, str] = {}
            for i, h in enumerate(shown):  # a header the file has twice: its first column
                if h not in cells:
                    cells[h] = _clip(rec.cells[i], PREVIEW_CHARS) if i < len(rec.cells) else ""
            sample.append(cells)
        if owner_col is not None and owner_col < len(rec.cells):
            owner = rec.cells[owner_col].strip()
            if owner and len(owners) < 10_000:
                owners[owner] = None
    body: dict[str, Any] = {
        "headers": shown,
        # a header the file has twice: the first column's field
        "suggested": dict(zip(reversed(shown), reversed(columns[: len(shown)]), strict=True)),
        "columnCount": len(header),
        "headersTruncated": len(header) > len(shown),
        "rows": sample,
        "rowCount": count,
        "delimiter": parsed.delimiter,
        "encoding": parsed.encoding,
        "fields": list(FIELDS),
        "missingColumns": missing_fields(columns),
        "errors": errors,
    }
    if owner_col is not None:
        team = Owners(deps.store.members.all())
        unknown = []
        for owner in owners:
            try:
                team.resolve(owner)
            except ValueError:
                unknown.append(owner)
        body["unknownOwners"] = [_clip(o, MAX_COLUMN_CHARS) for o in unknown[:PREVIEW_OWNERS]]
        body["unknownOwnerCount"] = len(unknown)
    return body


def import_csv(
    deps: Deps,
    raw: bytes,
    max_bytes: int,
    parse_row: RowParser,
    actor: Actor = SYSTEM,
    mapping: Mapping[str, str | None] | None = None,
    *,
    from_row: int | None = None,
    budget_seconds: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ImportResult:
    """Import the file's rows from `from_row` (None: the first data row) in slices of
    SLICE_ROWS rows; after a slice, with `budget_seconds` (None: the setting) spent since the
    call began and rows left, stop: `next_row` is the first row not handled. The counts are
    this call's rows'; `total_rows` is the whole file's."""
    started = monotonic()
    budget = deps.settings.import_budget_seconds if budget_seconds is None else budget_seconds
    parsed = read(raw, max_bytes)
    header = parsed.header
    columns = columns_of(header, mapping)
    result = ImportResult(encoding=parsed.encoding, delimiter=parsed.delimiter)
    result.ignore_columns([h for h, c in zip(header, columns, strict=True) if not c])
    _require_columns(header, columns)
    body = list(parsed.body)
    result.total_rows = sum(1 for rec in body if _counted(rec))
    first_row = parsed.header_row + 1
    last_row = body[-1].row if body else parsed.header_row
    if from_row is not None and not first_row <= from_row <= last_row:
        raise ValidationError(
            f"fromRow must be a row of the file's data, {first_row} to {last_row}"
            if body
            else "fromRow: the file has no rows after its header",
            {"field": "fromRow", "firstRow": first_row, "lastRow": last_row},
        )
    todo = [rec for rec in body if rec.row >= (from_row or first_row)]
    team = Owners(deps.store.members.all())
    seen: set[str] = set()
    for start in range(0, len(todo), SLICE_ROWS):
        if start and monotonic() - started >= budget:
            result.next_row = todo[start].row
            break
        _import_slice(
            deps, parse_row, actor, todo[start : start + SLICE_ROWS], columns, team, seen, result
        )
    return result


def _counted(rec: Record) -> bool:
    """Whether a record counts as a row (`rows`): a row that is not valid CSV, or not empty."""
    return rec.cells is None or any(c.strip() for c in rec.cells)


def _import_slice(
    deps: Deps,
    parse_row: RowParser,
    actor: Actor,
    slice_: list[Record],
    columns: list[str | None],
    team: Owners,
    seen: set[str],
    result: ImportResult,
) -> None:
    """Validate, de-duplicate and write one slice of rows (`seen`: the numbers of the rows
    before it in this call; those of earlier calls are in the table)."""
    candidates: list[Lead] = []
    flagged: dict[str, list[Channel]] = {}
    for rec in slice_:
        if rec.cells is None:
            result.rows += 1
            result.add_error(rec.row, rec.error or "not valid CSV")
            continue
        if not _counted(rec):
            continue
        result.rows += 1
        lead = _row_to_lead(deps, parse_row, rec.cells, columns, team, rec.row, result)
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
    if candidates:
        existing = deps.store.leads.taken_phones([c.phone for c in candidates])
        fresh = [c for c in candidates if c.phone not in existing]
        result.duplicates += len(candidates) - len(fresh)
        try:
            written = _insert_guarded(deps, fresh)
        except Conflict as exc:
            # the rows of this call's earlier slices were written too
            details = dict(exc.details or {})
            details["created"] = result.created + int(details.get("created", 0))
            raise Conflict(exc.message, details) from None
        result.created += written
        result.duplicates += len(fresh) - written
    if flagged:
        added, _ = suppressions.add_many(
            deps, actor, sorted(flagged.items()), source="lead_flag", reason="imported lead flag"
        )
        result.suppressed += added


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
    team: Owners,
    row: int,
    result: ImportResult,
) -> Lead | None:
    values: dict[str, str] = {}
    flags: dict[str, bool] = {}
    for col, cell in zip(columns, cells, strict=False):
        if col in _FLAGS:
            word = cell.strip().lower()
            if word not in _TRUE | _FALSE:
                result.add_error(row, f"{col}: expected true or false, not {cell!r}")
                return None
            flags[col] = word in _TRUE
        elif col and cell.strip():
            values[col] = cell.strip()
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        result.add_error(row, f"has {len(cells)} cells but the header has {len(columns)}")
        return None
    first, last = values.pop("firstName", ""), values.pop("lastName", "")
    if "name" not in values and (first or last):
        values["name"] = f"{first} {last}".strip()
    owner = values.pop("assignedTo", "")
    if owner and "assignedToId" not in values:
        try:
            values["assignedToId"] = team.resolve(owner).id
        except ValueError as exc:
            result.add_error(row, str(exc))
            return None
    if "status" in values:
        values["status"] = _status(values["status"])
    if "state" in values:
        values["state"] = _state(values["state"])
    try:
        body = parse_row(values)
    except ValueError as exc:
        result.add_error(row, str(exc))
        return None
    try:
        e164, zone = phones.normalize_with_zone(body.phone)
    except AppError as exc:
        result.add_error(row, f"{exc.message}: {body.phone!r}")
        return None
    if body.assigned_to_id:
        member = team.by_id.get(body.assigned_to_id)
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
        do_not_call=flags.get("doNotCall", False),
        sms_opt_out=flags.get("smsOptOut", False),
        state=body.state,
    )


# Two items a lead (the lead, its guard) and one funnel count: at most 100 items a transaction
# (DynamoDB's limit). The leads' search tokens are not in it: they are written just before
# (BatchWriteItem, `_insert_guarded`), so a group holds 49 leads instead of the three to five
# that would fit beside their tokens.
GROUP = (MAX_TRANSACTION_OPS - 1) // 2
_ATTEMPTS = 8


def _groups(leads_: list[Lead]) -> list[list[Lead]]:
    """The leads in groups whose operations fit one transaction (in order)."""
    return [leads_[start : start + GROUP] for start in range(0, len(leads_), GROUP)]


def _group_ops(group: list[Lead]) -> list[Op]:
    ops: list[Op] = []
    for lead in group:
        ops.append(Put(f"lead:{lead.id}", lead, if_absent=True))
        ops.append(Put(f"phone:{lead.id}", LeadPhone(lead.phone, lead.id), if_absent=True))
    by_status = Counter(lead.status for lead in group)
    deltas = {counters.lead_status(s): n for s, n in by_status.items()}
    deltas["total"] = len(group)
    ops.append(leads.funnel("funnel", deltas))
    return ops


def _insert_guarded(deps: Deps, fresh: list[Lead]) -> int:
    """Write the leads in guarded groups; how many were written (the others' numbers were
    taken meanwhile: duplicates). A group refused for a taken number is sent again without the
    leads it names; one that collided with another writer is sent again as it was.

    Every lead's search tokens are written first, in batches: a lead is never without its
    tokens. The tokens of the leads not written are deleted at the end; a crash in between
    leaves tokens naming no lead, which a search passes over (it reads every hit's lead)."""
    repo = deps.store.leads
    tokens = {lead.id: search.first_tokens(lead) for lead in fresh}
    repo.write_tokens([t for lead_tokens in tokens.values() for t in lead_tokens])
    pending = fresh
    written: set[str] = set()
    try:
        for _ in range(_ATTEMPTS):
            if not pending:
                return len(written)
            groups = _groups(pending)
            outcomes = deps.store.transact_each([_group_ops(g) for g in groups])
            pending = []
            for group, failure in zip(groups, outcomes, strict=True):
                if failure is None:
                    written.update(lead.id for lead in group)
                    continue
                taken = {
                    name.split(":", 1)[1] for name in failure.failed if name.startswith("phone:")
                }
                if not taken and not failure.conflict:
                    raise failure
                pending.extend(lead for lead in group if lead.id not in taken)
        raise Conflict(
            "the import kept colliding with other writes; import the file again (rows already "
            "imported count as duplicates)",
            {"created": len(written), "notWritten": len(pending)},
        )
    finally:
        orphans = [t for lead_id, ts in tokens.items() if lead_id not in written for t in ts]
        repo.write_tokens((), orphans)
