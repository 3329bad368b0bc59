"""The banner in a real browser when ingest leaves a device's topic filter out (issue #20,
finding 1): an open board learns it from /healthz within seconds, names the device, and
shows the filter's control character escaped, never raw."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from monitor.ingest import consumer
from tests.ingest.subscribing import save_unchecked
from tests.support.deployment import Deployment
from tests.system.browser.browser import BANNER_WITHIN_MS, board_with_banner, chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def test_an_open_board_names_a_device_whose_topic_the_broker_would_refuse(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer, "DIRECTORY_CHECK_S", 0.2)
    async with chromium() as browser:
        page = await browser.new_page()
        async with board_with_banner(deployment, page) as (monitor, banner):
            await save_unchecked(monitor.database, "dev-tab2", "site\t2/dev-tab2")
            line = banner.locator('li[data-component="subscriptions"]')
            await expect(line).to_contain_text("Some devices are not heard", timeout=BANNER_WITHIN_MS)
            await expect(line).to_contain_text("device 'dev-tab2': never sent to the broker")
