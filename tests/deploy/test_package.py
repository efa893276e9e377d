"""`chalice package` with the generated template: it runs, cfn-lint passes, the tables are
the models', the function zip is small, no secret value is anywhere in what would ship."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chalicelib.store.models import ALL_MODELS
from tests.deploy.conftest import CANARY_API_TOKEN, CANARY_TWILIO_TOKEN
from tests.deploy.test_template import model_shape, tables_by_name, template_shape

CANARIES = (CANARY_API_TOKEN.encode(), CANARY_TWILIO_TOKEN.encode())


def functions(template):
    return {
        name: res
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_passes_on_the_packaged_template(package_stage, stage):
    pkg = package_stage(stage)
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--", str(pkg.template)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_packaged_api_keeps_its_routes_and_answers_unknown_ones_with_a_404(prod_package):
    """The merge adds the gateway responses to the OpenAPI body Chalice generates (the body is
    what every deployment imports), without losing a route."""
    api = prod_package.load_template()["Resources"]["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    body = api["Properties"]["DefinitionBody"]
    assert "/leads" in body["paths"] and "/dashboard/stats" in body["paths"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)


def test_packaged_template_tables_equal_the_models(prod_package):
    tables = tables_by_name(prod_package.load_template())
    assert set(tables) == {f"coldcall-prod-{m.Meta.entity}" for m in ALL_MODELS}
    for model in ALL_MODELS:
        got = template_shape(tables[f"coldcall-prod-{model.Meta.entity}"])
        expected = model_shape(model)
        assert got["keys"] == expected["keys"]
        assert got["indexes"] == expected["indexes"]


def test_dependencies_ship_in_a_layer_and_the_function_zip_is_our_code(prod_package):
    template = prod_package.load_template()
    funcs = functions(template)
    assert set(funcs) == {"APIHandler", "StatsRollup"}
    for func in funcs.values():
        assert func["Properties"]["Layers"] == [{"Ref": "ManagedLayer"}]
    assert funcs["APIHandler"]["Properties"]["Timeout"] < 29  # API Gateway's limit
    with zipfile.ZipFile(prod_package.function_zip) as zf:
        tops = {name.split("/")[0] for name in zf.namelist()}
    assert "app.py" in tops and "chalicelib" in tops
    assert not tops & {"tests", "localdev", "scripts", "infra", "pynamodb", "twilio", "botocore"}
    with zipfile.ZipFile(prod_package.layer_zip) as zf:
        assert any(
            n.startswith("python/lib/python3.11/site-packages/pynamodb/") for n in zf.namelist()
        )
    assert prod_package.function_zip.stat().st_size < 2 * 1024 * 1024


def test_bench_reports_the_function_zip_in_mb(prod_package):
    from bench.package_size import zip_mb

    size = zip_mb(prod_package)
    assert size == round(prod_package.function_zip.stat().st_size / 1024 / 1024, 3)
    assert 0 < size < 2


def test_no_secret_value_in_the_template_the_zips_or_the_function_environment(prod_package):
    text = prod_package.template.read_bytes()
    for canary in CANARIES:
        assert canary not in text
    for archive in (prod_package.function_zip, prod_package.layer_zip):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                assert not any(c in data for c in CANARIES), (archive.name, name)
    template = json.loads(text)
    environments = [template["Globals"]["Function"]["Environment"]["Variables"]]
    environments += [
        f["Properties"].get("Environment", {}).get("Variables", {})
        for f in functions(template).values()
    ]
    for env in environments:
        assert "API_TOKEN" not in env and "TWILIO_AUTH_TOKEN" not in env
        assert env.get("API_TOKEN_SECRET", "ssm:").startswith("ssm:")
        assert env.get("TWILIO_AUTH_TOKEN_SECRET", "ssm:").startswith("ssm:")


def test_deployed_function_sees_references_and_the_public_url_parameter(prod_package):
    """SAM merges Globals into each function (local keys win); cfn-lint's implementation of
    that merge shows the environment the function will really have."""
    from cfnlint.template.transforms._sam_globals import merge_globals

    template = merge_globals(prod_package.load_template())
    for func in functions(template).values():  # the API and the scheduled rollup alike
        check_environment(func["Properties"]["Environment"]["Variables"])


def check_environment(env):
    assert env["STAGE"] == "prod" and env["APP_NAME"] == "coldcall"
    assert env["API_TOKEN_SECRET"] == "ssm:/coldcall/prod/api-token"
    assert env["TWILIO_AUTH_TOKEN_SECRET"] == "ssm:/coldcall/prod/twilio-auth-token"
    assert env["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    assert env["TWILIO_ACCOUNT_SID"] == {"Ref": "TwilioAccountSid"}
    assert env["RECORDINGS_BUCKET"] == {"Ref": "RecordingsBucket"}
    assert env["RECORD_CALLS"] == {"Ref": "RecordCalls"}
    assert env["COMPANY_NAME"] == {"Ref": "CompanyName"}
    assert "DASHBOARD_ORIGIN" not in env  # same origin through CloudFront: no CORS


def test_function_roles_are_least_privilege(prod_package):
    template = prod_package.load_template()
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        assert "ManagedPolicyArns" not in role["Properties"]
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                resources = statement["Resource"]
                for resource in resources if isinstance(resources, list) else [resources]:
                    assert resource != "*"
                    assert "coldcall-prod-" in resource or "/coldcall/prod/" in resource


def test_api_log_group_names_the_real_function(prod_package):
    """Chalice 1.34 writes `${ApiHandler}` here (no such resource); the merge fixes it."""
    template = prod_package.load_template()
    group = template["Resources"]["ApiHandlerLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${APIHandler}"}
    assert group["RetentionInDays"] == 30


def test_dry_run_plans_without_aws_and_prints_no_secret(prod_package, capsys, monkeypatch):
    from scripts import deploy

    def no_aws(*args, **kwargs):
        raise AssertionError("the dry run must not create AWS clients")

    monkeypatch.setattr("boto3.Session", no_aws)
    monkeypatch.setattr("boto3.client", no_aws)
    env = {"API_TOKEN": CANARY_API_TOKEN, "TWILIO_AUTH_TOKEN": CANARY_TWILIO_TOKEN}
    code = deploy.main(
        ["--stage", "prod", "--dry-run", "--package-dir", str(prod_package.out)], env=env
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "coldcall-prod" in out.out
    from chalicelib.store.models import ALL_MODELS

    assert f"{len(ALL_MODELS)} x AWS::DynamoDB::Table" in out.out
    assert "ssm:/coldcall/prod/api-token (from API_TOKEN)" in out.out
    assert "/api/twilio/sms/incoming" in out.out
    assert "A call comes in: Webhook, HTTP POST, https://" in out.out
    assert "/api/twilio/voice/incoming-status" in out.out
    assert "RecordCalls=(previous value, else 0)" in out.out
    assert "bucket coldcall-prod-recordings-<account>-us-east-1 (retained" in out.out
    assert CANARY_API_TOKEN not in out.out + out.err
    assert CANARY_TWILIO_TOKEN not in out.out + out.err


def test_the_packaged_api_answers_call_audio_as_binary(prod_package):
    """GET /calls/{id}/recording answers `audio/wav`: the app base64-encodes it (Chalice's
    binary types) and API Gateway decodes it for a request whose Accept is `audio/wav` only
    when the API lists the type in its binary media types (in the OpenAPI body Chalice
    generates, what every deployment imports)."""
    import base64

    from chalice import Response

    from app import app

    assert "audio/wav" in app.api.binary_types
    template = prod_package.load_template()
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert "audio/wav" in body["x-amazon-apigateway-binary-media-types"]
    assert "get" in body["paths"]["/calls/{call_id}/recording"]
    assert "post" in body["paths"]["/twilio/voice/incoming"]
    assert "post" in body["paths"]["/twilio/voice/incoming-status"]
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x00\xff"
    answer = Response(body=wav, headers={"Content-Type": "audio/wav"}).to_dict(app.api.binary_types)
    assert answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == wav


def test_the_api_role_reaches_the_stages_recordings(prod_package):
    template = prod_package.load_template()
    statements = {
        statement.get("Sid"): statement
        for policy in template["Resources"]["ApiHandlerRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    }
    objects = statements["StageRecordings"]
    assert sorted(objects["Action"]) == ["s3:GetObject", "s3:PutObject"]
    assert objects["Resource"] == "arn:aws:s3:::coldcall-prod-recordings-*/recordings/*"
    assert statements["StageRecordingsMissingIs404"]["Action"] == "s3:ListBucket"
