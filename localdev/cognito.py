"""The local Cognito: the npm package `cognito-local` (pinned in
localdev/cognito-local/package.json), installed with `npm ci` like the dashboard's packages and
run with Node on 127.0.0.1.

    python -m localdev.cognito ensure      # install the package if missing or outdated

`make dev` starts it with its data under `.data/cognito` (it writes `.cognito/db/*.json`
relative to its working directory, so that directory is its cwd, kept across restarts), then
`ensure_pool` finds or creates the user pool `{APP_NAME}-{STAGE}` and its app client by name and
returns the `COGNITO_*` values the API process needs.

cognito-local reads its listening address from the environment (`HOST`, default `localhost`;
`PORT`, default 9229) and stamps `iss` as `{TokenConfig.IssuerDomain}/{poolId}`, where
IssuerDomain defaults to `http://{HOST}:{PORT}`. We set it explicitly in its
`.cognito/config.json`, so the issuer handed to the API is exactly what the tokens carry. Its
JWKS is served at `{issuer}/.well-known/jwks.json`. Its signing key ships inside the npm
package (anyone can sign tokens for it): never point a deployed app at it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "localdev" / "cognito-local"
LOCK = PACKAGE_DIR / "package-lock.json"
STAMP = PACKAGE_DIR / "node_modules" / ".coldcall-lock-sha256"
START_JS = PACKAGE_DIR / "node_modules" / "cognito-local" / "lib" / "bin" / "start.js"
HOST = "127.0.0.1"
DEFAULT_PORT = 9229
REGION = "us-east-1"

# What the stack's pool and client say (infra/template.py), as far as the emulator takes it.
PASSWORD_POLICY: dict[str, Any] = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
    "TemporaryPasswordValidityDays": 7,
}
AUTH_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def pool_name(app_name: str | None = None, stage: str | None = None) -> str:
    """`{APP_NAME}-{STAGE}` (default `coldcall-dev`), the name of the stack's pool too."""
    app = app_name or os.environ.get("APP_NAME") or "coldcall"
    return f"{app}-{stage or os.environ.get('STAGE') or 'dev'}"


def client_name(pool: str) -> str:
    return f"{pool}-api"


# ---------------------------------------------------------------- install


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install cognito-local (install Node.js 20 with npm)")
    return npm


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("Node.js is needed to run cognito-local (install Node.js 20)")
    return found


def _lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def deps_current() -> bool:
    """node_modules was installed by `npm ci` from the current package-lock.json."""
    return STAMP.exists() and STAMP.read_text().strip() == _lock_digest() and START_JS.exists()


@contextmanager
def _exclusive() -> Iterator[None]:
    """One install at a time across processes (test workers on a fresh clone)."""
    import fcntl

    PACKAGE_DIR.mkdir(parents=True, exist_ok=True)
    with open(PACKAGE_DIR / ".install.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_deps(log: Callable[[str], None] = print) -> Path:
    """`npm ci` in localdev/cognito-local when node_modules is missing or older than the lock file;
    returns the start script."""
    if deps_current():
        return START_JS
    with _exclusive():
        if not deps_current():
            log("installing cognito-local (npm ci in localdev/cognito-local) ...")
            subprocess.run(
                [_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PACKAGE_DIR,
                check=True,
            )
            STAMP.write_text(_lock_digest() + "\n")
    return START_JS


# ---------------------------------------------------------------- run


def issuer_domain(port: int) -> str:
    return f"http://{HOST}:{port}"


def issuer(port: int, pool_id: str) -> str:
    """What cognito-local puts in `iss` (and serves the JWKS under)."""
    return f"{issuer_domain(port)}/{pool_id}"


def prepare_data_dir(data_dir: Path, port: int) -> None:
    """Create the data folder and pin the issuer in `.cognito/config.json` (other settings a
    developer put there are kept)."""
    config_path = data_dir / ".cognito" / "config.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {}
    if config_path.exists():
        try:
            loaded = json.loads(config_path.read_text() or "{}")
            if isinstance(loaded, dict):
                config = loaded
        except ValueError:
            pass
    token_config = config.get("TokenConfig")
    if not isinstance(token_config, dict):
        token_config = {}
    token_config["IssuerDomain"] = issuer_domain(port)
    config["TokenConfig"] = token_config
    config_path.write_text(json.dumps(config, indent=2) + "\n")


def command() -> list[str]:
    return [node(), str(ensure_deps(log=lambda m: print(m, file=sys.stderr, flush=True)))]


def environment(port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The emulator's environment: listen on 127.0.0.1:`port` only."""
    env = dict(os.environ if base is None else base)
    env.pop("DEBUG", None)  # DEBUG=anything turns its log to debug level
    env.pop("COGNITO_LOCAL_DEVMODE", None)
    env.update({"HOST": HOST, "PORT": str(port), "NODE_NO_WARNINGS": "1"})
    return env


def start(data_dir: Path, port: int, log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """Start cognito-local on 127.0.0.1:`port` in its own process group, its data in
    `data_dir`, and wait until it answers."""
    argv = command()
    prepare_data_dir(data_dir, port)
    with open(log_path or os.devnull, "ab") as log:
        proc = subprocess.Popen(
            argv,
            cwd=data_dir,
            env=environment(port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_up(endpoint(port), proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop the emulator's process group (started with start_new_session)."""
    import signal

    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def endpoint(port: int) -> str:
    return f"http://{HOST}:{port}"


def wait_until_up(url: str, proc: subprocess.Popen[Any] | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"cognito-local exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):  # noqa: S310 (local URL)
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"cognito-local did not answer on {url}")


# ---------------------------------------------------------------- the pool and the client


@dataclass(frozen=True)
class LocalPool:
    """The emulator's pool and app client, as the API process sees them."""

    endpoint: str
    pool_id: str
    client_id: str
    issuer: str
    port: int

    def env(self) -> dict[str, str]:
        return {
            "COGNITO_ENDPOINT": self.endpoint,
            "COGNITO_USER_POOL_ID": self.pool_id,
            "COGNITO_CLIENT_ID": self.client_id,
            "COGNITO_ISSUER": self.issuer,
        }


def client(url: str) -> Any:
    """A boto3 cognito-idp client for the emulator (it accepts any credentials)."""
    import boto3

    return boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _find_pool(idp: Any, name: str) -> str | None:
    kwargs: dict[str, Any] = {"MaxResults": 60}
    while True:
        page = idp.list_user_pools(**kwargs)
        for pool in page.get("UserPools", []):
            if pool.get("Name") == name:
                return str(pool["Id"])
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def _find_client(idp: Any, pool_id: str, name: str) -> str | None:
    kwargs: dict[str, Any] = {"UserPoolId": pool_id, "MaxResults": 60}
    while True:
        page = idp.list_user_pool_clients(**kwargs)
        for found in page.get("UserPoolClients", []):
            if found.get("ClientName") == name:
                return str(found["ClientId"])
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def ensure_pool(url: str, port: int, name: str | None = None) -> LocalPool:
    """Find the pool `name` and its client by name, or create them as the stack does."""
    name = name or pool_name()
    idp = client(url)
    pool_id = _find_pool(idp, name)
    if pool_id is None:
        pool_id = idp.create_user_pool(
            PoolName=name,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Policies={"PasswordPolicy": PASSWORD_POLICY},
        )["UserPool"]["Id"]
    assert pool_id is not None
    client_id = _find_client(idp, pool_id, client_name(name))
    if client_id is None:
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=client_name(name),
            GenerateSecret=False,
            ExplicitAuthFlows=AUTH_FLOWS,
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
            AccessTokenValidity=60,
            IdTokenValidity=60,
            RefreshTokenValidity=30,
            TokenValidityUnits={
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
        )["UserPoolClient"]["ClientId"]
    assert client_id is not None
    return LocalPool(url, pool_id, client_id, issuer(port, pool_id), port)


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        try:
            print(ensure_deps(log=lambda m: print(m, file=sys.stderr, flush=True)))
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"cognito-local could not be installed: {exc}", file=sys.stderr)
            sys.exit(1)
    else:
        print(__doc__)
        sys.exit(2)
