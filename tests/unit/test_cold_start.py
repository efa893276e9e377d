"""Cold start: importing the app and serving a non-Twilio route must not import the Twilio
REST client (~150 ms), nor create any AWS client at import time."""

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
    assert result["clients_at_import"] == []
