"""Fixtures for the SMS sandbox tests: the sandbox, the real twilio client, a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from twilio.rest import Client

from simulator.sandbox import DEFAULT_AUTH_TOKEN, SmsSandbox
from simulator.sandbox.server import serving

from .testkit import SandboxHttpClient, WebhookReceiver

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # twilio 9 uses aiohttp's deprecated basic auth: the library's business, not the sandbox's.
    ignore_auth_warnings = [
        pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
        pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    ]
    for item in items:
        if item.path.is_relative_to(HERE):
            for mark in ignore_auth_warnings:
                item.add_marker(mark)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver(DEFAULT_AUTH_TOKEN)
    async with serving(receiver.app) as base_url:
        receiver.base_url = base_url
        yield receiver


@pytest.fixture
async def sandbox(receiver: WebhookReceiver) -> AsyncIterator[SmsSandbox]:
    async with SmsSandbox(status_step_delay=0.0, inbound_url=f"{receiver.base_url}/twilio/sms") as sandbox:
        yield sandbox


@pytest.fixture
async def twilio(sandbox: SmsSandbox) -> AsyncIterator[Client]:
    http_client = SandboxHttpClient(sandbox.base_url)
    try:
        yield Client(sandbox.account_sid, sandbox.auth_token, http_client=http_client)
    finally:
        await http_client.close()
