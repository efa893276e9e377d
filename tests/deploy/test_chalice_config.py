"""`.chalice/config.json` and the per-stage IAM policies: least privilege, secrets by
reference, a dev stage that `make dev` can run without being overridden."""

from __future__ import annotations

import ast
import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.config import Settings
from chalicelib.store.models import ALL_MODELS
from infra.template import load_stage

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
STAGES = ["dev", "prod"]


def policy(stage: str) -> dict[str, Any]:
    name = CONFIG["stages"][stage]["iam_policy_file"]
    loaded: dict[str, Any] = json.loads((ROOT / ".chalice" / name).read_text())
    return loaded


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(stage: str, action: str, arn: str) -> bool:
    for statement in policy(stage)["Statement"]:
        if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
            continue
        if any(fnmatch.fnmatchcase(arn, pattern) for pattern in as_list(statement["Resource"])):
            return True
    return False


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"


def test_both_stages_exist_with_a_dependency_layer_and_no_generated_policy():
    assert set(STAGES) <= set(CONFIG["stages"])
    assert CONFIG["automatic_layer"] is True
    assert CONFIG["autogen_policy"] is False


def test_api_handler_ends_before_api_gateways_29_seconds():
    timeout = CONFIG["lambda_functions"]["api_handler"]["lambda_timeout"]
    assert timeout < 29
    # 128 MB (Chalice's default) gives a sliver of a CPU: imports alone take seconds cold.
    assert CONFIG["lambda_memory_size"] >= 1024


@pytest.mark.parametrize("stage", STAGES)
def test_policy_has_no_wildcard_resource_or_action(stage):
    for statement in policy(stage)["Statement"]:
        for resource in as_list(statement["Resource"]):
            assert resource != "*"
            assert f"-{stage}-" in resource or f"/{stage}/" in resource, resource
        for action in as_list(statement["Action"]):
            assert "*" not in action, action


@pytest.mark.parametrize("stage", STAGES)
def test_policy_reaches_every_table_and_index_of_its_stage_only(stage):
    other = next(s for s in STAGES if s != stage)
    for model in ALL_MODELS:
        mine = Settings(stage=stage).table_name(model.Meta.entity)
        theirs = Settings(stage=other).table_name(model.Meta.entity)
        for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"):
            assert allowed(stage, action, table_arn(mine)), (action, mine)
            assert not allowed(stage, action, table_arn(theirs)), (action, theirs)
        for index in model._indexes:
            assert allowed(stage, "dynamodb:Query", f"{table_arn(mine)}/index/{index}")
            assert not allowed(stage, "dynamodb:Query", f"{table_arn(theirs)}/index/{index}")
    assert not allowed(stage, "dynamodb:DeleteTable", table_arn(f"coldcall-{stage}-leads"))


@pytest.mark.parametrize("stage", STAGES)
def test_policy_reads_the_stages_secrets_and_not_the_other_stages(stage):
    other = next(s for s in STAGES if s != stage)
    for reference in load_stage(stage).secret_references().values():
        kind, _, name = reference.partition(":")
        assert kind == "ssm"
        arn = f"arn:aws:ssm:us-east-1:123456789012:parameter{name}"
        assert allowed(stage, "ssm:GetParameter", arn), arn
        assert not allowed(stage, "ssm:GetParameter", arn.replace(f"/{stage}/", f"/{other}/"))
    assert not allowed(
        stage, "ssm:PutParameter", f"arn:aws:ssm:us-east-1:1:parameter/coldcall/{stage}/x"
    )


@pytest.mark.parametrize("stage", STAGES)
def test_policy_writes_only_the_stages_function_logs(stage):
    group = (
        f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/coldcall-{stage}-APIHandler-X1"
    )
    assert allowed(stage, "logs:PutLogEvents", f"{group}:log-stream:2026/11/23/abc")
    assert not allowed(stage, "logs:PutLogEvents", group.replace(f"-{stage}-", "-other-"))


def test_no_stage_carries_a_secret_value():
    for name, stage in CONFIG["stages"].items():
        env = {**CONFIG.get("environment_variables", {}), **stage.get("environment_variables", {})}
        for forbidden in ("API_TOKEN", "TWILIO_AUTH_TOKEN", "AWS_SECRET_ACCESS_KEY"):
            assert forbidden not in env, (name, forbidden)
        for var, value in env.items():
            if var.endswith("_SECRET"):
                assert value.startswith(("ssm:", "secretsmanager:")), (name, var)


def make_dev_variables() -> set[str]:
    """The names `make dev` (localdev/dev.py, `env = {...}` in main) passes to chalice local."""
    tree = ast.parse((ROOT / "localdev" / "dev.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "env" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            names |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    return names


def test_dev_stage_overrides_nothing_make_dev_sets():
    """`chalice local --stage dev` puts the dev stage's variables over the environment
    `make dev` gives it; setting any of those here would silently win over make dev."""
    passed = make_dev_variables()
    assert {"STAGE", "DYNAMODB_ENDPOINT", "API_TOKEN", "PUBLIC_BASE_URL"} <= passed
    dev = {
        **CONFIG.get("environment_variables", {}),
        **CONFIG["stages"]["dev"].get("environment_variables", {}),
    }
    assert not (set(dev) & passed), set(dev) & passed
    # Nor anything that would switch a local run to AWS secrets.
    assert not any(var.endswith("_SECRET") for var in dev)


@pytest.mark.parametrize("stage", STAGES)
def test_policy_puts_and_gets_only_the_stages_exports(stage):
    other = next(s for s in STAGES if s != stage)
    mine = f"arn:aws:s3:::coldcall-{stage}-exports-123456789012-us-east-1/exports/x.csv"
    for action in ("s3:PutObject", "s3:GetObject"):
        assert allowed(stage, action, mine)
        assert not allowed(stage, action, mine.replace(f"-{stage}-", f"-{other}-"))
    assert not allowed(stage, "s3:DeleteBucket", mine)
    assert not allowed(stage, "s3:PutObject", "arn:aws:s3:::some-dashboard-bucket/index.html")


@pytest.mark.parametrize("stage", STAGES)
def test_policy_puts_and_gets_only_the_stages_recordings(stage):
    """The app's keys (services/recordings.key_for) in the bucket the template names, and no
    other stage's; nothing deleted or listed beyond the bucket itself."""
    from chalicelib.services.recordings import key_for
    from infra.template import recordings_bucket_name

    other = next(s for s in STAGES if s != stage)
    name = recordings_bucket_name(load_stage(stage))["Fn::Sub"]
    bucket = name.replace("${AWS::AccountId}", "123456789012").replace(
        "${AWS::Region}", "us-east-1"
    )
    mine = f"arn:aws:s3:::{bucket}/{key_for('c1', 'RE' + '0' * 32)}"
    for action in ("s3:PutObject", "s3:GetObject"):
        assert allowed(stage, action, mine), (action, mine)
        assert not allowed(stage, action, mine.replace(f"-{stage}-", f"-{other}-"))
        assert not allowed(stage, action, f"arn:aws:s3:::{bucket}/other/x.wav")
    for action in ("s3:DeleteObject", "s3:DeleteBucket", "s3:PutBucketPolicy"):
        assert not allowed(stage, action, mine)
        assert not allowed(stage, action, f"arn:aws:s3:::{bucket}")
    # ListBucket on the bucket: a recording S3 deleted after the retention is then NoSuchKey
    # (the API's 404), not AccessDenied (S3's answer for a missing key without it: a 500)
    assert allowed(stage, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
    assert not allowed(stage, "s3:ListBucket", f"arn:aws:s3:::coldcall-{other}-recordings-1-r")
    assert not allowed(stage, "s3:ListBucket", f"arn:aws:s3:::coldcall-{stage}-exports-1-r")
    # and only in the stack's own account
    for statement in policy(stage)["Statement"]:
        if statement["Sid"].startswith("StageRecordings"):
            assert statement["Condition"] == {
                "StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}
            }
