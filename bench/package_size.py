"""The size of what Lambda loads: the function zip (app.py + chalicelib, the part that changes
on every deploy) and the dependency layer (`automatic_layer`, changes only with
requirements.txt). A small function zip keeps deploys quick and is a proxy for what our own
code weighs; the layer is the dependencies' cost.

    python -m bench.package_size      # BENCH package_zip_mb <value> MB (and the layer)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from infra.build import Package, build

MB = 1024 * 1024


def zip_mb(pkg: Package | None = None) -> float:
    """The function zip's size in MB (MiB); packages the app now, in a temporary folder,
    unless an existing package is given."""
    if pkg is None:
        with tempfile.TemporaryDirectory(prefix="coldcall-package-") as tmp:
            return zip_mb(build("prod", Path(tmp)))
    return round(pkg.function_zip.stat().st_size / MB, 3)


def layer_mb(pkg: Package) -> float:
    return round(pkg.layer_zip.stat().st_size / MB, 3)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="coldcall-package-") as tmp:
        pkg = build("prod", Path(tmp))
        print(f"BENCH package_zip_mb {zip_mb(pkg)} MB")
        print(f"BENCH package_layer_mb {layer_mb(pkg)} MB")


if __name__ == "__main__":
    main()
