"""Chinese and other non-Latin text in every field, end to end: SMS (UCS-2, segments counted as
the carrier bills them, emoji costing two units), the console, the JSON API and the reports."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy import select, update

from monitor.notify.sms.segments import count_segments
from monitor.store.models import Area, Notification, Resident, Volunteer
from tests.support.deployment import TIER1, Deployment
from tests.web.support import ConsoleClient, add_user

RESIDENT = "أمينة 王秀英 🌸"
ADDRESS = "ул. Ленина 5 · 12栋3单元201 🏠"
AREA = "天仙 · तियानक्सियान"
TAKER = "李明 Łukasz 🚑"
API = {"Authorization": "Bearer test-api-token-0123456789"}


async def test_non_latin_text_survives_sms_console_api_and_reports(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        async with monitor.database.write() as session:
            await session.execute(update(Resident).where(Resident.id == "r-1").values(name=RESIDENT, address=ADDRESS))
            await session.execute(update(Area).where(Area.id == "a-1").values(name=AREA))
            await session.execute(update(Volunteer).where(Volunteer.id == "v-1").values(name=TAKER))
        await deployment.press("btn-1")
        [ask, _] = await deployment.sandbox.wait_for_messages(2)
        assert await deployment.sandbox.phone(TIER1[0]).reply("收到") == 200
        [taken] = await deployment.sandbox.wait_for_messages(1, to=TIER1[1], body_contains=TAKER)
        async with monitor.database.read() as session:
            sent = (await session.scalars(select(Notification).where(Notification.provider_id.is_not(None)))).all()
        await add_user(monitor, "duty")
        await console.sign_in("duty")
        board = (await console.http.get("/")).text
        alert_id = sent[0].alert_id
        page = (await console.http.get(f"/alerts/{alert_id}")).text
        report = (await console.http.get("/reports/report.csv")).content.decode("utf-8")
        async with httpx.AsyncClient(base_url=deployment.web_url, headers=API) as api:
            detail = (await api.get(f"/api/alerts/{alert_id}")).json()
    for text in (RESIDENT, ADDRESS, AREA):
        assert text in ask.body
    by_sid = {message.sid: message for message in deployment.sandbox.messages()}
    for notification in sent:
        ours = count_segments(notification.body)
        assert notification.encoding == ours.encoding == "UCS-2"
        assert notification.segments == ours.segments == by_sid[notification.provider_id].num_segments
    assert count_segments("🌸").units == 2  # an emoji is two UTF-16 units
    assert TAKER in taken.body
    assert RESIDENT in board and AREA in board
    assert ADDRESS in page and TAKER in page
    assert (detail["resident"]["name"], detail["resident"]["address"]) == (RESIDENT, ADDRESS)
    assert any(TAKER in entry["text"] for entry in detail["timeline"])
    names = [row["value"] for row in csv.DictReader(io.StringIO(report)) if row["key"] == "name"]
    assert TAKER in names
