"""`make bench`: run every benchmark module and print its figures.

Each module `bench/bench_*.py` defines `run(report)`, calling `report(name, value, unit)` once
per figure. Every figure is printed as a stable machine-readable line,
`BENCH <name> <value> <unit>`, after any table the module prints for people.
Run one module with `python -m bench.run <module-suffix>` (e.g. `stats`).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def report(name: str, value: float, unit: str) -> None:
    shown = f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    print(f"BENCH {name} {shown} {unit}", flush=True)


def main(argv: list[str]) -> int:
    wanted = set(argv)
    modules = sorted(
        m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")
    )
    failed = []
    for name in modules:
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        started = time.perf_counter()
        print(f"# {name}", flush=True)
        try:
            importlib.import_module(f"bench.{name}").run(report)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print(f"# {name} FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
        print(f"# {name} took {time.perf_counter() - started:.1f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
