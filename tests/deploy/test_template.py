"""The generated CloudFormation (no packaging needed): tables equal the models, data is
protected where it matters, the dashboard bucket is private, secrets are references."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.indexes import KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.store.models import ALL_MODELS
from infra.template import (
    PRIVATE_BUCKET,
    StageConfig,
    data_template,
    load_stage,
    merge_template,
    table_resource,
)


def tables_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        res["Properties"]["TableName"]: res
        for res in template["Resources"].values()
        if res.get("Type") == "AWS::DynamoDB::Table"
    }


def model_shape(model: type[Model]) -> dict[str, Any]:
    """Keys and GSIs read from the model classes themselves, not via tables.py, so the test
    does not share code with what it checks."""
    attrs = model.get_attributes()
    keys = {"HASH": model._hash_keyname}
    if model._range_keyname:
        keys["RANGE"] = model._range_keyname
    indexes = {}
    for name, index in model._indexes.items():
        idx_keys = {}
        for attr_name, attr in index.Meta.attributes.items():
            if attr.is_hash_key:
                idx_keys["HASH"] = attr.attr_name or attr_name
            if attr.is_range_key:
                idx_keys["RANGE"] = attr.attr_name or attr_name
        projection = "KEYS_ONLY" if isinstance(index.Meta.projection, KeysOnlyProjection) else "ALL"
        indexes[name] = (idx_keys, projection)
    types = {name: attr.attr_type for name, attr in attrs.items()}
    return {"keys": keys, "indexes": indexes, "types": types}


def template_shape(table: dict[str, Any]) -> dict[str, Any]:
    props = table["Properties"]
    keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
    indexes = {
        gsi["IndexName"]: (
            {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]},
            gsi["Projection"]["ProjectionType"],
        )
        for gsi in props.get("GlobalSecondaryIndexes", [])
    }
    types = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    return {"keys": keys, "indexes": indexes, "types": types}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_model_has_a_table_with_its_keys_and_indexes(stage):
    cfg = load_stage(stage)
    tables = tables_by_name(merge_template(cfg))
    assert len(tables) == len(ALL_MODELS)
    for model in ALL_MODELS:
        name = f"coldcall-{stage}-{model.Meta.entity}"
        assert name in tables, name
        expected, got = model_shape(model), template_shape(tables[name])
        assert got["keys"] == expected["keys"], name
        assert got["indexes"] == expected["indexes"], name
        # Every key attribute is declared, with the model's type; nothing else is.
        key_attrs = set(got["keys"].values()) | {
            a for keys, _ in got["indexes"].values() for a in keys.values()
        }
        assert set(got["types"]) == key_attrs, name
        for attr, attr_type in got["types"].items():
            assert expected["types"][attr] == attr_type, (name, attr)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_tables_are_on_demand_recoverable_and_encrypted(stage):
    for name, table in tables_by_name(merge_template(load_stage(stage))).items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert "ProvisionedThroughput" not in props


def test_prod_tables_survive_deletion_and_dev_tables_do_not():
    for table in tables_by_name(merge_template(load_stage("prod"))).values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
        assert table["UpdateReplacePolicy"] == "Retain"
    for table in tables_by_name(merge_template(load_stage("dev"))).values():
        assert table["Properties"]["DeletionProtectionEnabled"] is False
        assert table["DeletionPolicy"] == "Delete"


class _Expiring(Model):
    class Meta:
        table_name = "unbound"
        entity = "expiring"

    id = UnicodeAttribute(hash_key=True)
    expires = TTLAttribute(attr_name="expiresAt")


def test_ttl_is_enabled_on_the_models_ttl_attribute_and_only_there():
    resource = table_resource(_Expiring, StageConfig("coldcall", "dev"))
    assert resource["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiresAt",
        "Enabled": True,
    }
    for model in ALL_MODELS:
        has_ttl = any(isinstance(a, TTLAttribute) for a in model.get_attributes().values())
        props = table_resource(model, StageConfig("coldcall", "dev"))["Properties"]
        assert ("TimeToLiveSpecification" in props) == has_ttl


def test_dashboard_bucket_is_private_and_read_only_by_its_distribution():
    resources = merge_template(load_stage("prod"))["Resources"]
    bucket = resources["DashboardBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "WebsiteConfiguration" not in bucket
    statements = resources["DashboardBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow[0]["Action"] == "s3:GetObject"
    assert "${DashboardDistribution}" in json.dumps(allow[0]["Condition"])
    origins = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    s3_origin = next(o for o in origins if o["Id"] == "dashboard")
    assert s3_origin["OriginAccessControlId"] == {
        "Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]
    }


def test_api_is_same_origin_under_the_dashboard_and_never_cached():
    resources = merge_template(load_stage("prod"))["Resources"]
    config = resources["DashboardDistribution"]["Properties"]["DistributionConfig"]
    (behavior,) = config["CacheBehaviors"]
    assert behavior["PathPattern"] == "/api/*"  # the API Gateway stage: paths map 1:1
    assert behavior["TargetOriginId"] == "api"
    assert {"POST", "PATCH", "DELETE"} <= set(behavior["AllowedMethods"])
    policy = resources["ApiCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert policy["DefaultTTL"] == 0
    forwarded = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert forwarded["HeadersConfig"]["Headers"] == ["Authorization"]
    assert forwarded["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    assert {404, 500, 503} <= set(errors)
    assert all(
        e["ErrorCachingMinTTL"] == 0 and "ResponsePagePath" not in e for e in errors.values()
    )
    api_origin = next(o for o in config["Origins"] if o["Id"] == "api")
    assert "${RestAPI}" in api_origin["DomainName"]["Fn::Sub"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_functions_get_secret_references_and_the_public_url_parameter(stage):
    cfg = load_stage(stage)
    env = merge_template(cfg)["Globals"]["Function"]["Environment"]["Variables"]
    assert env["STAGE"] == stage
    assert env["API_TOKEN_SECRET"] == f"ssm:/coldcall/{stage}/api-token"
    assert env["TWILIO_AUTH_TOKEN_SECRET"] == f"ssm:/coldcall/{stage}/twilio-auth-token"
    assert env["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    assert "API_TOKEN" not in env and "TWILIO_AUTH_TOKEN" not in env


def test_outputs_name_the_api_and_dashboard_urls():
    outputs = merge_template(load_stage("prod"))["Outputs"]
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].endswith(".${AWS::URLSuffix}/api")
    assert "DashboardDistribution.DomainName" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    assert {"DashboardBucketName", "DashboardDistributionId"} <= set(outputs)


def test_data_template_stands_alone():
    """What moto deploys must not reference Chalice's resources (they are not in it)."""
    template = data_template(load_stage("dev"))
    text = json.dumps(template)
    assert "RestAPI" not in text and "APIHandler" not in text
    assert "Transform" not in template
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert kinds == {"AWS::DynamoDB::Table", "AWS::S3::Bucket"}


def test_unknown_stage_is_refused():
    with pytest.raises(ValueError, match=r"not in \.chalice/config\.json"):
        load_stage("staging")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_exports_bucket_is_private_expires_in_a_day_and_is_named_for_the_policy(stage):
    template = merge_template(load_stage(stage))
    bucket = template["Resources"]["ExportBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketName"]["Fn::Sub"].startswith(f"coldcall-{stage}-exports-")
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == 1
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["EXPORT_BUCKET"] == {"Ref": "ExportBucket"}


def render_gateway_template(template: str, message: str = "Missing Authentication Token") -> Any:
    """What API Gateway answers from a gateway response template (its `$context` filled)."""
    text = (
        template.replace("$context.error.messageString", json.dumps(message))
        .replace("$context.error.responseType", "DEFAULT_4XX")
        .replace("$context.requestId", "c0ffee-1")
    )
    return json.loads(text)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_api_gateway_answers_its_own_errors_in_the_api_error_shape(stage):
    """Deployed, an unknown route is API Gateway's own 403 "Missing Authentication Token"
    unless the API says otherwise: its OpenAPI body (deep-merged into Chalice's RestAPI) names
    a 404 in the API's error shape, and every other answer API Gateway makes by itself is in
    that shape too."""
    from chalicelib.errors import NotFound

    resources = merge_template(load_stage(stage))["Resources"]
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == str(NotFound.status)
    answer = render_gateway_template(missing["responseTemplates"]["application/json"])
    assert answer["error"]["code"] == NotFound.code
    assert "Authentication" not in answer["error"]["message"]
    for response_type, response in responses.items():
        assert set(response) <= {"statusCode", "responseParameters", "responseTemplates"}
        assert set(response["responseTemplates"]) == {"application/json"}
        status = response.get("statusCode")
        assert status is None or (status.isdigit() and 400 <= int(status) <= 599)
        # DEFAULT_4XX/5XX keep each type's own status; they only give the body its shape
        assert (status is None) == response_type.startswith("DEFAULT_")
        for value in response.get("responseParameters", {}).values():
            assert value.startswith("'") and value.endswith("'")  # static header values
        answer = render_gateway_template(response["responseTemplates"]["application/json"])
        assert set(answer) == {"error"} and set(answer["error"]) == {"code", "message", "details"}
        assert answer["error"]["code"].islower() and answer["error"]["message"]
    assert render_gateway_template(
        responses["DEFAULT_5XX"]["responseTemplates"]["application/json"], "Internal server error"
    )["error"] == {
        "code": "internal",
        "message": "Internal server error",
        "details": {"gatewayResponse": "DEFAULT_4XX", "requestId": "c0ffee-1"},
    }


def sub(value: dict[str, Any], account: str = "123456789012", region: str = "us-east-1") -> str:
    """A `Fn::Sub` of pseudo parameters as CloudFormation renders it."""
    text: str = value["Fn::Sub"]
    return text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_recordings_bucket_is_private_and_deletes_audio_after_the_retention(stage):
    template = merge_template(load_stage(stage))
    resource = template["Resources"]["RecordingsBucket"]
    bucket = resource["Properties"]
    assert (
        bucket["PublicAccessBlockConfiguration"] == PRIVATE_BUCKET["PublicAccessBlockConfiguration"]
    )
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    # read by the dashboard through a presigned URL the API answers 303 with: GET only
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["GET"]
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (sse,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert sub(bucket["BucketName"]) == f"coldcall-{stage}-recordings-123456789012-us-east-1"
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert all(rule["Status"] == "Enabled" for rule in rules.values())
    assert all("Prefix" not in rule and "TagFilters" not in rule for rule in rules.values())
    (transition,) = rules["RecordingsToInfrequentAccess"]["Transitions"]
    assert transition == {"StorageClass": "STANDARD_IA", "TransitionInDays": 30}
    expire = rules["ExpireRecordings"]
    assert expire["ExpirationInDays"] == {"Ref": "RecordingRetentionDays"}
    assert expire["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # S3 refuses an expiration not after the transition *within one rule*: kept apart, any
    # retention from 1 day is valid.
    assert "ExpirationInDays" not in rules["RecordingsToInfrequentAccess"]
    retention = template["Parameters"]["RecordingRetentionDays"]
    assert (retention["Type"], retention["Default"], retention["MinValue"]) == ("Number", 365, 1)
    # HTTPS only, like the dashboard bucket
    (deny,) = template["Resources"]["RecordingsBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert {"Fn::Sub": "${RecordingsBucket.Arn}/*"} in deny["Resource"]


def test_prod_recordings_survive_the_stack_and_dev_recordings_do_not():
    """Customer data, kept with the tables it belongs to: retained where the tables are."""
    prod = merge_template(load_stage("prod"))["Resources"]["RecordingsBucket"]
    assert prod["DeletionPolicy"] == prod["UpdateReplacePolicy"] == "Retain"
    # and its HTTPS-only policy with it
    prod_policy = merge_template(load_stage("prod"))["Resources"]["RecordingsBucketPolicy"]
    assert prod_policy["DeletionPolicy"] == "Retain"
    dev = merge_template(load_stage("dev"))["Resources"]["RecordingsBucket"]
    assert dev["DeletionPolicy"] == dev["UpdateReplacePolicy"] == "Delete"
    for stage in ("dev", "prod"):
        resources = merge_template(load_stage(stage))["Resources"]
        table = resources["LeadsTable"]
        assert resources["RecordingsBucket"]["DeletionPolicy"] == table["DeletionPolicy"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_functions_get_the_recordings_bucket_and_the_recording_settings(stage):
    from chalicelib.config import Settings

    template = merge_template(load_stage(stage))
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["RECORDINGS_BUCKET"] == {"Ref": "RecordingsBucket"}
    assert env["RECORD_CALLS"] == {"Ref": "RecordCalls"}
    assert env["COMPANY_NAME"] == {"Ref": "CompanyName"}
    assert "RECORDINGS_DIR" not in env  # a directory is for `make dev` only
    params = template["Parameters"]
    # the stack's defaults are the app's own
    defaults = Settings()
    assert params["RecordCalls"]["Default"] == "0" and defaults.record_calls is False
    assert set(params["RecordCalls"]["AllowedValues"]) == {"0", "1"}
    assert params["CompanyName"]["Default"] == defaults.company_name == "our team"
    assert params["CompanyName"]["MaxLength"] == 80  # what Settings keeps of COMPANY_NAME
    outputs = template["Outputs"]
    assert outputs["RecordingsBucketName"]["Value"] == {"Ref": "RecordingsBucket"}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_settings_read_from_the_stack_environment_pick_s3(stage, monkeypatch):
    """What the function will see (the stack's values substituted) makes the app keep audio in
    the stage's bucket, record when asked, and name the company."""
    from chalicelib.config import Settings
    from chalicelib.storage import S3Store, audio_store

    env = merge_template(load_stage(stage))["Globals"]["Function"]["Environment"]["Variables"]
    bucket = f"coldcall-{stage}-recordings-123456789012-us-east-1"
    values = {"RecordingsBucket": bucket, "RecordCalls": "1", "CompanyName": "Acme Solar"}
    for name, value in env.items():
        if isinstance(value, dict) and value.get("Ref") in values:
            monkeypatch.setenv(name, values[value["Ref"]])
    settings = Settings.from_env()
    assert settings.record_calls is True and settings.company_name == "Acme Solar"
    store = audio_store(settings)
    assert isinstance(store, S3Store) and store.bucket == bucket


def test_data_template_deploys_the_recordings_bucket_too():
    template = data_template(load_stage("prod"))
    assert template["Resources"]["RecordingsBucket"]["DeletionPolicy"] == "Retain"
    assert template["Parameters"]["RecordingRetentionDays"]["Default"] == 365
    assert template["Outputs"]["RecordingsBucketName"] == {"Value": {"Ref": "RecordingsBucket"}}
