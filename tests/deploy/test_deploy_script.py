"""The deploy script's steps that run without CloudFormation's SAM transform: secrets into
SSM (moto), artifacts and code locations, the dashboard hook, the Twilio number."""

from __future__ import annotations

import json
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.build import Package
from infra.template import StageConfig
from scripts import deploy

CFG = StageConfig("coldcall", "prod")


def stored(session: Any, name: str) -> str:
    ssm = session.client("ssm")
    return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def no_prompt(_: str) -> str:
    raise AssertionError("must not prompt")


def test_secrets_from_the_environment_are_stored_as_securestrings(session):
    env = {"API_TOKEN": "api-value-1", "TWILIO_AUTH_TOKEN": "tw-value-1"}
    lines = deploy.ensure_secrets(session, CFG, env, no_prompt)
    assert stored(session, "/coldcall/prod/api-token") == "api-value-1"
    assert stored(session, "/coldcall/prod/twilio-auth-token") == "tw-value-1"
    param = session.client("ssm").get_parameter(Name="/coldcall/prod/api-token")["Parameter"]
    assert param["Type"] == "SecureString"
    assert not any("value-1" in line for line in lines)


def test_stored_secrets_are_kept_and_a_missing_api_token_is_generated(session):
    ssm = session.client("ssm")
    ssm.put_parameter(Name="/coldcall/prod/twilio-auth-token", Value="kept", Type="SecureString")
    lines = deploy.ensure_secrets(session, CFG, {}, no_prompt)
    assert stored(session, "/coldcall/prod/twilio-auth-token") == "kept"
    generated = stored(session, "/coldcall/prod/api-token")
    assert len(generated) >= 32
    assert not any(generated in line for line in lines)
    assert deploy.ensure_secrets(session, CFG, {}, no_prompt)  # idempotent
    assert stored(session, "/coldcall/prod/api-token") == generated


def test_a_missing_twilio_token_is_asked_for_or_refused_without_a_terminal(session):
    with pytest.raises(deploy.DeployError, match="TWILIO_AUTH_TOKEN"):
        deploy.ensure_secrets(session, CFG, {}, None)
    deploy.ensure_secrets(session, CFG, {}, lambda _: "typed-in")
    assert stored(session, "/coldcall/prod/twilio-auth-token") == "typed-in"


def make_package(tmp_path: Path) -> Package:
    pkg = Package(tmp_path)
    pkg.dir.mkdir(parents=True)
    for path in (pkg.function_zip, pkg.layer_zip):
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("x.txt", path.name)
    template = {
        "Resources": {
            "Layer": {
                "Type": "AWS::Serverless::LayerVersion",
                "Properties": {"ContentUri": "./layer-deployment.zip"},
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "./deployment.zip"},
            },
        }
    }
    pkg.template.write_text(json.dumps(template))
    return pkg


def test_package_upload_points_the_template_at_content_addressed_s3_objects(session, tmp_path):
    s3 = session.client("s3")
    deploy.ensure_artifacts_bucket(s3, "arts", "us-east-1")
    pkg = make_package(tmp_path)
    url = deploy.upload_package(s3, "arts", "coldcall-prod", pkg, "us-east-1")
    assert url.startswith("https://arts.s3.us-east-1.amazonaws.com/coldcall-prod/template-")
    key = url.split(".amazonaws.com/", 1)[1]
    template = json.loads(s3.get_object(Bucket="arts", Key=key)["Body"].read())
    code = template["Resources"]["Fn"]["Properties"]["CodeUri"]
    layer = template["Resources"]["Layer"]["Properties"]["ContentUri"]
    assert code.startswith("s3://arts/coldcall-prod/deployment-")
    assert layer.startswith("s3://arts/coldcall-prod/layer-deployment-")
    # Same content, same key: an unchanged layer is not published again.
    assert deploy.upload_package(s3, "arts", "coldcall-prod", pkg, "us-east-1") == url


def test_artifacts_bucket_is_private(session):
    s3 = session.client("s3")
    assert deploy.ensure_artifacts_bucket(s3, "arts-eu", "eu-west-1") is True
    block = s3.get_public_access_block(Bucket="arts-eu")["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_dashboard_upload_calls_the_dashboard_script_with_what_it_accepts(monkeypatch):
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("scripts.deploy_dashboard")

    def upload_dashboard(bucket: str, api_base: str, region: str | None = None) -> None:
        calls.append({"bucket": bucket, "api_base": api_base, "region": region})

    module.upload_dashboard = upload_dashboard  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "scripts.deploy_dashboard", module)
    lines: list[str] = []
    assert deploy.upload_dashboard(
        "b1", "https://d1.example/api", "us-east-1", "prod", lines.append
    )
    assert calls == [{"bucket": "b1", "api_base": "https://d1.example/api", "region": "us-east-1"}]


def test_dashboard_upload_says_what_to_run_when_the_script_is_missing(monkeypatch):
    import importlib

    real = importlib.import_module

    def missing(name: str, *args: Any) -> Any:
        if name == "scripts.deploy_dashboard":
            raise ModuleNotFoundError(name=name)
        return real(name, *args)

    monkeypatch.setattr(deploy.importlib, "import_module", missing)
    lines: list[str] = []
    assert (
        deploy.upload_dashboard("b1", "https://d1.example/api", "us-east-1", "prod", lines.append)
        is False
    )
    assert "s3://b1/" in "\n".join(lines)


class FakeNumber:
    def __init__(self, phone_number: str) -> None:
        self.phone_number = phone_number
        self.updates: list[dict[str, str]] = []

    def update(self, **kwargs: str) -> None:
        self.updates.append(kwargs)


class FakeNumbers:
    def __init__(self, numbers: list[FakeNumber]) -> None:
        self.numbers = numbers

    def list(self, phone_number: str | None = None, limit: int | None = None) -> list[FakeNumber]:
        return [n for n in self.numbers if phone_number in (None, n.phone_number)]


class FakeTwilio:
    def __init__(self, *numbers: str) -> None:
        self.incoming_phone_numbers = FakeNumbers([FakeNumber(n) for n in numbers])


def test_configure_twilio_sets_the_sms_url_on_the_only_number():
    client = FakeTwilio("+15005550006")
    url = "https://abc.execute-api.us-east-1.amazonaws.com/api/twilio/sms/incoming"
    assert deploy.configure_twilio_number(client, url, None) == "+15005550006"
    (number,) = client.incoming_phone_numbers.numbers
    assert number.updates == [{"sms_url": url, "sms_method": "POST"}]


def test_configure_twilio_needs_a_choice_among_several_numbers():
    client = FakeTwilio("+15005550006", "+15005550007")
    with pytest.raises(deploy.DeployError, match="--twilio-number"):
        deploy.configure_twilio_number(client, "https://x/api/twilio/sms/incoming", None)
    deploy.configure_twilio_number(client, "https://x/api/twilio/sms/incoming", "+15005550007")
    first, second = client.incoming_phone_numbers.numbers
    assert first.updates == [] and len(second.updates) == 1


def test_instructions_name_the_sms_webhook_on_the_api():
    text = "\n".join(deploy.twilio_instructions("https://abc.example/api"))
    assert "POST, https://abc.example/api/twilio/sms/incoming" in text


def test_a_real_deploy_without_a_region_is_refused(capsys):
    assert deploy.main(["--stage", "prod"], env={}) == 1
    assert "no region" in capsys.readouterr().err


class FakeStack:
    """Stands in for CloudFormation where moto cannot go (the SAM transform): records what
    the deploy asks for and answers with the outputs a real stack would have."""

    API = "https://abc123.execute-api.us-east-1.amazonaws.com/api"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, exists: bool = False) -> None:
        self.calls: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.stack_params: dict[str, str] = {}
        self.exists = exists
        monkeypatch.setattr(deploy, "deploy_stack", self.deploy_stack)
        monkeypatch.setattr(deploy, "stack_status", self.status)
        monkeypatch.setattr(deploy, "stack_outputs", self.outputs)
        monkeypatch.setattr(deploy, "stack_parameters", self.parameters)

    def deploy_stack(self, cfn, name, url, parameters, **kwargs) -> bool:
        assert name == "coldcall-prod"
        self.calls.append(dict(parameters))
        self.stack_params = dict(parameters)
        self.urls.append(url)
        self.exists = True
        return True

    def status(self, cfn, name):
        return "UPDATE_COMPLETE" if self.exists else None

    def outputs(self, cfn, name):
        return {
            "ApiUrl": self.API,
            "DashboardUrl": "https://d1.cloudfront.net",
            "DashboardApiUrl": "https://d1.cloudfront.net/api",
            "DashboardBucketName": "dash-bucket",
            "DashboardDistributionId": "E1",
            "UserPoolId": "us-east-1_AbCdEf123",
            "UserPoolClientId": "1example23456789",
        }

    def parameters(self, cfn, name):
        return self.stack_params


def test_first_deploy_sets_public_base_url_on_a_second_pass(
    session, prod_package, monkeypatch, capsys
):
    fake = FakeStack(monkeypatch)
    env = {
        "API_TOKEN": "canary-deploy-api-1",
        "TWILIO_AUTH_TOKEN": "canary-deploy-tw-1",
        "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    }
    opts = deploy.Options(
        stage="prod", region="us-east-1", package_dir=prod_package.out, skip_dashboard=True
    )
    result = deploy.deploy(opts, env, session=session)
    assert [c["PublicBaseUrl"] for c in fake.calls] == ["", FakeStack.API]
    assert all(c["TwilioAccountSid"] == "AC" + "2" * 32 for c in fake.calls)
    assert result.sms_incoming_url == FakeStack.API + "/twilio/sms/incoming"
    assert stored(session, "/coldcall/prod/api-token") == "canary-deploy-api-1"
    # The template CloudFormation gets points at the uploaded zips, and holds no secret.
    s3 = session.client("s3")
    key = fake.urls[0].split(".amazonaws.com/", 1)[1]
    bucket = fake.urls[0].split("//", 1)[1].split(".", 1)[0]
    assert bucket == "coldcall-artifacts-123456789012-us-east-1"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert f"s3://{bucket}/coldcall-prod/layer-deployment-" in body
    assert "canary-deploy" not in body
    out = capsys.readouterr()
    assert "canary-deploy" not in out.out + out.err

    # The next deploy knows its URL: one pass, the same parameters.
    fake.calls.clear()
    deploy.deploy(opts, {"TWILIO_AUTH_TOKEN": "canary-deploy-tw-1"}, session=session)
    assert [c["PublicBaseUrl"] for c in fake.calls] == [FakeStack.API]
    assert fake.calls[0]["TwilioAccountSid"] == "AC" + "2" * 32  # kept from the stack


def test_teardown_empties_the_buckets_and_deletes_the_stack(session, capsys):
    cfg = StageConfig("coldcall", "cfn")
    cfn = session.client("cloudformation")
    from infra.template import data_template

    cfn.create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(data_template(cfg)))
    bucket = deploy.stack_outputs(cfn, cfg.stack_name)["DashboardBucketName"]
    session.client("s3").put_object(Bucket=bucket, Key="index.html", Body=b"<html></html>")
    exports = deploy.stack_outputs(cfn, cfg.stack_name)["ExportBucketName"]
    session.client("s3").put_object(Bucket=exports, Key="exports/x.csv", Body=b"id\r\n")
    opts = deploy.Options(stage="cfn", region="us-east-1", delay=0.1)
    assert deploy.teardown(opts, cfg, session, confirm=False) == 0
    assert deploy.stack_status(cfn, cfg.stack_name) is None
    assert "deleted stack coldcall-cfn" in capsys.readouterr().out


def test_the_deploy_prints_the_user_pool_and_how_members_sign_in(
    session, prod_package, monkeypatch, capsys
):
    FakeStack(monkeypatch, exists=True)
    opts = deploy.Options(
        stage="prod", region="us-east-1", package_dir=prod_package.out, skip_dashboard=True
    )
    env = {"TWILIO_AUTH_TOKEN": "canary-deploy-tw-2", "TWILIO_ACCOUNT_SID": "AC" + "3" * 32}
    result = deploy.deploy(opts, env, session=session)
    assert (result.user_pool_id, result.user_pool_client_id) == (
        "us-east-1_AbCdEf123",
        "1example23456789",
    )
    capsys.readouterr()
    deploy.print_result(result, deploy.load_stage("prod"))
    out = capsys.readouterr().out
    assert "us-east-1_AbCdEf123" in out and "1example23456789" in out
    assert "https://d1.cloudfront.net" in out
