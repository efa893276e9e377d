"""The error hierarchy. Every error the API answers is one of these, rendered in one place
(`chalicelib.api.http`) as ``{"error": {"code", "message", "details"?}}``."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class AppError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class ValidationError(AppError):
    status = 400
    code = "validation_error"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class Blocked(AppError):
    """Compliance refusals: opted out, do-not-call, outside calling hours."""

    status = 422
    code = "blocked"


class TelephonyError(AppError):
    status = 502
    code = "telephony_error"


class Internal(AppError):
    status = 500
    code = "internal"


def not_found(kind: str, ident: str) -> NotFound:
    return NotFound(f"{kind} {ident} not found", {"id": ident})


def found(record: T | None, kind: str, ident: str) -> T:
    """The record a repository returned, or a 404 naming what was missing."""
    if record is None:
        raise not_found(kind, ident)
    return record


class RateLimited(AppError):
    """Too many requests; `retry_after` seconds until the next one may succeed (the
    `Retry-After` header)."""

    status = 429
    code = "rate_limited"

    def __init__(
        self, message: str, retry_after: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, {"retryAfterSeconds": retry_after, **(details or {})})
        self.retry_after = retry_after
