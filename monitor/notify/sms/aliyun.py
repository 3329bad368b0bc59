"""SMS through Alibaba Cloud (阿里云短信服务) with its official SDK, at a configurable endpoint
(so the same code talks to the SMS sandbox in tests and the demo).

Mainland Chinese operators carry only approved templates: each message goes as the template
``[sms.aliyun.templates]`` names for it (``TemplateCode``) with the parameters callwatch filled
in (``TemplateParam``), never as free text. Every variable is cut to the provider's limit, so a
long address shortens a message instead of losing it (``docs/configuration.md``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp
from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from alibabacloud_tea_openapi.models import Config
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from monitor.config.settings import AliyunSettings
from monitor.notify.channel import FailureKind, Outgoing, ReportedStatus, SendFailure, SendReceipt
from monitor.notify.requests import SMS
from monitor.notify.sms.aliyun_forms import PROVIDER_ZONE, fitted, provider_number

#: Refusals that are the number's: the provider works, this person cannot be reached through it now
#: (a per-number frequency limit lasts up to a day: the next person is asked instead)
RECIPIENT_CODES = frozenset(
    {"isv.MOBILE_NUMBER_ILLEGAL", "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MOBILE_IN_BLACK"}
)
#: Refusals that may pass by retrying the same request later
TEMPORARY_CODES = frozenset({"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "Throttling", "Throttling.User"})


class AliyunSms:
    """The SMS channel through Alibaba Cloud's SMS API (or the sandbox speaking it)."""

    name = SMS
    provider = "aliyun"

    def __init__(self, settings: AliyunSettings) -> None:
        self.settings = settings
        self.links = settings.links
        self._client: Client | None = None

    async def __aenter__(self) -> Self:
        endpoint = urlsplit(self.settings.endpoint)
        config = Config(
            access_key_id=self.settings.access_key_id,
            access_key_secret=self.settings.access_key_secret,
            endpoint=endpoint.netloc,
            protocol=endpoint.scheme,
        )
        self._client = Client(config)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError(f"{type(self).__name__} used outside its 'async with' block")
        return self._client

    def _runtime(self) -> RuntimeOptions:
        milliseconds = round(self.settings.timeout_s * 1000)
        return RuntimeOptions(read_timeout=milliseconds, connect_timeout=milliseconds)

    def template_param(self, outgoing: Outgoing) -> tuple[str, str]:
        """The template code and TemplateParam JSON for a message; a permanent failure without one."""
        template = self.settings.templates.get(outgoing.message.template)
        if template is None:
            raise SendFailure(
                FailureKind.PERMANENT, "template", f"[sms.aliyun.templates] has no {outgoing.message.template}"
            )
        params = {name: fitted(str(outgoing.message.params.get(name, ""))) for name in template.params}
        return template.code, json.dumps(params, ensure_ascii=False, separators=(",", ":"))

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        code, param = self.template_param(outgoing)
        request = sms_models.SendSmsRequest(
            phone_numbers=provider_number(outgoing.to),
            sign_name=self.settings.sign_name,
            template_code=code,
            template_param=param,
            # QuerySendDetails finds the message by it after a crash (find_sent)
            out_id=str(outgoing.notification_id) if outgoing.notification_id is not None else None,
        )
        async with aliyun_errors("timeout", sending=True):
            response = await self.client.send_sms_with_options_async(request, self._runtime())
        body = response.body
        if body is None or body.code != "OK" or not body.biz_id:
            raise refusal(body.code if body else None, body.message if body else None)
        return SendReceipt(provider_id=str(body.biz_id), status="queued")

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        if outgoing.notification_id is None:
            return None
        out_id = str(outgoing.notification_id)
        # SendDate is one day of the provider's: a claim just before midnight is looked for on both.
        days = sorted({moment.astimezone(PROVIDER_ZONE).date() for moment in (since, datetime.now(PROVIDER_ZONE))})
        for day in days:
            request = sms_models.QuerySendDetailsRequest(
                phone_number=provider_number(outgoing.to),
                send_date=day.strftime("%Y%m%d"),
                page_size=50,
                current_page=1,
            )
            async with aliyun_errors("lookup", sending=False):
                response = await self.client.query_send_details_with_options_async(request, self._runtime())
            body = response.body
            if body is None or body.code != "OK":
                raise refusal(body.code if body else None, body.message if body else None)
            details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
            for detail in details or []:
                if detail.out_id == out_id:
                    return SendReceipt(f"out:{out_id}", _detail_status(detail.send_status))
        return None

    async def check(self) -> None:
        # The cheapest authenticated request: today's messages to a number nobody has.
        request = sms_models.QuerySendDetailsRequest(
            phone_number="13000000000",
            send_date=datetime.now(PROVIDER_ZONE).strftime("%Y%m%d"),
            page_size=1,
            current_page=1,
        )
        async with aliyun_errors("check", sending=False):
            response = await self.client.query_send_details_with_options_async(request, self._runtime())
        body = response.body
        if body is None or body.code != "OK":
            raise refusal(body.code if body else None, body.message if body else None)

    def delivery_report(self, fields: Mapping[str, str], received_at: datetime) -> ReportedStatus | None:
        # Alibaba Cloud's delivery reports come as SmsReport pushes, not as Twilio-style callbacks.
        return None


def _detail_status(send_status: int | None) -> str:
    """QuerySendDetails' SendStatus (1 waiting for the receipt, 2 failed, 3 delivered) as a row's status."""
    return {2: "failed", 3: "delivered"}.get(send_status or 1, "sent")


def refusal(code: str | None, message: str | None) -> SendFailure:
    """An answer other than OK as a ``SendFailure``: the number's, a passing one, or our own (config)."""
    code = code or "unknown"
    # A row keeps 16 characters of the code ("isv.BUSINESS_LIM"); the message keeps all of it.
    said = f"{code}: {message}" if message else code
    if code in RECIPIENT_CODES:
        return SendFailure(FailureKind.PERMANENT, code[:16], said, about_recipient=True)
    if code in TEMPORARY_CODES:
        return SendFailure(FailureKind.TEMPORARY, code[:16], said)
    # Sign name, template, parameters, account: retrying the same request cannot help.
    return SendFailure(FailureKind.PERMANENT, code[:16], said)


@asynccontextmanager
async def aliyun_errors(what: str, *, sending: bool) -> AsyncIterator[None]:
    """The SDK's and the connection's errors as ``SendFailure``. A send whose connection opened may
    have reached the provider (unknown: check before sending again); a lookup simply failed."""
    try:
        yield
    except ThrottlingException as exc:
        raise SendFailure(FailureKind.TEMPORARY, "throttled", str(exc.message)[:300]) from exc
    except AlibabaCloudException as exc:
        status = exc.status_code or 0
        if status >= 500:
            raise SendFailure(FailureKind.TEMPORARY, str(status), str(exc.message)[:300]) from exc
        raise refusal(exc.code, str(exc.message)[:300]) from exc
    except UnretryableException as exc:
        # The SDK wraps the connection's error; the original is the wrapper's context.
        cause = exc.inner_exception.__context__ if exc.inner_exception is not None else None
        if isinstance(cause, aiohttp.ClientConnectorError):
            # The connection never opened: the request cannot have reached the provider.
            raise SendFailure(FailureKind.TEMPORARY, "connect", str(cause)[:300]) from exc
        kind = FailureKind.UNKNOWN if sending else FailureKind.TEMPORARY
        raise SendFailure(kind, what, f"{type(cause).__name__}: {cause}"[:300]) from exc
