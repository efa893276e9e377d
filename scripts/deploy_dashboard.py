"""Upload the built dashboard to the stage's S3 bucket, with a config.js naming the deployed API.

    python -m scripts.deploy_dashboard --bucket coldcall-prod-dashboard \\
        --api-url https://abc123.execute-api.us-east-1.amazonaws.com/api [--build] [--prune]

Every object gets its Content-Type and Cache-Control: hashed files under assets/ are cached for
a year (immutable), index.html and config.js are `no-cache` (revalidated on every load), so a
deploy is visible at once and never serves a page naming assets that are not there yet:
assets go up first, config.js next, index.html last. `--prune` then deletes objects under the
prefix that this build does not have (left alone by default, so pages opened before the deploy
keep their assets). Usable on its own or from the deploy flow (`upload_dashboard(...)`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scripts import dashboard_build


@dataclass(frozen=True)
class Upload:
    key: str
    content_type: str
    cache_control: str
    path: Path | None = None  # None: the body is generated (config.js)
    body: bytes | None = None

    def read(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.path is not None  # plan() gives every upload a path or a body
        return self.path.read_bytes()


def _rank(relative: str) -> int:
    if relative == "index.html":
        return 2
    if relative == "config.js":
        return 1
    return 0


def plan(dist: Path, api_url: str, prefix: str = "") -> list[Upload]:
    """What to upload, in upload order; config.js is written for `api_url`, never copied."""
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(f"{dist} has no index.html: build the dashboard first (--build)")
    base = prefix.strip("/")
    files = sorted((p.relative_to(dist).as_posix(), p) for p in dist.rglob("*") if p.is_file())
    uploads: list[Upload] = []
    for relative, path in files:
        if relative == "config.js" or relative.startswith("."):
            continue
        uploads.append(
            Upload(
                key=f"{base}/{relative}" if base else relative,
                content_type=dashboard_build.content_type(relative),
                cache_control=dashboard_build.cache_control(relative),
                path=path,
            )
        )
    uploads.append(
        Upload(
            key=f"{base}/config.js" if base else "config.js",
            content_type=dashboard_build.content_type("config.js"),
            cache_control=dashboard_build.cache_control("config.js"),
            body=dashboard_build.config_js(api_url).encode(),
        )
    )
    uploads.sort(key=lambda u: _rank(u.key.rsplit("/", 1)[-1] if base else u.key))
    return uploads


def _check_api_url(api_url: str) -> str:
    parsed = urlparse(api_url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise ValueError(f"--api-url must be an absolute http(s) URL, got {api_url!r}")
    return api_url.rstrip("/")


def deploy(
    s3: Any,
    bucket: str,
    api_url: str,
    dist: Path,
    *,
    prefix: str = "",
    prune: bool = False,
    log: Callable[[str], None] = print,
) -> list[str]:
    """Upload the build to s3://bucket/prefix; returns the keys written."""
    uploads = plan(dist, _check_api_url(api_url), prefix)
    for up in uploads:
        s3.put_object(
            Bucket=bucket,
            Key=up.key,
            Body=up.read(),
            ContentType=up.content_type,
            CacheControl=up.cache_control,
        )
    keys = [u.key for u in uploads]
    log(f"uploaded {len(keys)} files to s3://{bucket}/{prefix.strip('/')}")
    if prune:
        removed = _prune(s3, bucket, prefix, set(keys))
        log(f"removed {len(removed)} objects this build does not have")
    return keys


def upload_dashboard(
    bucket: str,
    api_base: str,
    region: str | None = None,
    *,
    build: bool = True,
    prune: bool = False,
    log: Callable[[str], None] = print,
) -> list[str]:
    """The deploy flow's entry point (`scripts/deploy.py` calls it with the stack's bucket and
    the API base the dashboard should use): build the dashboard, then upload it."""
    import boto3

    dist = dashboard_build.build(log=log) if build else dashboard_build.dist_dir()
    s3 = boto3.client("s3", region_name=region)
    return deploy(s3, bucket, api_base, dist, prune=prune, log=log)


def _prune(s3: Any, bucket: str, prefix: str, keep: set[str]) -> list[str]:
    base = prefix.strip("/")
    stale: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{base}/" if base else ""):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in keep]
    for start in range(0, len(stale), 1000):
        chunk = stale[start : start + 1000]
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
        )
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.deploy_dashboard", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--bucket", required=True, help="the stage's dashboard bucket")
    parser.add_argument("--api-url", required=True, help="the deployed API base URL (with /api)")
    parser.add_argument("--build", action="store_true", help="build the dashboard first")
    parser.add_argument("--dist", type=Path, default=None, help="the build folder")
    parser.add_argument("--prefix", default="", help="a key prefix inside the bucket")
    parser.add_argument("--region", default=None, help="the bucket's region")
    parser.add_argument("--prune", action="store_true", help="delete objects not in this build")
    args = parser.parse_args(argv)

    import boto3

    try:
        dist = dashboard_build.build() if args.build else (args.dist or dashboard_build.dist_dir())
        s3 = boto3.client("s3", region_name=args.region)
        deploy(s3, args.bucket, args.api_url, dist, prefix=args.prefix, prune=args.prune)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"deploy_dashboard: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
