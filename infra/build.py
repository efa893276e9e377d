"""Generate a stage's CloudFormation and package the app with it.

    python -m infra.build --stage prod --out infra/build/prod          # templates + package
    python -m infra.build --stage prod --out infra/build/prod --no-package

Writes, under `--out`:

    infra.json        the generated template that Chalice merges (tables, dashboard, globals)
    data.json         the tables and the bucket alone (plain CloudFormation; moto deploys it)
    package/sam.json  `chalice package --merge-template infra.json`: the whole stack
    package/deployment.zip, package/layer-deployment.zip   the function and its dependencies

`chalice package` needs no AWS credentials, only a region and PyPI (it downloads wheels built
for Lambda's platform). The output is the same for the same inputs, which keeps CloudFormation
updates to what really changed.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.template import ROOT, StageConfig, data_template, load_stage, merge_template


@dataclass(frozen=True)
class Package:
    """Where one stage's build lives."""

    out: Path

    @property
    def merge_template(self) -> Path:
        return self.out / "infra.json"

    @property
    def data_template(self) -> Path:
        return self.out / "data.json"

    @property
    def dir(self) -> Path:
        return self.out / "package"

    @property
    def template(self) -> Path:
        return self.dir / "sam.json"

    @property
    def function_zip(self) -> Path:
        return self.dir / "deployment.zip"

    @property
    def layer_zip(self) -> Path:
        return self.dir / "layer-deployment.zip"

    def load_template(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.template.read_text())
        return loaded


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_templates(cfg: StageConfig, out: Path) -> Package:
    pkg = Package(out)
    write_json(pkg.merge_template, merge_template(cfg))
    write_json(pkg.data_template, data_template(cfg))
    return pkg


class PackagingError(RuntimeError):
    """`chalice package` failed; the message carries its output."""


def chalice_package(
    cfg: StageConfig,
    pkg: Package,
    *,
    project_dir: Path = ROOT,
    region: str | None = None,
    env: dict[str, str] | None = None,
) -> Package:
    """Run `chalice package` for the stage with the generated merge template."""
    if pkg.dir.exists():
        shutil.rmtree(pkg.dir)
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice)] if chalice.exists() else [sys.executable, "-m", "chalice.cli"]
    run_env = {**os.environ, **(env or {})}
    run_env["AWS_DEFAULT_REGION"] = (
        region or run_env.get("AWS_DEFAULT_REGION") or run_env.get("AWS_REGION") or "us-east-1"
    )
    argv = [
        *command,
        "package",
        "--stage",
        cfg.stage,
        "--merge-template",
        str(pkg.merge_template.resolve()),
        str(pkg.dir.resolve()),
    ]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=project_dir,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    # Chalice caches the dependency layer under .chalice/deployments/; two packagers at once (two
    # test workers on a fresh clone, two deploys) would read each other's half-written zip, or one
    # would delete the other's while it is being checked: one packager at a time per project
    deployments = project_dir / ".chalice" / "deployments"
    deployments.mkdir(parents=True, exist_ok=True)
    with open(deployments / ".package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run()
        if result.returncode != 0 and "is not a zip file" in result.stdout + result.stderr:
            # a cached layer zip is truncated (a package run killed mid-write): drop the cached
            # layers and build once more
            for stale in deployments.glob("*layer*.zip"):
                stale.unlink(missing_ok=True)
            if pkg.dir.exists():
                shutil.rmtree(pkg.dir)
            result = run()
    if result.returncode != 0:
        raise PackagingError(
            f"chalice package failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return pkg


def build(
    stage: str,
    out: Path,
    *,
    package: bool = True,
    region: str | None = None,
    project_dir: Path = ROOT,
) -> Package:
    cfg = load_stage(stage, project_dir)
    pkg = write_templates(cfg, out)
    if package:
        chalice_package(cfg, pkg, project_dir=project_dir, region=region)
    return pkg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, help="default: infra/build/<stage>")
    parser.add_argument("--region", help="default: AWS_REGION / AWS_DEFAULT_REGION / us-east-1")
    parser.add_argument("--no-package", action="store_true", help="templates only")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "infra" / "build" / args.stage
    try:
        pkg = build(args.stage, out, package=not args.no_package, region=args.region)
    except (ValueError, PackagingError) as exc:
        print(f"infra.build: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {pkg.merge_template} and {pkg.data_template}")
    if not args.no_package:
        print(f"packaged {pkg.template}, {pkg.function_zip.name}, {pkg.layer_zip.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
