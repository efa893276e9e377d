"""`make bench`: the deployment package's size (`bench/package_size.py` measures it)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.package_size import layer_mb, zip_mb
from infra.build import build


def run(report: Callable[[str, float, str], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="coldcall-package-") as tmp:
        pkg = build("prod", Path(tmp))
        report("package_zip_mb", zip_mb(pkg), "MB")
        report("package_layer_mb", layer_mb(pkg), "MB")
