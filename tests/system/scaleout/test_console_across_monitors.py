"""A console served by monitor A shows, within a second, an acknowledgement that arrived through
monitor B (a volunteer's SMS reply posted to B's webhook): PostgreSQL LISTEN/NOTIFY carries the
change from B to A's live board, in a real browser (Debian's Chromium)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from playwright.async_api import expect

from monitor.config.settings import load_settings
from monitor.runtime.service import Monitor
from tests.support.broker import free_port
from tests.support.deployment import TIER1, Deployment
from tests.system.browser.browser import chromium
from tests.system.browser.test_console_browser import sign_in
from tests.web.support import add_user

pytestmark = pytest.mark.browser

#: what the board must manage: the change committed at B, on A's screen
WITHIN_MS = 1000


@asynccontextmanager
async def member(deployment: Deployment, number: int, web_port: int) -> AsyncIterator[Monitor]:
    """One of several monitors on the deployment's config: its own client id and web port."""
    settings = load_settings(
        deployment.config_path,
        {
            "CALLWATCH_MQTT__CLIENT_ID": f"{deployment.client_id}-{number}",
            "CALLWATCH_MQTT__SHARED_GROUP": "callwatch",
            "CALLWATCH_WEB__LISTEN": f"127.0.0.1:{web_port}",
        },
    )
    async with Monitor(settings, config_path=deployment.config_path) as monitor:
        assert monitor.feed is not None, "on PostgreSQL every monitor listens for the others' changes"
        yield monitor


async def test_an_ack_through_monitor_b_reaches_monitor_a_console_within_a_second(deployment: Deployment) -> None:
    # B has the deployment's port: the sandbox posts the volunteers' replies there.
    port_a = free_port()
    async with AsyncExitStack() as stack:
        monitor_a = await stack.enter_async_context(member(deployment, 1, port_a))
        monitor_b = await stack.enter_async_context(member(deployment, 2, deployment.web_port))
        for monitor in (monitor_a, monitor_b):
            assert monitor.feed is not None
            await monitor.feed.listening.wait()
        await deployment.wait_until_subscribed()
        await add_user(monitor_a, "duty")
        browser = await stack.enter_async_context(chromium())
        page = await browser.new_page()
        url_a = f"http://127.0.0.1:{port_a}"
        await sign_in(page, url_a, "duty")
        await expect(page.locator("#live-status")).to_have_text("Live")

        await deployment.press("btn-1", "sos", event_id="across-1")
        row = page.locator("tr.alert-row").first
        await expect(row).to_have_attribute("data-state", "open", timeout=10_000)
        await deployment.sandbox.wait_for_messages(2)  # tier 1 asked: the volunteers can answer

        assert await deployment.sandbox.phone(TIER1[0]).reply("ACK") == 200  # answered by B once committed
        committed = time.monotonic()
        await expect(row).to_have_attribute("data-state", "acknowledged", timeout=WITHIN_MS)
        print(f"acknowledged through B, on A's board after {(time.monotonic() - committed) * 1000:.0f} ms")
