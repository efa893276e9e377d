"""GET /health: no auth, no database (a liveness probe must not cost a request)."""

from __future__ import annotations

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import route

bp = Blueprint(__name__)


@route(bp, "/health", ["GET"], public=True)
def health(request: Request) -> dict[str, str]:
    return {"status": "ok"}
