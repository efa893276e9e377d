"""Request bodies: pydantic, strict, camelCase on the wire, unknown fields refused.

Cold start: this module is the only one of the app that imports pydantic, and nothing imports
it while `import app` runs; the routes that take a body import it when first called. Each
model's validator is built on its first use (`defer_build`), not when the class is defined, so
the first POST /leads builds LeadCreate alone (tests/unit/test_cold_start.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from chalicelib.domain.constants import SMS_MAX_CHARS, Disposition, LeadStatus, Role
from chalicelib.errors import ValidationError
from chalicelib.services.leads import NewLead

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
        defer_build=True,
    )


class TeamMemberCreate(Body):
    name: Name
    phone: PhoneText
    email: Email | None = None
    role: Role = "caller"
    active: bool = True


class Login(Body):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class NewPassword(Body):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    session: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Refresh(Body):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class ApiKeyCreate(Body):
    name: Name
    role: Role = "admin"


class TeamMemberUpdate(Body):
    name: Name | None = None
    phone: PhoneText | None = None
    email: Email | None = None
    role: Role | None = None
    active: bool | None = None
    version: int | None = Field(default=None, ge=1)


def _check_state(value: str) -> str:
    from chalicelib.domain.area_codes import STATES

    code = value.strip().upper()
    if code not in STATES:
        raise ValueError("must be a US state code, e.g. FL, TX, NY (or DC, PR, ...)")
    return code


UsState = Annotated[
    str, StringConstraints(max_length=2, min_length=2), AfterValidator(_check_state)
]


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
    state: UsState | None = None


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
    state: UsState | None = None
    version: int | None = Field(default=None, ge=1)


class SuppressionCreate(Body):
    phone: PhoneText
    channels: list[Literal["voice", "sms"]] | None = Field(default=None, min_length=1, max_length=2)
    reason: ShortText | None = None


class CallCreate(Body):
    lead_id: Id
    caller_id: PhoneText
    team_member_id: Id | None = None


class CallUpdate(Body):
    disposition: Disposition | None = None
    notes: LongText | None = None
    # a callback for the call's member on its lead (ISO 8601 with an offset, in the future)
    callback_at: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


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


Amd = Literal["off", "hangup", "voicemail"]
CampaignStatus = Literal["active", "paused"]  # archived: DELETE /campaigns/{id}
VoicemailText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
MemberIds = Annotated[list[Id], Field(max_length=100)]


class CampaignCreate(Body):
    name: Name
    status: CampaignStatus = "active"
    caller_id: PhoneText | None = None
    script: LongText | None = None
    member_ids: MemberIds = Field(default_factory=list)
    max_attempts: int = Field(default=3, ge=1, le=20)
    retry_after_minutes: int = Field(default=240, ge=1, le=43200)
    amd: Amd = "hangup"
    voicemail_message: VoicemailText | None = None
    auto_advance_seconds: int = Field(default=0, ge=0, le=600)
    record: bool = False


class CampaignUpdate(Body):
    name: Name | None = None
    status: CampaignStatus | None = None
    caller_id: PhoneText | None = None
    script: LongText | None = None
    member_ids: MemberIds | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    retry_after_minutes: int | None = Field(default=None, ge=1, le=43200)
    amd: Amd | None = None
    voicemail_message: VoicemailText | None = None
    auto_advance_seconds: int | None = Field(default=None, ge=0, le=600)
    record: bool | None = None
    version: int | None = Field(default=None, ge=1)


class CampaignLeadFilter(Body):
    status: LeadStatus | None = None
    assigned_to_id: Id | None = None
    # the `nextCursor` of an earlier answer: go on from there
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None


class CampaignLeadsAdd(Body):
    lead_ids: Annotated[list[Id], Field(min_length=1, max_length=500)] | None = None
    filter: CampaignLeadFilter | None = None


class CallbackCreate(Body):
    at: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None
    team_member_id: Id | None = None


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


def lead_row(values: dict[str, str]) -> NewLead:
    """One CSV row (cells under the API's field names) as a new lead, checked as POST /leads
    checks a body; ValueError names the first problem."""
    try:
        body = LeadCreate.model_validate(values)
    except PydanticValidationError as exc:
        err = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{loc}: {err['msg']}" if loc else err["msg"]) from None
    return NewLead(**body.model_dump())
