"""What every Twilio webhook shares: the form body and the signature check (403 otherwise)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from chalice import Response
from chalice.app import Request

from chalicelib import config, providers
from chalicelib.errors import Forbidden, ValidationError
from chalicelib.telephony import signature, webhooks

MAX_FORM_BYTES = 64 * 1024
XML = "text/xml; charset=utf-8"


def signed_form(request: Request, path: str, **ids: str) -> dict[str, str]:
    """The webhook's form fields, if Twilio signed them for the public URL of `path` (one of
    `telephony.webhooks`' paths, with its ids).

    The URL is built from PUBLIC_BASE_URL (which includes the API Gateway stage), never from
    the Host header; IDs travel in the path, so there is no query string to re-encode."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_FORM_BYTES:
        raise ValidationError("webhook body is too large")
    try:
        params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise ValidationError("webhook body is not UTF-8 form data") from None
    url = webhooks.url(providers.settings().public_base_url, path, **ids)
    token = config.twilio_auth_token() or ""
    sig = request.headers.get("x-twilio-signature")
    if not signature.is_valid(token, url, params, sig):
        raise Forbidden("invalid Twilio signature")
    return params


def twiml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": XML})
