"""`make deploy STAGE=prod`: package, store the secrets, deploy the stack, point it at itself,
upload the dashboard, print what to set on the Twilio number.

    python -m scripts.deploy --stage prod [--region eu-west-1] [--configure-twilio]
    python -m scripts.deploy --stage prod --dry-run      # everything but the AWS calls
    python -m scripts.deploy --stage dev --teardown      # empty the bucket, delete the stack

Prerequisites: AWS credentials (any the AWS CLI would use: profile, SSO, environment) allowed
to run CloudFormation with IAM, and a Twilio account (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).

Steps, each safe to repeat:

1. `infra.build`: the generated template merged into `chalice package` (no AWS calls).
2. Secrets into SSM Parameter Store (SecureString) under `/{app}/{stage}/`: the Twilio auth
   token from TWILIO_AUTH_TOKEN (or a prompt), the API token from API_TOKEN, else the stored
   one is kept, else one is generated. Values are never printed; the functions only get the
   parameter names.
3. An artifacts bucket `{app}-artifacts-{account}-{region}` (created if missing, private),
   the zips under content hashes (an unchanged layer is not re-published), the template.
4. The stack `{app}-{stage}` through a change set (create or update), waited on.
5. `PUBLIC_BASE_URL`: Twilio signs the exact URL it calls, so the app must know its public
   base. API Gateway's URL exists only once the stack does, and a function cannot reference
   its own API (a cycle), so it is a stack parameter: on the first create a second pass sets
   it from the `ApiUrl` output; later deploys pass the known value in one pass.
6. The dashboard upload (`scripts/deploy_dashboard.py`, when present) and a CloudFront
   invalidation; with `--configure-twilio`, the number's webhooks through Twilio's API: its
   SMS URL, its voice URL ("A call comes in") and its call status callback.

Stack parameters besides the two above, each from the deploy's environment, else the stack's
previous value, else the template's default: `TwilioMessagingServiceSid`
(TWILIO_MESSAGING_SERVICE_SID), `RecordCalls` (RECORD_CALLS, `0`), `CompanyName`
(COMPANY_NAME, `our team`), `RecordingRetentionDays` (RECORDING_RETENTION_DAYS, 365).
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import importlib
import inspect
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.build import Package, PackagingError, build
from infra.template import PARAMETERS, ROOT, StageConfig, load_stage

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(RuntimeError):
    """A step failed in a way the user can act on; the message says how."""


def say(message: str = "") -> None:
    print(message, flush=True)


# ---------------------------------------------------------------- secrets


@dataclass(frozen=True)
class Secret:
    """One secret the deploy stores: where (the reference the functions get), from which
    environment variable, and what to do when neither the environment nor the store has it."""

    env_var: str
    reference: str
    generate: bool  # True: make a random one; False: prompt, or fail without a terminal
    label: str

    @property
    def kind(self) -> str:
        return self.reference.partition(":")[0]

    @property
    def name(self) -> str:
        return self.reference.partition(":")[2]


def stage_secrets(cfg: StageConfig) -> list[Secret]:
    refs = cfg.secret_references()
    return [
        Secret("TWILIO_AUTH_TOKEN", refs["TWILIO_AUTH_TOKEN_SECRET"], False, "Twilio auth token"),
        Secret("API_TOKEN", refs["API_TOKEN_SECRET"], True, "API token"),
    ]


def read_command(secret: Secret) -> str:
    """How a person reads the secret back (printed instead of the value)."""
    if secret.kind == "ssm":
        return (
            f"aws ssm get-parameter --name {secret.name} --with-decryption "
            "--query Parameter.Value --output text"
        )
    return (
        f"aws secretsmanager get-secret-value --secret-id {secret.name} "
        "--query SecretString --output text"
    )


def _exists(session: Any, secret: Secret) -> bool:
    if secret.kind == "ssm":
        ssm = session.client("ssm")
        try:
            ssm.get_parameter(Name=secret.name)  # metadata only: no decryption asked
        except ssm.exceptions.ParameterNotFound:
            return False
        return True
    sm = session.client("secretsmanager")
    try:
        sm.describe_secret(SecretId=secret.name)
    except sm.exceptions.ResourceNotFoundException:
        return False
    return True


def _store(session: Any, secret: Secret, value: str, cfg: StageConfig) -> None:
    if secret.kind == "ssm":
        session.client("ssm").put_parameter(
            Name=secret.name,
            Value=value,
            Type="SecureString",
            Overwrite=True,
            Description=f"{cfg.app_name} {cfg.stage}: {secret.label}",
        )
        return
    sm = session.client("secretsmanager")
    try:
        sm.put_secret_value(SecretId=secret.name, SecretString=value)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=secret.name, SecretString=value)


def ensure_secrets(
    session: Any,
    cfg: StageConfig,
    env: dict[str, str],
    prompt: Callable[[str], str] | None,
) -> list[str]:
    """Write each secret from the environment, keep a stored one, else generate or prompt.
    Returns what was done, one line per secret, never a value."""
    done: list[str] = []
    for secret in stage_secrets(cfg):
        given = (env.get(secret.env_var) or "").strip()
        if given:
            _store(session, secret, given, cfg)
            done.append(f"{secret.label}: stored from {secret.env_var} in {secret.reference}")
            continue
        if _exists(session, secret):
            done.append(f"{secret.label}: kept the stored {secret.reference}")
            continue
        if secret.generate:
            _store(session, secret, secrets.token_urlsafe(32), cfg)
            done.append(f"{secret.label}: generated into {secret.reference}")
            continue
        if prompt is None:
            raise DeployError(
                f"{secret.label} is not stored yet: set {secret.env_var} (or run in a terminal "
                "to be asked for it)"
            )
        value = prompt(f"{secret.label} (input hidden): ").strip()
        if not value:
            raise DeployError(f"{secret.label} is required")
        _store(session, secret, value, cfg)
        done.append(f"{secret.label}: stored from the prompt in {secret.reference}")
    return done


# ---------------------------------------------------------------- artifacts


def artifacts_bucket_name(cfg: StageConfig, account: str, region: str) -> str:
    return f"{cfg.app_name}-artifacts-{account}-{region}"


def ensure_artifacts_bucket(s3: Any, name: str, region: str) -> bool:
    """Create the private artifacts bucket if it is missing. Returns True when created."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
        return False
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(
                f"bucket {name} exists but is not usable by these credentials ({code})"
            ) from exc
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload_file(s3: Any, bucket: str, prefix: str, path: Path) -> str:
    """Upload under a content hash (skipped when already there); returns the key."""
    from botocore.exceptions import ClientError

    key = f"{prefix}/{path.stem}-{_sha256(path)[:20]}{path.suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        s3.upload_file(str(path), bucket, key)
    return key


def template_url(bucket: str, key: str, region: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def with_code_locations(template: dict[str, Any], locations: dict[str, str]) -> dict[str, Any]:
    """The packaged template with `./deployment.zip` and `./layer-deployment.zip` replaced by
    their S3 URIs (what `aws cloudformation package` does)."""
    out = json.loads(json.dumps(template))
    for resource in out.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for prop in ("CodeUri", "ContentUri"):
            value = props.get(prop)
            if isinstance(value, str):
                name = Path(value).name
                if name not in locations:
                    raise DeployError(f"no uploaded artifact for {prop} {value}")
                props[prop] = locations[name]
    return out


def upload_template(
    s3: Any, bucket: str, prefix: str, template: dict[str, Any], region: str
) -> str:
    body = json.dumps(template, sort_keys=True).encode()
    key = f"{prefix}/template-{hashlib.sha256(body).hexdigest()[:20]}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return template_url(bucket, key, region)


def upload_package(s3: Any, bucket: str, prefix: str, pkg: Package, region: str) -> str:
    """Zips and template to the artifacts bucket; returns the TemplateURL."""
    locations: dict[str, str] = {}
    for path in (pkg.function_zip, pkg.layer_zip):
        if path.exists():
            locations[path.name] = f"s3://{bucket}/{upload_file(s3, bucket, prefix, path)}"
    template = with_code_locations(pkg.load_template(), locations)
    return upload_template(s3, bucket, prefix, template, region)


# ---------------------------------------------------------------- the stack


def stack_status(cfn: Any, name: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_parameters(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def _waiter_config(delay: float) -> dict[str, Any]:
    # Stacks with CloudFront take 5-15 minutes; allow an hour before giving up.
    return {"Delay": delay, "MaxAttempts": max(1, int(3600 / max(delay, 0.1)))}


def deploy_stack(
    cfn: Any,
    name: str,
    url: str,
    parameters: dict[str, str],
    *,
    tags: dict[str, str] | None = None,
    delay: float = 10.0,
    log: Callable[[str], None] = say,
) -> bool:
    """Create or update the stack through a change set and wait. Returns False when there was
    nothing to change."""
    status = stack_status(cfn, name)
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {name} failed to create and was rolled back; see its events in the "
            f"CloudFormation console, then delete it (aws cloudformation delete-stack "
            f"--stack-name {name}) and deploy again"
        )
    if status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {name} is busy ({status}); wait for it and deploy again")
    create = status is None or status == "REVIEW_IN_PROGRESS"
    change_set = f"deploy-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType="CREATE" if create else "UPDATE",
        TemplateURL=url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=CAPABILITIES,
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig=_waiter_config(delay)
        )
    except Exception as exc:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        reason = str(described.get("StatusReason", ""))
        if any(text in reason for text in NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            log(f"stack {name}: no changes")
            return False
        raise DeployError(f"change set for {name} failed: {reason or exc}") from exc
    log(f"stack {name}: {'creating' if create else 'updating'} (change set {change_set}) ...")
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_create_complete" if create else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=_waiter_config(delay))
    except Exception as exc:
        raise DeployError(
            f"stack {name} did not reach {'CREATE' if create else 'UPDATE'}_COMPLETE "
            f"({stack_status(cfn, name)}); its events in the CloudFormation console say why"
        ) from exc
    log(f"stack {name}: {stack_status(cfn, name)}")
    return True


# ---------------------------------------------------------------- after the stack


@dataclass
class Result:
    """What the deploy prints at the end."""

    stack: str
    region: str
    api_url: str
    dashboard_url: str
    dashboard_api_url: str
    notes: list[str] = field(default_factory=list)
    user_pool_id: str = ""
    user_pool_client_id: str = ""

    @property
    def sms_incoming_url(self) -> str:
        return number_webhooks(self.api_url)["sms_url"]

    @property
    def voice_incoming_url(self) -> str:
        return number_webhooks(self.api_url)["voice_url"]

    @property
    def voice_status_url(self) -> str:
        return number_webhooks(self.api_url)["status_callback"]


def number_webhooks(api_url: str) -> dict[str, str]:
    """What the Twilio number must post where (the SDK's IncomingPhoneNumber fields): incoming
    texts, incoming calls ("A call comes in") and the incoming call's status callback."""
    return {
        "sms_url": f"{api_url}/twilio/sms/incoming",
        "sms_method": "POST",
        "voice_url": f"{api_url}/twilio/voice/incoming",
        "voice_method": "POST",
        "status_callback": f"{api_url}/twilio/voice/incoming-status",
        "status_callback_method": "POST",
    }


def twilio_instructions(api_url: str) -> list[str]:
    hooks = number_webhooks(api_url)
    return [
        "Twilio number (Console > Phone Numbers > Active numbers > your number):",
        "  Voice Configuration:",
        f"    A call comes in: Webhook, HTTP POST, {hooks['voice_url']}",
        f"    Call status changes: HTTP POST, {hooks['status_callback']}",
        "  Messaging Configuration:",
        f"    A message comes in: Webhook, HTTP POST, {hooks['sms_url']}",
        "  Calls the app places carry their own webhook URLs",
        f"  ({api_url}/twilio/voice/connect|gather|status|lead-status/<callId>).",
        "  Or run the deploy with --configure-twilio to set all three through Twilio's API.",
    ]


def upload_dashboard(
    bucket: str, api_base: str, region: str, stage: str, log: Callable[[str], None] = say
) -> bool:
    """Call `scripts/deploy_dashboard.py` (the dashboard's own upload: content types, cache
    headers, `config.js`) when it exists; else say what to run. Its entry point is
    `upload_dashboard(...)` or `deploy(...)`, given whichever of `bucket`, `api_base`,
    `region`, `stage` it accepts."""
    try:
        deploy_dashboard = importlib.import_module("scripts.deploy_dashboard")
    except ModuleNotFoundError as exc:
        if exc.name != "scripts.deploy_dashboard":
            raise  # the module is there but something it imports is not: a real error
        log("dashboard: scripts/deploy_dashboard.py is not there yet; upload the built dashboard")
        log(f"  to s3://{bucket}/ and write config.js with the API base {api_base}")
        return False
    fn = getattr(deploy_dashboard, "upload_dashboard", None) or getattr(
        deploy_dashboard, "deploy", None
    )
    if not callable(fn):
        log("dashboard: scripts/deploy_dashboard.py has no upload_dashboard() or deploy()")
        return False
    offered = {"bucket": bucket, "api_base": api_base, "region": region, "stage": stage}
    accepted = inspect.signature(fn).parameters
    missing = [
        name
        for name, param in accepted.items()
        if param.default is inspect.Parameter.empty
        and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
        and name not in offered
    ]
    if missing:
        log(f"dashboard: {fn.__name__}() also needs {', '.join(missing)}; run it yourself with")
        log(f"  bucket={bucket} api_base={api_base}")
        return False
    fn(**{k: v for k, v in offered.items() if k in accepted})
    log(f"dashboard: uploaded to s3://{bucket}/ (config.js API base {api_base})")
    return True


def invalidate(cloudfront: Any, distribution_id: str) -> None:
    """Serve the new dashboard now rather than when edge caches expire (1,000 paths a month
    are free; this is one)."""
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"deploy-{time.time_ns()}",
        },
    )


def configure_twilio_number(client: Any, api_url: str, number: str | None) -> tuple[str, list[str]]:
    """Point the number's webhooks at the API (`number_webhooks`: incoming texts, incoming
    calls, the incoming call's status). Returns the number configured and what else changed.

    A voice or SMS *application* on the number (a TwiML App SID) would make Twilio ignore the
    URLs set here, so it is cleared (and said so). With no number given, the account must have
    exactly one (else the choice is the user's)."""
    numbers = (
        client.incoming_phone_numbers.list(phone_number=number)
        if number
        else client.incoming_phone_numbers.list(limit=20)
    )
    if not numbers:
        raise DeployError(f"Twilio has no number {number or ''} in this account".strip())
    if len(numbers) > 1:
        raise DeployError(
            "the Twilio account has several numbers: pass --twilio-number +1... "
            "(or set TWILIO_PHONE_NUMBER)"
        )
    target = numbers[0]
    fields: dict[str, str] = number_webhooks(api_url)
    cleared: list[str] = []
    for app_field in ("voice_application_sid", "sms_application_sid"):
        previous = getattr(target, app_field, None)
        if previous:
            fields[app_field] = ""
            cleared.append(f"{app_field} {previous} removed (it overrode the webhook URLs)")
    target.update(**fields)
    return str(target.phone_number), cleared


# ---------------------------------------------------------------- the app's parameters

APP_PARAMETERS = ("RecordCalls", "CompanyName", "RecordingRetentionDays")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def app_parameters(env: dict[str, str], previous: dict[str, str]) -> dict[str, str]:
    """`RecordCalls`, `CompanyName`, `RecordingRetentionDays`: from the deploy's environment
    (RECORD_CALLS, COMPANY_NAME, RECORDING_RETENTION_DAYS), else the stack's previous value
    (an update that leaves a parameter out would reset it to the default), else left out (the
    template's default). Refuses values the stack would refuse, before anything is sent."""
    out: dict[str, str] = {}
    record = (env.get("RECORD_CALLS") or "").strip().lower()
    if record:
        if record not in _TRUE + _FALSE:
            raise DeployError(f"RECORD_CALLS must be 1 or 0, got {record!r}")
        out["RecordCalls"] = "1" if record in _TRUE else "0"
    company = (env.get("COMPANY_NAME") or "").strip()
    if company:
        if len(company) > 80:
            raise DeployError("COMPANY_NAME must be at most 80 characters")
        out["CompanyName"] = company
    days = (env.get("RECORDING_RETENTION_DAYS") or "").strip()
    if days:
        if not days.isdigit() or int(days) < 1:
            raise DeployError(
                f"RECORDING_RETENTION_DAYS must be a whole number of days, got {days!r}"
            )
        out["RecordingRetentionDays"] = str(int(days))
    for name in APP_PARAMETERS:
        if name not in out and previous.get(name):
            out[name] = previous[name]
    return out


# ---------------------------------------------------------------- the flow


@dataclass
class Options:
    stage: str
    region: str
    dry_run: bool = False
    configure_twilio: bool = False
    twilio_number: str | None = None
    package_dir: Path | None = None
    skip_dashboard: bool = False
    delay: float = 10.0
    admin_email: str | None = None
    admin_phone: str | None = None


def create_first_admin(
    cfg: StageConfig,
    region: str,
    pool_id: str,
    client_id: str,
    email: str,
    phone: str | None = None,
) -> str:
    """Make `email` an active admin of the deployed stage (services.team.ensure_admin, the same
    code `make dev` runs): their member record in the stage's tables and their sign-in in the
    stage's user pool, which e-mails them a temporary password. Idempotent: an admin already
    there is left as is. Returns a line for the summary."""
    from chalicelib.clock import SystemClock
    from chalicelib.config import Settings
    from chalicelib.errors import AppError, TelephonyError
    from chalicelib.identity.provider import CognitoProvider
    from chalicelib.services import team
    from chalicelib.services.deps import Deps
    from chalicelib.store.dynamo import DynamoStore

    settings = Settings(
        app_name=cfg.app_name,
        stage=cfg.stage,
        region=region,
        cognito_user_pool_id=pool_id,
        cognito_client_id=client_id,
        invite_emails=True,
    )

    def no_twilio() -> Any:
        raise TelephonyError("not needed to create the first admin")

    deps = Deps(
        settings,
        DynamoStore(settings),
        SystemClock(),
        no_twilio,
        make_identity=lambda: CognitoProvider(region, pool_id, client_id),
    )
    try:
        member, invite = team.ensure_admin(deps, email, None, phone)
    except AppError as exc:
        raise DeployError(f"the first admin could not be created: {exc.message}") from None
    if invite is not None:
        return f"Admin: {member.email} (Cognito e-mailed them a temporary password)"
    return f"Admin: {member.email} (already set up)"


def _package(opts: Options, cfg: StageConfig) -> Package:
    if opts.package_dir is not None:
        pkg = Package(opts.package_dir)
        if not pkg.template.exists():
            raise DeployError(f"{pkg.template} is missing: run python -m infra.build first")
        return pkg
    say(f"packaging {cfg.stage} (chalice package with the generated template) ...")
    try:
        return build(cfg.stage, ROOT / "infra" / "build" / cfg.stage, region=opts.region)
    except PackagingError as exc:
        raise DeployError(str(exc)) from exc


def _summary(pkg: Package) -> Iterator[str]:
    template = pkg.load_template()
    kinds: dict[str, int] = {}
    for res in template.get("Resources", {}).values():
        kinds[res["Type"]] = kinds.get(res["Type"], 0) + 1
    for kind, count in sorted(kinds.items()):
        yield f"  {count} x {kind}"
    for path in (pkg.function_zip, pkg.layer_zip):
        if path.exists():
            yield f"  {path.name}: {path.stat().st_size / 1e6:.2f} MB"


def dry_run(opts: Options, cfg: StageConfig, pkg: Package, env: dict[str, str]) -> int:
    say(f"DRY RUN: nothing is sent to AWS or Twilio. Stack {cfg.stack_name} in {opts.region}:")
    for line in _summary(pkg):
        say(line)
    say(f"artifacts bucket: {cfg.app_name}-artifacts-<account>-{opts.region} (created if missing)")
    for secret in stage_secrets(cfg):
        source = (
            f"from {secret.env_var}"
            if (env.get(secret.env_var) or "").strip()
            else ("kept if stored, else generated" if secret.generate else "kept, else asked")
        )
        say(f"secret {secret.label}: {secret.reference} ({source})")
    sid = env.get("TWILIO_ACCOUNT_SID") or "(previous value)"
    say(f"parameters: TwilioAccountSid={sid}, PublicBaseUrl=<ApiUrl output, second pass>")
    given = app_parameters(env, {})
    say(
        "parameters: "
        + ", ".join(
            f"{name}={given[name]}"
            if name in given
            else f"{name}=(previous value, else {PARAMETERS[name]['Default']})"
            for name in APP_PARAMETERS
        )
    )
    say(
        f"recordings: bucket {cfg.app_name}-{cfg.stage}-recordings-<account>-{opts.region} "
        f"({'retained' if cfg.protected else 'deleted'} with the stack)"
    )
    say(f"sign-in: Cognito user pool {cfg.app_name}-{cfg.stage} and its app client (outputs)")
    say("then: dashboard upload and CloudFront invalidation; Twilio webhooks to set:")
    for line in twilio_instructions(
        f"https://<api-id>.execute-api.{opts.region}.amazonaws.com/api"
    ):
        say("  " + line)
    return 0


def deploy(opts: Options, env: dict[str, str], session: Any = None) -> Result:
    """The whole flow against AWS (`session`: a boto3 Session; tests pass one bound to moto)."""
    cfg = load_stage(opts.stage)
    pkg = _package(opts, cfg)
    if session is None:
        import boto3

        session = boto3.Session(region_name=opts.region)
    account = session.client("sts").get_caller_identity()["Account"]
    say(f"deploying {cfg.stack_name} to account {account}, region {opts.region}")

    prompt = getpass.getpass if sys.stdin.isatty() else None
    for line in ensure_secrets(session, cfg, env, prompt):
        say(line)

    s3 = session.client("s3")
    bucket = artifacts_bucket_name(cfg, account, opts.region)
    if ensure_artifacts_bucket(s3, bucket, opts.region):
        say(f"created artifacts bucket {bucket}")
    url = upload_package(s3, bucket, cfg.stack_name, pkg, opts.region)

    cfn = session.client("cloudformation")
    exists = stack_status(cfn, cfg.stack_name) not in (None, "REVIEW_IN_PROGRESS")
    previous = stack_parameters(cfn, cfg.stack_name) if exists else {}
    known = stack_outputs(cfn, cfg.stack_name).get("ApiUrl", "") if exists else ""
    params = {
        "PublicBaseUrl": env.get("PUBLIC_BASE_URL") or known,
        "TwilioAccountSid": env.get("TWILIO_ACCOUNT_SID") or previous.get("TwilioAccountSid", ""),
        "TwilioMessagingServiceSid": env.get("TWILIO_MESSAGING_SERVICE_SID")
        or previous.get("TwilioMessagingServiceSid", ""),
        **app_parameters(env, previous),
    }
    if not params["TwilioAccountSid"]:
        say("warning: TWILIO_ACCOUNT_SID is not set; calls and SMS fail until it is")
    tags = {"app": cfg.app_name, "stage": cfg.stage}
    deploy_stack(cfn, cfg.stack_name, url, params, tags=tags, delay=opts.delay)
    outputs = stack_outputs(cfn, cfg.stack_name)
    api_url = outputs["ApiUrl"].rstrip("/")
    if not params["PublicBaseUrl"]:
        say(f"second pass: PUBLIC_BASE_URL={api_url}")
        second = {**params, "PublicBaseUrl": api_url}
        deploy_stack(cfn, cfg.stack_name, url, second, tags=tags, delay=opts.delay)

    result = Result(
        stack=cfg.stack_name,
        region=opts.region,
        api_url=api_url,
        dashboard_url=outputs.get("DashboardUrl", ""),
        dashboard_api_url=outputs.get("DashboardApiUrl", ""),
        user_pool_id=outputs.get("UserPoolId", ""),
        user_pool_client_id=outputs.get("UserPoolClientId", ""),
    )
    if not opts.skip_dashboard and outputs.get("DashboardBucketName"):
        uploaded = upload_dashboard(
            outputs["DashboardBucketName"], result.dashboard_api_url, opts.region, cfg.stage
        )
        if uploaded and outputs.get("DashboardDistributionId"):
            invalidate(session.client("cloudfront"), outputs["DashboardDistributionId"])

    from chalicelib.config import Settings
    from chalicelib.store.tables import (
        backfill_search,
        backfill_suppressions,
        backfill_unassigned,
    )

    stage_settings = Settings(app_name=cfg.app_name, stage=cfg.stage, region=opts.region)
    moved = backfill_unassigned(stage_settings)
    if moved:
        result.notes.append(f"{moved} unassigned leads from before sign-in listed for callers")
    flagged = backfill_suppressions(stage_settings)
    if flagged:
        result.notes.append(
            f"{flagged} leads' doNotCall/smsOptOut moved into the suppression ledger"
        )
    indexed = backfill_search(stage_settings)
    if indexed:
        result.notes.append(f"{indexed} leads from before search added to the search index")

    if opts.admin_email and result.user_pool_id:
        result.notes.append(
            create_first_admin(
                cfg,
                opts.region,
                result.user_pool_id,
                result.user_pool_client_id,
                opts.admin_email,
                opts.admin_phone,
            )
        )
    elif not opts.admin_email:
        result.notes.append(
            "No admin was created: run again with ADMIN_EMAIL=you@example.com (Cognito e-mails "
            "a temporary password), or use the API token to add members"
        )

    if opts.configure_twilio:
        from chalicelib.config import resolve_secret

        sid = params["TwilioAccountSid"]
        if not sid:
            raise DeployError("--configure-twilio needs TWILIO_ACCOUNT_SID")
        token = env.get("TWILIO_AUTH_TOKEN") or resolve_secret(
            cfg.secret_references()["TWILIO_AUTH_TOKEN_SECRET"], opts.region
        )
        from twilio.rest import Client

        # the base the app checks Twilio's signatures against (a custom domain, else ApiUrl)
        base = (params["PublicBaseUrl"] or api_url).rstrip("/")
        number, cleared = configure_twilio_number(Client(sid, token), base, opts.twilio_number)
        hooks = number_webhooks(base)
        result.notes.append(
            f"Twilio: {number} now posts incoming SMS to {hooks['sms_url']}, incoming calls to "
            f"{hooks['voice_url']} and their status to {hooks['status_callback']}"
        )
        result.notes.extend(f"Twilio: {number}: {line}" for line in cleared)
    return result


def print_result(result: Result, cfg: StageConfig) -> None:
    say("")
    say(f"Deployed {result.stack} ({result.region})")
    say(f"  API:        {result.api_url}")
    say(f"  Dashboard:  {result.dashboard_url}")
    say(f"  (the dashboard calls the API same-origin at {result.dashboard_api_url})")
    api_token = next(s for s in stage_secrets(cfg) if s.env_var == "API_TOKEN")
    say(f"  API token:  {read_command(api_token)} (an admin API key for scripts)")
    say(f"  Sign in:    {result.dashboard_url} (each member with their e-mail and password)")
    if result.user_pool_id:
        say(f"  User pool:  {result.user_pool_id} (app client {result.user_pool_client_id})")
        say(
            "  Members sign in at the dashboard with their e-mail; Cognito e-mails each invited "
            "member a temporary password"
        )
    for note in result.notes:
        say(f"  {note}")
    say("")
    for line in twilio_instructions(result.api_url):
        say(line)


# ---------------------------------------------------------------- teardown


def teardown(opts: Options, cfg: StageConfig, session: Any, confirm: bool) -> int:
    """Empty the dashboard and export buckets (CloudFormation cannot delete a bucket with
    objects), and in a disposable stage the recordings bucket, then delete the stack. Tables
    and recordings of protected stages are retained by design, and the secrets stay in SSM;
    each is listed with the commands that remove it."""
    cfn = session.client("cloudformation")
    if stack_status(cfn, cfg.stack_name) is None:
        say(f"stack {cfg.stack_name} does not exist in {opts.region}")
        return 0
    if confirm:
        typed = input(f"type {cfg.stack_name} to delete it: ").strip()
        if typed != cfg.stack_name:
            say("not deleted")
            return 1
    outputs = stack_outputs(cfn, cfg.stack_name)
    emptied = ["DashboardBucketName", "ExportBucketName"]
    if not cfg.protected:
        emptied.append("RecordingsBucketName")  # deleted with the stack (DeletionPolicy)
    for name in emptied:
        if outputs.get(name):
            session.resource("s3").Bucket(outputs[name]).objects.all().delete()
    cfn.delete_stack(StackName=cfg.stack_name)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=cfg.stack_name, WaiterConfig=_waiter_config(opts.delay)
    )
    say(f"deleted stack {cfg.stack_name}")
    if cfg.protected:
        say(
            "the user pool is retained (deletion protection): its members' sign-ins survive; "
            "delete it in the Cognito console after turning deletion protection off"
        )
        say("the tables are retained (deletion protection); to drop them for good:")
        say(
            f"  aws dynamodb update-table --table-name {cfg.app_name}-{cfg.stage}-<entity> "
            "--no-deletion-protection-enabled && aws dynamodb delete-table --table-name ..."
        )
        recordings = outputs.get("RecordingsBucketName")
        if recordings:
            say(
                f"the call recordings are retained in s3://{recordings} (customer data; S3 "
                "still deletes each after RecordingRetentionDays); to drop them for good:"
            )
            say(f"  aws s3 rb s3://{recordings} --force")
    for secret in stage_secrets(cfg):
        if secret.kind == "ssm":
            say(f"secret kept: aws ssm delete-parameter --name {secret.name}")
    return 0


# ---------------------------------------------------------------- CLI


def _region(given: str | None, env: dict[str, str], dry: bool) -> str:
    region = given or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return region
    if dry:
        return "us-east-1"
    raise DeployError("no region: pass --region or set AWS_REGION (e.g. us-east-1)")


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--region")
    parser.add_argument("--dry-run", action="store_true", help="no AWS or Twilio calls")
    parser.add_argument("--configure-twilio", action="store_true")
    parser.add_argument("--twilio-number", help="E.164; default TWILIO_PHONE_NUMBER")
    parser.add_argument("--package-dir", type=Path, help="use an existing infra.build output")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--teardown", action="store_true", help="delete the stage's stack")
    parser.add_argument("--yes", action="store_true", help="teardown without asking")
    parser.add_argument("--admin-email", help="the first admin (default ADMIN_EMAIL)")
    args = parser.parse_args(argv)
    environ = dict(os.environ if env is None else env)
    try:
        opts = Options(
            stage=args.stage,
            region=_region(args.region, environ, args.dry_run),
            dry_run=args.dry_run,
            configure_twilio=args.configure_twilio,
            twilio_number=args.twilio_number or environ.get("TWILIO_PHONE_NUMBER"),
            package_dir=args.package_dir,
            skip_dashboard=args.skip_dashboard,
            admin_email=args.admin_email or environ.get("ADMIN_EMAIL") or None,
            admin_phone=environ.get("ADMIN_PHONE") or None,
        )
        cfg = load_stage(opts.stage)
        if args.teardown:
            import boto3

            session = boto3.Session(region_name=opts.region)
            return teardown(opts, cfg, session, confirm=not args.yes)
        if opts.dry_run:
            return dry_run(opts, cfg, _package(opts, cfg), environ)
        result = deploy(opts, environ)
        print_result(result, cfg)
        return 0
    except (DeployError, ValueError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
