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
    def __init__(self, phone_number: str, **fields: str) -> None:
        self.phone_number = phone_number
        self.voice_application_sid = fields.get("voice_application_sid", "")
        self.sms_application_sid = fields.get("sms_application_sid", "")
        self.updates: list[dict[str, str]] = []

    def update(self, **kwargs: str) -> None:
        self.updates.append(kwargs)


class FakeNumbers:
    def __init__(self, numbers: list[FakeNumber]) -> None:
        self.numbers = numbers

    def list(self, phone_number: str | None = None, limit: int | None = None) -> list[FakeNumber]:
        return [n for n in self.numbers if phone_number in (None, n.phone_number)]


class FakeTwilio:
    def __init__(self, *numbers: str | FakeNumber) -> None:
        self.incoming_phone_numbers = FakeNumbers(
            [n if isinstance(n, FakeNumber) else FakeNumber(n) for n in numbers]
        )


API = "https://abc.execute-api.us-east-1.amazonaws.com/api"
NUMBER_WEBHOOKS = {
    "sms_url": f"{API}/twilio/sms/incoming",
    "sms_method": "POST",
    "voice_url": f"{API}/twilio/voice/incoming",
    "voice_method": "POST",
    "status_callback": f"{API}/twilio/voice/incoming-status",
    "status_callback_method": "POST",
}


def test_configure_twilio_sets_the_sms_and_voice_webhooks_on_the_only_number():
    client = FakeTwilio("+15005550006")
    assert deploy.configure_twilio_number(client, API, None) == ("+15005550006", [])
    (number,) = client.incoming_phone_numbers.numbers
    assert number.updates == [NUMBER_WEBHOOKS]


def test_configured_webhooks_are_routes_of_the_app():
    """Every URL set on the number is a POST route the app serves (no typo between the two)."""
    from app import app

    routes = {path: set(methods) for path, methods in app.routes.items()}
    for field in ("sms_url", "voice_url", "status_callback"):
        path = NUMBER_WEBHOOKS[field].removeprefix(API)
        assert "POST" in routes.get(path, set()), (field, path)


def test_configure_twilio_clears_an_application_that_would_override_the_urls():
    number = FakeNumber("+15005550006", voice_application_sid="AP" + "1" * 32)
    client = FakeTwilio(number)
    phone, cleared = deploy.configure_twilio_number(client, API, None)
    assert phone == "+15005550006"
    assert number.updates == [{**NUMBER_WEBHOOKS, "voice_application_sid": ""}]
    assert len(cleared) == 1 and "AP" + "1" * 32 in cleared[0]


def test_configure_twilio_needs_a_choice_among_several_numbers():
    client = FakeTwilio("+15005550006", "+15005550007")
    with pytest.raises(deploy.DeployError, match="--twilio-number"):
        deploy.configure_twilio_number(client, API, None)
    deploy.configure_twilio_number(client, API, "+15005550007")
    first, second = client.incoming_phone_numbers.numbers
    assert first.updates == [] and second.updates == [NUMBER_WEBHOOKS]


def test_instructions_name_the_sms_and_voice_webhooks_on_the_api():
    text = "\n".join(deploy.twilio_instructions("https://abc.example/api"))
    assert (
        "A message comes in: Webhook, HTTP POST, https://abc.example/api/twilio/sms/incoming"
        in (text)
    )
    assert "A call comes in: Webhook, HTTP POST, https://abc.example/api/twilio/voice/incoming" in (
        text
    )
    assert (
        "Call status changes: HTTP POST, https://abc.example/api/twilio/voice/incoming-status"
        in (text)
    )


@pytest.mark.parametrize(
    ("env", "previous", "expected"),
    [
        ({}, {}, {}),
        (
            {
                "RECORD_CALLS": "true",
                "COMPANY_NAME": " Acme Solar ",
                "RECORDING_RETENTION_DAYS": "90",
            },
            {},
            {"RecordCalls": "1", "CompanyName": "Acme Solar", "RecordingRetentionDays": "90"},
        ),
        ({"RECORD_CALLS": "0"}, {"RecordCalls": "1"}, {"RecordCalls": "0"}),
        (
            {},
            {"RecordCalls": "1", "CompanyName": "Acme", "RecordingRetentionDays": "30"},
            {"RecordCalls": "1", "CompanyName": "Acme", "RecordingRetentionDays": "30"},
        ),
    ],
)
def test_app_parameters_come_from_the_environment_else_the_stack(env, previous, expected):
    assert deploy.app_parameters(env, previous) == expected


@pytest.mark.parametrize(
    "env",
    [
        {"RECORD_CALLS": "maybe"},
        {"RECORDING_RETENTION_DAYS": "0"},
        {"RECORDING_RETENTION_DAYS": "a year"},
        {"COMPANY_NAME": "x" * 81},
    ],
)
def test_app_parameters_the_stack_would_refuse_are_refused_first(env):
    with pytest.raises(deploy.DeployError):
        deploy.app_parameters(env, {})


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


def test_configure_twilio_points_the_number_at_the_deployed_api(
    session, prod_package, monkeypatch, capsys
):
    """`--configure-twilio` after the stack: the number's SMS URL, voice URL and call status
    callback all on the stack's API, with the account's SID and token; the result says so."""
    FakeStack(monkeypatch, exists=True)
    number = FakeNumber("+15005550006")
    made: list[tuple[str, str]] = []

    def client(sid: str, token: str) -> FakeTwilio:
        made.append((sid, token))
        return FakeTwilio(number)

    monkeypatch.setattr("twilio.rest.Client", client)
    opts = deploy.Options(
        stage="prod",
        region="us-east-1",
        package_dir=prod_package.out,
        skip_dashboard=True,
        configure_twilio=True,
    )
    env = {"TWILIO_AUTH_TOKEN": "canary-deploy-tw-3", "TWILIO_ACCOUNT_SID": "AC" + "4" * 32}
    result = deploy.deploy(opts, env, session=session)
    assert made == [("AC" + "4" * 32, "canary-deploy-tw-3")]
    api = FakeStack.API
    assert number.updates == [
        {
            "sms_url": f"{api}/twilio/sms/incoming",
            "sms_method": "POST",
            "voice_url": f"{api}/twilio/voice/incoming",
            "voice_method": "POST",
            "status_callback": f"{api}/twilio/voice/incoming-status",
            "status_callback_method": "POST",
        }
    ]
    (note,) = [n for n in result.notes if n.startswith("Twilio:")]
    assert f"incoming calls to {api}/twilio/voice/incoming " in note
    assert f"their status to {api}/twilio/voice/incoming-status" in note
    assert result.voice_incoming_url == f"{api}/twilio/voice/incoming"


def test_the_deploy_passes_the_recording_parameters_and_keeps_them(
    session, prod_package, monkeypatch
):
    fake = FakeStack(monkeypatch, exists=True)
    opts = deploy.Options(
        stage="prod", region="us-east-1", package_dir=prod_package.out, skip_dashboard=True
    )
    env = {
        "TWILIO_AUTH_TOKEN": "canary-deploy-tw-4",
        "TWILIO_ACCOUNT_SID": "AC" + "5" * 32,
        "RECORD_CALLS": "1",
        "COMPANY_NAME": "Acme Solar",
        "RECORDING_RETENTION_DAYS": "90",
    }
    deploy.deploy(opts, env, session=session)
    wanted = {"RecordCalls": "1", "CompanyName": "Acme Solar", "RecordingRetentionDays": "90"}
    assert wanted.items() <= fake.calls[-1].items()
    # a later deploy without them keeps what the stack has (not the template's defaults)
    deploy.deploy(opts, {"TWILIO_AUTH_TOKEN": "canary-deploy-tw-4"}, session=session)
    assert wanted.items() <= fake.calls[-1].items()


def test_teardown_of_a_disposable_stage_empties_and_deletes_the_recordings(session, capsys):
    cfg = StageConfig("coldcall", "cfn")
    cfn = session.client("cloudformation")
    from infra.template import data_template

    cfn.create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(data_template(cfg)))
    recordings = deploy.stack_outputs(cfn, cfg.stack_name)["RecordingsBucketName"]
    assert recordings == "coldcall-cfn-recordings-123456789012-us-east-1"
    s3 = session.client("s3")
    s3.put_object(Bucket=recordings, Key="recordings/c1/RE1.wav", Body=b"RIFF")
    opts = deploy.Options(stage="cfn", region="us-east-1", delay=0.1)
    assert deploy.teardown(opts, cfg, session, confirm=False) == 0
    assert recordings not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_teardown_of_a_protected_stage_keeps_the_recordings_and_says_how_to_drop_them(
    session, capsys
):
    cfg = StageConfig("coldcall", "prod")
    cfn = session.client("cloudformation")
    from infra.template import data_template

    cfn.create_stack(StackName=cfg.stack_name, TemplateBody=json.dumps(data_template(cfg)))
    recordings = deploy.stack_outputs(cfn, cfg.stack_name)["RecordingsBucketName"]
    s3 = session.client("s3")
    s3.put_object(Bucket=recordings, Key="recordings/c1/RE1.wav", Body=b"RIFF")
    opts = deploy.Options(stage="prod", region="us-east-1", delay=0.1)
    assert deploy.teardown(opts, cfg, session, confirm=False) == 0
    assert deploy.stack_status(cfn, cfg.stack_name) is None
    body = s3.get_object(Bucket=recordings, Key="recordings/c1/RE1.wav")["Body"].read()
    assert body == b"RIFF"  # the stack is gone, the customer's recordings are not
    out = capsys.readouterr().out
    assert f"aws s3 rb s3://{recordings} --force" in out
