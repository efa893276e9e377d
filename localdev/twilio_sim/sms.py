"""SMS: sends validated like Twilio's (opt-outs included), the delivery lifecycle with its status
callbacks, inbound texts posted to the app, and Twilio's own opt-out handling.

Twilio keeps opt-outs itself and answers STOP, START and HELP without the app; the simulator
does the same, so the app is tested against the 21610 refusals and the missing replies it
meets in production, rather than against its own idea of them.
"""

from __future__ import annotations

import logging
from typing import Any

from localdev.twilio_sim.clock import Aborted, SimClock
from localdev.twilio_sim.config import SimConfig
from localdev.twilio_sim.resources import Message, TwilioError
from localdev.twilio_sim.rules import (
    ACCOUNT_SID,
    API_VERSION,
    AUTO_REPLIES,
    MG_SID,
    NUMBERS,
    SMS_DELIVER_S,
    SMS_SEND_S,
    is_e164,
    is_url,
    new_sid,
    now,
    opt_keyword,
    parse_twiml,
    sms_segments,
)
from localdev.twilio_sim.state import Registry
from localdev.twilio_sim.webhooks import Delivery, WebhookSender

log = logging.getLogger("twilio_sim")


class SmsEngine:
    """Outbound messages from REST to delivered (or failed), inbound texts to the app."""

    def __init__(
        self, config: SimConfig, registry: Registry, clock: SimClock, sender: WebhookSender
    ) -> None:
        self.config = config
        self._registry = registry
        self._lock = registry.lock
        self._clock = clock
        self._sender = sender

    def create_message(self, form: dict[str, list[str]]) -> dict[str, Any]:
        """Validate like Twilio (opt-outs included), store, start the delivery lifecycle."""

        def first(name: str) -> str:
            return (form.get(name) or [""])[0]

        to, from_ = first("To").strip(), first("From").strip()
        service = first("MessagingServiceSid").strip()
        body = first("Body")
        media = [m for m in form.get("MediaUrl", []) if m]
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise TwilioError(
                400,
                21603,
                "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
            )
        if not body and not media:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > 1600:
            raise TwilioError(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if not is_e164(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if from_:
            if not is_e164(from_):
                raise TwilioError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
            if from_ not in self._registry.numbers:
                raise TwilioError(
                    400,
                    21606,
                    f"The 'From' phone number provided ({from_}) is not a valid message-capable "
                    "Twilio phone number for this destination/account.",
                )
            if to == from_:
                raise TwilioError(400, 21266, "'To' and 'From' number cannot be the same")
        elif not MG_SID.match(service):
            raise TwilioError(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        callback = first("StatusCallback").strip()
        if callback and not is_url(callback):
            raise TwilioError(400, 21609, f"Invalid StatusCallback URL: {callback}")
        senders = [from_] if from_ else list(NUMBERS)
        with self._lock:
            if any((to, sender) in self._registry.opt_outs for sender in senders):
                raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        message = Message(
            sid=new_sid("SM"),
            to=to,
            from_=from_ or None,
            messaging_service_sid=service or None,
            body=body,
            status="queued" if from_ else "accepted",
            status_callback=callback or None,
            num_media=len(media),
        )
        return self.start(message)

    def start(self, message: Message) -> dict[str, Any]:
        message.history.append(message.status)
        with self._lock:
            self._registry.messages[message.sid] = message
            resource = message.resource()
        self._registry.spawn(f"sim-sms-{message.sid[-6:]}", lambda: self._run(message))
        return resource

    def _run(self, message: Message) -> None:
        """queued -> sending -> sent -> delivered; to a number ending in 3 the carrier cannot
        reach the handset: sent -> undelivered with 30003, as Twilio reports carrier failures."""
        try:
            if message.messaging_service_sid and message.from_ is None:
                self._clock.sleep(message, 0.2)
                with self._lock:
                    message.from_ = NUMBERS[0]
                self._status(message, "queued")
            self._clock.sleep(message, SMS_SEND_S)
            self._status(message, "sending", notify=False)
            self._status(message, "sent")
            self._clock.sleep(message, SMS_DELIVER_S)
            if message.to.endswith("3"):
                with self._lock:
                    message.error_code = 30003
                    message.error_message = "Unreachable destination handset"
                self._status(message, "undelivered")
                return
            self._status(message, "delivered")
        except Aborted:
            pass
        except Exception as exc:  # the walk must end and say why, whatever happened
            log.exception("message %s failed in the simulator", message.sid)
            message.errors.append({"code": None, "message": f"simulator error: {exc}"})
        finally:
            message.done.set()

    def _status(self, message: Message, status: str, *, notify: bool = True) -> None:
        with self._lock:
            message.status = status
            message.date_updated = now()
            if status == "sent":
                message.date_sent = message.date_updated
            message.history.append(status)
            params = {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": API_VERSION,
                "From": message.from_ or "",
                "To": message.to,
                "MessageSid": message.sid,
                "SmsSid": message.sid,
                "MessageStatus": status,
                "SmsStatus": status,
            }
            if message.messaging_service_sid:
                params["MessagingServiceSid"] = message.messaging_service_sid
            # Twilio's status callbacks carry the code alone, never ErrorMessage (the REST
            # resource has `error_message`).
            if message.error_code is not None:
                params["ErrorCode"] = str(message.error_code)
        if notify and message.status_callback:
            self._sender.deliver(
                message.status_callback, params, kind=f"sms-status:{status}", owner=message
            )

    # ------------------------------------------------------------ inbound SMS

    def inbound_sms(self, from_: str, to: str, body: str) -> dict[str, Any]:
        """What Twilio does when a phone texts one of the account's numbers."""
        if not is_e164(from_):
            raise ValueError(f"from must be an E.164 number, got {from_!r}")
        number = self._registry.numbers.get(to)
        if number is None:
            raise ValueError(f"to must be one of the account's numbers {list(NUMBERS)}, got {to!r}")
        keyword = opt_keyword(body)
        message = Message(
            sid=new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            direction="inbound",
            status="received",
        )
        # Twilio's `date_sent` of an inbound text: when it posted it to the webhook.
        message.date_sent = message.date_created
        message.history.append("received")
        message.done.set()
        with self._lock:
            self._registry.messages[message.sid] = message
            if keyword == "STOP":
                self._registry.opt_outs.add((from_, to))
            elif keyword == "START":
                self._registry.opt_outs.discard((from_, to))
        if keyword:
            self._auto_reply(to, from_, AUTO_REPLIES[keyword])
        url = number.sms_url or f"{self.config.app_base}/twilio/sms/incoming"
        params = {
            "ToCountry": "US",
            "ToState": "",
            "SmsMessageSid": message.sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": message.sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US" if from_.startswith("+1") else "",
            "To": to,
            "ToZip": "",
            "NumSegments": str(sms_segments(body)),
            "MessageSid": message.sid,
            "AccountSid": ACCOUNT_SID,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        if keyword:
            params["OptOutType"] = keyword
        delivery = self._sender.deliver(url, params, number.sms_method, kind="sms-incoming")
        replies = self._reply_messages(delivery, to, from_) if delivery.ok else []
        return {
            "messageSid": message.sid,
            "optOutType": keyword,
            "url": url,
            "status": delivery.status,
            "body": delivery.response_body,
            "error": delivery.error,
            "delivery": delivery.to_json(),
            "replies": replies,
        }

    def _auto_reply(self, from_: str, to: str, body: str) -> None:
        """Twilio's own answer to STOP/START/HELP: sent by Twilio, never by the app."""
        reply = Message(
            sid=new_sid("SM"), to=to, from_=from_, body=body, direction="outbound-reply"
        )
        reply.status = "delivered"
        reply.history.extend(["queued", "sent", "delivered"])
        reply.note = "Twilio's automatic opt-out/help reply"
        reply.done.set()
        with self._lock:
            self._registry.messages[reply.sid] = reply

    def _reply_messages(self, delivery: Delivery, from_: str, to: str) -> list[str]:
        """<Message> verbs in the app's answer to an inbound SMS are sent, as by Twilio."""
        try:
            root = parse_twiml(delivery.response_body.encode())
        except ValueError:
            return []
        sids = []
        for verb in root.iter("Message"):
            text = (verb.findtext("Body") or verb.text or "").strip()
            with self._lock:
                blocked = (to, from_) in self._registry.opt_outs
            message = Message(
                sid=new_sid("SM"),
                to=to,
                from_=from_,
                body=text,
                direction="outbound-reply",
                status_callback=verb.get("action") or None,
            )
            if blocked:
                message.status, message.error_code = "failed", 21610
                message.error_message = "Attempt to send to unsubscribed recipient"
                message.history.append("failed")
                message.done.set()
                with self._lock:
                    self._registry.messages[message.sid] = message
            else:
                self.start(message)
            sids.append(message.sid)
        return sids
