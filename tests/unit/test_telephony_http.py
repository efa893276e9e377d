"""RebasingHttpClient: the unmodified SDK's URLs land on another API base, and importing the
module costs nothing until the client is built."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from chalicelib.telephony.http import rebase_url

BASE = "http://127.0.0.1:8900"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json",
            f"{BASE}/2010-04-01/Accounts/AC1/Calls.json",
        ),
        (
            "https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=1",
            f"{BASE}/2010-04-01/Accounts/AC1/Messages.json?PageSize=1",
        ),
        ("https://API.TWILIO.COM:443/x", f"{BASE}/x"),
        ("https://messaging.twilio.com", BASE),
        # Not Twilio: left alone.
        ("https://api.twilio.com.example.net/x", "https://api.twilio.com.example.net/x"),
        ("https://example.com/twilio.com/x", "https://example.com/twilio.com/x"),
        ("http://api.twilio.com/x", "http://api.twilio.com/x"),
    ],
)
def test_rebase_url_moves_only_twilio_origins(url: str, expected: str) -> None:
    assert rebase_url(url, BASE + "/") == expected


def test_importing_the_module_does_not_import_twilio_or_requests() -> None:
    code = (
        "import sys, chalicelib.telephony, chalicelib.telephony.http as h;"
        "print(sorted(m for m in ('twilio.rest', 'twilio.http', 'requests') if m in sys.modules));"
        "h.RebasingHttpClient;"
        "print('twilio.http' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


def test_the_client_sends_sdk_requests_to_the_new_base(monkeypatch: pytest.MonkeyPatch) -> None:
    from requests import Session
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    from chalicelib.telephony.http import RebasingHttpClient

    sent: list[str] = []

    class Answer:
        status_code = 200
        text = '{"sid": "CA0", "status": "queued"}'
        headers: dict[str, str] = {}

    def send(self: Session, prepared: Any, **kwargs: Any) -> Answer:
        sent.append(prepared.url)
        return Answer()

    monkeypatch.setattr(Session, "send", send)
    http = RebasingHttpClient(BASE)
    assert isinstance(http, TwilioHttpClient)
    assert type(http).__name__ == "RebasingHttpClient"
    Client("AC" + "0" * 32, "token", http_client=http).calls("CA0").fetch()
    assert sent == [f"{BASE}/2010-04-01/Accounts/AC{'0' * 32}/Calls/CA0.json"]


def test_the_client_refuses_a_base_that_is_not_a_url() -> None:
    from chalicelib.telephony.http import RebasingHttpClient

    with pytest.raises(ValueError, match="http"):
        RebasingHttpClient("127.0.0.1:8900")
