"""Every line of every device sample file, published with mosquitto_pub to a running monitor
whose directory lists that device, does exactly what it should, and nothing more.

A line marked ``retain`` is published while the monitor is away and reaches it on
subscribing, flagged retained, as after any reconnect: state, never news. Every other line is
then published a second time: a repeated message raises nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import func, select

import devices
from monitor.alerts.lifecycle import URGENT_KINDS
from monitor.runtime.service import Monitor
from monitor.store.models import AlertEvent, Device
from monitor.store.models import DeviceMessage as StoredMessage
from tests.devices.kit import FIXTURE_DEVICES, FIXTURES, ZONE_REGIONS, SampleLine, listing, sample_lines
from tests.support.deployment import Deployment
from tests.watch.kit import alerts, clear_retained, eventually

URGENT = {kind.value for kind in URGENT_KINDS}

#: what lines do besides the event their ``expect`` names: a battery report at or under 20 %
#: or a device's own low-battery flag raises low_battery, 30 % or more ends it
HEALTH: Mapping[tuple[str, int], tuple[str, str]] = {
    ("zigbee2mqtt.extra.jsonl", 7): ("raised", "low_battery"),
    ("traccar.extra.jsonl", 2): ("raised", "low_battery"),  # "sos,lowBattery"
    ("traccar.extra.jsonl", 3): ("resolved", "low_battery"),  # the fall report says 62 %
    ("traccar.extra.jsonl", 5): ("raised", "low_battery"),
    ("traccar.extra.jsonl", 6): ("resolved", "low_battery"),
}
#: geofence lines that raise nothing, and why
QUIET_GEOFENCE: Mapping[tuple[str, int], str] = {
    ("owntracks.jsonl", 5): "it left 'home' in 2015, after a fix from 2024 came in: history, not news",
    ("owntracks.extra.jsonl", 4): "it came back into 'home': written down, nothing raised",
}


@dataclass(frozen=True)
class Snapshot:
    """What a user could see of the monitor: alerts and their logs, devices' state, messages kept."""

    alerts: dict[int, tuple[str, str]]  # id -> (kind, state)
    log: Counter[str]  # alert log entries by kind
    devices: dict[str, Device]
    last_message_id: int


async def snapshot(monitor: Monitor) -> Snapshot:
    async with monitor.database.read() as session:
        counted = (await session.execute(select(AlertEvent.kind, func.count()).group_by(AlertEvent.kind))).all()
        found = {device.id: device for device in (await session.scalars(select(Device))).all()}
        last = await session.scalar(select(func.max(StoredMessage.id)))
    log = Counter({kind: count for kind, count in counted})
    return Snapshot({alert.id: (alert.kind, alert.state) for alert in await alerts(monitor)}, log, found, last or 0)


def changes(before: Snapshot, after: Snapshot) -> list[tuple[str, str]]:
    """What happened between two snapshots: ("raised", kind), (state, kind), ("again", kind)."""
    happened = [("raised", kind) for alert_id, (kind, _) in after.alerts.items() if alert_id not in before.alerts]
    happened += [
        (state, kind)
        for alert_id, (kind, state) in after.alerts.items()
        if alert_id in before.alerts and before.alerts[alert_id][1] != state
    ]
    for entry, kind in (("pressed_again", "urgent"), ("left_again", "geofence")):
        happened += [("again", kind)] * (after.log[entry] - before.log[entry])
    return sorted(happened)


def expected(path: Path, line: SampleLine, before: Snapshot, resident_alerts: set[int]) -> list[tuple[str, str]]:
    ongoing_urgent = [
        (kind, state)
        for alert_id, (kind, state) in before.alerts.items()
        if alert_id in resident_alerts and kind in URGENT and state in ("open", "acknowledged")
    ]
    happened: list[tuple[str, str]] = []
    if line.expect in URGENT:
        happened.append(("again", "urgent") if ongoing_urgent else ("raised", line.expect))
    elif line.expect == "cancel":
        happened += [("cancelled", kind) for kind, _ in ongoing_urgent]
    elif line.expect == "geofence" and (path.name, line.number) not in QUIET_GEOFENCE:
        happened.append(("raised", "geofence"))
    if (path.name, line.number) in HEALTH:
        happened.append(HEALTH[path.name, line.number])
    return sorted(happened)


def directory_for(protocol: str, lines: list[SampleLine]) -> str:
    """One resident per sample device; each device's action map as its lines give it."""
    adapter = devices.registry()[protocol]
    listed = {adapter.device_ref(device): device for device in FIXTURE_DEVICES[protocol]}
    maps: dict[str, dict[str, str]] = {device.device_id: {} for device in listed.values()}
    for line in lines:
        ref = adapter.locate(line.message)
        assert isinstance(ref, str) and ref in listed, (line, ref)
        maps[listed[ref].device_id].update(line.action_map)
    return "\n".join(
        listing(protocol, device, zone_region=ZONE_REGIONS.get(device.device_id), actions=maps[device.device_id])
        for device in listed.values()
    )


class Replay:
    """The monitor under test; started afresh (a new MQTT session) to receive retained messages."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.monitor: Monitor | None = None
        self.sessions = 0

    async def start(self) -> Monitor:
        self.sessions += 1
        settings = self.deployment.settings
        mqtt = settings.mqtt.model_copy(update={"client_id": f"{settings.mqtt.client_id}-{self.sessions}"})
        self.monitor = Monitor(settings.model_copy(update={"mqtt": mqtt}), config_path=self.deployment.config_path)
        await self.monitor.__aenter__()
        await self.deployment.wait_until_subscribed()
        return self.monitor

    async def stop(self) -> None:
        if self.monitor is not None:
            client_id = self.monitor.settings.mqtt.client_id
            await self.monitor.__aexit__(None, None, None)
            self.monitor = None
            # End the stopped monitor's broker session: else it would keep its subscriptions, a
            # retained message published now would wait in it as a live one, and on PostgreSQL
            # the next monitor drains a stopped monitor's session (monitor.ingest.failover).
            broker = self.deployment.broker
            async with aiomqtt.Client(broker.host, broker.port, identifier=client_id, clean_session=True):
                pass

    async def publish(self, line: SampleLine, before: Snapshot) -> Monitor:
        """Deliver ``line`` as a device would; the monitor once it has stored it."""
        if line.retain:
            await self.stop()
            await self.deployment.publish(line.topic, line.payload, retain=True)
            await self.start()
        else:
            await self.deployment.publish(line.topic, line.payload)
        monitor = self.monitor
        assert monitor is not None

        async def stored() -> bool | None:
            async with monitor.database.read() as session:
                row = await session.scalar(
                    select(StoredMessage.outcome).where(
                        StoredMessage.id > before.last_message_id,
                        StoredMessage.topic == line.topic,
                        StoredMessage.payload == line.payload,
                        StoredMessage.retained.is_(line.retain),
                    )
                )
            assert row != "rejected", f"line {line.number} rejected"
            return True if row is not None else None

        await eventually(stored, what=f"line {line.number} stored")
        await monitor.supervision.run_once()
        return monitor


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.jsonl")), ids=lambda path: path.name)
async def test_every_sample_line_does_exactly_what_it_should(deployment: Deployment, path: Path) -> None:
    protocol = path.name.split(".", 1)[0]
    lines = sample_lines(path)
    deployment.write_files(directory_extra=directory_for(protocol, lines))
    adapter = devices.registry()[protocol]
    replay = Replay(deployment)
    monitor = await replay.start()
    try:
        for line in lines:
            before = await snapshot(monitor)
            ref = adapter.locate(line.message)
            [device_id] = [d.id for d in before.devices.values() if d.protocol == protocol and d.ref == ref]
            resident_alerts = await _alerts_of(monitor, before.devices[device_id].resident_id)
            monitor = await replay.publish(line, before)
            after = await snapshot(monitor)
            assert changes(before, after) == expected(path, line, before, resident_alerts), f"line {line.number}"
            _assert_device_state(line, after.devices[device_id])
            if not line.retain:
                await replay.publish(line, after)
                again = changes(after, await snapshot(monitor))
                assert [change for change in again if change[0] != "again"] == [], f"line {line.number} repeated"
    finally:
        await replay.stop()
        await clear_retained(deployment.broker, [line.topic for line in lines if line.retain])


async def _alerts_of(monitor: Monitor, resident_id: str) -> set[int]:
    return {alert.id for alert in await alerts(monitor) if alert.resident_id == resident_id}


def _assert_device_state(line: SampleLine, device: Device) -> None:
    if line.expect in ("online", "offline"):
        assert device.online is (line.expect == "online"), f"line {line.number}"
    elif line.expect == "battery":
        assert device.battery is not None, f"line {line.number}"
    elif line.expect == "location":
        assert device.last_lat is not None and device.last_fix_at is not None, f"line {line.number}"
