"""The duty console in a real browser: a shift's work from sign-in to the report."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from monitor.users.identity import Role
from tests.support.deployment import Deployment
from tests.system.browser.browser import chromium, confirm, screenshot_path, sign_in
from tests.web.support import add_user

pytestmark = pytest.mark.browser

XSS_NAME = "<script>alert(1)</script>"
XSS_RESIDENT = f"""
[[residents]]
id = "r-x"
name = "{XSS_NAME}"
address = "Block 1"
area = "a-1"

[[devices]]
id = "btn-x"
resident = "r-x"
protocol = "native"
"""


async def test_a_shift_from_sign_in_to_the_report(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=XSS_RESIDENT)
    async with deployment.monitor() as monitor, chromium() as browser:
        await add_user(monitor, "alice", role=Role.DUTY, display_name="Alice Wu")
        page = await browser.new_page(viewport={"width": 1600, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        try:
            await sign_in(page, deployment.web_url, "alice")
            await expect(page.locator("#live-status")).to_have_text("Live")
            await expect(page.locator(".all-clear")).to_be_visible()

            # An SOS pressed on a device appears without reloading, on top, counted in the title.
            await deployment.press("btn-1", "sos", event_id="shift-1")
            row = page.locator("tr.alert-row.state-open.urgent").first
            await expect(row).to_be_visible(timeout=5000)
            await expect(row).to_contain_text("王秀英")
            await expect(row).to_have_class(re.compile("is-new"))
            await expect(page).to_have_title(re.compile(r"^\(1\) SOS"))
            await deployment.sandbox.wait_for_messages(2)
            await expect(row.locator(".told-one")).to_have_count(2)

            # A resident whose name is markup is shown as text, never run.
            await deployment.press("btn-x", "sos")
            await expect(page.locator("tr.alert-row", has_text=XSS_NAME)).to_be_visible(timeout=5000)
            await page.screenshot(path=screenshot_path("console-board.png"), full_page=True)

            # Acknowledge from the alert page.
            await row.locator("a.row-link").click()
            await expect(page.locator(".alert-head h1")).to_contain_text("王秀英")
            await confirm(page, "#acknowledge")
            await expect(page.locator(".done")).to_have_text("Acknowledged.")
            await expect(page.locator("#alert-state")).to_have_text("acknowledged")

            # The timeline: the press, the SMS with its status, the acknowledgement and who did it.
            timeline = page.locator("#timeline")
            await expect(timeline.locator(".source-device")).to_contain_text("callwatch/btn-1/event")
            await expect(timeline.locator(".kind-raised")).to_contain_text("sos from btn-1")
            await expect(timeline.locator(".kind-notified").first).to_contain_text("Li Ming (+8613900000001)")
            await expect(timeline.locator(".kind-notified .sms-status").first).to_be_visible()
            taken = timeline.locator(".kind-acknowledged")
            await expect(taken).to_contain_text("Alice Wu")
            await expect(taken).to_contain_text("took it at the console")
            await page.screenshot(path=screenshot_path("console-alert.png"), full_page=True)

            # Resolve with an outcome.
            await page.select_option("#outcome", "handled_by_phone")
            await page.fill("#resolve-note", "called her daughter")
            await confirm(page, "#resolve")
            await expect(page.locator("#alert-state")).to_have_text("resolved")
            await expect(timeline.locator(".kind-resolved")).to_contain_text("handled_by_phone - called her daughter")

            # The report counts it.
            today = deployment.today()
            await page.goto(f"{deployment.web_url}/reports?from={today}&to={today}")
            await expect(page.locator("#total-alerts")).to_have_text("2")
            await expect(page.locator("#by-kind [data-kind=sos]")).to_have_text("2")
            await expect(page.locator("#outcomes [data-outcome=handled_by_phone]")).to_have_text("1")
            assert dialogs == [], f"a script ran: {dialogs}"
        finally:
            await page.close()
            await asyncio.sleep(0)  # let the event stream notice the closed page
