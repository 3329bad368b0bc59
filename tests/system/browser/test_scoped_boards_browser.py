"""Two offices' staff watch their boards in Chromium while alerts of both are raised: each board
shows its own office's alerts only, live."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from tests.support.deployment import Deployment
from tests.system.browser.browser import chromium, sign_in
from tests.web.support import EAST_RESIDENT, OFFICES, WEST_RESIDENT, ConsoleClient, add_user

pytestmark = pytest.mark.browser


async def _rows(page: Page) -> list[str]:
    return await page.locator("tr.alert-row .resident a.row-link").all_inner_texts()


async def test_each_offices_board_shows_only_its_own_alerts(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=OFFICES)
    async with deployment.monitor() as monitor, chromium() as browser:
        await add_user(monitor, "east-duty", organisation="so-east")
        await add_user(monitor, "west-duty", organisation="so-west")
        await add_user(monitor, "root")
        east_context, west_context = await browser.new_context(), await browser.new_context()
        east, west = await east_context.new_page(), await west_context.new_page()
        try:
            for page, name in ((east, "east-duty"), (west, "west-duty")):
                await sign_in(page, deployment.web_url, name)
                await expect(page.locator("#live-status")).to_have_text("Live")

            # West first, then east: the east board refreshes after both exist.
            await deployment.press("btn-west")
            await expect(west.locator("tr.alert-row", has_text=WEST_RESIDENT)).to_be_visible(timeout=5000)
            await deployment.press("btn-east")
            await expect(east.locator("tr.alert-row", has_text=EAST_RESIDENT)).to_be_visible(timeout=5000)

            # A change to the west alert after the east one was raised refreshes the west board.
            west_id = next(
                alert["id"] for alert in await asyncio.to_thread(deployment.alerts) if alert["resident_id"] == "r-west"
            )
            async with ConsoleClient(deployment.web_url) as root:
                await root.sign_in("root")
                assert (await root.post(f"/alerts/{west_id}/ack")).status_code == 303
            await expect(west.locator("tr.alert-row", has_text=WEST_RESIDENT)).to_contain_text(
                "acknowledged", timeout=5000
            )
            await east.reload()
            await expect(east.locator("tr.alert-row", has_text=EAST_RESIDENT)).to_be_visible()
            east_rows, west_rows = await _rows(east), await _rows(west)
        finally:
            for context in (east_context, west_context):
                await context.close()
            await asyncio.sleep(0)  # let the event streams notice the closed pages
    assert east_rows == [EAST_RESIDENT]
    assert west_rows == [WEST_RESIDENT]
