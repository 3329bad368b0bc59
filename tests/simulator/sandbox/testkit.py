"""Test helpers for the SMS sandbox: the real twilio client rebased, a monitor-like webhook receiver."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator

from simulator.sandbox import SIGNATURE_HEADER, Journal

TWILIO_API = "https://api.twilio.com"


class SandboxHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The twilio client's own async HTTP client, with Twilio's API host swapped for another."""

    def __init__(self, api_base_url: str) -> None:
        super().__init__()
        self._api_base_url = api_base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the twilio client's signature
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if url.startswith(TWILIO_API):
            url = self._api_base_url + url.removeprefix(TWILIO_API)
        return await super().request(method, url, params, data, headers, auth, timeout, allow_redirects)


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    params: dict[str, str]
    signature: str
    valid: bool
    at_monotonic: float


class WebhookReceiver:
    """Stands in for the monitor's ``/twilio/sms`` and ``/twilio/status``: validates like it, 403 if
    forged; and for a call's TwiML (``/twiml``: ``twiml``, then ``/key``: ``after_key``)."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.received: Journal[ReceivedWebhook] = Journal()
        self.base_url = ""
        #: the URL the receiver believes it is reached at (a proxy's); None = its own base URL
        self.public_base_url: str | None = None
        self.app = Starlette(
            routes=[
                Route("/twilio/sms", self.handle, methods=["POST"]),
                Route("/twilio/status", self.handle, methods=["POST"]),
                Route("/twiml", self.handle, methods=["POST"]),
                Route("/key", self.handle, methods=["POST"]),
            ]
        )
        #: what a call hears when answered, and after a key
        self.twiml = "<Response/>"
        self.after_key = "<Response/>"

    async def handle(self, request: Request) -> Response:
        arrived = time.monotonic()
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = (self.public_base_url or self.base_url) + request.url.path
        valid = self.validator.validate(url, params, signature)
        self.received.append(ReceivedWebhook(request.url.path, params, signature, valid, arrived))
        body = {"/twiml": self.twiml, "/key": self.after_key}.get(request.url.path, "")
        return PlainTextResponse(body, status_code=200 if valid else 403, media_type="text/xml" if body else None)

    def at(self, path: str) -> list[ReceivedWebhook]:
        return self.received.matching(lambda hook: hook.path == path)

    async def wait_at(self, path: str, count: int = 1) -> list[ReceivedWebhook]:
        return await self.received.wait_for(count, lambda hook: hook.path == path, timeout=5.0)
