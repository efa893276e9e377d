"""The stack's sign-in and limits (issue 13, items 1 and 5): a Cognito user pool with e-mail
usernames, no self sign-up and the password policy; an app client with exactly the flows the API
uses; their ids in every function's environment; the API function allowed the pool's admin
actions on that pool only; throttling on the API stage and a reserved concurrency on the API
function, from stage options with defaults."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from infra.template import (
    COGNITO_ADMIN_ACTIONS,
    load_stage,
    merge_into,
    merge_template,
)

APP_ACTIONS = {
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminResetUserPassword",
    "cognito-idp:AdminDeleteUser",
}


def resources(stage: str, **options: object) -> dict:
    cfg = dataclasses.replace(load_stage(stage), **options)
    return merge_template(cfg)["Resources"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_user_pool_is_invite_only_with_email_usernames_and_the_password_policy(stage):
    pool = resources(stage)["UserPool"]
    assert pool["Type"] == "AWS::Cognito::UserPool"
    props = pool["Properties"]
    assert props["UserPoolName"] == f"coldcall-{stage}"
    assert props["UsernameAttributes"] == ["email"]
    assert props["AutoVerifiedAttributes"] == ["email"]
    admin = props["AdminCreateUserConfig"]
    assert admin["AllowAdminCreateUserOnly"] is True
    invite = admin["InviteMessageTemplate"]
    assert "{username}" in invite["EmailMessage"] and "{####}" in invite["EmailMessage"]
    assert "Coldcall" in invite["EmailSubject"] and "Coldcall" in invite["EmailMessage"]
    assert props["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": False,
        "TemporaryPasswordValidityDays": 7,
    }
    # The invite cannot name the dashboard: the pool would then depend on the distribution,
    # which depends on the API, whose function's environment names the pool.
    assert "DashboardDistribution" not in json.dumps(pool)


def test_prod_pool_survives_deletion_and_dev_pool_does_not():
    prod, dev = resources("prod")["UserPool"], resources("dev")["UserPool"]
    assert prod["DeletionPolicy"] == prod["UpdateReplacePolicy"] == "Retain"
    assert prod["Properties"]["DeletionProtection"] == "ACTIVE"
    assert dev["DeletionPolicy"] == dev["UpdateReplacePolicy"] == "Delete"
    assert dev["Properties"]["DeletionProtection"] == "INACTIVE"


def test_advanced_security_is_a_stage_option_in_audit_mode():
    off = resources("prod")["UserPool"]["Properties"]
    assert "UserPoolAddOns" not in off and off["UserPoolTier"] == "ESSENTIALS"
    on = resources("prod", cognito_advanced_security=True)["UserPool"]["Properties"]
    assert on["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"}
    assert on["UserPoolTier"] == "PLUS"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_app_client_has_no_secret_and_only_the_apis_flows(stage):
    client = resources(stage)["UserPoolClient"]
    assert client["Type"] == "AWS::Cognito::UserPoolClient"
    props = client["Properties"]
    assert props["UserPoolId"] == {"Ref": "UserPool"}
    assert props["GenerateSecret"] is False
    assert sorted(props["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
    ]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    assert props["AccessTokenValidity"] == 60
    assert props["RefreshTokenValidity"] == 30
    assert props["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert props["TokenValidityUnits"]["RefreshToken"] == "days"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_functions_get_the_pool_and_client_ids(stage):
    env = merge_template(load_stage(stage))["Globals"]["Function"]["Environment"]["Variables"]
    assert env["COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert env["COGNITO_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    # In AWS the app talks to Cognito itself and derives the issuer from the region and pool.
    assert "COGNITO_ENDPOINT" not in env and "COGNITO_ISSUER" not in env


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_only_the_api_function_administers_users_and_only_of_its_pool(stage):
    res = resources(stage)
    policies = {k: r for k, r in res.items() if r.get("Type") == "AWS::IAM::Policy"}
    assert set(policies) == {"UserPoolAdminPolicy"}
    props = policies["UserPoolAdminPolicy"]["Properties"]
    assert props["Roles"] == [{"Ref": "ApiHandlerRole"}]
    (statement,) = props["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == APP_ACTIONS == set(COGNITO_ADMIN_ACTIONS)
    assert not any("*" in action for action in statement["Action"])
    assert statement["Resource"] == {"Fn::GetAtt": ["UserPool", "Arn"]}


def test_api_stage_is_throttled_and_the_api_function_reserved_by_default():
    res = resources("prod")
    (setting,) = res["RestAPI"]["Properties"]["MethodSettings"]
    assert setting == {
        "ResourcePath": "/*",
        "HttpMethod": "*",
        "ThrottlingBurstLimit": 50,
        "ThrottlingRateLimit": 25,
    }
    assert res["APIHandler"]["Properties"]["ReservedConcurrentExecutions"] == 20
    # Only patches: Chalice generates the rest of these resources.
    assert "Type" not in res["RestAPI"] and "Type" not in res["APIHandler"]


def test_limits_come_from_the_stage_options(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]
    config = json.loads((root / ".chalice" / "config.json").read_text())
    config["api_throttle_rate"] = 5
    config["stages"]["prod"].update(
        {
            "api_throttle_burst": 10,
            "api_reserved_concurrency": None,
            "cognito_advanced_security": True,
        }
    )
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    cfg = load_stage("prod", tmp_path)
    assert (cfg.api_throttle_burst, cfg.api_throttle_rate) == (10, 5)
    assert cfg.api_reserved_concurrency is None and cfg.cognito_advanced_security is True
    res = merge_template(cfg)["Resources"]
    (setting,) = res["RestAPI"]["Properties"]["MethodSettings"]
    assert (setting["ThrottlingBurstLimit"], setting["ThrottlingRateLimit"]) == (10, 5)
    assert "APIHandler" not in res  # no reserved concurrency: Chalice's function untouched
    assert load_stage("dev", tmp_path).api_throttle_burst == 50  # the other stage: defaults


def test_patches_of_the_same_chalice_resource_merge():
    """Another generator's patch of RestAPI (e.g. GatewayResponses) survives the limits'."""
    target = {"RestAPI": {"Properties": {"GatewayResponses": {"X": {}}}}}
    merge_into(target, {"RestAPI": {"Properties": {"MethodSettings": [1]}}})
    assert target == {
        "RestAPI": {"Properties": {"GatewayResponses": {"X": {}}, "MethodSettings": [1]}}
    }


def test_outputs_name_the_pool_and_the_client():
    outputs = merge_template(load_stage("prod"))["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_packaged_stack_applies_the_limits_and_grants_an_existing_role(package_stage, stage):
    template = package_stage(stage).load_template()
    res = template["Resources"]
    api = res["APIHandler"]
    assert api["Type"] == "AWS::Serverless::Function"
    assert api["Properties"]["ReservedConcurrentExecutions"] == 20
    assert api["Properties"]["Role"] == {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]}
    assert res["ApiHandlerRole"]["Type"] == "AWS::IAM::Role"
    assert res["RestAPI"]["Type"] == "AWS::Serverless::Api"
    assert res["RestAPI"]["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] == 25
    assert "DefinitionBody" in res["RestAPI"]["Properties"]  # Chalice's API, patched not replaced
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["COGNITO_USER_POOL_ID"] == {"Ref": "UserPool"}
    # The rollup has no Cognito permission: the policy names the API's role only.
    assert res["UserPoolAdminPolicy"]["Properties"]["Roles"] == [{"Ref": "ApiHandlerRole"}]
