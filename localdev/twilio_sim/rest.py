"""The REST API: Basic auth, routing, faults, and the numbers, calls and messages handlers, every
answer in Twilio's shape (status, JSON, error code) so the real SDK raises what it raises
against Twilio. Creates and hang-ups are handed to the voice and SMS engines.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from localdev.twilio_sim.conference_api import ConferenceApi
from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.faults import Fault, FaultInjector
from localdev.twilio_sim.resources import Drop, Reply, TwilioError, account, page
from localdev.twilio_sim.rules import ACCOUNT_SID, is_url, now
from localdev.twilio_sim.sms import SmsEngine
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.voice import VoiceEngine

_CONF = r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Conferences"
_REC = r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Recordings"
_PART = _CONF + r"/(?P<sid>[^/]+)/Participants"


class RestApi:
    """One REST request at a time per HTTP thread; all state goes through the registry's lock."""

    def __init__(
        self,
        config: SimConfig,
        registry: Registry,
        faults: FaultInjector,
        voice: VoiceEngine,
        sms: SmsEngine,
    ) -> None:
        self.config = config
        self._registry = registry
        self._lock = registry.lock
        self._faults = faults
        self._voice = voice
        self._sms = sms
        self._conferences = ConferenceApi(registry, voice)

    _ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
        ("GET", re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)\.json$"), "accounts.fetch"),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers\.json$"),
            "numbers.list",
        ),
        (
            "GET",
            re.compile(
                r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json$"
            ),
            "numbers.fetch",
        ),
        (
            "POST",
            re.compile(
                r"^/2010-04-01/Accounts/(?P<account>[^/]+)/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json$"
            ),
            "numbers.update",
        ),
        ("GET", re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls\.json$"), "calls.list"),
        (
            "POST",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls\.json$"),
            "calls.create",
        ),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)\.json$"),
            "calls.fetch",
        ),
        (
            "POST",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)\.json$"),
            "calls.update",
        ),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$"),
            "messages.list",
        ),
        ("GET", re.compile(_REC + r"\.json$"), "recordings.list"),
        ("GET", re.compile(_REC + r"/(?P<sid>RE[^/.]+)\.json$"), "recordings.fetch"),
        ("DELETE", re.compile(_REC + r"/(?P<sid>RE[^/.]+)\.json$"), "recordings.delete"),
        ("GET", re.compile(_REC + r"/(?P<sid>RE[^/.]+)(?P<ext>\.wav|\.mp3)?$"), "recordings.media"),
        (
            "GET",
            re.compile(
                r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Calls/(?P<sid>[^/]+)/Recordings\.json$"
            ),
            "recordings.list_call",
        ),
        ("GET", re.compile(_CONF + r"\.json$"), "conferences.list"),
        ("GET", re.compile(_CONF + r"/(?P<sid>[^/]+)\.json$"), "conferences.fetch"),
        ("POST", re.compile(_CONF + r"/(?P<sid>[^/]+)\.json$"), "conferences.update"),
        ("GET", re.compile(_PART + r"\.json$"), "participants.list"),
        ("POST", re.compile(_PART + r"\.json$"), "participants.create"),
        ("GET", re.compile(_PART + r"/(?P<call>[^/]+)\.json$"), "participants.fetch"),
        ("POST", re.compile(_PART + r"/(?P<call>[^/]+)\.json$"), "participants.update"),
        ("DELETE", re.compile(_PART + r"/(?P<call>[^/]+)\.json$"), "participants.delete"),
        (
            "POST",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$"),
            "messages.create",
        ),
        (
            "GET",
            re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"),
            "messages.fetch",
        ),
    )

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), ACCOUNT_SID.encode()) & hmac.compare_digest(
            password.encode(), self.config.auth_token.encode()
        )

    def handle(
        self, method: str, path: str, query: str, body: bytes, authorization: str | None
    ) -> Reply | Drop:
        """One REST request: auth, route, fault, handler; the answer in Twilio's shape."""
        op = "unknown"
        reply: Reply | Drop
        fault: Fault | None = None
        try:
            if not self._authorized(authorization):
                raise TwilioError(
                    401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'}
                )
            matched = [(verb, m, name) for verb, r, name in self._ROUTES if (m := r.match(path))]
            route = next(((m, name) for verb, m, name in matched if verb == method), None)
            if route is None:
                if matched:
                    raise TwilioError(405, 20004, "Method not allowed")
                raise TwilioError(404, 20404, f"The requested resource {path} was not found")
            match, op = route
            if match.group("account") != ACCOUNT_SID:
                raise TwilioError(404, 20404, f"The requested resource {path} was not found")
            form = parse_qs(
                body.decode("utf-8", "replace") if method == "POST" else query,
                keep_blank_values=True,
            )
            fault = self._faults.take(op)
            reply = self._faults.apply(fault, lambda: self._dispatch(op, match, form))
        except TwilioError as exc:
            reply = Reply(exc.status, exc.body(), exc.headers)
        status = reply.status if isinstance(reply, Reply) else None
        with self._lock:
            self._registry.requests.append(
                {
                    "at": now().isoformat(),
                    "method": method,
                    "path": path,
                    "op": op,
                    "status": status,
                    "code": reply.body.get("code")
                    if isinstance(reply, Reply) and status and status >= 400
                    else None,
                    "fault": fault.mode if fault else None,
                }
            )
        return reply

    def _dispatch(self, op: str, match: re.Match[str], form: dict[str, list[str]]) -> Reply:
        sid = unquote(match.groupdict().get("sid") or "")
        if op.startswith("recordings."):
            return self._dispatch_recordings(op, sid, match, form)
        if op.startswith(("conferences.", "participants.")):
            call = unquote(match.groupdict().get("call") or "")
            return self._dispatch_conferences(op, sid, call, form)
        if op == "accounts.fetch":
            return Reply(200, account())
        if op == "numbers.list":
            return Reply(200, self._list_numbers(form))
        if op == "numbers.fetch":
            return Reply(200, self._registry.number_by_sid(sid).resource())
        if op == "numbers.update":
            return Reply(200, self._update_number(sid, form))
        if op == "calls.create":
            return Reply(201, self._voice.create_call(form))
        if op == "calls.list":
            return Reply(200, self._list_calls(form))
        if op == "calls.fetch":
            with self._lock:
                return Reply(200, self._registry.call(sid).resource())
        if op == "calls.update":
            return Reply(200, self._voice.update_call(sid, form))
        if op == "messages.create":
            return Reply(201, self._sms.create_message(form))
        if op == "messages.list":
            return Reply(200, self._list_messages(form))
        if op == "messages.fetch":
            with self._lock:
                message = self._registry.messages.get(sid)
                if message is None or message.direction == "outbound-reply":
                    raise TwilioError(404, 20404, f"The requested resource {sid} was not found")
                return Reply(200, message.resource())
        raise TwilioError(404, 20404, "Not found")  # pragma: no cover (routes and ops agree)

    def _dispatch_recordings(
        self, op: str, sid: str, match: re.Match[str], form: dict[str, list[str]]
    ) -> Reply:
        store = self._voice.recordings
        if op == "recordings.list":
            return Reply(200, store.list_recordings(form))
        if op == "recordings.list_call":
            with self._lock:
                self._registry.call(sid)  # Twilio's 404 for an unknown call
            return Reply(200, store.list_recordings(form, call_sid=sid))
        if op == "recordings.fetch":
            return Reply(200, store.fetch(sid))
        if op == "recordings.delete":
            store.delete(sid)
            return Reply(204, None)
        return store.media(sid, match.groupdict().get("ext") or "", form)

    def _dispatch_conferences(
        self, op: str, sid: str, call: str, form: dict[str, list[str]]
    ) -> Reply:
        api = self._conferences
        if op == "conferences.list":
            return Reply(200, api.list_conferences(form))
        if op == "conferences.fetch":
            return Reply(200, api.fetch_conference(sid))
        if op == "conferences.update":
            return Reply(200, api.update_conference(sid, form))
        if op == "participants.create":
            return Reply(201, api.create_participant(sid, form))
        if op == "participants.list":
            return Reply(200, api.list_participants(sid, form))
        if op == "participants.fetch":
            return Reply(200, api.fetch_participant(sid, call))
        if op == "participants.update":
            return Reply(200, api.update_participant(sid, call, form))
        api.delete_participant(sid, call)
        return Reply(204, None)

    def _list_numbers(self, form: dict[str, list[str]]) -> dict[str, Any]:
        wanted = (form.get("PhoneNumber") or [""])[0].replace("*", "")
        friendly = (form.get("FriendlyName") or [""])[0]
        with self._lock:
            items = [
                n.resource()
                for n in self._registry.numbers.values()
                if (not wanted or wanted in n.number)
                and (not friendly or friendly == n.friendly_name)
            ]
        return page("incoming_phone_numbers", "IncomingPhoneNumbers", items, form)

    def _update_number(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        number = self._registry.number_by_sid(sid)
        fields = {
            "VoiceUrl": "voice_url",
            "VoiceMethod": "voice_method",
            "SmsUrl": "sms_url",
            "SmsMethod": "sms_method",
            "FriendlyName": "friendly_name",
            "StatusCallback": "status_callback",
        }
        with self._lock:
            for param, attr in fields.items():
                if param not in form:
                    continue
                value = form[param][0]
                if param.endswith("Url") and value and not is_url(value):
                    raise TwilioError(400, 21502, f"{param} is not a valid URL: {value}")
                if param.endswith("Method") and value.upper() not in ("GET", "POST"):
                    raise TwilioError(400, 21503, f"{param} must be GET or POST")
                setattr(number, attr, value.upper() if param.endswith("Method") else value)
            number.date_updated = now()
            return number.resource()

    def _list_calls(self, form: dict[str, list[str]]) -> dict[str, Any]:
        filters = {
            "To": "to",
            "From": "from_",
            "Status": "status",
            "ParentCallSid": "parent_sid",
        }
        with self._lock:
            calls = sorted(
                self._registry.calls.values(), key=lambda c: c.date_created, reverse=True
            )
            items = [
                c.resource()
                for c in calls
                if all(
                    getattr(c, attr) == form[param][0]
                    for param, attr in filters.items()
                    if form.get(param)
                )
            ]
        return page("calls", "Calls", items, form)

    def _list_messages(self, form: dict[str, list[str]]) -> dict[str, Any]:
        """Twilio's Messages list: newest sent first, filtered by `To`, `From` and `DateSent`
        (`DateSent=` a day, `DateSent>=`/`DateSent<=` on or after / on or before; a query
        `DateSent>=2026-12-01` reaches us as the key `DateSent>`), then paged."""
        sent_filters = date_sent_filters(form)
        with self._lock:
            messages = sorted(
                self._registry.messages.values(),
                key=lambda m: m.date_sent or m.date_created,
                reverse=True,
            )
            items = [
                m.resource()
                for m in messages
                if m.direction != "outbound-reply"
                and (not form.get("To") or m.to == form["To"][0])
                and (not form.get("From") or m.from_ == form["From"][0])
                and all(keep(m.date_sent) for keep in sent_filters)
            ]
        return page("messages", "Messages", items, form)


def _bound(raw: str) -> tuple[datetime, bool]:
    """A DateSent value: `YYYY-MM-DD` (GMT; a whole day) or, as the SDK serialises a
    datetime, `YYYY-MM-DDTHH:MM:SSZ`. Returns (moment, is_a_day)."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC), True
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC), False
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid DateSent: {raw}") from None


def date_sent_filters(form: dict[str, list[str]]) -> list[Callable[[datetime | None], bool]]:
    """The `DateSent` filters of a Messages list: a message not yet sent matches none."""
    filters: list[Callable[[datetime | None], bool]] = []
    for key, values in form.items():
        op = key.removeprefix("DateSent").rstrip("=")
        if not key.startswith("DateSent") or op not in ("", "<", ">"):
            continue
        for raw in values:
            bound, day = _bound(raw)

            def keep(
                sent: datetime | None, op: str = op, bound: datetime = bound, day: bool = day
            ) -> bool:
                if sent is None:
                    return False
                if op == "":
                    return sent.date() == bound.date()
                if op == ">":
                    return (sent.date() >= bound.date()) if day else sent >= bound
                return (sent.date() <= bound.date()) if day else sent <= bound

            filters.append(keep)
    return filters
