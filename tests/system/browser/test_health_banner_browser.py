"""The degraded-service banner in a real browser: an open board learns within seconds that the
SMS provider fails, and that the monitor itself stopped answering (health_banner.js polls
/healthz every 10 s, which needs neither the database nor a session)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.deployment import Deployment
from tests.system.browser.browser import BANNER_WITHIN_MS, board_with_banner, chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def test_an_open_board_shows_a_failing_provider_and_a_silent_monitor(deployment: Deployment) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        async with board_with_banner(deployment, page) as (_, banner):
            deployment.sandbox.faults.fail_next(None, status=503)
            await deployment.press("btn-1")
            await expect(banner.locator('li[data-component="sms"]')).to_contain_text(
                "The SMS provider is failing", timeout=BANNER_WITHIN_MS
            )
        # The monitor is gone: the page still shows, and says so.
        await expect(banner.locator('li[data-component="monitor"]')).to_contain_text(
            "The monitor is not answering", timeout=BANNER_WITHIN_MS
        )


async def test_an_open_board_shows_which_of_several_providers_is_down_and_since_when(
    deployment: Deployment,
) -> None:
    deployment.sms_providers = ("aliyun", "sandbox")
    deployment.write_files()
    async with chromium() as browser:
        page = await browser.new_page()
        async with board_with_banner(deployment, page) as (_, banner):
            deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
            await deployment.press("btn-1")
            down = banner.locator('li[data-component="sms:aliyun"]')
            await expect(down).to_contain_text("SMS go out through the next one", timeout=BANNER_WITHIN_MS)
            await expect(down).to_contain_text("aliyun: 2 requests failed in a row, last: temporary failure 500")
            await expect(down).to_contain_text(" · ")  # since when
            # the asks went out through Twilio's API: SMS as a whole works
            await expect(banner.locator('li[data-component="sms"]')).to_have_count(0)
            assert {ask.provider for ask in await deployment.sandbox.wait_for_messages(2)} == {"twilio"}
