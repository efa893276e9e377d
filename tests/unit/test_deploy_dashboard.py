"""The dashboard deploy command against moto's S3: content types, cache headers, config.js with
the deployed API URL, upload order and pruning."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import dashboard_build, deploy_dashboard

API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api"
BUCKET = "coldcall-test-dashboard"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as build.mjs lays it out (the real build is exercised by the browser tests)."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><link rel="stylesheet" href="assets/app-0123abcd.css">'
        '<script src="config.js"></script><script type="module" src="assets/app-ABCD1234.js">'
        "</script>"
    )
    (root / "config.js").write_text('window.COLDCALL_CONFIG = {apiBase: "http://127.0.0.1:8000"};')
    (root / "favicon.svg").write_text("<svg/>")
    (root / "assets" / "app-ABCD1234.js").write_text("console.log(1)")
    (root / "assets" / "app-ABCD1234.js.map").write_text("{}")
    (root / "assets" / "app-0123abcd.css").write_text("body{}")
    return root


@pytest.fixture
def s3(aws: None):
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def head(s3, key: str) -> dict:
    return s3.head_object(Bucket=BUCKET, Key=key)


def test_every_file_gets_its_content_type_and_cache_policy(s3, dist: Path) -> None:
    code = deploy_dashboard.main(
        ["--bucket", BUCKET, "--api-url", API_URL, "--dist", str(dist), "--region", "us-east-1"]
    )

    assert code == 0
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "config.js": ("text/javascript; charset=utf-8", "no-cache"),
        "favicon.svg": ("image/svg+xml", "public, max-age=300"),
        "assets/app-ABCD1234.js": (
            "text/javascript; charset=utf-8",
            IMMUTABLE,
        ),
        "assets/app-ABCD1234.js.map": ("application/json", "public, max-age=31536000, immutable"),
        "assets/app-0123abcd.css": (
            "text/css; charset=utf-8",
            IMMUTABLE,
        ),
    }
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert listed == set(expected)
    for key, (ctype, cache) in expected.items():
        meta = head(s3, key)
        assert (meta["ContentType"], meta["CacheControl"]) == (ctype, cache), key


def test_config_js_names_the_deployed_api_not_the_local_one(s3, dist: Path) -> None:
    deploy_dashboard.deploy(s3, BUCKET, API_URL + "/", dist, log=lambda _m: None)

    body = s3.get_object(Bucket=BUCKET, Key="config.js")["Body"].read().decode()
    assert body == f'window.COLDCALL_CONFIG = {{"apiBase": "{API_URL}"}};\n'
    assert "127.0.0.1" not in body


def test_index_html_goes_last_and_config_js_just_before_it(dist: Path) -> None:
    keys = [u.key for u in deploy_dashboard.plan(dist, API_URL)]

    assert keys[-2:] == ["config.js", "index.html"]
    assert all(k.startswith("assets/") or k == "favicon.svg" for k in keys[:-2])


def test_a_prefix_puts_everything_under_it(s3, dist: Path) -> None:
    keys = deploy_dashboard.deploy(s3, BUCKET, API_URL, dist, prefix="/web/", log=lambda _m: None)

    assert all(k.startswith("web/") for k in keys)
    assert head(s3, "web/index.html")["CacheControl"] == "no-cache"
    assert head(s3, "web/assets/app-ABCD1234.js")["CacheControl"].endswith("immutable")


def test_old_assets_stay_unless_pruned(s3, dist: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key="assets/app-OLD00000.js", Body=b"old")

    deploy_dashboard.deploy(s3, BUCKET, API_URL, dist, log=lambda _m: None)
    assert head(s3, "assets/app-OLD00000.js")

    deploy_dashboard.deploy(s3, BUCKET, API_URL, dist, prune=True, log=lambda _m: None)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "assets/app-OLD00000.js" not in keys
    assert "index.html" in keys


def test_a_missing_build_or_a_bad_api_url_is_an_error_not_a_traceback(
    s3, tmp_path: Path, dist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    assert deploy_dashboard.main(["--bucket", BUCKET, "--api-url", API_URL, "--dist", str(empty)])
    assert "build the dashboard first" in capsys.readouterr().err
    assert deploy_dashboard.main(["--bucket", BUCKET, "--api-url", "abc", "--dist", str(dist)])
    assert "absolute http(s) URL" in capsys.readouterr().err
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_config_js_escapes_whatever_url_it_is_given() -> None:
    text = dashboard_build.config_js('https://x.test/api";alert(1);"')

    assert text == 'window.COLDCALL_CONFIG = {"apiBase": "https://x.test/api\\";alert(1);\\""};\n'


def test_the_deploy_flow_entry_point_builds_then_uploads(s3, dist: Path, monkeypatch) -> None:
    built: list[bool] = []

    def fake_build(log=print) -> Path:
        built.append(True)
        return dist

    monkeypatch.setattr(dashboard_build, "build", fake_build)
    keys = deploy_dashboard.upload_dashboard(
        BUCKET, "https://d1.example/api", "us-east-1", log=lambda _m: None
    )

    assert built == [True]
    assert keys[-1] == "index.html"
    body = s3.get_object(Bucket=BUCKET, Key="config.js")["Body"].read().decode()
    assert '"apiBase": "https://d1.example/api"' in body
