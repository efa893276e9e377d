"""Request bodies (pydantic, strict, camelCase on the wire, unknown fields refused) and the
serialisers that turn stored records into the API's JSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from chalicelib.clock import iso
from chalicelib.domain.records import Call, Lead, Message, TeamMember
from chalicelib.errors import ValidationError

LEAD_STATUSES = ("new", "contacted", "qualified", "not_interested", "converted")
LeadStatus = Literal["new", "contacted", "qualified", "not_interested", "converted"]
Role = Literal["admin", "caller"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=5000)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _check_email(value: str) -> str:
    # email-validator is imported on first use: its regexes cost ~100 ms of cold start.
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_check_email)
]


class Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=False,
        str_max_length=10000,
    )


class TeamMemberCreate(Body):
    name: Name
    phone: PhoneText
    email: Email | None = None
    role: Role = "caller"
    active: bool = True


class TeamMemberUpdate(Body):
    name: Name | None = None
    phone: PhoneText | None = None
    email: Email | None = None
    role: Role | None = None
    active: bool | None = None
    version: int | None = Field(default=None, ge=1)


class LeadCreate(Body):
    name: Name
    phone: PhoneText
    email: Email | None = None
    company: ShortText | None = None
    notes: LongText | None = None
    status: LeadStatus = "new"
    assigned_to_id: Id | None = None
    source: ShortText | None = None
    do_not_call: bool = False
    sms_opt_out: bool = False


class LeadUpdate(Body):
    name: Name | None = None
    phone: PhoneText | None = None
    email: Email | None = None
    company: ShortText | None = None
    notes: LongText | None = None
    status: LeadStatus | None = None
    assigned_to_id: Id | None = None
    do_not_call: bool | None = None
    sms_opt_out: bool | None = None
    version: int | None = Field(default=None, ge=1)


DISPOSITIONS = (
    "connected",
    "left_voicemail",
    "no_answer",
    "wrong_number",
    "callback_requested",
    "not_interested",
    "meeting_booked",
)
Disposition = Literal[
    "connected",
    "left_voicemail",
    "no_answer",
    "wrong_number",
    "callback_requested",
    "not_interested",
    "meeting_booked",
]


class CallCreate(Body):
    lead_id: Id
    team_member_id: Id
    caller_id: PhoneText


class CallUpdate(Body):
    disposition: Disposition | None = None
    notes: LongText | None = None


SMS_MAX_CHARS = 1600


def _sms_text(value: str) -> str:
    if not value.strip():
        raise ValueError("body must contain more than whitespace")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("body is not valid Unicode text") from None
    return value


# Counted in characters (code points), not bytes: an emoji is one. Kept as written (no strip).
SmsText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SMS_MAX_CHARS),
    AfterValidator(_sms_text),
]


class MessageCreate(Body):
    lead_id: Id
    body: SmsText
    team_member_id: Id | None = None
    from_: PhoneText | None = Field(default=None, alias="from")


# Fields that may be cleared with an explicit null in a PATCH.
NULLABLE_LEAD_FIELDS = {"email", "company", "notes", "assigned_to_id"}
NULLABLE_MEMBER_FIELDS = {"email"}

_B = TypeVar("_B", bound=Body)


def parse(model: type[_B], data: Any) -> _B:
    """Validate a decoded JSON body; every problem becomes a 400 naming the fields."""
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            loc = ".".join(str(p) for p in err["loc"]) or "body"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            elif err["type"] == "value_error":
                msg = msg.removeprefix("Value error, ")
            problems.append({"field": loc, "message": msg})
        first = problems[0]
        raise ValidationError(
            f"{first['field']}: {first['message']}", {"fields": problems}
        ) from None


def explicit_nulls(body: Body, allowed: set[str]) -> set[str]:
    """Fields the client set to null on purpose (to clear them), limited to `allowed`."""
    return {f for f in body.model_fields_set if getattr(body, f) is None and f in allowed}


def provided(body: Body) -> dict[str, Any]:
    """The fields the client sent with a value (not null)."""
    return {f: getattr(body, f) for f in body.model_fields_set if getattr(body, f) is not None}


# ---------------------------------------------------------------- serialisers


def team_member_out(m: TeamMember) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "phone": m.phone,
        "email": m.email,
        "role": m.role,
        "active": m.active,
        "createdAt": iso(m.created_at),
        "updatedAt": iso(m.updated_at),
        "version": m.version,
    }


def lead_out(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "name": lead.name,
        "phone": lead.phone,
        "email": lead.email,
        "company": lead.company,
        "notes": lead.notes,
        "status": lead.status,
        "assignedToId": lead.assigned_to_id,
        "source": lead.source,
        "smsOptOut": bool(lead.sms_opt_out),
        "doNotCall": bool(lead.do_not_call),
        "timezone": lead.timezone,
        "lastContactedAt": iso(lead.last_contacted_at),
        "archived": lead.archived_at is not None,
        "archivedAt": iso(lead.archived_at),
        "createdAt": iso(lead.created_at),
        "updatedAt": iso(lead.updated_at),
        "version": lead.version,
    }


def call_out(c: Call) -> dict[str, Any]:
    return {
        "id": c.id,
        "leadId": c.lead_id,
        "teamMemberId": c.team_member_id,
        "callerId": c.caller_id,
        "status": c.status,
        "leadLegStatus": c.lead_leg_status,
        "twilioSid": c.twilio_sid,
        "durationSeconds": int(c.duration_seconds) if c.duration_seconds is not None else None,
        "talkSeconds": int(c.talk_seconds) if c.talk_seconds is not None else None,
        "answeredAt": iso(c.answered_at),
        "endedAt": iso(c.ended_at),
        "errorCode": c.error_code,
        "errorMessage": c.error_message,
        "disposition": c.disposition,
        "notes": c.notes,
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
    }


def message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "leadId": m.lead_id,
        "teamMemberId": m.team_member_id,
        "direction": m.direction,
        "from": m.from_number,
        "to": m.to_number,
        "body": m.body,
        "status": m.status,
        "twilioSid": m.twilio_sid,
        "errorCode": m.error_code,
        "errorMessage": m.error_message,
        "createdAt": iso(m.created_at),
        "updatedAt": iso(m.updated_at),
    }


def patch_of(body: Body) -> Any:
    """The service's patch for a PATCH body: the fields the client sent (None clears one) and
    the version it edited."""
    from chalicelib.services.team import Patch

    values = {f: getattr(body, f) for f in body.model_fields_set if f != "version"}
    return Patch(values, getattr(body, "version", None))
