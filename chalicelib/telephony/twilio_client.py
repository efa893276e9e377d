"""The real `Telephony` adapter, on the `twilio` SDK.

`twilio.rest` is imported on first use, never at module import (it costs ~150 ms of cold start).
With `TWILIO_API_BASE` set, the SDK's requests go to that base instead of api.twilio.com (the
local simulator). Errors become `TelephonyFailure`. A 429 was never executed and is retried
with backoff; a 5xx or a timeout on a create may have taken effect and is never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from chalicelib.telephony.base import (
    NOT_FOUND_CODE,
    RATE_LIMITED_CODE,
    CallState,
    MessageState,
    PhoneNumber,
    ReceivedMessage,
    TelephonyFailure,
)

T = TypeVar("T")

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# "Call is not in-progress. Cannot redirect." (an update of a call that already ended)
CALL_NOT_IN_PROGRESS_CODE = 21220
HTTP_TIMEOUT_SECONDS = 10
MAX_RATE_LIMIT_RETRIES = 3
LIST_PAGE_SIZE = 200


class TwilioTelephony:
    def __init__(self, account_sid: str, auth_token: str, api_base: str | None = None) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base = api_base
        self._client: Any = None
        self.sleep: Callable[[float], None] = time.sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            from twilio.rest import Client

            if self._api_base:
                from chalicelib.telephony.http import RebasingHttpClient

                http_client: Any = RebasingHttpClient(self._api_base)
            else:
                from twilio.http.http_client import TwilioHttpClient

                http_client = TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)
            self._client = Client(self._account_sid, self._auth_token, http_client=http_client)
        return self._client

    def _call(self, fn: Callable[[], T], *, creates: bool) -> T:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        attempt = 0
        while True:
            try:
                return fn()
            except TwilioRestException as exc:
                code = int(exc.code) if exc.code else None
                status = int(exc.status or 0)
                if (
                    status == 429 or code == RATE_LIMITED_CODE
                ) and attempt < MAX_RATE_LIMIT_RETRIES:
                    # Twilio did not execute a rate-limited request: safe to send again.
                    self.sleep(0.5 * (2**attempt))
                    attempt += 1
                    continue
                message = str(exc.msg or "Twilio refused the request")
                raise TelephonyFailure(
                    message, code, status, maybe_executed=creates and status >= 500
                ) from None
            except (TwilioException, OSError) as exc:
                # Connection errors, timeouts: the request may or may not have arrived.
                raise TelephonyFailure(
                    f"Twilio could not be reached: {type(exc).__name__}",
                    None,
                    0,
                    maybe_executed=creates,
                ) from None
            except Exception as exc:
                if type(exc).__module__.startswith(("requests", "urllib3")):
                    raise TelephonyFailure(
                        f"Twilio could not be reached: {type(exc).__name__}",
                        None,
                        0,
                        maybe_executed=creates,
                    ) from None
                raise

    def list_numbers(self) -> list[PhoneNumber]:
        records = self._call(
            lambda: self.client.incoming_phone_numbers.list(limit=1000), creates=False
        )
        numbers = []
        for r in records:
            caps = r.capabilities or {}
            numbers.append(
                PhoneNumber(
                    sid=r.sid,
                    phone_number=r.phone_number,
                    friendly_name=r.friendly_name or r.phone_number,
                    voice=bool(caps.get("voice", True)),
                    sms=bool(caps.get("sms", True)),
                )
            )
        return numbers

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        timeout_seconds: int,
        machine_detection: str | None = None,
    ) -> str:
        extra: dict[str, Any] = {}
        if machine_detection is not None:
            extra["machine_detection"] = machine_detection
        call = self._call(
            lambda: self.client.calls.create(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_event=STATUS_EVENTS,
                status_callback_method="POST",
                timeout=timeout_seconds,
                **extra,
            ),
            creates=True,
        )
        return str(call.sid)

    def fetch_recording(self, sid: str) -> bytes:
        """The WAV, fetched with the account's credentials (Basic auth) from the API base the
        SDK uses (the simulator's under `make dev`). Not through the SDK: its responses are
        text, and audio is bytes."""
        import requests

        base = (self._api_base or "https://api.twilio.com").rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{self._account_sid}/Recordings/{sid}.wav"
        try:
            response = requests.get(
                url, auth=(self._account_sid, self._auth_token), timeout=HTTP_TIMEOUT_SECONDS * 3
            )
        except requests.RequestException as exc:
            raise TelephonyFailure(
                f"Twilio could not be reached: {type(exc).__name__}", None, 0
            ) from None
        if response.status_code != 200:
            raise TelephonyFailure(
                f"Twilio answered {response.status_code} for recording {sid}",
                NOT_FOUND_CODE if response.status_code == 404 else None,
                response.status_code,
            )
        return bytes(response.content)

    def delete_recording(self, sid: str) -> None:
        try:
            self._call(lambda: self.client.recordings(sid).delete(), creates=False)
        except TelephonyFailure as exc:
            if not exc.not_found:
                raise

    def update_call(self, sid: str, *, twiml: str | None = None, hang_up: bool = False) -> None:
        params: dict[str, Any] = {"status": "completed"} if hang_up else {"twiml": twiml}
        try:
            self._call(lambda: self.client.calls(sid).update(**params), creates=False)
        except TelephonyFailure as exc:
            # 21220: the call is not in progress (it ended meanwhile): nothing left to change.
            if exc.code != CALL_NOT_IN_PROGRESS_CODE:
                raise

    def fetch_call(self, sid: str) -> CallState:
        call = self._call(lambda: self.client.calls(sid).fetch(), creates=False)
        children = self._call(
            lambda: self.client.calls.list(parent_call_sid=sid, limit=20), creates=False
        )
        return CallState(
            sid=sid,
            status=str(call.status),
            duration_seconds=int(call.duration) if call.duration else None,
            answered=call.start_time is not None and str(call.status) == "completed",
            children=[
                CallState(
                    sid=str(c.sid),
                    status=str(c.status),
                    duration_seconds=int(c.duration) if c.duration else None,
                )
                for c in children
            ],
        )

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        status_callback: str,
        from_: str | None = None,
        messaging_service_sid: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {"to": to, "body": body, "status_callback": status_callback}
        if messaging_service_sid:
            kwargs["messaging_service_sid"] = messaging_service_sid
        if from_:
            # With a service too, Twilio sends from this number of the service's pool.
            kwargs["from_"] = from_
        message = self._call(lambda: self.client.messages.create(**kwargs), creates=True)
        return str(message.sid)

    def fetch_message(self, sid: str) -> MessageState:
        message = self._call(lambda: self.client.messages(sid).fetch(), creates=False)
        code = message.error_code
        return MessageState(
            sid=sid,
            status=str(message.status or ""),
            error_code=str(code) if code not in (None, "", 0) else None,
            error_message=str(message.error_message) if message.error_message else None,
            from_number=str(message.from_) if message.from_ else None,
        )

    def list_inbound_messages(self, to: str, since: datetime) -> list[ReceivedMessage]:
        """Twilio filters `DateSent>=` by whole days (GMT): list from `since`'s day, every page
        (the SDK follows `next_page_uri`), and keep the inbound ones at or after `since`."""
        day = since.astimezone(UTC).date().isoformat()
        records = self._call(
            lambda: self.client.messages.list(to=to, date_sent_after=day, page_size=LIST_PAGE_SIZE),
            creates=False,
        )
        received = []
        for r in records:
            sent = r.date_sent
            if str(r.direction) != "inbound" or sent is None or sent < since:
                continue
            received.append(
                ReceivedMessage(
                    sid=str(r.sid),
                    from_number=str(r.from_ or ""),
                    to=str(r.to or to),
                    body=str(r.body or ""),
                    sent_at=sent,
                )
            )
        return received
