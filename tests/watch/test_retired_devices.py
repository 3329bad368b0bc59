"""A device handed back and retired (``active = false``): supervision no longer looks at it (no
offline alert when it goes silent), and what it still sends through the real broker is refused
as from an unknown device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.directory.file import load_directory
from monitor.directory.model import Directory
from monitor.directory.sync import import_directory
from monitor.runtime.service import Monitor
from monitor.store.models import DeviceMessage
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, alerts, device, eventually, monitor_on

START = datetime(2026, 5, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai, long before the 09:00 digest
HEARTBEAT_DEVICE = """
[[devices]]
id = "hb-1"
resident = "r-2"
protocol = "native"
heartbeat_s = 60
"""


def handed_back(file: Directory, device_id: str) -> Directory:
    devices = [entry.model_copy(update={"active": False}) if entry.id == device_id else entry for entry in file.devices]
    return file.model_copy(update={"devices": devices})


async def refused_on(monitor: Monitor, topic: str) -> list[DeviceMessage] | None:
    """The messages refused on ``topic``, once there are any."""
    refused = select(DeviceMessage).where(DeviceMessage.topic == topic, DeviceMessage.outcome == "rejected")
    async with monitor.database.read() as session:
        return list((await session.scalars(refused)).all()) or None


async def test_a_retired_device_is_not_supervised_and_its_messages_are_refused_as_unknown(
    deployment: Deployment,
) -> None:
    deployment.write_files(directory_extra=HEARTBEAT_DEVICE)
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        await deployment.press("hb-1", "heartbeat")

        async def seen() -> datetime | None:
            return (await device(monitor, "hb-1")).last_seen_at

        last_seen = await eventually(seen, what="the heartbeat is recorded")
        retiring = handed_back(load_directory(deployment.directory_path), "hb-1")
        summary = await import_directory(monitor.database, retiring)

        clock.move_to(last_seen + timedelta(hours=2))  # silent for far longer than two heartbeats, grace and settling
        await monitor.supervision.run_once()
        await monitor.supervision.run_once()
        after_silence = await device(monitor, "hb-1")

        await deployment.press("hb-1", "sos")
        [refused] = await eventually(lambda: refused_on(monitor, "callwatch/hb-1/event"), what="the sos is refused")
        await monitor.supervision.run_once()
        raised = await alerts(monitor)
        metrics = monitor.metrics.messages_rejected.labels(reason="unknown_device")._value.get()

    assert summary.retired == {"devices": ["hb-1 (button of r-2)"]}
    assert (after_silence.online, after_silence.review_at, after_silence.active) == (True, None, False)
    assert raised == []  # neither offline nor the sos it sent after
    assert (refused.reject_reason, refused.device_id) == ("unknown_device", None)
    assert "or it is retired" in str(refused.detail)
    assert metrics == 1
