from datetime import time

import pytest

from chalicelib import config


def test_defaults(monkeypatch):
    monkeypatch.delenv("STAGE", raising=False)
    monkeypatch.delenv("APP_NAME", raising=False)
    s = config.Settings.from_env()
    assert s.table_name("leads") == "coldcall-dev-leads"
    assert s.calling_hours == (time(8), time(21))
    assert s.stats_timezone == "UTC"


def test_stage_prefixes_table_names(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    assert config.Settings.from_env().table_name("calls") == "coldcall-prod-calls"


def test_brief_service_id_is_accepted_as_messaging_service(monkeypatch):
    monkeypatch.setenv("TWILIO_SERVICE_ID", "MG123")
    assert config.Settings.from_env().twilio_messaging_service_sid == "MG123"


@pytest.mark.parametrize("spec", ["8-21", "21:00-08:00", "nonsense"])
def test_bad_calling_hours_are_refused(monkeypatch, spec):
    monkeypatch.setenv("CALLING_HOURS", spec)
    with pytest.raises(ValueError):
        config.Settings.from_env()


def test_unknown_stats_timezone_is_refused(monkeypatch):
    monkeypatch.setenv("STATS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError):
        config.Settings.from_env()


def test_api_token_from_ssm_is_read_once(monkeypatch, aws):
    import boto3

    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/coldcall/test/api-token", Value="from-ssm", Type="SecureString"
    )
    monkeypatch.delenv("API_TOKEN")
    monkeypatch.setenv("API_TOKEN_SECRET", "ssm:/coldcall/test/api-token")
    config.reset_settings()
    assert config.api_token() == "from-ssm"
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/coldcall/test/api-token", Value="changed", Type="SecureString", Overwrite=True
    )
    assert config.api_token() == "from-ssm"  # cached for the container's life


def test_twilio_token_from_secrets_manager(monkeypatch, aws):
    import boto3

    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="coldcall/test/twilio", SecretString="tw-secret"
    )
    monkeypatch.setenv("TWILIO_AUTH_TOKEN_SECRET", "secretsmanager:coldcall/test/twilio")
    config.reset_settings()
    assert config.twilio_auth_token() == "tw-secret"


def test_bad_secret_reference_is_an_internal_error(monkeypatch):
    monkeypatch.delenv("API_TOKEN")
    monkeypatch.setenv("API_TOKEN_SECRET", "vault:thing")
    config.reset_settings()
    with pytest.raises(config.Internal):
        config.api_token()
