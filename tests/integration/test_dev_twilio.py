"""`make dev` starts the Twilio simulator exactly when no Twilio credentials are set."""

from __future__ import annotations

import socket

import pytest
from twilio.rest import Client

from chalicelib.telephony.http import RebasingHttpClient
from localdev import dev

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_credentials_the_simulator_runs_and_the_api_is_pointed_at_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("SIMULATOR_PORT", str(port))
    monkeypatch.setenv("SIMULATOR_AUTH_TOKEN", "dev-token")
    stack = dev.Stack()
    env = {"PUBLIC_BASE_URL": "http://127.0.0.1:9"}
    try:
        dev.start_twilio(stack, env)
        base = f"http://127.0.0.1:{port}"
        assert env["TWILIO_API_BASE"] == base
        assert env["TWILIO_ACCOUNT_SID"] == "AC00000000000000000000000000000000"
        assert env["TWILIO_AUTH_TOKEN"] == "dev-token"
        assert (
            f"Twilio: simulator on {base} (no TWILIO_* credentials set)" in capsys.readouterr().out
        )
        client = Client(
            env["TWILIO_ACCOUNT_SID"],
            env["TWILIO_AUTH_TOKEN"],
            http_client=RebasingHttpClient(env["TWILIO_API_BASE"]),
        )
        assert [n.phone_number for n in client.incoming_phone_numbers.list()] == [
            "+15005550006",
            "+15005550007",
        ]
    finally:
        stack.stop()
    ((name, proc),) = stack.procs
    assert name == "Twilio simulator" and proc.poll() is not None


def test_with_credentials_nothing_is_started(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "real")
    stack = dev.Stack()
    env: dict[str, str] = {"PUBLIC_BASE_URL": "https://example.test/api"}
    dev.start_twilio(stack, env)
    assert stack.procs == []
    assert env == {"PUBLIC_BASE_URL": "https://example.test/api"}
    assert "real account" in capsys.readouterr().out
