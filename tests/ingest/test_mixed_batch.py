"""One ingest batch holding several device families: each message finds its own device,
each device's state is written, and a press among them raises its alert. The batch is
handed to the monitor's processor directly, so it is one transaction for certain (over
MQTT, how messages fall into batches depends on timing)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from devices.base import DeviceMessage
from monitor.core.effects import Effects
from monitor.runtime.service import Monitor
from monitor.store.models import Alert, Device
from monitor.store.models import DeviceMessage as StoredMessage
from tests.support.deployment import RESIDENT_EN, Deployment

HALL_BUTTON = (
    f'[[devices]]\nid = "hall-button"\nresident = "{RESIDENT_EN}"\nkind = "button"\n'
    'protocol = "zigbee2mqtt"\ntopic = "zigbee2mqtt/hall_button"\n'
)


async def _process(monitor: Monitor, messages: list[DeviceMessage]) -> None:
    async with monitor.database.write() as session:
        await monitor.ingest.processor.process(session, messages, Effects())


async def _devices(monitor: Monitor) -> dict[str, Device]:
    async with monitor.database.read() as session:
        return {device.id: device for device in (await session.scalars(select(Device))).all()}


async def test_a_batch_of_two_families_updates_each_device_and_raises_the_press(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=HALL_BUTTON)
    async with deployment.monitor() as monitor:
        first = monitor.clock.now()

        def message(topic: str, payload: object, after_s: float) -> DeviceMessage:
            body = payload if isinstance(payload, str) else json.dumps(payload)
            return DeviceMessage(topic, body.encode(), False, first + timedelta(seconds=after_s))

        await _process(
            monitor,
            [
                message("callwatch/btn-2/event", {"type": "heartbeat", "id": "h-1", "battery": 64}, 0),
                message("zigbee2mqtt/hall_button/availability", "offline", 0.1),
                message("zigbee2mqtt/hall_button", {"battery": 97, "linkquality": 150}, 0.2),
                message("callwatch/btn-1/event", {"type": "sos", "id": "p-1"}, 0.3),
                message("zigbee2mqtt/hall_button/availability", "online", 0.4),
            ],
        )
        after_first = await _devices(monitor)
        # The same again, later: what did not change stays as it was, what did moves on.
        await _process(
            monitor,
            [
                message("callwatch/btn-2/event", {"type": "heartbeat", "id": "h-2", "battery": 64}, 10),
                message("zigbee2mqtt/hall_button/availability", "online", 10.1),
            ],
        )
        after_second = await _devices(monitor)
        async with monitor.database.read() as session:
            raised = (await session.scalars(select(Alert.device_id))).all()

    btn, hall = after_first["btn-2"], after_first["hall-button"]
    assert (btn.battery, btn.online, btn.last_seen_at) == (64, True, first)
    assert (hall.battery, hall.online, hall.offline_at) == (97, True, None)
    assert hall.last_seen_at == first + timedelta(seconds=0.4)
    assert after_first["btn-1"].last_seen_at == first + timedelta(seconds=0.3)
    assert raised == ["btn-1"]
    btn, hall = after_second["btn-2"], after_second["hall-button"]
    assert (btn.battery, btn.online, btn.last_seen_at) == (64, True, first + timedelta(seconds=10))
    assert (hall.battery, hall.online, hall.last_seen_at) == (97, True, first + timedelta(seconds=10.1))


async def test_the_message_log_says_what_a_retained_message_only_set_as_state(deployment: Deployment) -> None:
    """A retained message is the broker replaying old state: its log entry says so, beside
    what still counts as news (availability)."""
    deployment.write_files()
    async with deployment.monitor() as monitor:
        now = monitor.clock.now()
        await _process(
            monitor,
            [
                DeviceMessage("callwatch/btn-1/status", b"online", True, now),
                DeviceMessage("callwatch/btn-2/event", b'{"type": "location", "lat": 30.1, "lon": 120.2}', True, now),
                DeviceMessage("callwatch/btn-2/event", b'{"type": "location", "lat": 30.1, "lon": 120.2}', False, now),
            ],
        )
        async with monitor.database.read() as session:
            details = (await session.scalars(select(StoredMessage.detail).order_by(StoredMessage.id))).all()
    assert details[-3:] == ["online", "retained (state only): location", "location"]
