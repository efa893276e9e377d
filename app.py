"""The Chalice app: registers the blueprints, the middleware and the schedule. Thin by design;
everything else lives in chalicelib/."""

from __future__ import annotations

import logging
import os
from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent

from chalicelib import logs
from chalicelib.api import (
    admin,
    auth,
    callbacks,
    calls,
    campaigns,
    compliance,
    dialer,
    health,
    inbound,
    inbox,
    leads,
    messages,
    sms,
    stats,
    suppressions,
    team,
    voice,
)
from chalicelib.api.http import request_middleware
from chalicelib.providers import deps

app = Chalice(app_name="coldcall")
# A CSV import sent as multipart/form-data (the dashboard) reaches Lambda byte for byte: API
# Gateway passes a binary type base64-encoded instead of as UTF-8 text (a Windows-1252 or
# UTF-16 file survives). Responses are never multipart.
app.api.binary_types.append("multipart/form-data")
app.log.setLevel(logging.INFO)
logging.getLogger("coldcall").setLevel(os.environ.get("LOG_LEVEL", "INFO"))
logs.configure(app.log)  # JSON lines, phones masked, no exception messages

app.register_middleware(request_middleware, "http")
app.register_blueprint(health.bp)
app.register_blueprint(team.bp)
app.register_blueprint(leads.bp)
app.register_blueprint(calls.bp)
app.register_blueprint(voice.bp)
app.register_blueprint(messages.bp)
app.register_blueprint(sms.bp)
app.register_blueprint(stats.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(compliance.bp)
app.register_blueprint(suppressions.bp)
app.register_blueprint(campaigns.bp)
app.register_blueprint(callbacks.bp)
app.register_blueprint(dialer.bp)
app.register_blueprint(inbound.bp)
app.register_blueprint(inbox.bp)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def stats_rollup(event: CloudWatchEvent) -> dict[str, Any]:
    """Every 5 minutes: settle stale calls and messages, ingest inbound texts whose webhook was
    lost, repair today's and yesterday's counters."""
    from chalicelib.services import stats as stats_service  # on first use (cold start)

    report = stats_service.rollup(deps())
    app.log.info(stats_service.log_line(report))
    return report.to_dict()
