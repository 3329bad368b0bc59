"""Webhook delivery, each POST recorded with its answer: Twilio's signed, form-encoded callbacks
and Alibaba Cloud's unsigned JSON pushes (SmsUp, SmsReport)."""

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
        sign = signature_for if correctly_signed else forged_signature_for
        signature = sign(self._settings.auth_token, signed_url, params)
        headers = {
            SIGNATURE_HEADER: signature,
            "User-Agent": _USER_AGENT,
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        return await self._send(
            kind,
            url=url,
            form=params,
            headers=headers,
            params=params,
            signed_url=signed_url,
            signature=signature,
            correctly_signed=correctly_signed,
            message_sid=message_sid,
        )

    async def post_json(
        self, kind: WebhookKind, *, url: str, items: Sequence[Mapping[str, object]], message_sid: str
    ) -> WebhookDelivery:
        """POST ``items`` as a JSON array, unsigned (as Alibaba Cloud pushes SmsUp and SmsReport);
        never raises for HTTP trouble. The delivery's ``params`` are the first item's fields (as
        text), so a test can push it again."""
        delivery, _ = await self._send(
            kind,
            url=url,
            json_items=[dict(item) for item in items],
            params={key: str(value) for key, value in items[0].items()} if items else {},
            signed_url=url,
            signature="",
            correctly_signed=True,
            message_sid=message_sid,
        )
        return delivery

    async def _send(
        self,
        kind: WebhookKind,
        *,
        url: str,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_items: list[dict[str, object]] | None = None,
        params: Mapping[str, str],
        signed_url: str,
        signature: str,
        correctly_signed: bool,
        message_sid: str,
    ) -> tuple[WebhookDelivery, str | None]:
        """POST ``form`` (with ``headers``) or ``json_items`` to ``url``, timed and recorded with its
        answer, and the answer's body (None without an answer); never raises for HTTP trouble."""
        if self._client is None:
            raise RuntimeError("WebhookSender is used outside its 'async with' block")
        sent_monotonic, sent_wall = time.monotonic(), time.time()
        status: int | None = None
        error: str | None = None
        text: str | None = None
        timeout = aiohttp.ClientTimeout(total=self._settings.webhook_timeout)
        try:
            form_data = dict(form) if form is not None else None
            async with self._client.post(
                url, data=form_data, json=json_items, headers=headers, timeout=timeout
            ) as response:
                text = (await response.read()).decode("utf-8", errors="replace")
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
