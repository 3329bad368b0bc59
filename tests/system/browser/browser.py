"""Debian's Chromium driven by Playwright (never a downloaded browser), and what the console's
browser tests do in it: sign in, and watch the board's health banner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from monitor.runtime.service import Monitor
from tests.support.deployment import Deployment
from tests.web.support import PASSWORD, add_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALLED = CHROMIUM.exists()
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
#: how long an open board takes at most to show what /healthz says (health_banner.js polls every 10 s)
BANNER_WITHIN_MS = 10_000 + 5000


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM_INSTALLED:
        pytest.fail("Debian's Chromium is missing: run `make chromium` (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, base_url: str, name: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Alert board")


async def confirm(page: Page, button: str) -> None:
    """Click an action, then confirm it in the dialog."""
    await page.click(button)
    await expect(page.locator("#confirm-dialog")).to_be_visible()
    await page.click("#confirm-yes")


@asynccontextmanager
async def board_with_banner(deployment: Deployment, page: Page) -> AsyncIterator[tuple[Monitor, Locator]]:
    """The deployment's monitor running and duty's board open on ``page``, its health banner
    hidden (all is well): the monitor and the banner."""
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty")
        await sign_in(page, deployment.web_url, "duty")
        banner = page.locator("#health-banner")
        await expect(banner).to_be_hidden()
        yield monitor, banner


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
