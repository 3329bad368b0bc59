"""SMS from a phone to the monitor: the inbound-message webhook Twilio would POST, or the SmsUp
push Alibaba Cloud would (for a phone answering a message that came through its API)."""

from __future__ import annotations

import itertools
import time
from datetime import datetime

from monitor.notify.sms.aliyun_forms import PROVIDER_ZONE, provider_number
from monitor.notify.sms.segments import count_segments
from simulator.sandbox.records import WebhookDelivery, WebhookKind
from simulator.sandbox.resources import API_VERSION
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.sids import new_sid
from simulator.sandbox.webhooks import WebhookSender

# Calling codes of the countries callwatch is likely to meet; longest prefix wins.
_COUNTRY_BY_CALLING_CODE = {"1": "US", "44": "GB", "86": "CN", "852": "HK", "853": "MO", "886": "TW"}


class NoInboundUrlError(RuntimeError):
    """A phone replied but the sandbox has not been told where the monitor's webhook is."""


def country_of(number: str) -> str | None:
    digits = number.removeprefix("+")
    for length in (3, 2, 1):
        if (country := _COUNTRY_BY_CALLING_CODE.get(digits[:length])) is not None:
            return country
    return None


class InboundSms:
    """Builds and sends the form Twilio POSTs for an incoming SMS, or Alibaba Cloud's SmsUp push."""

    def __init__(self, settings: SandboxSettings, webhooks: WebhookSender) -> None:
        self._settings = settings
        self._webhooks = webhooks
        #: SmsUp's sequence_id: one per message pushed
        self._sequence = itertools.count(int(time.time() * 1000))

    async def push_sms_up(self, *, from_: str, body: str) -> WebhookDelivery:
        """The reply as one SmsUp message: the number as the provider writes it, Beijing time."""
        url = self._settings.sms_up_url
        if url is None:
            raise NoInboundUrlError("set the sandbox's SmsUp URL (the monitor's /aliyun/sms-up/<token>) first")
        sequence_id = str(next(self._sequence))
        item = {
            "phone_number": provider_number(from_),
            "content": body,
            "send_time": datetime.now(PROVIDER_ZONE).strftime("%Y-%m-%d %H:%M:%S"),
            "dest_code": "1234",
            "sequence_id": sequence_id,
        }
        return await self._webhooks.post_json(WebhookKind.SMS_UP, url=url, items=[item], message_sid=sequence_id)

    async def send(
        self,
        *,
        from_: str,
        to: str | None,
        body: str,
        messaging_service_sid: str | None = None,
        correctly_signed: bool = True,
    ) -> WebhookDelivery:
        url = self._settings.inbound_url
        signed_url = self._settings.inbound_signing_url
        if url is None or signed_url is None:
            raise NoInboundUrlError("set the sandbox's inbound URL (the monitor's POST /twilio/sms) first")
        to = to or self._settings.from_number  # the sandbox's own number when none is named
        sid = new_sid("SM")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self._settings.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(count_segments(body).segments),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        if messaging_service_sid is not None:
            params["MessagingServiceSid"] = messaging_service_sid
        if (from_country := country_of(from_)) is not None:
            params["FromCountry"] = from_country
        if (to_country := country_of(to)) is not None:
            params["ToCountry"] = to_country
        return await self._webhooks.post(
            WebhookKind.INBOUND_SMS,
            url=url,
            signed_url=signed_url,
            params=params,
            message_sid=sid,
            correctly_signed=correctly_signed,
        )
