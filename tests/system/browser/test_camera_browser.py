"""The camera button in a real browser (issue #20, finding 5): during an SOS it opens the
resident's camera in a new tab through a one-use link, the view is in the audit log, and once
the alert is resolved the button is gone and the used link shows nothing."""

from __future__ import annotations

import pytest
from playwright.async_api import Route, expect

from monitor.users.identity import Role
from simulator.harness.neighbourhood import RESIDENT_ZH
from tests.support.deployment import Deployment
from tests.system.browser.browser import chromium, confirm, sign_in
from tests.web.support import CAMERA, add_user, consenting_camera

pytestmark = pytest.mark.browser


async def test_the_camera_opens_once_per_click_during_an_sos_and_never_after(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, chromium() as browser:
        await add_user(monitor, "alice", role=Role.ADMIN, display_name="Alice Wu")
        await consenting_camera(monitor, RESIDENT_ZH)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        feeds: list[str] = []

        async def camera_feed(route: Route) -> None:
            feeds.append(route.request.url)
            await route.fulfill(status=200, content_type="text/html", body="<h1>living room</h1>")

        await context.route("https://camera.example/**", camera_feed)
        requested: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        page = await context.new_page()
        try:
            await sign_in(page, deployment.web_url, "alice")
            await deployment.press("btn-1", "sos")
            await deployment.sandbox.wait_for_messages(2)
            await page.goto(f"{deployment.web_url}/alerts/1")
            async with context.expect_page() as opened:
                await confirm(page, "#camera")
            camera_tab = await opened.value
            await expect(camera_tab.locator("h1")).to_have_text("living room")
            assert feeds == [CAMERA] and camera_tab.url == CAMERA
            [link] = [url for url in requested if "/camera/" in url]

            # The link the tab went through is spent: opened again, it shows nothing.
            await camera_tab.goto(link)
            await expect(camera_tab.locator("h1")).to_have_text("The camera is closed")
            assert feeds == [CAMERA]

            await page.goto(f"{deployment.web_url}/audit")
            await expect(page.locator("body")).to_contain_text("camera_view")
            await expect(page.locator("body")).to_contain_text(f"resident:{RESIDENT_ZH}")

            await page.goto(f"{deployment.web_url}/alerts/1")
            await page.select_option("#outcome", "false_alarm")
            await confirm(page, "#resolve")
            await expect(page.locator("#alert-state")).to_have_text("resolved")
            await expect(page.locator("#camera")).to_have_count(0)
            assert feeds == [CAMERA]
        finally:
            await context.close()
