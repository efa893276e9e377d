"""Dashboard stats: counters read in a constant number of requests (services/stats.py)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from chalice.app import Request

from chalicelib.api.http import query, route
from chalicelib.providers import deps

bp = Blueprint(__name__)


@route(bp, "/dashboard/stats", ["GET"])
def dashboard_stats(request: Request) -> dict[str, Any]:
    from chalicelib.services import stats  # on first use (cold start)

    params = query(request)
    return stats.dashboard(deps(), params.get("from") or None, params.get("to") or None)
