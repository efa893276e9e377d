"""The CloudFormation that `chalice package --merge-template` merges into the app's template.

Everything here is generated: the DynamoDB tables and their GSIs come from the PynamoDB models
through `chalicelib.store.tables.table_definition` (the same CreateTable requests `make dev` uses,
so local and AWS tables can never drift apart), the stage's names and secret references come
from `.chalice/config.json`. Nothing is typed twice.

What the merge adds to what Chalice generates (API Gateway, the Lambda functions, their roles):

* one table per model: on-demand, point-in-time recovery, server-side encryption with the AWS
  managed KMS key, TTL where a model has a `TTLAttribute`; in protected stages (prod) deletion
  protection and `DeletionPolicy: Retain`, so neither a stray console click nor a stack
  deletion loses the sales team's history;
* the dashboard: a private S3 bucket read by CloudFront through Origin Access Control, and one
  CloudFront distribution that also routes `/api/*` to API Gateway, which makes the dashboard
  and its API the same origin (no CORS in production, see README "Deploy to AWS");
* the deploy-time environment of every function (`Globals`): the stage, the secret
  *references* (never values), and `PUBLIC_BASE_URL` / the Twilio account SID as stack
  parameters;
* the exports bucket: large CSV exports, answered as a presigned URL, expire after a day;
* the recordings bucket: call audio (voicemails, recorded calls) copied out of Twilio,
  private and encrypted, moved to Standard-IA after 30 days and deleted after the stack
  parameter `RecordingRetentionDays`; retained with the stack in protected stages, like the
  tables it belongs with;
* sign-in: a Cognito user pool (e-mail as the username, no self sign-up, password policy,
  threat protection in audit mode where the stage turns it on) and its app client (no secret,
  USER_PASSWORD_AUTH + REFRESH_TOKEN_AUTH), their ids in every function's environment, and the
  API function allowed the pool's admin actions on that pool only;
* limits: API Gateway throttling on the stage and a reserved concurrency on the API function;
* API Gateway's own answers in the API's error shape (`gateway_responses`): an unknown route
  is the API's 404 instead of API Gateway's 403 "Missing Authentication Token", and every
  other answer API Gateway makes by itself (throttling, a body too large, a timeout) is
  `{"error": {"code", "message", "details"}}` too;
* outputs: `ApiUrl`, `DashboardUrl`, the bucket and distribution the dashboard upload needs,
  `RecordingsBucketName`, `UserPoolId` and `UserPoolClientId`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.store.models import ALL_MODELS
from chalicelib.store.tables import table_definition

ROOT = Path(__file__).resolve().parent.parent

# Stages whose data must survive mistakes: deletion protection on, tables retained when the
# stack goes. Other stages (dev, previews) are disposable and tear down completely.
PROTECTED_STAGES = frozenset({"prod"})

# AWS managed CloudFront policies (stable, documented ids).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
# The status codes CloudFront lets a distribution set error caching for.
ERROR_CODES = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)

# Chalice names the API's function resource APIHandler; its log group (from
# `log_retention_in_days`) is generated as ApiHandlerLogGroup with a `${ApiHandler}`
# reference that does not exist (a Chalice 1.34 bug that cfn-lint reports as E1019).
API_FUNCTION = "APIHandler"
# Chalice's REST API resource (AWS::Serverless::Api).
API_RESOURCE = "RestAPI"
API_LOG_GROUP = "ApiHandlerLogGroup"
# Chalice's names for the API function's role (one role per function, from the stage's
# iam_policy_file) and for the SAM API.
API_ROLE = "ApiHandlerRole"
REST_API = "RestAPI"

# API Gateway's own answers, in the API's error shape (API.md, "Errors"): response type ->
# (status, code). None keeps the type's own status (DEFAULT_4XX/5XX cover many statuses).
GATEWAY_RESPONSES: dict[str, tuple[int | None, str]] = {
    # a path or method no route matches: API Gateway says 403 "Missing Authentication Token"
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found"),
    "RESOURCE_NOT_FOUND": (404, "not_found"),
    "ACCESS_DENIED": (403, "forbidden"),
    "BAD_REQUEST_BODY": (400, "validation_error"),
    "BAD_REQUEST_PARAMETERS": (400, "validation_error"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type"),
    "THROTTLED": (429, "rate_limited"),
    "QUOTA_EXCEEDED": (429, "rate_limited"),
    "DEFAULT_4XX": (None, "request_refused"),
    "DEFAULT_5XX": (None, "internal"),
}
_NO_ROUTE = "no route for this method and path"

SECRET_NAMES = {"API_TOKEN_SECRET": "api-token", "TWILIO_AUTH_TOKEN_SECRET": "twilio-auth-token"}


@dataclass(frozen=True)
class StageConfig:
    """What the generator needs to know about one Chalice stage."""

    app_name: str
    stage: str
    api_gateway_stage: str = "api"
    environment: dict[str, str] = field(default_factory=dict)
    # Cognito threat protection ("advanced security") in audit mode. It needs the pool's Plus
    # feature plan, billed per monthly active user: off unless the stage turns it on.
    cognito_advanced_security: bool = False
    # API Gateway throttling of the whole stage (every route and method), requests per second.
    api_throttle_burst: int = 50
    api_throttle_rate: float = 25
    # Reserved concurrency of the API function: its ceiling, and a floor no other function of
    # the account can take. None leaves the function unreserved (an account whose concurrency
    # quota is still the new-account 10 cannot reserve any).
    api_reserved_concurrency: int | None = 20

    @property
    def protected(self) -> bool:
        return self.stage in PROTECTED_STAGES

    @property
    def stack_name(self) -> str:
        """The CloudFormation stack. Fixed, because the IAM policy scopes the functions' log
        groups to `/aws/lambda/{app}-{stage}-*`, and CloudFormation names functions after
        their stack."""
        return f"{self.app_name}-{self.stage}"

    @property
    def settings(self) -> Settings:
        return Settings(app_name=self.app_name, stage=self.stage)

    def secret_references(self) -> dict[str, str]:
        """`API_TOKEN_SECRET` and `TWILIO_AUTH_TOKEN_SECRET` as the functions will see them:
        what the stage's config sets, else an SSM parameter under `/{app}/{stage}/`."""
        return {
            var: self.environment.get(var) or f"ssm:/{self.app_name}/{self.stage}/{name}"
            for var, name in SECRET_NAMES.items()
        }


def load_stage(stage: str, project_dir: Path = ROOT) -> StageConfig:
    """Read a stage from `.chalice/config.json` (top-level values, then the stage's own)."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    stages = config.get("stages", {})
    if stage not in stages:
        raise ValueError(f"stage {stage!r} is not in .chalice/config.json (have {sorted(stages)})")
    stage_cfg = stages[stage]
    environment = {**config.get("environment_variables", {})}
    environment.update(stage_cfg.get("environment_variables", {}))
    return StageConfig(
        app_name=config["app_name"],
        stage=stage,
        api_gateway_stage=stage_cfg.get("api_gateway_stage", config.get("api_gateway_stage"))
        or "api",
        environment=environment,
        **stage_options(config, stage_cfg),
    )


# Our own keys in .chalice/config.json (Chalice ignores keys it does not know), set at the top
# level or per stage (the stage wins), like Chalice's own settings.
STAGE_OPTIONS = (
    "cognito_advanced_security",
    "api_throttle_burst",
    "api_throttle_rate",
    "api_reserved_concurrency",
)


def stage_options(config: dict[str, Any], stage_cfg: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name in STAGE_OPTIONS:
        if name in stage_cfg:
            options[name] = stage_cfg[name]
        elif name in config:
            options[name] = config[name]
    return options


# ---------------------------------------------------------------- tables


def table_logical_id(model: type[Model]) -> str:
    """`team-members` -> `TeamMembersTable`."""
    entity: str = model.Meta.entity  # type: ignore[attr-defined]
    return "".join(part.capitalize() for part in entity.split("-")) + "Table"


def ttl_attribute(model: type[Model]) -> str | None:
    """The attribute DynamoDB should expire items by, if the model declares one."""
    for name, attr in model.get_attributes().items():
        if isinstance(attr, TTLAttribute):
            return attr.attr_name or name
    return None


def table_resource(model: type[Model], cfg: StageConfig) -> dict[str, Any]:
    """One AWS::DynamoDB::Table, its schema taken from the CreateTable request."""
    definition = table_definition(model, cfg.settings)
    props: dict[str, Any] = {
        "TableName": definition["TableName"],
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": definition["KeySchema"],
        "AttributeDefinitions": definition["AttributeDefinitions"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "DeletionProtectionEnabled": cfg.protected,
        "Tags": [
            {"Key": "app", "Value": cfg.app_name},
            {"Key": "stage", "Value": cfg.stage},
        ],
    }
    if "GlobalSecondaryIndexes" in definition:
        props["GlobalSecondaryIndexes"] = definition["GlobalSecondaryIndexes"]
    ttl = ttl_attribute(model)
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    policy = "Retain" if cfg.protected else "Delete"
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Properties": props,
    }


def table_resources(
    cfg: StageConfig, models: tuple[type[Model], ...] = ALL_MODELS
) -> dict[str, Any]:
    return {table_logical_id(m): table_resource(m, cfg) for m in models}


# ---------------------------------------------------------------- dashboard

# Every bucket of the stack: no public access, owner-enforced objects, encrypted at rest.
PRIVATE_BUCKET: dict[str, Any] = {
    "PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    },
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    },
}


def dashboard_bucket() -> dict[str, Any]:
    """Private, encrypted, owner-enforced; only CloudFront reads it (bucket policy below).
    No BucketName: S3 names are global, and a generated one never collides."""
    return {
        "DashboardBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                **PRIVATE_BUCKET,
            },
        }
    }


def export_bucket_name(cfg: StageConfig) -> dict[str, Any]:
    """`{app}-{stage}-exports-{account}-{region}`: named, so the stage's static IAM policy
    (`.chalice/policy-{stage}.json`) can allow this bucket's objects and no other stage's."""
    return {"Fn::Sub": f"{cfg.app_name}-{cfg.stage}-exports-${{AWS::AccountId}}-${{AWS::Region}}"}


def export_bucket(cfg: StageConfig) -> dict[str, Any]:
    """Large CSV exports (a Lambda response cannot pass 6 MB): private, encrypted, objects
    deleted after a day; read only through the presigned URLs the API answers with (GET, any
    origin: the URL is the secret, and the dashboard follows the 303 with fetch)."""
    return {
        "ExportBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "BucketName": export_bucket_name(cfg),
                **PRIVATE_BUCKET,
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "ExpireExports",
                            "Status": "Enabled",
                            "ExpirationInDays": 1,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
                "CorsConfiguration": {
                    "CorsRules": [
                        {
                            "AllowedMethods": ["GET"],
                            "AllowedOrigins": ["*"],
                            "ExposedHeaders": ["Content-Disposition"],
                            "MaxAge": 600,
                        }
                    ]
                },
            },
        }
    }


# Call audio moves to Standard-IA after this many days (S3's minimum for the transition):
# recordings are played mostly in the days after the call.
RECORDINGS_IA_DAYS = 30


def recordings_bucket_name(cfg: StageConfig) -> dict[str, Any]:
    """`{app}-{stage}-recordings-{account}-{region}`: named, so the stage's static IAM policy
    (`.chalice/policy-{stage}.json`) can allow this bucket's objects and no other stage's."""
    return {
        "Fn::Sub": f"{cfg.app_name}-{cfg.stage}-recordings-${{AWS::AccountId}}-${{AWS::Region}}"
    }


def recordings_bucket(cfg: StageConfig) -> dict[str, Any]:
    """Call audio (chalicelib/storage.py S3Store, keys `recordings/<callId>/<RE...>.wav`):
    private, encrypted, HTTPS only, read only by the API (GET /calls/{id}/recording streams
    it). Two lifecycle rules: Standard-IA after 30 days, deletion after
    `RecordingRetentionDays` (separate rules, so a retention under 30 days is valid: within
    one rule S3 wants the expiration after the transition, and expiration wins over a later
    transition). Recordings belong with the calls that point at them, so they share the
    tables' fate: retained when a protected stage's stack is deleted (customer data: the
    teardown prints how to remove them), deleted with a disposable stage's stack (whose
    teardown empties the bucket first)."""
    policy = "Retain" if cfg.protected else "Delete"
    return {
        "RecordingsBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
            "Properties": {
                "BucketName": recordings_bucket_name(cfg),
                **PRIVATE_BUCKET,
                # GET /calls/{id}/recording answers 303 to a presigned URL (the URL is the
                # secret): the dashboard follows it with fetch, from its own origin
                "CorsConfiguration": {
                    "CorsRules": [
                        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAge": 600}
                    ]
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "RecordingsToInfrequentAccess",
                            "Status": "Enabled",
                            "Transitions": [
                                {
                                    "StorageClass": "STANDARD_IA",
                                    "TransitionInDays": RECORDINGS_IA_DAYS,
                                }
                            ],
                        },
                        {
                            "Id": "ExpireRecordings",
                            "Status": "Enabled",
                            "ExpirationInDays": {"Ref": "RecordingRetentionDays"},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        },
                    ]
                },
                "Tags": [
                    {"Key": "app", "Value": cfg.app_name},
                    {"Key": "stage", "Value": cfg.stage},
                ],
            },
        },
        # kept with a retained bucket: the retained recordings stay HTTPS only
        "RecordingsBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
            "Properties": {
                "Bucket": {"Ref": "RecordingsBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "HttpsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": ["RecordingsBucket", "Arn"]},
                                {"Fn::Sub": "${RecordingsBucket.Arn}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def _api_domain() -> dict[str, Any]:
    return {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}


def dashboard_delivery(cfg: StageConfig) -> dict[str, Any]:
    """CloudFront in front of the bucket (OAC) and, for `/{api stage}/*`, of API Gateway."""
    api_path = f"/{cfg.api_gateway_stage}/*"
    distribution_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
        "${DashboardDistribution}"
    }
    return {
        "DashboardOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-dashboard"},
                    "Description": "CloudFront reads the private dashboard bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "DashboardBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "DashboardBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ReadThroughThisDistributionOnly",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": {"Fn::Sub": "${DashboardBucket.Arn}/*"},
                            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                        },
                        {
                            "Sid": "HttpsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": ["DashboardBucket", "Arn"]},
                                {"Fn::Sub": "${DashboardBucket.Arn}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                },
            },
        },
        # The API behind CloudFront: nothing is cached (DefaultTTL 0, our responses carry no
        # Cache-Control), but Authorization must be in a *cache* policy to be forwarded at all
        # (CloudFront refuses it in origin request policies); being in the key, a request
        # without the right token could never be answered from a cache anyway.
        "ApiCachePolicy": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {
                "CachePolicyConfig": {
                    "Name": {"Fn::Sub": "${AWS::StackName}-api"},
                    "Comment": "API: never cached, Authorization forwarded",
                    "MinTTL": 0,
                    "DefaultTTL": 0,
                    "MaxTTL": 1,
                    "ParametersInCacheKeyAndForwardedToOrigin": {
                        "EnableAcceptEncodingGzip": False,
                        "EnableAcceptEncodingBrotli": False,
                        "HeadersConfig": {
                            "HeaderBehavior": "whitelist",
                            "Headers": ["Authorization"],
                        },
                        "CookiesConfig": {"CookieBehavior": "none"},
                        "QueryStringsConfig": {"QueryStringBehavior": "all"},
                    },
                }
            },
        },
        "DashboardDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Comment": {"Fn::Sub": "${AWS::StackName} dashboard and API"},
                    "Enabled": True,
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    "DefaultRootObject": "index.html",
                    "Origins": [
                        {
                            "Id": "dashboard",
                            "DomainName": {"Fn::GetAtt": ["DashboardBucket", "RegionalDomainName"]},
                            "OriginAccessControlId": {
                                "Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]
                            },
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        },
                        {
                            "Id": "api",
                            "DomainName": _api_domain(),
                            "CustomOriginConfig": {
                                "OriginProtocolPolicy": "https-only",
                                "HTTPSPort": 443,
                                "OriginSSLProtocols": ["TLSv1.2"],
                            },
                        },
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "dashboard",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": SECURITY_HEADERS,
                    },
                    # CloudFront caches 4xx/5xx answers for 10 s by default, whatever the
                    # cache policy says: a 404 or a transient 503 from the API would then stick.
                    "CustomErrorResponses": [
                        {"ErrorCode": code, "ErrorCachingMinTTL": 0} for code in ERROR_CODES
                    ],
                    "CacheBehaviors": [
                        {
                            # The API Gateway stage is the first path segment on both sides,
                            # so /api/leads on CloudFront is /api/leads on API Gateway.
                            "PathPattern": api_path,
                            "TargetOriginId": "api",
                            "ViewerProtocolPolicy": "https-only",
                            "AllowedMethods": [
                                "GET",
                                "HEAD",
                                "OPTIONS",
                                "PUT",
                                "PATCH",
                                "POST",
                                "DELETE",
                            ],
                            "CachedMethods": ["GET", "HEAD"],
                            "Compress": False,
                            "CachePolicyId": {"Ref": "ApiCachePolicy"},
                            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
                        }
                    ],
                }
            },
        },
    }


# ---------------------------------------------------------------- sign-in (Cognito)

PRODUCT_NAME = "Coldcall"
PASSWORD_POLICY: dict[str, Any] = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
    "TemporaryPasswordValidityDays": 7,
}
AUTH_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
# What the app does to the pool's users (chalicelib/identity/), nothing else.
COGNITO_ADMIN_ACTIONS = [
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminResetUserPassword",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminUserGlobalSignOut",
]


def user_pool_name(cfg: StageConfig) -> str:
    """`{app}-{stage}`, the name `make dev` gives the local pool too (localdev/cognito.py)."""
    return f"{cfg.app_name}-{cfg.stage}"


def user_pool(cfg: StageConfig) -> dict[str, Any]:
    """The user pool and the API's app client. Members are invited by an admin (no self
    sign-up); the e-mail is the username; Cognito e-mails the temporary password. The invite
    names no URL: the pool cannot reference the distribution (the API function's environment
    names the pool, and the distribution fronts the API: a cycle)."""
    policy = "Retain" if cfg.protected else "Delete"
    pool: dict[str, Any] = {
        "UserPoolName": user_pool_name(cfg),
        "UsernameAttributes": ["email"],
        "UsernameConfiguration": {"CaseSensitive": False},
        "AutoVerifiedAttributes": ["email"],
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": True,
            "InviteMessageTemplate": {
                "EmailSubject": f"Your {PRODUCT_NAME} sign-in",
                "EmailMessage": (
                    f"You have been invited to {PRODUCT_NAME}, your team's cold-calling "
                    "dashboard. Sign in with your e-mail address {username} and the temporary "
                    "password {####} within 7 days; you will then choose your own password."
                ),
            },
        },
        "Policies": {"PasswordPolicy": dict(PASSWORD_POLICY)},
        "AccountRecoverySetting": {
            "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
        },
        "MfaConfiguration": "OFF",
        "DeletionProtection": "ACTIVE" if cfg.protected else "INACTIVE",
        "UserPoolTags": {"app": cfg.app_name, "stage": cfg.stage},
    }
    if cfg.cognito_advanced_security:
        pool["UserPoolTier"] = "PLUS"  # threat protection is a Plus feature
        pool["UserPoolAddOns"] = {"AdvancedSecurityMode": "AUDIT"}
    else:
        pool["UserPoolTier"] = "ESSENTIALS"
    return {
        "UserPool": {
            "Type": "AWS::Cognito::UserPool",
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
            "Properties": pool,
        },
        "UserPoolClient": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "UserPoolId": {"Ref": "UserPool"},
                "ClientName": f"{user_pool_name(cfg)}-api",
                "GenerateSecret": False,
                "ExplicitAuthFlows": list(AUTH_FLOWS),
                "PreventUserExistenceErrors": "ENABLED",
                "EnableTokenRevocation": True,
                "AccessTokenValidity": 60,
                "IdTokenValidity": 60,
                "RefreshTokenValidity": 30,
                "TokenValidityUnits": {
                    "AccessToken": "minutes",
                    "IdToken": "minutes",
                    "RefreshToken": "days",
                },
            },
        },
    }


def user_pool_access() -> dict[str, Any]:
    """The API function may administer this pool's users, and no other pool's. A policy of its
    own in the template rather than a statement in `.chalice/policy-{stage}.json`: the pool's
    ARN holds a generated id that a static file cannot name."""
    return {
        "UserPoolAdminPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "user-pool-admin",
                "Roles": [{"Ref": API_ROLE}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "StageUserPool",
                            "Effect": "Allow",
                            "Action": list(COGNITO_ADMIN_ACTIONS),
                            "Resource": {"Fn::GetAtt": ["UserPool", "Arn"]},
                        }
                    ],
                },
            },
        }
    }


# ---------------------------------------------------------------- limits


def api_limits(cfg: StageConfig) -> dict[str, Any]:
    """Patches of Chalice's resources: throttling on the API Gateway stage (every route and
    method) and the API function's reserved concurrency."""
    patches: dict[str, Any] = {
        REST_API: {
            "Properties": {
                "MethodSettings": [
                    {
                        "ResourcePath": "/*",
                        "HttpMethod": "*",
                        "ThrottlingBurstLimit": cfg.api_throttle_burst,
                        "ThrottlingRateLimit": cfg.api_throttle_rate,
                    }
                ]
            }
        }
    }
    if cfg.api_reserved_concurrency is not None:
        patches[API_FUNCTION] = {
            "Properties": {"ReservedConcurrentExecutions": cfg.api_reserved_concurrency}
        }
    return patches


def merge_into(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `patch` into `target` (dicts merged key by key, anything else replaced), so
    several generators may patch the same Chalice resource."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_into(target[key], value)
        else:
            target[key] = value
    return target


# ---------------------------------------------------------------- the merge template

PARAMETERS: dict[str, Any] = {
    "PublicBaseUrl": {
        "Type": "String",
        "Default": "",
        "Description": "The API's public base URL (the ApiUrl output). The deploy sets it on a "
        "second pass after the first create: Twilio signs the URL it calls, and the app checks "
        "signatures against this base.",
    },
    "TwilioAccountSid": {
        "Type": "String",
        "Default": "",
        "Description": "Twilio account SID (not a secret; the auth token is in SSM).",
    },
    "TwilioMessagingServiceSid": {
        "Type": "String",
        "Default": "",
        "Description": "Optional Twilio Messaging Service SID used to send SMS.",
    },
    "RecordCalls": {
        "Type": "String",
        "Default": "0",
        "AllowedValues": ["0", "1"],
        "Description": "RECORD_CALLS: 1 records click-to-call and inbound conversations (both "
        "channels, after a recording notice to the lead); campaigns have their own record.",
    },
    "CompanyName": {
        "Type": "String",
        "Default": "our team",
        "MinLength": 1,
        "MaxLength": 80,
        "Description": "COMPANY_NAME: who callers hear they reached (voicemail greeting) and "
        "who is calling in the abandoned-call message.",
    },
    "RecordingRetentionDays": {
        "Type": "Number",
        "Default": 365,
        "MinValue": 1,
        "Description": "Days call recordings and voicemails are kept in the recordings bucket "
        "before S3 deletes them.",
    },
}


def function_environment(cfg: StageConfig) -> dict[str, Any]:
    """What every deployed function sees besides the stage's `environment_variables` (which
    win where both set a name). Secrets only by reference."""
    return {
        "APP_NAME": cfg.app_name,
        "STAGE": cfg.stage,
        **cfg.secret_references(),
        "PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"},
        "TWILIO_ACCOUNT_SID": {"Ref": "TwilioAccountSid"},
        "TWILIO_MESSAGING_SERVICE_SID": {"Ref": "TwilioMessagingServiceSid"},
        "EXPORT_BUCKET": {"Ref": "ExportBucket"},
        "RECORDINGS_BUCKET": {"Ref": "RecordingsBucket"},
        "RECORD_CALLS": {"Ref": "RecordCalls"},
        "COMPANY_NAME": {"Ref": "CompanyName"},
        "COGNITO_USER_POOL_ID": {"Ref": "UserPool"},
        "COGNITO_CLIENT_ID": {"Ref": "UserPoolClient"},
    }


def outputs(cfg: StageConfig) -> dict[str, Any]:
    api = f"https://${{RestAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{cfg.api_gateway_stage}"
    return {
        "ApiUrl": {
            "Description": "API base URL (API Gateway), what PUBLIC_BASE_URL and Twilio use",
            "Value": {"Fn::Sub": api},
        },
        "DashboardUrl": {
            "Description": "The dashboard (CloudFront)",
            "Value": {"Fn::Sub": "https://${DashboardDistribution.DomainName}"},
        },
        "DashboardApiUrl": {
            "Description": "The API through CloudFront, same origin as the dashboard",
            "Value": {
                "Fn::Sub": "https://${DashboardDistribution.DomainName}/" + cfg.api_gateway_stage
            },
        },
        "DashboardBucketName": {"Value": {"Ref": "DashboardBucket"}},
        "DashboardDistributionId": {"Value": {"Ref": "DashboardDistribution"}},
        "ExportBucketName": {"Value": {"Ref": "ExportBucket"}},
        "RecordingsBucketName": {
            "Description": "Call recordings and voicemails (RECORDINGS_BUCKET)",
            "Value": {"Ref": "RecordingsBucket"},
        },
        "UserPoolId": {
            "Description": "The Cognito user pool members sign in to (COGNITO_USER_POOL_ID)",
            "Value": {"Ref": "UserPool"},
        },
        "UserPoolClientId": {
            "Description": "The API's app client of the pool (COGNITO_CLIENT_ID)",
            "Value": {"Ref": "UserPoolClient"},
        },
    }


def gateway_response_body(response_type: str, code: str) -> str:
    """The JSON body (an API Gateway template: `$context` variables are filled in; the
    message's `messageString` arrives already quoted and escaped)."""
    message = json.dumps(_NO_ROUTE) if code == "not_found" else "$context.error.messageString"
    return (
        '{"error":{"code":' + json.dumps(code) + ',"message":' + message + ","
        '"details":{"gatewayResponse":"$context.error.responseType",'
        '"requestId":"$context.requestId"}}}'
    )


def gateway_responses() -> dict[str, Any]:
    """`x-amazon-apigateway-gateway-responses` for the API's OpenAPI body.

    In the body rather than as `AWS::ApiGateway::GatewayResponse` resources: Chalice's API is
    a SAM `AWS::Serverless::Api` defined by its body, which CloudFormation imports with
    PutRestApi in overwrite mode; gateway responses that live outside the body are dropped
    from the API by the next such import (a deploy that changes a route), and are not in the
    body's hash that makes SAM create a new deployment, so a change of them would never
    reach the stage (aws/serverless-application-model#390, #3482). In the body they are
    part of every import and every deployment."""
    out: dict[str, Any] = {}
    for response_type, (status, code) in GATEWAY_RESPONSES.items():
        response: dict[str, Any] = {
            "responseParameters": {"gatewayresponse.header.Cache-Control": "'no-store'"},
            "responseTemplates": {"application/json": gateway_response_body(response_type, code)},
        }
        if status is not None:
            response["statusCode"] = str(status)
        out[response_type] = response
    return out


def merge_template(cfg: StageConfig) -> dict[str, Any]:
    """The template given to `chalice package --merge-template` (deep-merged, ours wins)."""
    resources: dict[str, Any] = {}
    resources.update(table_resources(cfg))
    resources.update(dashboard_bucket())
    resources.update(export_bucket(cfg))
    resources.update(recordings_bucket(cfg))
    resources.update(dashboard_delivery(cfg))
    resources.update(user_pool(cfg))
    resources.update(user_pool_access())
    resources[API_LOG_GROUP] = {
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${" + API_FUNCTION + "}"}}
    }
    merge_into(resources, api_limits(cfg))
    # deep-merged into the OpenAPI body Chalice generates for its API
    merge_into(
        resources,
        {
            API_RESOURCE: {
                "Properties": {
                    "DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway_responses()}
                }
            }
        },
    )
    return {
        "Description": f"{cfg.app_name} {cfg.stage}: API, functions, tables, dashboard, sign-in",
        "Parameters": PARAMETERS,
        "Globals": {"Function": {"Environment": {"Variables": function_environment(cfg)}}},
        "Resources": resources,
        "Outputs": outputs(cfg),
    }


def data_template(cfg: StageConfig) -> dict[str, Any]:
    """The tables and the buckets on their own: plain CloudFormation with no reference
    to Chalice's resources, which is what moto can deploy in the tests."""
    resources: dict[str, Any] = {
        **table_resources(cfg),
        **dashboard_bucket(),
        **export_bucket(cfg),
        # the bucket without its HTTPS-only policy (moto's CloudFormation has no BucketPolicy)
        "RecordingsBucket": recordings_bucket(cfg)["RecordingsBucket"],
    }
    outs: dict[str, Any] = {
        logical_id: {"Value": {"Ref": logical_id}}
        for logical_id, res in resources.items()
        if res["Type"] == "AWS::DynamoDB::Table"
    }
    outs["DashboardBucketName"] = {"Value": {"Ref": "DashboardBucket"}}
    outs["ExportBucketName"] = {"Value": {"Ref": "ExportBucket"}}
    outs["RecordingsBucketName"] = {"Value": {"Ref": "RecordingsBucket"}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{cfg.app_name} {cfg.stage}: tables and buckets",
        "Parameters": {"RecordingRetentionDays": PARAMETERS["RecordingRetentionDays"]},
        "Resources": resources,
        "Outputs": outs,
    }
