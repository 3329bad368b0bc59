"""The degraded-service banner in a real browser: an open board learns within seconds that the
SMS provider fails, and that the monitor itself stopped answering (health_banner.js polls
/healthz every 10 s, which needs neither the database nor a session)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.deployment import Deployment
from tests.system.browser.browser import chromium
from tests.system.browser.test_console_browser import sign_in
from tests.web.support import add_user

pytestmark = pytest.mark.browser
POLL_MS = 10_000


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def test_an_open_board_shows_a_failing_provider_and_a_silent_monitor(deployment: Deployment) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        async with deployment.monitor() as monitor:
            await add_user(monitor, "duty")
            await sign_in(page, deployment.web_url, "duty")
            banner = page.locator("#health-banner")
            await expect(banner).to_be_hidden()
            deployment.sandbox.faults.fail_next(None, status=503)
            await deployment.press("btn-1")
            await expect(banner.locator('li[data-component="sms"]')).to_contain_text(
                "The SMS provider is failing", timeout=POLL_MS + 5000
            )
        # The monitor is gone: the page still shows, and says so.
        await expect(banner.locator('li[data-component="monitor"]')).to_contain_text(
            "The monitor is not answering", timeout=POLL_MS + 5000
        )
