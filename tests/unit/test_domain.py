"""chalicelib/domain is pure: importing it loads no I/O or framework library."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FRAMEWORKS = ["pydantic", "pynamodb", "chalice", "botocore", "boto3", "twilio"]


def test_domain_imports_no_framework():
    code = (
        "import json, sys\n"
        "import chalicelib.domain.constants\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_lead_statuses_are_in_funnel_order():
    from chalicelib.domain.constants import LEAD_STATUSES

    assert LEAD_STATUSES == ("new", "contacted", "qualified", "not_interested", "converted")
