"""Every line of every device sample file, published with mosquitto_pub to a running monitor
whose directory lists that device, does exactly what it should, and nothing more.

A line marked ``retain`` is published while the monitor is away and reaches it on
subscribing, flagged retained, as after any reconnect: state, never news. Every other line is
then published a second time: a repeated message raises nothing new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import devices
from devices.base import DeviceMessage, DeviceProfile
from monitor.alerts.lifecycle import URGENT_KINDS
from monitor.runtime.service import Monitor
from monitor.store.models import AlertEvent, Device
from monitor.store.models import DeviceMessage as StoredMessage
from tests.support.deployment import Deployment
from tests.watch.kit import alerts, clear_retained, eventually

FIXTURES = Path(__file__).parents[1] / "fixtures" / "devices"
_EPOCH = datetime(2026, 5, 2, tzinfo=UTC)  # when adapters are asked to locate a line's device
URGENT = {kind.value for kind in URGENT_KINDS}


@dataclass(frozen=True)
class Listed:
    """A device of the sample files as the directory lists it."""

    id: str
    kind: str
    topic: str
    serial: str | None = None
    #: the resident's safe zone, for families that report their own regions
    zone_region: str | None = None


FIXTURE_DEVICES: Mapping[str, tuple[Listed, ...]] = {
    "owntracks": (Listed("jane-phone", "gps_phone", "owntracks/jane/nokia", zone_region="home"),),
    "zigbee2mqtt": (
        Listed("tuya-sos", "button", "zigbee2mqtt/0xa4c13899607febd1"),
        Listed("hall-button", "button", "zigbee2mqtt/hall_button"),
        Listed("sos-pendant", "button", "zigbee2mqtt/sos_pendant"),
        Listed("hue-dimmer", "button", "zigbee2mqtt/bedroom/hue_dimmer"),
    ),
    "tasmota": (Listed("bedside", "button", "bedside"),),
    "shelly": (Listed("button1", "button", "shellies/shellybutton1-A4CF12F45A2B"),),
    "shelly_gen2": (Listed("plus-i4", "button", "shellyplusi4-a8032ab12345"),),
    "traccar": (Listed("grandma-watch", "gps_phone", "events", serial="868003031234567", zone_region="Home"),),
}
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


@dataclass
class Line:
    number: int
    topic: str
    payload: bytes
    retain: bool
    expect: str
    action_map: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, number: int, text: str) -> Line:
        raw = json.loads(text)
        return cls(
            number, raw["topic"], raw["payload"].encode(), raw["retain"], raw["expect"], raw.get("action_map", {})
        )


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


def expected(path: Path, line: Line, before: Snapshot, resident_alerts: set[int]) -> list[tuple[str, str]]:
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


def directory_for(protocol: str, lines: list[Line]) -> str:
    """One resident per sample device; each device's action map as its lines give it."""
    adapter = devices.registry()[protocol]
    listed = {adapter.device_ref(_profile(entry)): entry for entry in FIXTURE_DEVICES[protocol]}
    maps: dict[str, dict[str, str]] = {entry.id: {} for entry in listed.values()}
    for line in lines:
        ref = adapter.locate(DeviceMessage(line.topic, line.payload, line.retain, _EPOCH))
        assert isinstance(ref, str) and ref in listed, (line, ref)
        maps[listed[ref].id].update(line.action_map)
    entries = []
    for entry in listed.values():
        zone = f'\nsafe_zone = {{ region = "{entry.zone_region}" }}' if entry.zone_region else ""
        serial = f'\nserial = "{entry.serial}"' if entry.serial else ""
        actions = ", ".join(f'"{action}" = "{meaning}"' for action, meaning in maps[entry.id].items())
        entries.append(
            f'[[residents]]\nid = "r-{entry.id}"\nname = "Owner of {entry.id}"\narea = "a-1"{zone}\n\n'
            f'[[devices]]\nid = "{entry.id}"\nresident = "r-{entry.id}"\nkind = "{entry.kind}"\n'
            f'protocol = "{protocol}"\ntopic = "{entry.topic}"{serial}\nactions = {{ {actions} }}\n'
        )
    return "\n".join(entries)


def _profile(entry: Listed) -> DeviceProfile:
    return DeviceProfile(entry.id, entry.kind, entry.topic, serial=entry.serial)


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
            await self.monitor.__aexit__(None, None, None)
            self.monitor = None

    async def publish(self, line: Line, before: Snapshot) -> Monitor:
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


SAMPLES = {path.name: path.read_text() for path in sorted(FIXTURES.glob("*.jsonl"))}


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.jsonl")), ids=lambda path: path.name)
async def test_every_sample_line_does_exactly_what_it_should(deployment: Deployment, path: Path) -> None:
    protocol = path.name.split(".", 1)[0]
    lines = [Line.read(number, text) for number, text in enumerate(SAMPLES[path.name].splitlines(), start=1)]
    deployment.write_files(directory_extra=directory_for(protocol, lines))
    adapter = devices.registry()[protocol]
    replay = Replay(deployment)
    monitor = await replay.start()
    try:
        for line in lines:
            before = await snapshot(monitor)
            ref = adapter.locate(DeviceMessage(line.topic, line.payload, line.retain, _EPOCH))
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


def _assert_device_state(line: Line, device: Device) -> None:
    if line.expect in ("online", "offline"):
        assert device.online is (line.expect == "online"), f"line {line.number}"
    elif line.expect == "battery":
        assert device.battery is not None, f"line {line.number}"
    elif line.expect == "location":
        assert device.last_lat is not None and device.last_fix_at is not None, f"line {line.number}"
