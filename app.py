"""The Chalice app: registers the blueprints, the middleware and (later) the schedule. Thin by
design; everything else lives in chalicelib/."""

from __future__ import annotations

import logging
import os

from chalice import Chalice

from chalicelib import logs
from chalicelib.api import calls, health, leads, messages, sms, team, voice
from chalicelib.api.http import request_middleware

app = Chalice(app_name="coldcall")
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
