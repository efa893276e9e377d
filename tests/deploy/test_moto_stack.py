"""The generated data stack (every table, the dashboard bucket) deployed into moto's
CloudFormation with the deploy script's own steps, then the repository code run against the
tables CloudFormation made (no `ensure_tables` anywhere)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.store.models import ALL_MODELS
from infra.template import StageConfig, data_template
from scripts import deploy
from tests.deploy.test_template import model_shape

STAGE = "cfn"
REGION = "us-east-1"


@pytest.fixture
def stack(session: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Deploy the data template through the artifacts bucket and a change set, and point the
    app at the stage. Yields {logical id: physical id}."""
    cfg = StageConfig("coldcall", STAGE)
    s3 = session.client("s3")
    bucket = deploy.artifacts_bucket_name(cfg, "123456789012", REGION)
    assert deploy.ensure_artifacts_bucket(s3, bucket, REGION) is True
    url = deploy.upload_template(s3, bucket, cfg.stack_name, data_template(cfg), REGION)
    cfn = session.client("cloudformation")
    assert deploy.deploy_stack(cfn, cfg.stack_name, url, {}, delay=0.1, log=lambda _: None)
    assert deploy.stack_status(cfn, cfg.stack_name) == "CREATE_COMPLETE"
    # moto fills Outputs only for create_stack, not for change sets: read the resources.
    resources = cfn.list_stack_resources(StackName=cfg.stack_name)["StackResourceSummaries"]
    monkeypatch.setenv("STAGE", STAGE)
    from chalicelib.config import reset_settings

    reset_settings()
    yield {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def test_cloudformation_creates_every_table_as_the_models_describe_it(session, stack):
    ddb = session.client("dynamodb")
    for model in ALL_MODELS:
        name = f"coldcall-{STAGE}-{model.Meta.entity}"
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        expected = model_shape(model)
        assert {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]} == expected["keys"]
        got = {
            gsi["IndexName"]: (
                {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]},
                gsi["Projection"]["ProjectionType"],
            )
            for gsi in table.get("GlobalSecondaryIndexes", [])
        }
        assert got == expected["indexes"], name


def test_dashboard_bucket_exists(session, stack):
    bucket = stack["DashboardBucket"]
    session.client("s3").head_bucket(Bucket=bucket)


def test_repository_code_runs_on_the_cloudformation_tables(stack):
    from chalicelib import providers
    from chalicelib.api.schemas import LeadCreate, TeamMemberCreate
    from chalicelib.errors import Conflict
    from chalicelib.services import leads, team

    deps = providers.deps()
    body = TeamMemberCreate(name="Ann Caller", phone="(415) 555-0100")
    member, _ = team.create(deps, team.NewMember(**body.model_dump()))
    lead_body = LeadCreate.model_validate(
        {"name": "Jane Doe", "phone": "212 555 0142", "assignedToId": member.id}
    )
    lead = leads.create(deps, leads.NewLead(**lead_body.model_dump()))
    assert team.get(deps, member.id).phone == "+14155550100"
    # the lead-phones guard table
    holder = deps.store.leads.id_by_phone("+12125550142")
    assert holder == lead.id and leads.get(deps, holder).id == lead.id
    page = leads.list_leads(deps, status="new", assigned_to_id=None, limit=10, cursor=None)
    assert [item.id for item in page.items] == [lead.id]  # the by-status GSI
    page = leads.list_leads(deps, status=None, assigned_to_id=member.id, limit=10, cursor=None)
    assert [item.id for item in page.items] == [lead.id]  # the by-assignee GSI
    other = LeadCreate(name="Someone Else", phone="+1 212 555 0142")
    with pytest.raises(Conflict):  # the guard's condition holds on the CloudFormation table
        leads.create(deps, leads.NewLead(**other.model_dump()))


def test_the_api_answers_over_the_cloudformation_tables(stack):
    from chalice.test import Client

    from app import app
    from tests.conftest import Api

    with Client(app) as client:
        api = Api(client)
        status, member, _ = api.post(
            "/team-members", {"name": "Sam Caller", "phone": "+14155550111"}
        )
        assert status == 201, member
        status, lead, _ = api.post("/leads", {"name": "Jo Lead", "phone": "+12125550199"})
        assert status == 201, lead
        status, listed, _ = api.get("/leads?limit=5")
        assert status == 200 and [i["id"] for i in listed["items"]] == [lead["id"]]


def test_a_second_deploy_of_the_same_template_changes_nothing(session, stack):
    cfg = StageConfig("coldcall", STAGE)
    s3 = session.client("s3")
    bucket = deploy.artifacts_bucket_name(cfg, "123456789012", REGION)
    assert deploy.ensure_artifacts_bucket(s3, bucket, REGION) is False
    url = deploy.upload_template(s3, bucket, cfg.stack_name, data_template(cfg), REGION)
    cfn = session.client("cloudformation")
    lines: list[str] = []
    assert deploy.deploy_stack(cfn, cfg.stack_name, url, {}, delay=0.1, log=lines.append) is False
    assert lines == [f"stack {cfg.stack_name}: no changes"]


def test_call_audio_goes_to_the_cloudformation_recordings_bucket(session, stack, monkeypatch):
    """The function's RECORDINGS_BUCKET (the stack's bucket) is where the app keeps audio:
    stored encrypted under the key the IAM policy allows, read back, a missing one None."""
    from chalicelib import providers
    from chalicelib.config import reset_settings
    from chalicelib.services.recordings import key_for
    from chalicelib.storage import S3Store

    bucket = stack["RecordingsBucket"]
    assert bucket == f"coldcall-{STAGE}-recordings-123456789012-{REGION}"
    s3 = session.client("s3")
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    monkeypatch.setenv("RECORDINGS_BUCKET", bucket)
    reset_settings()
    audio = providers.deps().audio
    assert isinstance(audio, S3Store) and audio.bucket == bucket
    key = key_for("c1", "RE" + "a" * 32)
    audio.put(key, b"RIFF....WAVEfmt ")
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "audio/wav" and head["ServerSideEncryption"] == "AES256"
    assert audio.get(key) == b"RIFF....WAVEfmt "
    assert audio.get(key_for("c2", "RE" + "b" * 32)) is None  # e.g. expired by the lifecycle
    # GET /calls/{id}/recording answers 303 to a presigned URL (audio never passes through
    # Lambda's 6 MB response): it fetches the object (the bucket's CORS rule, which lets the
    # dashboard follow it, is checked on the template: moto's CloudFormation drops it)
    import requests as http

    url = audio.link(key)
    assert url.startswith("https://") and "X-Amz-Signature" in url
    got = http.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"RIFF....WAVEfmt "
