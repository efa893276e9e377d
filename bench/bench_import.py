"""Cold start: `import app` in a fresh interpreter (median of 10), beside the floor nobody can
avoid (`import chalice, pynamodb.models`), and their ratio; and what the first request that
writes adds (the DynamoDB store and the request bodies, both imported on first use)."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 10


def _time_import(statement: str) -> float:
    code = (
        "import time; t = time.perf_counter(); "
        f"{statement}; print((time.perf_counter() - t) * 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(report: Callable[[str, float, str], None]) -> None:
    _time_import("import app")  # warm the file cache and .pyc files once
    app_ms = statistics.median(_time_import("import app") for _ in range(RUNS))
    floor_ms = statistics.median(
        _time_import("import chalice, pynamodb.models") for _ in range(RUNS)
    )
    full_ms = statistics.median(
        _time_import("import app; import chalicelib.store.dynamo, chalicelib.api.schemas")
        for _ in range(RUNS)
    )
    print(f"import app: {app_ms:.0f} ms   floor (chalice + pynamodb): {floor_ms:.0f} ms")
    report("import_app_ms", round(app_ms), "ms")
    report("import_first_write_ms", round(full_ms), "ms")
    report("import_floor_ms", round(floor_ms), "ms")
    report("import_ratio", round(app_ms / floor_ms, 2), "x")
