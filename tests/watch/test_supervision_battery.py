"""A battery hovering around the threshold raises one alert, for duty staff only, and ends
when the battery is charged."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import Notification
from tests.support.deployment import STAFF, Deployment
from tests.watch.kit import ShiftedClock, alerts, device, eventually, monitor_on

START = datetime(2026, 5, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai


async def report_battery(deployment: Deployment, monitor: Monitor, percent: int) -> None:
    """The button reports its battery; return once the monitor has it and supervision has looked."""
    await deployment.press("btn-1", "heartbeat", battery=percent)

    async def recorded() -> bool | None:
        return True if (await device(monitor, "btn-1")).battery == percent else None

    await eventually(recorded, what=f"battery {percent}% recorded")
    await monitor.supervision.run_once()


async def test_low_battery_flapping_around_the_threshold_raises_one_alert(deployment: Deployment) -> None:
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        for percent in (25, 19, 21, 19, 22, 18, 24):
            await report_battery(deployment, monitor, percent)
        [low] = await alerts(monitor)
        assert (low.kind, low.device_id, low.state, low.next_escalation_at) == ("low_battery", "btn-1", "open", None)
        [to_staff] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
        assert to_staff.body.startswith("【设备状态】1条新提醒：设备电量低 btn-1（王秀英）")  # and its level now

        await report_battery(deployment, monitor, 31)  # new batteries
        [low] = await alerts(monitor)
        assert (low.state, low.outcome) == ("resolved", "cleared")
        async with monitor.database.read() as session:
            phones = (await session.scalars(select(Notification.phone))).all()
        assert phones == [STAFF]  # nobody else hears of a battery
