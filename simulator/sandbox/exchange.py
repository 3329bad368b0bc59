"""The simulated carrier network: takes a create request, moves the message through its
statuses, tells the monitor through status callbacks and hands delivered messages to phones.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime

from monitor.notify.sms.aliyun_forms import PROVIDER_ZONE, provider_number
from monitor.notify.sms.segments import count_segments
from simulator.sandbox.outcomes import Outcome, OutcomeBook, OutcomeKind
from simulator.sandbox.phones import PhoneBook
from simulator.sandbox.records import MessageStatus, OutboundMessage, WebhookKind
from simulator.sandbox.resources import API_VERSION
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.sids import new_sid
from simulator.sandbox.store import MessageStore
from simulator.sandbox.tasks import BackgroundTasks
from simulator.sandbox.twilio_errors import INVALID_TO_NUMBER, TwilioApiError, rejected_destination
from simulator.sandbox.webhooks import WebhookSender

# E.164, leniently: an optional "+" and 5 to 15 digits, no leading zero.
PHONE_NUMBER = re.compile(r"\+?[1-9]\d{4,14}")


@dataclass(frozen=True, slots=True)
class MessageRequest:
    """The fields of a create request the sandbox acts on, already checked for presence."""

    to: str
    body: str
    from_: str | None = None
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    #: "aliyun" for Alibaba Cloud's SendSms: the template and parameters it carried
    provider: str = "twilio"
    template_code: str | None = None
    template_params: dict[str, str] = field(default_factory=dict)
    sign_name: str | None = None
    out_id: str | None = None


#: the statuses Alibaba Cloud reports (SmsReport): the message's last
FINAL = frozenset({MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED})


def status_steps(outcome: Outcome, *, via_messaging_service: bool) -> list[tuple[MessageStatus, int | None]]:
    """The status changes after creation, each announced by a status callback.

    Twilio sends no callback for the initial status (``queued``, or ``accepted`` with a
    Messaging Service, which then moves on to ``queued``).
    """
    steps: list[tuple[MessageStatus, int | None]] = []
    if via_messaging_service:
        steps.append((MessageStatus.QUEUED, None))
    if outcome.kind is OutcomeKind.FAILED:
        return [*steps, (MessageStatus.FAILED, outcome.error_code)]
    steps.append((MessageStatus.SENT, None))
    if outcome.kind is OutcomeKind.UNDELIVERED:
        return [*steps, (MessageStatus.UNDELIVERED, outcome.error_code)]
    return [*steps, (MessageStatus.DELIVERED, None)]


class SmsExchange:
    def __init__(
        self,
        settings: SandboxSettings,
        store: MessageStore,
        outcomes: OutcomeBook,
        phones: PhoneBook,
        webhooks: WebhookSender,
        tasks: BackgroundTasks,
    ) -> None:
        self._settings = settings
        self._store = store
        self._outcomes = outcomes
        self._phones = phones
        self._webhooks = webhooks
        self._tasks = tasks

    def create(self, request: MessageRequest, *, arrived_monotonic: float, arrived_wall: float) -> OutboundMessage:
        """Store a new message and start its journey; TwilioApiError when refused outright."""
        if PHONE_NUMBER.fullmatch(request.to) is None:
            raise TwilioApiError(rejected_destination(INVALID_TO_NUMBER, request.to))
        outcome = self._outcomes.for_number(request.to)
        if outcome.kind is OutcomeKind.REJECTED:
            assert outcome.error_code is not None
            raise TwilioApiError(rejected_destination(outcome.error_code, request.to))
        via_service = request.messaging_service_sid is not None
        message = OutboundMessage(
            sid=new_sid("SM"),
            account_sid=self._settings.account_sid,
            to=request.to,
            from_=request.from_ or self._settings.from_number,
            body=request.body,
            messaging_service_sid=request.messaging_service_sid,
            status_callback=request.status_callback,
            segments=count_segments(request.body),
            arrived_monotonic=arrived_monotonic,
            arrived_wall=arrived_wall,
            status=MessageStatus.ACCEPTED if via_service else MessageStatus.QUEUED,
            updated_wall=arrived_wall,
            provider=request.provider,
            template_code=request.template_code,
            template_params=dict(request.template_params),
            sign_name=request.sign_name,
            out_id=request.out_id,
        )
        self._phones.phone(message.to)  # so the inbox page lists every number texted
        self._store.add(message)
        self._tasks.spawn(
            self._progress(message, status_steps(outcome, via_messaging_service=via_service)),
            name=f"status of {message.sid}",
        )
        return message

    async def _progress(self, message: OutboundMessage, steps: list[tuple[MessageStatus, int | None]]) -> None:
        for status, error_code in steps:
            await asyncio.sleep(self._settings.status_step_delay)
            self._store.set_status(message, status, error_code)
            if status is MessageStatus.DELIVERED:
                self._phones.phone(message.to).receive(message)
            if message.status_callback is not None:
                # Awaited one by one so the monitor sees the callbacks in order, as from Twilio.
                await self._announce(message, message.status_callback)
            if message.provider == "aliyun" and status in FINAL and self._settings.sms_report_url is not None:
                await self._report(message, self._settings.sms_report_url)

    async def _report(self, message: OutboundMessage, url: str) -> None:
        """Alibaba Cloud's SmsReport push for a message's final status (it sends none before)."""
        delivered = message.status is MessageStatus.DELIVERED
        at = datetime.fromtimestamp(message.updated_wall, PROVIDER_ZONE).strftime("%Y-%m-%d %H:%M:%S")
        item = {
            "phone_number": provider_number(message.to),
            "send_time": at,
            "report_time": at,
            "success": delivered,
            "err_code": "DELIVERED" if delivered else str(message.error_code or "UNDELIVERED"),
            "err_msg": "用户接收成功" if delivered else "用户接收失败",
            "sms_size": str(message.num_segments),
            "biz_id": message.sid,
            "out_id": message.out_id or "",
        }
        await self._webhooks.post_json(WebhookKind.SMS_REPORT, url=url, items=[item], message_sid=message.sid)

    async def _announce(self, message: OutboundMessage, callback_url: str) -> None:
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "AccountSid": message.account_sid,
            "From": message.from_,
            "To": message.to,
            "MessageStatus": message.status.value,
            "SmsStatus": message.status.value,
            "ApiVersion": API_VERSION,
        }
        if message.messaging_service_sid is not None:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if message.status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED) and message.error_code:
            params["ErrorCode"] = str(message.error_code)
        await self._webhooks.post(
            WebhookKind.STATUS_CALLBACK,
            url=self._settings.callback_delivery_url(callback_url),
            signed_url=callback_url,
            params=params,
            message_sid=message.sid,
        )
