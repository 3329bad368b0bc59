"""A resident's camera (issue #20, finding 5): open only while an SOS, a fall or a missed
check-in is in hand, reached through a one-use link (the API never hands out the camera's
address), and every look recorded in the console audit and the alert's log."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from monitor.runtime.service import Monitor
from monitor.store.models import AlertEvent, CameraLink, ConsoleAudit
from monitor.users.accounts import find_user
from monitor.users.tokens import issue_token
from simulator.harness.neighbourhood import RESIDENT_EN, RESIDENT_ZH
from tests.support.deployment import Deployment
from tests.web.support import CAMERA, ConsoleClient, add_user, consenting_camera


async def token_for(monitor: Monitor, name: str) -> dict[str, str]:
    await add_user(monitor, name)
    async with monitor.database.write() as session:
        user = await find_user(session, name)
        assert user is not None
        _, token = await issue_token(session, user, "script", monitor.clock.now())
    return {"Authorization": f"Bearer {token}"}


async def views_on_record(monitor: Monitor) -> tuple[list[tuple[str, str, str]], list[str]]:
    async with monitor.database.read() as session:
        audit = (
            await session.execute(
                select(ConsoleAudit.actor, ConsoleAudit.target, ConsoleAudit.detail).where(
                    ConsoleAudit.action == "camera_view"
                )
            )
        ).all()
        logged = (await session.scalars(select(AlertEvent.actor).where(AlertEvent.kind == "camera_viewed"))).all()
    return [tuple(row) for row in audit], list(logged)


async def test_the_api_gives_a_one_use_link_never_the_camera_address(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await consenting_camera(monitor, RESIDENT_ZH)
        script = await token_for(monitor, "duty2")
        await deployment.press("btn-1", "sos")
        await deployment.sandbox.wait_for_messages(2)
        async with httpx.AsyncClient(base_url=deployment.web_url) as client:
            asked = await client.post("/api/alerts/1/camera", headers=script)
            detail = await client.get("/api/alerts/1", headers=script)
            link = asked.json()["link"]
            followed = await client.get(link)
            again = await client.get(link)
            expired_link = (await client.post("/api/alerts/1/camera", headers=script)).json()["link"]
            async with monitor.database.write() as session:
                await session.execute(
                    update(CameraLink)
                    .where(CameraLink.used_at.is_(None))
                    .values(expires_at=monitor.clock.now() - timedelta(seconds=1))
                )
            expired = await client.get(expired_link)
        audit, logged = await views_on_record(monitor)
    assert asked.status_code == 200 and CAMERA not in asked.text and CAMERA not in detail.text
    assert link.startswith(f"{deployment.web_url}/camera/")
    assert followed.status_code == 303 and followed.headers["location"] == CAMERA
    assert followed.headers["cache-control"] == "no-store"
    assert again.status_code == 410 and CAMERA not in again.text
    assert expired.status_code == 410
    assert audit == [("user:duty2", f"resident:{RESIDENT_ZH}", "alert 1 (sos, open)")]
    assert logged == ["user:duty2"]


async def test_the_camera_stays_shut_outside_an_urgent_alert_in_hand(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await consenting_camera(monitor, RESIDENT_ZH)
        await consenting_camera(monitor, RESIDENT_EN)
        script = await token_for(monitor, "duty2")
        await add_user(monitor, "duty3")
        await deployment.press("btn-1", "sos")
        await deployment.sandbox.wait_for_messages(2)
        await deployment.press("btn-2", "low_battery", battery=5)
        await deployment.wait_for_alerts(lambda alerts: len(alerts) == 2)
        async with httpx.AsyncClient(base_url=deployment.web_url) as client, ConsoleClient(deployment.web_url) as duty3:
            battery = await client.post("/api/alerts/2/camera", headers=script)
            await duty3.sign_in("duty3")
            open_page = await duty3.http.get("/alerts/1")
            battery_page = await duty3.http.get("/alerts/2")
            from_the_page = await duty3.post("/alerts/1/camera")
            [link] = re.findall(r'content="0; url=(/camera/[\w-]+)"', from_the_page.text)
            through = await duty3.http.get(link)
            kept = (await client.post("/api/alerts/1/camera", headers=script)).json()["link"]
            await client.post("/api/alerts/1/resolve", headers=script, json={"outcome": "false_alarm"})
            late = await client.get(kept)
            closed = await client.post("/api/alerts/1/camera", headers=script)
            closed_page = await duty3.http.get("/alerts/1")
            closed_form = await duty3.post("/alerts/1/camera")
        audit, logged = await views_on_record(monitor)
    assert battery.status_code == 409 and "SOS, a fall or a missed check-in" in battery.json()["error"]
    assert 'id="camera"' in open_page.text and 'id="camera"' not in battery_page.text
    assert from_the_page.status_code == 200 and CAMERA not in from_the_page.text
    assert through.status_code == 303 and through.headers["location"] == CAMERA
    assert late.status_code == 409 and CAMERA not in late.text
    assert closed.status_code == 409 and "resolved" in closed.json()["error"]
    assert 'id="camera"' not in closed_page.text and closed_form.status_code == 409
    assert audit == [("user:duty3", f"resident:{RESIDENT_ZH}", "alert 1 (sos, open)")]
    assert logged == ["user:duty3"]
