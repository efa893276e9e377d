"""What every Twilio webhook shares: the form body and the signature check (403 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

from chalice import Response
from chalice.app import Request

from chalicelib import config, providers
from chalicelib.errors import Forbidden, ValidationError
from chalicelib.telephony import signature, webhooks

MAX_FORM_BYTES = 64 * 1024
XML = "text/xml; charset=utf-8"


def signed_form(request: Request, path: str, **ids: str) -> dict[str, str]:
    """The webhook's form fields, if Twilio signed them for the public URL of `path` (one of
    `telephony.webhooks`' paths, with its ids) and the request's query string.

    The URL is built from PUBLIC_BASE_URL or one of PUBLIC_BASE_URLS (which include the API
    Gateway stage), never from the Host header. Twilio signs every value of a repeated form
    key; the fields returned keep the last one."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_FORM_BYTES:
        raise ValidationError("webhook body is too large")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise ValidationError("webhook body is not UTF-8 form data") from None
    queries = _query_strings(request)
    urls = [
        webhooks.url(base, path, **ids) + query
        for base in providers.settings().signing_base_urls()
        for query in queries
    ]
    token = config.twilio_auth_token() or ""
    sig = request.headers.get("x-twilio-signature")
    if not signature.is_valid(token, urls, pairs, sig):
        raise Forbidden("invalid Twilio signature")
    return dict(pairs)


# How a decoded query may have been spelled in the URL Twilio signed: API Gateway (and chalice
# local) hand over the parameters decoded, never the raw query string, so it is re-encoded
# the ways a URL is commonly written (`+` or `%20` for a space; URL-safe punctuation kept).
_QUERY_SPELLINGS: tuple[tuple[Callable[..., str], str], ...] = (
    (quote, "/:@!$'()*,;"),
    (quote_plus, "/:@!$'()*,;"),
    (quote, ""),
    (quote_plus, ""),
)


def _query_strings(request: Request) -> list[str]:
    """ "" without a query, else its candidate spellings ("?a=1&b=2"), each once."""
    params = request.query_params
    if not params:
        return [""]
    pairs = [(key, value) for key in params for value in params.getlist(key)]
    spellings = (
        urlencode(pairs, safe=safe, quote_via=quote_via) for quote_via, safe in _QUERY_SPELLINGS
    )
    return ["?" + q for q in dict.fromkeys(spellings)]


def twiml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": XML})
