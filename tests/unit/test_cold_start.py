"""Cold start: importing the app and serving a non-Twilio route must not import the Twilio
REST client (~150 ms), nor create any AWS client at import time; importing the app loads none of
the heavy libraries only some routes need, and builds no pydantic schema. Memberships and counts,
never timings (bench/bench_import.py times it)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import os, sys, json
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                   "AWS_DEFAULT_REGION": "us-east-1", "API_TOKEN": "t", "STAGE": "coldstart"})
import botocore.client
created = []
real = botocore.client.ClientCreator.create_client
def spy(self, service_name, *a, **k):
    created.append(service_name)
    return real(self, service_name, *a, **k)
botocore.client.ClientCreator.create_client = spy
import app
after_import = list(created)
from moto import mock_aws
with mock_aws():
    from chalice.test import Client
    from chalicelib import providers
    from chalicelib.store.tables import ensure_tables
    ensure_tables(providers.settings())
    with Client(app.app, stage_name="test") as c:
        r1 = c.http.get("/leads", headers={"Authorization": "Bearer t"})
        r2 = c.http.get("/team-members", headers={"Authorization": "Bearer t"})
        r3 = c.http.get("/health")
print(json.dumps({
    "statuses": [r1.status_code, r2.status_code, r3.status_code],
    "twilio_rest": "twilio.rest" in sys.modules,
    "twilio_any": sorted(m for m in sys.modules if m.startswith("twilio"))[:5],
    "pydantic": "pydantic" in sys.modules,
    "clients_at_import": after_import,
}))
"""


def test_non_twilio_routes_never_import_twilio_rest():
    import json

    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200, 200]
    assert result["twilio_rest"] is False, result["twilio_any"]
    assert result["pydantic"] is False  # reads need no request body, so no pydantic
    assert result["clients_at_import"] == []


# Libraries (and our modules that import them) only some routes need. Each costs milliseconds
# of every cold start when imported at module level.
HEAVY = [
    "pydantic",  # request bodies: chalicelib/api/schemas.py, imported by the routes that write
    "pydantic_core",
    "email_validator",
    "phonenumbers",  # chalicelib/phone.py imports it on first use
    "ulid",  # chalicelib/clock.new_id
    "twilio",
    "chalicelib.api.schemas",
    "chalicelib.services.lead_csv",
    "chalicelib.services.stats",
]

IMPORT_APP = r"""
import json, sys
import app
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY or m in HEAVY)))
"""


def _last_json_line(code: str):
    import json

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_app_loads_no_heavy_module():
    loaded = _last_json_line(f"HEAVY = {HEAVY!r}\n{IMPORT_APP}")
    assert loaded == []


SCHEMAS = r"""
import json
from chalicelib.api import schemas
models = [c for c in vars(schemas).values()
          if isinstance(c, type) and issubclass(c, schemas.Body) and c is not schemas.Body]
def built():
    return sorted(c.__name__ for c in models if c.__pydantic_complete__)
at_import = built()
schemas.parse(schemas.LeadCreate, {"name": "Jane", "phone": "212 555 0142"})
print(json.dumps({"models": len(models), "at_import": at_import, "after_parse": built()}))
"""


def test_a_schema_is_built_on_first_use_only():
    result = _last_json_line(SCHEMAS)
    assert result["models"] == 17
    assert result["at_import"] == []
    assert result["after_parse"] == ["LeadCreate"]
