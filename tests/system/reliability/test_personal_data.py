"""Personal data: kept only as long as configured, health notes shown only to signed-in
staff, and every table accounted for in docs/data-map.md."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, update
from starlette.routing import Route

import monitor.store.models  # noqa: F401 - registers the console's tables on Base.metadata
from monitor.runtime.service import Monitor
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent, Base, Device, DeviceMessage, Resident
from monitor.web.app import routes
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.web.support import ConsoleClient, add_user

REPO = Path(__file__).resolve().parents[3]
NOTES = "Insulin in the fridge; 胰岛素在冰箱里"


def test_every_table_is_on_the_data_map() -> None:
    data_map = (REPO / "docs" / "data-map.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([a-z_]+)`", data_map))
    missing = sorted(table for table in Base.metadata.tables if table not in listed)
    assert missing == [], f"add these tables to docs/data-map.md: {missing}"
    assert "docs/data-map.md" in (REPO / "README.md").read_text(encoding="utf-8")


async def old_data(database: Database, age: timedelta) -> None:
    """A month-old message the alert log points to, one nobody points to, a stale position."""
    async with database.write() as session:
        long_ago = (await session.scalar(select(func.min(Alert.raised_at)))) - age
        messages = []
        for text in (b'{"type":"sos","id":"old","lat":22.5,"lon":114.1}', b'{"type":"heartbeat","lat":22.5}'):
            row = DeviceMessage(
                received_at=long_ago,
                topic="callwatch/btn-1/event",
                payload=text,
                payload_size=len(text),
                retained=False,
                device_id="btn-1",
                outcome="accepted",
                detail="",
            )
            session.add(row)
            messages.append(row)
        await session.flush()
        alert_id = await session.scalar(select(Alert.id))
        session.add(
            AlertEvent(alert_id=alert_id, at=long_ago, kind="note", actor="system", device_message_id=messages[0].id)
        )
        await session.execute(
            update(Alert).values(state="resolved", resolved_at=long_ago, lat=22.5, lon=114.1, position_at=long_ago)
        )
        stale = {"last_lat": 1.0, "last_lon": 2.0, "last_fix_at": long_ago}
        await session.execute(update(Device).where(Device.id == "btn-2").values(**stale, last_seen_at=long_ago))
        # btn-1 still reports (it pressed today): its last fix, however old, is still in use
        await session.execute(update(Device).where(Device.id == "btn-1").values(**stale))


async def test_the_scheduled_purge_forgets_raw_messages_and_positions_but_keeps_the_record(
    deployment: Deployment,
) -> None:
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1", lat=22.5, lon=114.1)
        await deployment.sandbox.wait_for_messages(2)
        await old_data(monitor.database, timedelta(days=31))
    # The purge runs when a monitor starts (and every hour after).
    async with deployment.monitor() as monitor:

        async def purged() -> tuple[list[bytes], float | None, float | None, float | None] | None:
            """What is left once the purge has finished: it works in small transactions, one kind at a time."""
            async with monitor.database.read() as session:
                payloads = list((await session.scalars(select(DeviceMessage.payload).order_by(DeviceMessage.id))).all())
                alert_position = await session.scalar(select(Alert.lat))
                device_position = await session.scalar(select(Device.last_lat).where(Device.id == "btn-2"))
                in_use = await session.scalar(select(Device.last_lat).where(Device.id == "btn-1"))
            done = b"" in payloads and alert_position is None and device_position is None
            return (payloads, alert_position, device_position, in_use) if done else None

        payloads, alert_position, device_position, in_use = await until(purged, what="the retention job")
    # today's press as it came; the old message the log points to, emptied; the other one, gone
    assert len(payloads) == 2
    assert payloads[0].startswith(b'{"type": "sos"') and payloads[1] == b""
    assert (alert_position, device_position) == (None, None)
    assert in_use == 1.0


async def test_health_notes_are_shown_to_signed_in_staff_only(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        async with monitor.database.write() as session:
            await session.execute(update(Resident).where(Resident.id == "r-1").values(notes=NOTES))
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        alert_id = await alert_of(monitor)
        values = {
            "alert_id": str(alert_id),
            "section": "residents",
            "entry_id": "r-1",
            "name": "duty",
            "token_id": "1",
            "secret": "not-a-link",
            "token": "not-a-responder-link",  # a stranger guessing at /r/<token>
        }
        async with httpx.AsyncClient(base_url=deployment.web_url) as stranger:
            for route in routes():
                if isinstance(route, Route) and "GET" in (route.methods or ()) and route.path != "/events":
                    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda found: values[found.group(1)], route.path)
                    answer = await stranger.get(path)
                    assert NOTES not in answer.text, f"GET {path} shows the notes without signing in"
        await add_user(monitor, "duty")
        await console.sign_in("duty")
        page = (await console.http.get(f"/alerts/{alert_id}")).text
    assert NOTES in page
    assert all(NOTES not in message.body for message in deployment.sandbox.messages())
    assert {message.to for message in deployment.sandbox.messages()} == set(TIER1)


async def alert_of(monitor: Monitor) -> int:
    async with monitor.database.read() as session:
        alert_id = await session.scalar(select(Alert.id))
    assert alert_id is not None
    return alert_id
