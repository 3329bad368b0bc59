"""Twilio through its official client and async HTTP client, at a configurable API base URL."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from monitor.config.settings import TwilioSettings
from monitor.notify.channel import FailureKind, OutgoingSms, SendFailure, SendReceipt, classify_twilio_error

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


class TwilioGateway:
    name = "twilio"

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._http: BaseUrlHttpClient | None = None
        self._client: Client | None = None

    async def __aenter__(self) -> Self:
        self._http = BaseUrlHttpClient(self.settings.api_base_url, self.settings.timeout_s)
        self._client = Client(self.settings.account_sid, self.settings.auth_token, http_client=self._http)
        # The client imports its REST modules on first use (about 0.6 s here): do it now, not
        # while the first SOS after a start waits for its SMS.
        _ = self._client.messages
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
            raise RuntimeError("TwilioGateway used outside its 'async with' block")
        return self._client

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.settings.messaging_service_sid}
            if self.settings.messaging_service_sid
            else {"from_": self.settings.from_number or ""}
        )
        if sms.status_callback:
            sender["status_callback"] = sms.status_callback
        try:
            message = await self.client.messages.create_async(to=sms.to, body=sms.body, **sender)
        except TwilioRestException as exc:
            kind = classify_twilio_error(exc.status, exc.code)
            raise SendFailure(kind, str(exc.code or exc.status), str(exc.msg)[:300]) from exc
        except aiohttp.ClientConnectorError as exc:
            # The connection never opened: the request cannot have reached Twilio.
            raise SendFailure(FailureKind.TEMPORARY, "connect", str(exc)[:300]) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SendFailure(FailureKind.UNKNOWN, "timeout", f"{type(exc).__name__}: {exc}"[:300]) from exc
        return SendReceipt(
            provider_id=message.sid,
            status=message.status or "queued",
            segments=_as_int(message.num_segments),
        )

    async def find_sent(self, to: str, body: str, since: datetime) -> SendReceipt | None:
        try:
            recent = await self.client.messages.list_async(to=to, limit=50)
        except TwilioRestException as exc:
            raise SendFailure(classify_twilio_error(exc.status, exc.code), str(exc.code), str(exc.msg)) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SendFailure(FailureKind.TEMPORARY, "lookup", f"{type(exc).__name__}: {exc}"[:300]) from exc
        for message in recent:
            created = message.date_created
            if message.body == body and (created is None or created >= since - CLOCK_SKEW):
                return SendReceipt(message.sid, message.status or "sent", _as_int(message.num_segments))
        return None

    async def check(self) -> None:
        # The cheapest authenticated request the Messages API has: one message of the list.
        try:
            await self.client.messages.list_async(limit=1)
        except TwilioRestException as exc:
            raise SendFailure(classify_twilio_error(exc.status, exc.code), str(exc.code), str(exc.msg)) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SendFailure(FailureKind.TEMPORARY, "check", f"{type(exc).__name__}: {exc}"[:300]) from exc


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
