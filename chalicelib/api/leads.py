"""Leads: /leads, CSV import and export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.http import created, json_body, limit_param, page_body, query, route
from chalicelib.api.patch import patch_of
from chalicelib.api.serialize import lead_out
from chalicelib.domain.actors import Actor
from chalicelib.domain.constants import LEAD_STATUSES
from chalicelib.domain.records import Lead
from chalicelib.errors import ValidationError
from chalicelib.providers import deps
from chalicelib.services import access, audit, leads, suppressions
from chalicelib.services.deps import Deps

bp = Blueprint(__name__)

# The import's bodies: the CSV itself, or multipart/form-data with a `file` part and a `mapping`
# part (chalicelib/api/csv_upload.py; multipart is a binary type: its bytes reach Lambda as sent).
CSV_TYPES = [
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
    "multipart/form-data",
]


def _out(lead: Lead) -> dict[str, Any]:
    """A lead as the API shows it: `doNotCall`/`smsOptOut` are its number's suppressions (one
    GetItem on the ledger)."""
    return lead_out(suppressions.view(deps(), lead))


_SORTS = ("createdAt", "name", "lastContactedAt")


def _flag(params: dict[str, str], name: str) -> bool:
    raw = (params.get(name) or "").lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise ValidationError(f"{name} must be true or false", {"field": name})


def _short(params: dict[str, str], name: str) -> str | None:
    value = params.get(name) or None
    if value is not None and len(value) > 64:
        raise ValidationError(f"{name} is too long", {"field": name})
    return value


def list_options(params: dict[str, str]) -> leads.ListOptions:
    """`q`, `sort`, `order` and the filters past status and assignee, checked (a 400 names the
    parameter)."""
    sort = params.get("sort") or "createdAt"
    if sort not in _SORTS:
        raise ValidationError(f"sort must be one of {', '.join(_SORTS)}", {"field": "sort"})
    order = params.get("order") or ("asc" if sort == "name" else "desc")
    if order not in ("asc", "desc"):
        raise ValidationError("order must be asc or desc", {"field": "order"})
    q = params.get("q")
    q = q.strip() if q is not None else None
    return leads.ListOptions(
        q=q or None,
        sort=sort,  # type: ignore[arg-type]
        descending=order == "desc",
        source=_short(params, "source"),
        never_called=_flag(params, "neverCalled"),
        opted_out=_flag(params, "optedOut"),
        campaign_id=_short(params, "campaignId"),
    )


@route(bp, "/leads", ["GET"])
def list_leads(request: Request, actor: Actor) -> dict[str, Any]:
    params = query(request)
    status, assigned = _list_filters(params)
    options = list_options(params)
    cursor = params.get("cursor") or None
    d = deps()
    page = leads.list_leads(d, status, assigned, limit_param(params), cursor, actor, options)
    # The flags are the ledger's: one BatchGetItem for the page.
    viewed = suppressions.view_many(d, page.items)
    body = page_body([lead_out(lead) for lead in viewed], page.next_cursor)
    body["total"] = None if cursor else leads.total(d, status, assigned, actor, options)
    return body


@route(bp, "/leads", ["POST"])
def create_lead(request: Request, actor: Actor) -> Any:
    from chalicelib.api.schemas import LeadCreate, parse

    body = parse(LeadCreate, json_body(request))
    d = deps()
    lead = leads.create(d, leads.NewLead(**body.model_dump()), actor=actor)
    return created(_out(lead))


@route(bp, "/leads/import", ["POST"], content_types=CSV_TYPES)
def import_leads(request: Request, actor: Actor) -> dict[str, Any]:
    from chalicelib.api.csv_upload import read_upload
    from chalicelib.api.schemas import lead_row  # pydantic: imported when first used
    from chalicelib.services import lead_csv

    access.require(actor, "leads.import", "import leads")
    upload = read_upload(request)
    d = deps()
    result = lead_csv.import_csv(
        d,
        upload.raw,
        d.settings.max_import_bytes,
        lead_row,
        actor,
        upload.mapping,
        from_row=upload.from_row,
    )
    body = result.to_body()
    details: dict[str, Any] = {
        "bytes": len(upload.raw),
        "created": body.get("created"),
        "duplicates": body.get("duplicates"),
    }
    # an import in several requests: each has its entry, saying where it began and stopped
    if upload.from_row is not None:
        details["fromRow"] = upload.from_row
    if result.next_row is not None:
        details["nextRow"] = result.next_row
    audit.record(d, actor, "leads.imported", None, details)
    return body


@route(bp, "/leads/import/preview", ["POST"], content_types=CSV_TYPES)
def preview_import(request: Request, actor: Actor) -> dict[str, Any]:
    """What an import of the file would read (headers, the suggested mapping, the first rows,
    delimiter, encoding, row count): nothing is written; only an owner column reads the team."""
    from chalicelib.api.csv_upload import read_upload
    from chalicelib.services import lead_csv

    access.require(actor, "leads.import", "import leads")
    upload = read_upload(request)
    d = deps()
    return lead_csv.preview(d, upload.raw, d.settings.max_import_bytes, upload.mapping)


def _list_filters(params: dict[str, str]) -> tuple[str | None, str | None]:
    """The list's `status` and `assignedToId`, checked (GET /leads and its export)."""
    status = params.get("status") or None
    if status is not None and status not in LEAD_STATUSES:
        raise ValidationError(
            f"status must be one of {', '.join(LEAD_STATUSES)}", {"field": "status"}
        )
    return status, _short(params, "assignedToId")


def _exported(
    d: Deps,
    status: str | None,
    assigned: str | None,
    actor: Actor,
    options: leads.ListOptions,
) -> Iterator[Lead]:
    """Every lead of the list with these filters (the list's search, sort and filters too),
    page after page (100 a page)."""
    cursor: str | None = None
    while True:
        page = leads.list_leads(d, status, assigned, 100, cursor, actor, options)
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


@route(bp, "/leads/bulk", ["POST"])
def bulk_action(request: Request, actor: Actor) -> dict[str, Any]:
    """Assign, set the status of, archive, restore or suppress up to 500 leads at once
    (services/bulk.py)."""
    from chalicelib.services import bulk

    cmd = bulk.parse(json_body(request))
    return bulk.run(deps(), actor, cmd).to_body()


@route(bp, "/leads/export", ["GET"])
def export_leads(request: Request, actor: Actor) -> Response:
    """The list as CSV (UTF-8 with a BOM), with the list's filters (`status`, `assignedToId`,
    `q`) and the assignee's name beside their id. A Lambda response cannot pass 6 MB: with
    `EXPORT_BUCKET` set (deployed), a file over `EXPORT_INLINE_MAX_BYTES` is put in that bucket
    and the answer is 303 to a presigned URL of it (valid five minutes); without it (make dev)
    the CSV itself."""
    from chalicelib.api import csv_export

    access.require(actor, "leads.export", "export leads")
    params = query(request)
    status, assigned = _list_filters(params)
    options = list_options(params)
    q = options.q or ""
    d = deps()
    found: Iterable[Lead] = _exported(d, status, assigned, actor, options)
    # doNotCall/smsOptOut from the ledger (a BatchGetItem per 100 leads): an export re-imports
    # as the same suppressions.
    rows = suppressions.view_iter(d, iter(found))
    names = csv_export.MemberNames(d.store.members.all)
    body = (csv_export.BOM + "".join(csv_export.export_rows(rows, names))).encode()
    audit.record(
        d,
        actor,
        "leads.exported",
        None,
        {
            "bytes": len(body),
            **{k: v for k, v in (("status", status), ("assignedToId", assigned), ("q", q)) if v},
        },
    )
    filename = f"leads-{d.clock.now().strftime('%Y%m%d-%H%M%S')}.csv"
    disposition = f'attachment; filename="{filename}"'
    settings = d.settings
    if settings.export_bucket and len(body) > settings.export_inline_max_bytes:
        url = csv_export.upload(settings.export_bucket, settings.region, body, disposition)
        return Response(body="", status_code=303, headers={"Location": url})
    return Response(
        body=body.decode(),
        status_code=200,
        headers={"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": disposition},
    )


@route(bp, "/leads/{lead_id}", ["GET"])
def get_lead(request: Request, lead_id: str, actor: Actor) -> dict[str, Any]:
    return _out(leads.get(deps(), lead_id, actor))


@route(bp, "/leads/{lead_id}", ["PATCH"])
def update_lead(request: Request, lead_id: str, actor: Actor) -> dict[str, Any]:
    from chalicelib.api.schemas import LeadUpdate, parse

    body = parse(LeadUpdate, json_body(request))
    return _out(leads.update(deps(), lead_id, patch_of(body), actor))


@route(bp, "/leads/{lead_id}", ["DELETE"])
def archive_lead(request: Request, lead_id: str, actor: Actor) -> dict[str, Any]:
    return _out(leads.archive(deps(), lead_id, actor))


@route(bp, "/leads/{lead_id}/restore", ["POST"])
def restore_lead(request: Request, lead_id: str, actor: Actor) -> dict[str, Any]:
    return _out(leads.restore(deps(), lead_id, actor))
