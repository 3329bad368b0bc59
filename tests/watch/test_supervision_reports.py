"""How people hear of device health: duty staff at most one SMS a quarter hour, the area team
one digest a day; and event ids are forgotten after a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import DeviceMessage as StoredMessage
from monitor.store.models import Notification
from tests.support.deployment import STAFF, TIER1, TIER2, Deployment
from tests.watch.kit import ShiftedClock, alerts, device, eventually, monitor_on
from tests.web.support import OFFICES

START = datetime(2026, 5, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai
DIGEST_AT = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


async def goes_offline(deployment: Deployment, monitor: Monitor, device_id: str) -> None:
    await deployment.publish(f"callwatch/{device_id}/status", "offline")

    async def gone() -> bool | None:
        return True if (await device(monitor, device_id)).online is False else None

    await eventually(gone, what=f"{device_id} offline")


async def sms_to(monitor: Monitor) -> list[tuple[str, str]]:
    """(phone, text) of every SMS queued so far."""
    async with monitor.database.read() as session:
        rows = await session.execute(select(Notification.phone, Notification.body).order_by(Notification.id))
        return [(phone, body) for phone, body in rows.all()]


async def test_staff_hear_at_most_every_quarter_hour_and_the_area_team_once_a_day(deployment: Deployment) -> None:
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        await goes_offline(deployment, monitor, "btn-1")
        clock.advance(seconds=61)
        await monitor.supervision.run_once()
        first_told = clock.now()
        [(phone, first)] = await sms_to(monitor)
        assert phone == STAFF and "设备离线 btn-1（王秀英）" in first

        await goes_offline(deployment, monitor, "btn-2")
        clock.advance(minutes=5)
        await monitor.supervision.run_once()
        assert len(await alerts(monitor, "device_offline")) == 2
        assert len(await sms_to(monitor)) == 1  # the quarter hour has not run

        clock.move_to(first_told + timedelta(minutes=15))
        await monitor.supervision.run_once()
        [_, (phone, second)] = await sms_to(monitor)
        assert phone == STAFF and "1条新提醒：设备离线 btn-2（Margaret Chen）" in second

        clock.move_to(DIGEST_AT + timedelta(seconds=1))
        await monitor.supervision.run_once()
        await monitor.supervision.run_once()  # once a day, however often supervision looks
        digests = (await sms_to(monitor))[2:]
        assert sorted(phone for phone, _ in digests) == sorted([*TIER1, TIER2])
        for _, text in digests:
            assert "btn-1（王秀英）" in text or "btn-1 (王秀英)" in text
            assert "btn-2" in text
        await deployment.sandbox.wait_for_messages(5)


async def test_each_offices_staff_hear_of_its_own_devices_and_the_service_wide_desk_of_the_rest(
    deployment: Deployment,
) -> None:
    deployment.write_files(directory_extra=OFFICES)  # the east and west offices' desks, and their buttons
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        for device_id in ("btn-east", "btn-west", "btn-1"):
            await goes_offline(deployment, monitor, device_id)
        clock.advance(seconds=61)
        await monitor.supervision.run_once()
        told = dict(await sms_to(monitor))
    east, west = "+8613900000304", "+8613900000305"
    assert sorted(told) == sorted([east, west, STAFF])
    heard = {phone: [device_id for device_id in ("btn-east", "btn-west", "btn-1") if device_id in text]
             for phone, text in told.items()}  # fmt: skip
    assert heard == {east: ["btn-east"], west: ["btn-west"], STAFF: ["btn-1"]}


async def test_event_ids_are_forgotten_after_a_week(deployment: Deployment) -> None:
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        outcomes = []
        for step in (timedelta(0), timedelta(minutes=1), timedelta(days=8)):
            clock.advance(seconds=step.total_seconds())
            await monitor.supervision.run_once()
            await deployment.press("btn-1", "heartbeat", event_id="boot-1")
            outcomes.append(await eventually(lambda: _outcome(monitor, len(outcomes) + 1), what="the press stored"))
    assert outcomes == ["accepted", "duplicate", "accepted"]


async def _outcome(monitor: Monitor, count: int) -> str | None:
    """The outcome of the ``count``-th message from btn-1, once it is stored."""
    async with monitor.database.read() as session:
        rows = (
            await session.scalars(
                select(StoredMessage.outcome).where(StoredMessage.device_id == "btn-1").order_by(StoredMessage.id)
            )
        ).all()
    return rows[count - 1] if len(rows) >= count else None
