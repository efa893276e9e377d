"""Bearer-token check for every non-webhook route, in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from chalicelib import config
from chalicelib.errors import Unauthorized


def check_bearer(headers: Mapping[str, str]) -> None:
    expected = config.api_token()
    header = headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if not expected:
        raise Unauthorized("the server has no API token configured")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send Authorization: Bearer <token>")
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Unauthorized("invalid token")
