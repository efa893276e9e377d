"""Settings, read from the environment once and lazily; the secrets resolver.

Nothing here talks to AWS at import time. Secrets (the API token, the Twilio auth token) are
either given literally (local development) or by reference (`*_SECRET`, production), in which
case they are fetched once per container from SSM Parameter Store or Secrets Manager.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import Internal

SIMULATOR_ACCOUNT_SID = "AC00000000000000000000000000000000"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _parse_hours(spec: str) -> tuple[time, time]:
    try:
        start_s, end_s = spec.split("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    except ValueError as exc:
        raise ValueError(f"CALLING_HOURS must look like 08:00-21:00, got {spec!r}") from exc
    if start >= end:
        raise ValueError(f"CALLING_HOURS must start before it ends, got {spec!r}")
    return start, end


def _parse_base_urls(spec: str) -> tuple[str, ...]:
    """PUBLIC_BASE_URLS: comma-separated absolute http(s) URLs; a trailing slash is dropped."""
    urls = []
    for part in spec.split(","):
        url = part.strip().rstrip("/")
        if not url:
            continue
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"PUBLIC_BASE_URLS must list http(s) URLs, got {part.strip()!r}")
        urls.append(url)
    return tuple(urls)


def _positive_int(name: str, default: int) -> int:
    raw = _env(name, str(default)) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _seconds(name: str, default: float) -> float:
    raw = _env(name, str(default)) or str(default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{name} must be 0 or more seconds, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    app_name: str = "coldcall"
    stage: str = "dev"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    api_token: str | None = None
    api_token_secret: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_auth_token_secret: str | None = None
    twilio_api_base: str | None = None
    twilio_messaging_service_sid: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    public_base_urls: tuple[str, ...] = ()
    calling_hours: tuple[time, time] = field(default=(time(8, 0), time(21, 0)))
    stats_timezone: str = "UTC"
    dashboard_origin: str | None = None
    max_import_bytes: int = 6 * 1024 * 1024
    # A CSV import stops after this many seconds (between slices of rows) and answers `nextRow`;
    # the same file sent again with `fromRow` goes on (API Gateway answers 504 at 29 s).
    import_budget_seconds: float = 20.0
    export_bucket: str | None = None
    export_inline_max_bytes: int = 4 * 1024 * 1024
    cognito_user_pool_id: str | None = None
    cognito_client_id: str | None = None
    cognito_endpoint: str | None = None
    cognito_issuer_url: str | None = None
    # Cognito e-mails invitations and reset passwords (AWS); off, the API answers the temporary
    # password once instead (`make dev`, where no e-mail is sent).
    invite_emails: bool = True
    rate_limit_per_minute: int = 30
    # Who is calling, in the message a person hears when the dialer cannot bridge them (an
    # abandoned call must name the seller and give a number to opt out).
    company_name: str = "our team"
    # Call audio (services/recordings.py): a private S3 bucket in AWS, else a directory.
    recordings_bucket: str | None = None
    recordings_dir: str = ".data/recordings"
    # Record click-to-call conversations (with a notice to the lead first); campaigns have
    # their own `record`.
    record_calls: bool = False
    # The power dialer's patience (services/dialer.py `tick`): a session idle in `ready` this
    # long dials again; a lead (or member) call with no news this long is asked about.
    # (domain/dialer.py, IDLE_RETRY_SECONDS and STALE_SECONDS: the defaults)
    dialer_idle_retry_seconds: int = 15
    dialer_stale_seconds: int = 90

    @classmethod
    def from_env(cls) -> Settings:
        stats_tz = _env("STATS_TIMEZONE", "UTC") or "UTC"
        try:
            ZoneInfo(stats_tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"STATS_TIMEZONE is not a known time zone: {stats_tz!r}") from exc
        return cls(
            app_name=_env("APP_NAME", "coldcall") or "coldcall",
            stage=_env("STAGE", "dev") or "dev",
            region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")) or "us-east-1",
            dynamodb_endpoint=_env("DYNAMODB_ENDPOINT"),
            api_token=_env("API_TOKEN"),
            api_token_secret=_env("API_TOKEN_SECRET"),
            twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
            twilio_auth_token_secret=_env("TWILIO_AUTH_TOKEN_SECRET"),
            twilio_api_base=_env("TWILIO_API_BASE"),
            twilio_messaging_service_sid=_env(
                "TWILIO_MESSAGING_SERVICE_SID", _env("TWILIO_SERVICE_ID")
            ),
            public_base_url=(_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            public_base_urls=_parse_base_urls(_env("PUBLIC_BASE_URLS", "") or ""),
            calling_hours=_parse_hours(_env("CALLING_HOURS", "08:00-21:00") or "08:00-21:00"),
            stats_timezone=stats_tz,
            dashboard_origin=_env("DASHBOARD_ORIGIN"),
            max_import_bytes=int(_env("MAX_IMPORT_BYTES", str(6 * 1024 * 1024)) or 0),
            import_budget_seconds=_seconds("IMPORT_BUDGET_SECONDS", 20.0),
            export_bucket=_env("EXPORT_BUCKET"),
            export_inline_max_bytes=int(_env("EXPORT_INLINE_MAX_BYTES", str(4 * 1024 * 1024)) or 0),
            cognito_user_pool_id=_env("COGNITO_USER_POOL_ID"),
            cognito_client_id=_env("COGNITO_CLIENT_ID"),
            cognito_endpoint=_env("COGNITO_ENDPOINT"),
            cognito_issuer_url=(_env("COGNITO_ISSUER") or "").rstrip("/") or None,
            invite_emails=(_env("INVITE_EMAILS", "1") or "1").lower() not in ("0", "false", "no"),
            rate_limit_per_minute=_positive_int("RATE_LIMIT_PER_MINUTE", 30),
            recordings_bucket=_env("RECORDINGS_BUCKET"),
            recordings_dir=_env("RECORDINGS_DIR")
            or os.path.join(_env("DATA_DIR", ".data") or ".data", "recordings"),
            record_calls=(_env("RECORD_CALLS", "0") or "0").lower() in ("1", "true", "yes"),
            company_name=(_env("COMPANY_NAME", "") or "").strip()[:80] or "our team",
            dialer_idle_retry_seconds=_positive_int("DIALER_IDLE_RETRY_SECONDS", 15),
            dialer_stale_seconds=_positive_int("DIALER_STALE_SECONDS", 90),
        )

    def signing_base_urls(self) -> tuple[str, ...]:
        """The public base URLs a webhook may have been signed for: PUBLIC_BASE_URL first,
        then PUBLIC_BASE_URLS (a custom domain, a console URL), each once."""
        return tuple(dict.fromkeys((self.public_base_url, *self.public_base_urls)))

    @property
    def cognito_issuer(self) -> str | None:
        """The issuer of the pool's tokens (COGNITO_ISSUER, else Cognito's own URL)."""
        if self.cognito_issuer_url:
            return self.cognito_issuer_url
        if not self.cognito_user_pool_id:
            return None
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"

    def table_name(self, entity: str) -> str:
        return f"{self.app_name}-{self.stage}-{entity}"


@functools.cache
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Forget cached settings and secrets (tests change the environment between cases)."""
    get_settings.cache_clear()
    resolve_secret.cache_clear()


@functools.cache
def resolve_secret(reference: str, region: str) -> str:
    """Fetch a secret named by reference, once per container.

    `ssm:<parameter name>` reads an SSM SecureString (decrypted); `secretsmanager:<id or arn>`
    reads a Secrets Manager secret string. boto3 is imported here, not at module import.
    """
    import boto3

    kind, _, name = reference.partition(":")
    if not name:
        raise Internal("secret reference must be ssm:<name> or secretsmanager:<id>")
    if kind == "ssm":
        ssm = boto3.client("ssm", region_name=region)
        value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    elif kind == "secretsmanager":
        sm = boto3.client("secretsmanager", region_name=region)
        value = sm.get_secret_value(SecretId=name)["SecretString"]
    else:
        raise Internal("secret reference must be ssm:<name> or secretsmanager:<id>")
    return str(value)


def api_token() -> str | None:
    s = get_settings()
    if s.api_token:
        return s.api_token
    if s.api_token_secret:
        return resolve_secret(s.api_token_secret, s.region)
    return None


def twilio_auth_token() -> str | None:
    s = get_settings()
    if s.twilio_auth_token:
        return s.twilio_auth_token
    if s.twilio_auth_token_secret:
        return resolve_secret(s.twilio_auth_token_secret, s.region)
    return None
