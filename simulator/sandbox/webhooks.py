"""Twilio-style webhook delivery: signed, form-encoded POSTs, each recorded with its answer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

import aiohttp

from simulator.sandbox.journal import Journal
from simulator.sandbox.records import WebhookDelivery, WebhookKind
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.signing import SIGNATURE_HEADER, forged_signature_for, signature_for

_USER_AGENT = "TwilioProxy/1.1"


class WebhookSender:
    """Owns the HTTP client that plays Twilio calling the monitor back."""

    def __init__(self, settings: SandboxSettings) -> None:
        self._settings = settings
        self._client: aiohttp.ClientSession | None = None
        self.deliveries: Journal[WebhookDelivery] = Journal()

    async def __aenter__(self) -> Self:
        # aiohttp ignores proxy variables by default: localhost calls must not go through one.
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def post(
        self,
        kind: WebhookKind,
        *,
        url: str,
        signed_url: str,
        params: Mapping[str, str],
        message_sid: str,
        correctly_signed: bool = True,
    ) -> WebhookDelivery:
        """POST ``params`` to ``url`` signed for ``signed_url``; never raises for HTTP trouble."""
        delivery, _ = await self.post_for_text(
            kind,
            url=url,
            signed_url=signed_url,
            params=params,
            message_sid=message_sid,
            correctly_signed=correctly_signed,
        )
        return delivery

    async def post_for_text(
        self,
        kind: WebhookKind,
        *,
        url: str,
        signed_url: str,
        params: Mapping[str, str],
        message_sid: str,
        correctly_signed: bool = True,
    ) -> tuple[WebhookDelivery, str | None]:
        """``post``, and the body the receiver answered with (a call's TwiML); None without an answer."""
        if self._client is None:
            raise RuntimeError("WebhookSender is used outside its 'async with' block")
        sign = signature_for if correctly_signed else forged_signature_for
        signature = sign(self._settings.auth_token, signed_url, params)
        headers = {
            SIGNATURE_HEADER: signature,
            "User-Agent": _USER_AGENT,
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        sent_monotonic, sent_wall = time.monotonic(), time.time()
        status: int | None = None
        error: str | None = None
        text: str | None = None
        timeout = aiohttp.ClientTimeout(total=self._settings.webhook_timeout)
        try:
            async with self._client.post(url, data=dict(params), headers=headers, timeout=timeout) as response:
                text = await response.text()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = WebhookDelivery(
            kind=kind,
            url=url,
            signed_url=signed_url,
            params=dict(params),
            signature=signature,
            correctly_signed=correctly_signed,
            message_sid=message_sid,
            sent_monotonic=sent_monotonic,
            sent_wall=sent_wall,
            answered_status=status,
            answered_monotonic=None if status is None else time.monotonic(),
            error=error,
        )
        self.deliveries.append(delivery)
        return delivery, text

    async def post_json(
        self, kind: WebhookKind, *, url: str, items: Sequence[Mapping[str, object]], message_sid: str
    ) -> WebhookDelivery:
        """POST ``items`` as a JSON array, unsigned (as Alibaba Cloud pushes); never raises for HTTP
        trouble. The delivery's ``params`` are the first item's fields (as text), so a test can push it again."""
        if self._client is None:
            raise RuntimeError("WebhookSender is used outside its 'async with' block")
        sent_monotonic, sent_wall = time.monotonic(), time.time()
        status: int | None = None
        error: str | None = None
        timeout = aiohttp.ClientTimeout(total=self._settings.webhook_timeout)
        try:
            async with self._client.post(url, json=[dict(item) for item in items], timeout=timeout) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = WebhookDelivery(
            kind=kind,
            url=url,
            signed_url=url,
            params={key: str(value) for key, value in items[0].items()} if items else {},
            signature="",
            correctly_signed=True,
            message_sid=message_sid,
            sent_monotonic=sent_monotonic,
            sent_wall=sent_wall,
            answered_status=status,
            answered_monotonic=None if status is None else time.monotonic(),
            error=error,
        )
        self.deliveries.append(delivery)
        return delivery
