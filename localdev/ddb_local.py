"""DynamoDB Local: fetched once from the npm package `amplify-dynamodb-simulator` (only its
`package/emulator/` folder, which bundles AWS's DynamoDBLocal.jar), then run with Java.

    python -m localdev.ddb_local ensure     # fetch into .cache/dynamodb-local if missing
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PACKAGE = "amplify-dynamodb-simulator@2.9.30"
ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DDB_LOCAL_DIR", ROOT / ".cache" / "dynamodb-local"))


def jar_path() -> Path:
    return CACHE / "DynamoDBLocal.jar"


def java_available() -> bool:
    return shutil.which("java") is not None


def ensure() -> Path:
    """Return the emulator folder, fetching it with `npm pack` the first time."""
    if jar_path().exists():
        return CACHE
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch DynamoDB Local (the npm package)")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"fetching DynamoDB Local ({PACKAGE}) ...", file=sys.stderr, flush=True)
        out = subprocess.run(
            [npm, "pack", PACKAGE, "--silent"],
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
        tgz = Path(tmp) / out.stdout.strip().splitlines()[-1]
        staging = Path(tmp) / "unpacked"
        with tarfile.open(tgz) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/emulator/")]
            tar.extractall(staging, members=members, filter="data")
        target_tmp = CACHE.with_name(CACHE.name + ".partial")
        shutil.rmtree(target_tmp, ignore_errors=True)
        shutil.move(str(staging / "package" / "emulator"), target_tmp)
        target_tmp.rename(CACHE)
    return CACHE


def command(data_dir: Path | None, port: int) -> list[str]:
    """The java command line; `data_dir` None runs in memory."""
    folder = ensure()
    cmd = [
        "java",
        f"-Djava.library.path={folder / 'DynamoDBLocal_lib'}",
        "-jar",
        str(folder / "DynamoDBLocal.jar"),
        "-sharedDb",
        "-port",
        str(port),
    ]
    if data_dir is None:
        cmd.append("-inMemory")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        cmd += ["-dbPath", str(data_dir)]
    return cmd


def start(
    data_dir: Path | None, port: int, log_path: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start DynamoDB Local on 127.0.0.1:`port` (its own process group) and wait for it."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        command(data_dir, port),
        cwd=data_dir or CACHE,  # it writes a metadata file into its working directory
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until_up(f"http://127.0.0.1:{port}", proc)
    return proc


def wait_until_up(
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited with code {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (local URL)
            return
        except urllib.error.HTTPError:
            return  # it answers (400 to a bare GET): it is up
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"DynamoDB Local did not answer on {url}")


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        if not java_available():
            print("Java is missing: DynamoDB Local not fetched (make dev runs moto in memory)")
            sys.exit(0)
        print(ensure())
    else:
        print(__doc__)
        sys.exit(2)
