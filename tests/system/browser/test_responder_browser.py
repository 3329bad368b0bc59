"""The responder page in Chromium at phone size (360 x 740, mobile emulation), opened from the
link in the sandbox SMS: take the alert, set an ETA, arrive, resolve with an outcome; what only
the taker sees; what another volunteer's link shows then; tokens that do not open anything.

王秀英 (r-1, zh) presses; Zhang Wei (en) and Li Ming (zh) are asked, each with their own link.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update

from monitor.runtime.service import Monitor
from monitor.store.models import Alert, AlertEvent, ResidentCard
from tests.support.deployment import TIER1, Deployment
from tests.system.browser.browser import chromium, screenshot_path

pytestmark = pytest.mark.browser

LI_MING, ZHANG_WEI = TIER1
LINK = re.compile(r"(https?://\S+/r/[A-Za-z0-9_-]+)")
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


async def link_for(deployment: Deployment, phone: str, contains: str = "") -> str:
    [sms] = await deployment.sandbox.wait_for_messages(1, to=phone, body_contains=contains or None)
    found = LINK.search(sms.body)
    assert found is not None, sms.body
    return found.group(1)


async def phone_page(browser: Browser, language: str) -> Page:
    context = await browser.new_context(**PHONE, locale="zh-CN" if language == "zh" else "en-GB")
    return await context.new_page()


async def key_safe(monitor: Monitor, resident_id: str, code: str) -> None:
    async with monitor.database.write() as session:
        session.add(
            ResidentCard(resident_id=resident_id, key_safe_code=code, updated_at=monitor.clock.now(), updated_by="test")
        )


async def test_a_volunteer_takes_sets_off_arrives_and_resolves_from_the_page(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, chromium() as browser:
        await key_safe(monitor, "r-1", "4711")
        await deployment.press("btn-1")
        zhang_link = await link_for(deployment, ZHANG_WEI)
        li_link = await link_for(deployment, LI_MING)
        page = await phone_page(browser, "en")
        await page.goto(zhang_link)
        await expect(page.locator("#resident")).to_have_text("王秀英")
        await expect(page.locator("#take")).to_be_visible()
        assert await page.locator("#key-safe").count() == 0  # not before taking it
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing to scroll sideways
        await page.screenshot(path=screenshot_path("responder-open-en.png"))

        await page.click("#take")
        await expect(page.locator("#done")).to_have_text("It is yours. Thank you.")
        await expect(page.locator("#key-safe")).to_have_text("4711")
        await page.click("#eta-10")
        await expect(page.locator("#stage")).to_contain_text("ETA")
        await page.click("#here")
        await expect(page.locator("#stage")).to_contain_text("on site")
        await page.select_option("#outcome", "ambulance_called")
        await page.click("#done-button")
        await expect(page.locator("#done")).to_have_text("Recorded as resolved. Thank you.")

        other = await phone_page(browser, "zh")
        await other.goto(li_link)
        await expect(other.locator("#taken-by")).to_contain_text("Zhang")
        shown = await other.content()
        await other.screenshot(path=screenshot_path("responder-taken-zh.png"))
        [alert] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "resolved")
        async with monitor.database.read() as session:
            log = (await session.execute(AlertEvent.__table__.select().where(AlertEvent.alert_id == alert["id"]))).all()

    assert "王秀英" not in shown and "12栋3单元201" not in shown and "4711" not in shown
    assert (alert["outcome"], alert["acknowledged_by"], alert["on_site_by"]) == ("ambulance_called", "v-2", "v-2")
    assert alert["eta"] is not None and alert["en_route_at"] is not None
    kinds = [row.kind for row in log]
    assert kinds.count("details_viewed") >= 1 and kinds.count("responder_page") >= 6


async def test_links_open_one_alert_only_and_nothing_else(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, httpx.AsyncClient(base_url=deployment.web_url) as client:
        await deployment.press("btn-1")
        first = await link_for(deployment, ZHANG_WEI)
        await deployment.press("btn-2")
        second = await link_for(deployment, ZHANG_WEI, contains="Margaret")
        first_path, second_path = first.split("/r/")[1], second.split("/r/")[1]

        second_page = (await client.get(f"/r/{second_path}")).text
        without_csrf = await client.post(f"/r/{first_path}", data={"action": "take"})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get(f"/r/{first_path}")).text)
        assert csrf is not None
        wrong_csrf = await client.post(f"/r/{second_path}", data={"action": "take", "csrf_token": csrf.group(1)})
        invented = await client.get("/r/AAAAAAAAAAAAAAAA")
        taken = await client.post(f"/r/{first_path}", data={"action": "take", "csrf_token": csrf.group(1)})
        first_alert, second_alert = sorted(
            await deployment.wait_for_alerts(lambda alerts: len(alerts) == 2), key=lambda a: a["id"]
        )
        async with monitor.database.write() as session:
            await session.execute(
                update(Alert)
                .where(Alert.id == first_alert["id"])
                .values(state="resolved", resolved_at=monitor.clock.now() - timedelta(hours=1, minutes=1))
            )
        expired = await client.get(f"/r/{first_path}")

    assert len(first_path) <= 22 and len(second_path) <= 22
    assert "Margaret Chen" in second_page and "王秀英" not in second_page
    assert without_csrf.status_code == 403 and wrong_csrf.status_code == 403
    assert (invented.status_code, invented.text) == (404, "Not Found")
    assert taken.status_code == 303
    assert (first_alert["state"], second_alert["state"]) == ("acknowledged", "open")
    assert (expired.status_code, expired.text) == (404, "Not Found")
