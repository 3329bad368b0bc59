"""SMS through Twilio's official client and its async HTTP client, at a configurable API base URL
(so the same code talks to the SMS sandbox in tests and the demo)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from monitor.config.settings import TwilioSettings
from monitor.notify.channel import FailureKind, Outgoing, ReportedStatus, SendFailure, SendReceipt
from monitor.notify.requests import SMS

TWILIO_API = "https://api.twilio.com"
#: how far the provider's clock may be from ours when matching a message after a crash
CLOCK_SKEW = timedelta(minutes=2)


class BaseUrlHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async HTTP client, sending to ``api_base_url`` instead of api.twilio.com."""

    def __init__(self, api_base_url: str, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self.api_base_url = api_base_url.rstrip("/")
        self.timeout_s = timeout_s

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.api_base_url + url[len(TWILIO_API) :]
        # Twilio passes None (aiohttp's 5-minute default): an SOS cannot wait that long.
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout_s
        return await super().request(method, url, *args, **kwargs)


class TwilioAccount:
    """Twilio's client on its async HTTP client, for a channel's ``async with`` block: the SMS
    channel here and the voice channel (``monitor.notify.voice.twilio_voice``) each own one."""

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._http: BaseUrlHttpClient | None = None
        self._client: Client | None = None

    async def __aenter__(self) -> Self:
        self._http = BaseUrlHttpClient(self.settings.api_base_url, self.settings.timeout_s)
        self._client = Client(self.settings.account_sid, self.settings.auth_token, http_client=self._http)
        # The client imports its REST modules on first use (about 0.6 s here): do it now, not
        # while the first SOS after a start waits for its SMS or call.
        _ = self._client.messages, self._client.calls
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError(f"{type(self).__name__} used outside its 'async with' block")
        return self._client


class TwilioSms(TwilioAccount):
    """The SMS channel through Twilio (or anything speaking its REST API, such as the sandbox)."""

    name = SMS

    def __init__(
        self, settings: TwilioSettings, *, status_callback_url: str | None = None, provider: str = "twilio"
    ) -> None:
        super().__init__(settings)
        #: "twilio", or "sandbox" for the SMS sandbox speaking Twilio's API
        self.provider = provider
        self.links = settings.links
        #: where Twilio posts delivery reports (``[web] public_url`` + /twilio/status)
        self.status_callback_url = status_callback_url

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.settings.messaging_service_sid}
            if self.settings.messaging_service_sid
            else {"from_": self.settings.from_number or ""}
        )
        if self.status_callback_url:
            sender["status_callback"] = self.status_callback_url
        async with twilio_errors("timeout", sending=True):
            message = await self.client.messages.create_async(to=outgoing.to, body=outgoing.message.text, **sender)
        return SendReceipt(
            provider_id=message.sid,
            status=message.status or "queued",
            segments=_as_int(message.num_segments),
        )

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        async with twilio_errors("lookup", sending=False):
            recent = await self.client.messages.list_async(to=outgoing.to, limit=50)
        for message in recent:
            created = message.date_created
            if message.body == outgoing.message.text and (created is None or created >= since - CLOCK_SKEW):
                return SendReceipt(message.sid, message.status or "sent", _as_int(message.num_segments))
        return None

    async def check(self) -> None:
        # The cheapest authenticated request the Messages API has: one message of the list.
        async with twilio_errors("check", sending=False):
            await self.client.messages.list_async(limit=1)

    def delivery_report(self, fields: Mapping[str, str], received_at: datetime) -> ReportedStatus | None:
        """A status callback's report: ``MessageSid`` and ``MessageStatus`` (``SmsSid``/``SmsStatus`` of old)."""
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
        if not sid or not status:
            return None
        return ReportedStatus(sid, status[:16], fields.get("ErrorCode") or None, received_at)


#: Twilio error codes that will not succeed by retrying the same number.
#: https://www.twilio.com/docs/api/errors
PERMANENT_TWILIO_CODES: frozenset[int] = frozenset(
    {
        21211,  # invalid 'To' number
        21214,  # 'To' number cannot be reached
        21217,  # not a valid phone number
        21408,  # region not enabled
        21610,  # recipient replied STOP
        21612,  # cannot route to this number
        21614,  # 'To' is not a mobile number (landline)
        30003,  # unreachable destination handset
        30004,  # message blocked
        30005,  # unknown destination handset
        30006,  # landline or unreachable carrier
        30007,  # filtered by the carrier
    }
)


def classify_twilio_error(http_status: int, code: int | None) -> FailureKind:
    """Temporary (retry) or permanent (next person) for a Twilio REST or delivery error."""
    if code in PERMANENT_TWILIO_CODES:
        return FailureKind.PERMANENT
    if http_status == 429 or http_status >= 500 or code in (20429, 30001, 30008):
        return FailureKind.TEMPORARY
    if 400 <= http_status < 500:
        # Our own request was refused (credentials, parameters): retrying cannot help.
        return FailureKind.PERMANENT
    return FailureKind.TEMPORARY


def is_about_recipient(code: str | None) -> bool:
    """Whether an error code (a REST error's or a delivery report's) is the number's fault, not Twilio's."""
    return code is not None and code.isdigit() and int(code) in PERMANENT_TWILIO_CODES


@asynccontextmanager
async def twilio_errors(what: str, *, sending: bool) -> AsyncIterator[None]:
    """Twilio's and the connection's errors as ``SendFailure``; ``what`` names a failure without a
    Twilio code ("timeout", "lookup"). A send whose connection opened may have reached Twilio
    (unknown: check before sending again); a lookup or a check simply failed for now."""
    try:
        yield
    except TwilioRestException as exc:
        code = str(exc.code or exc.status)
        kind = classify_twilio_error(exc.status, exc.code)
        raise SendFailure(kind, code, str(exc.msg)[:300], about_recipient=is_about_recipient(code)) from exc
    except aiohttp.ClientConnectorError as exc:
        # The connection never opened: the request cannot have reached Twilio.
        raise SendFailure(FailureKind.TEMPORARY, "connect", str(exc)[:300]) from exc
    except (TimeoutError, aiohttp.ClientError) as exc:
        kind = FailureKind.UNKNOWN if sending else FailureKind.TEMPORARY
        raise SendFailure(kind, what, f"{type(exc).__name__}: {exc}"[:300]) from exc


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
