"""What every route shares: the route decorator (auth, error shape, JSON), body and query
parsing, and the middleware that logs one JSON line per request and gives Chalice's own
errors (405, 415) the API's error shape."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, CORSConfig, Response
from chalice.app import Request

from chalicelib.errors import AppError, Internal, RateLimited, ValidationError

log = logging.getLogger("coldcall")

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32  # no route's body nests more than a few levels


def cors_config() -> CORSConfig | None:
    """CORS for exactly the dashboard's origin (DASHBOARD_ORIGIN), read when routes register."""
    origin = os.environ.get("DASHBOARD_ORIGIN", "").strip()
    if not origin:
        return None
    return CORSConfig(
        allow_origin=origin,
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Content-Disposition"],
        max_age=600,
    )


def error_response(err: AppError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": JSON}
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(max(1, err.retry_after))
    return Response(body=err.to_body(), status_code=err.status, headers=headers)


def route(
    bp: Blueprint,
    path: str,
    methods: list[str],
    *,
    public: bool = False,
    content_types: list[str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view that receives the request first, and the `actor` (who is asking:
    services.auth.authenticate) when it takes one. Auth is on unless `public`; every AppError
    becomes the error shape and anything else a 500 without a stack trace."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        wants_actor = "actor" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def view(**kwargs: Any) -> Response:
            request = bp.current_request
            try:
                if not public:
                    from chalicelib.providers import deps
                    from chalicelib.services.auth import authenticate

                    actor = authenticate(
                        deps(),
                        request.headers.get("authorization"),
                        request_ids(request)["requestId"],
                    )
                    if wants_actor:
                        kwargs["actor"] = actor
                result = fn(request, **kwargs)
            except AppError as err:
                return error_response(err)
            except Exception:
                # Type and code location only (chalicelib.logs): the message may quote input.
                log.exception(
                    json.dumps(
                        {"msg": "unhandled error", "route": path, **request_ids(request)},
                        separators=(",", ":"),
                    )
                )
                return error_response(Internal("internal error"))
            if isinstance(result, Response):
                return result
            return Response(body=result, status_code=200, headers={"Content-Type": JSON})

        bp.route(
            path,
            methods=methods,
            content_types=content_types or [JSON],
            cors=cors_config(),
        )(view)
        return fn

    return decorator


def json_body(request: Request) -> Any:
    raw = request.raw_body or b""
    if len(raw) > MAX_JSON_BYTES:
        raise ValidationError(f"request body is larger than {MAX_JSON_BYTES} bytes")
    if not raw.strip():
        raise ValidationError("request body is empty; send a JSON object")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("request body is not valid JSON") from None
    except RecursionError:
        raise _too_deep() from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise _too_deep()
    return value


def _too_deep() -> ValidationError:
    return ValidationError(f"request body is nested more than {MAX_JSON_DEPTH} levels deep")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` (walked without recursion: the
    parser's own limit depends on the interpreter's stack, and no schema needs more)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def created(body: dict[str, Any]) -> Response:
    return Response(body=body, status_code=201, headers={"Content-Type": JSON})


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def limit_param(params: dict[str, str], default: int = 25, maximum: int = 100) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError("limit must be a whole number", {"field": "limit"}) from None
    if not 1 <= value <= maximum:
        raise ValidationError(f"limit must be between 1 and {maximum}", {"field": "limit"})
    return value


def page_body(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "nextCursor": next_cursor}


_CHALICE_CODES = {
    405: ("method_not_allowed", "this route does not accept that method"),
    415: ("unsupported_media_type", "unsupported Content-Type for this route"),
    400: ("validation_error", "bad request"),
    500: ("internal", "internal error"),
}


def request_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """One structured log line per request; Chalice's own error bodies in our shape."""
    started = time.perf_counter()
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code, default_message = _CHALICE_CODES.get(
            response.status_code, ("validation_error", "bad request")
        )
        message = str(body.get("Message") or default_message)
        response.body = {"error": {"code": code, "message": message}}
        response.headers["Content-Type"] = JSON
    log.info(
        json.dumps(
            {
                "msg": "request",
                "method": getattr(event, "method", None),
                "route": _route_template(event),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                **request_ids(event),
            },
            separators=(",", ":"),
        )
    )
    return response


def _route_template(event: Request) -> str | None:
    """The route as declared (`/leads/{lead_id}`), never the concrete path: paths carry ids
    and, for some callers, phone numbers, and the template is what one wants to group by."""
    context = getattr(event, "context", None) or {}
    route = context.get("resourcePath")
    return str(route) if route else None


def request_ids(event: Request) -> dict[str, str | None]:
    """The ids that tie a log line to AWS's own records.

    `requestId` is API Gateway's request id (the `x-amzn-RequestId` response header a user can
    quote, and the id in API Gateway's logs); `lambdaRequestId` is the Lambda invocation id
    (the `RequestId` of the START/END/REPORT lines around it in CloudWatch). `chalice local`
    and the test client have no API Gateway id, so the invocation id stands in for both.
    """
    context = getattr(event, "context", None) or {}
    lambda_context = getattr(event, "lambda_context", None)
    invocation = getattr(lambda_context, "aws_request_id", None)
    gateway = context.get("requestId")
    return {
        "requestId": str(gateway or invocation) if (gateway or invocation) else None,
        "lambdaRequestId": str(invocation) if invocation else None,
    }
