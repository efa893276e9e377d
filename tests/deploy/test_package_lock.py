"""`chalice package` runs one at a time per project: two at once on a fresh clone (two test
workers, two deploys) shared Chalice's cached layer zip, and one deleted it while the other was
checking it."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from infra import build
from infra.template import load_stage


def test_two_packagers_at_once_run_one_after_the_other(tmp_path: Path, monkeypatch):
    running = 0
    overlapped = False
    lock = threading.Lock()

    def fake_run(argv, **kwargs):
        nonlocal running, overlapped
        with lock:
            running += 1
            overlapped = overlapped or running > 1
        time.sleep(0.2)
        with lock:
            running -= 1
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    cfg = load_stage("prod")
    errors: list[BaseException] = []

    def package(n: int) -> None:
        try:
            pkg = build.Package(tmp_path / f"out{n}")
            build.chalice_package(cfg, pkg, project_dir=tmp_path / "project", region="us-east-1")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=package, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert not overlapped
    assert (tmp_path / "project" / ".chalice" / "deployments" / ".package.lock").exists()


def test_a_truncated_cached_layer_is_dropped_and_built_once_more(tmp_path: Path, monkeypatch):
    deployments = tmp_path / "project" / ".chalice" / "deployments"
    deployments.mkdir(parents=True)
    (deployments / "managed-layer-abc-python3.11.zip").write_bytes(b"PK\x03")
    calls: list[bool] = []

    def fake_run(argv, **kwargs):
        calls.append((deployments / "managed-layer-abc-python3.11.zip").exists())
        if len(calls) == 1:
            return subprocess.CompletedProcess(argv, 2, "", "BadZipFile: File is not a zip file")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    build.chalice_package(
        load_stage("prod"),
        build.Package(tmp_path / "out"),
        project_dir=tmp_path / "project",
        region="us-east-1",
    )
    assert calls == [True, False]
