"""The simulator's devices, against a live monitor, come out as the device fixtures say.

For each family, a simulated device of the same shape as the fixtures' does what the family
can do (come online, press, report, move, go away abruptly); the monitor's record of each
message (the event types it found) must read as the fixture vocabulary says, and every
outcome must be one that family's fixture lines show too.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.directory.file import load_directory
from monitor.runtime.service import Monitor
from monitor.store.models import DeviceMessage
from simulator.device import SimulatedDevice
from simulator.families import Fix, Publication
from simulator.fleet import Fleet
from simulator.mqtt_link import BrokerAddress, MqttLink
from simulator.roster import spec_for
from tests.support.deployment import RESIDENT_EN, Deployment

FIXTURES = Path(__file__).parents[1] / "fixtures" / "devices"
HOME = Fix(30.2741, 120.1551, 12.0)
Step = Callable[[Fleet, SimulatedDevice], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    protocol: str
    kind: str
    directory_keys: str  # topic / serial / actions for the directory entry
    steps: list[tuple[Step, list[str]]]  # an action and the outcome of each message it publishes


def online() -> Step:
    async def step(fleet: Fleet, device: SimulatedDevice) -> None:
        await fleet.come_online(device.id)

    return step


def offline() -> Step:
    async def step(fleet: Fleet, device: SimulatedDevice) -> None:
        await fleet.drop(device.id)

    return step


def send(build: Callable[[SimulatedDevice], list[Publication]]) -> Step:
    async def step(fleet: Fleet, device: SimulatedDevice) -> None:
        await fleet.publish(device.id, build(device))

    return step


PRESS = send(lambda device: device.press("sos"))
HEARTBEAT = send(lambda device: device.heartbeat())
LOW_BATTERY = send(lambda device: device.battery_report(9))
BATTERY = send(lambda device: device.battery_report(64))
MOVE = send(lambda device: device.location(Fix(30.2760, 120.1570, 15.0)))
LEAVE = send(lambda device: device.region("home", "leave"))

CASES = [
    Case(
        "native",
        "gps_phone",
        "",
        [
            (online(), ["online"]),
            (HEARTBEAT, ["heartbeat"]),
            (LOW_BATTERY, ["battery"]),
            (MOVE, ["location"]),
            (PRESS, ["sos"]),
            (send(lambda device: device.press("cancel")), ["cancel"]),
            (send(lambda device: device.press("fall")), ["fall"]),
            (send(lambda device: device.press("checkin")), ["checkin"]),
            (offline(), ["offline"]),
        ],
    ),
    Case(
        "owntracks",
        "gps_phone",
        'topic = "owntracks/jane/nokia"\nactions = { manual = "sos" }\n',
        [
            (online(), ["location"]),
            (MOVE, ["location"]),
            (LEAVE, ["geofence"]),
            (PRESS, ["sos"]),
            (offline(), ["offline"]),
        ],
    ),
    Case(
        "zigbee2mqtt",
        "button",
        'topic = "zigbee2mqtt/hall_button"\n',
        [
            (online(), ["online"]),
            (PRESS, ["sos", "none"]),
            (BATTERY, ["battery"]),
            (HEARTBEAT, ["heartbeat"]),
            (offline(), ["offline"]),
        ],
    ),
    Case(
        "tasmota",
        "button",
        'topic = "bedside"\n',
        [(online(), ["online"]), (PRESS, ["sos"]), (HEARTBEAT, ["heartbeat"]), (offline(), ["offline"])],
    ),
    Case(
        "shelly",
        "button",
        'topic = "shellies/shellybutton1-A4CF12F45A2B"\n',
        [(online(), ["online"]), (PRESS, ["sos"]), (PRESS, ["sos"]), (BATTERY, ["battery"]), (offline(), ["offline"])],
    ),
    Case(
        "shelly_gen2",
        "button",
        'topic = "shellyplusi4-a8032ab12345"\nactions = { long_push = "cancel" }\n',
        [
            (online(), ["online"]),
            (PRESS, ["sos"]),
            (send(lambda device: device.press("cancel")), ["cancel"]),
            (HEARTBEAT, ["heartbeat"]),
            (BATTERY, ["battery"]),
            (offline(), ["offline"]),
        ],
    ),
    Case(
        "traccar",
        "gps_phone",
        'topic = "events"\nserial = "868003031234567"\n',
        [
            (online(), ["online"]),
            (PRESS, ["sos"]),
            (send(lambda device: device.press("fall")), ["fall"]),
            (LEAVE, ["geofence"]),
            (LOW_BATTERY, ["battery"]),
            (offline(), ["offline"]),
        ],
    ),
]


def fixture_outcomes(protocol: str) -> set[str]:
    """Every ``expect`` word in the family's fixture files."""
    words = set()
    for path in FIXTURES.glob(f"{protocol}.*jsonl"):
        words |= {json.loads(line)["expect"] for line in path.read_text().splitlines()}
    return words


def expectation(detail: str) -> str:
    """The fixture word for what the monitor recorded (its first event type, as the fixtures name it)."""
    first = detail.split(",")[0].strip()
    if first.startswith("no events") or first.startswith("retained"):
        return "none"
    return {"low_battery": "battery"}.get(first, first)


async def recorded(monitor: Monitor, device_id: str, count: int, within_s: float = 10.0) -> list[str]:
    """The monitor's record of the device's messages, once ``count`` are there."""
    deadline = time.monotonic() + within_s
    while True:
        async with monitor.database.read() as session:
            rows = (
                await session.execute(
                    select(DeviceMessage.outcome, DeviceMessage.detail)
                    .where(DeviceMessage.device_id == device_id)
                    .order_by(DeviceMessage.id)
                )
            ).all()
        if len(rows) >= count or time.monotonic() > deadline:
            assert all(outcome == "accepted" for outcome, _ in rows), rows
            return [expectation(detail) for _, detail in rows]
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.protocol)
async def test_simulated_device_reads_as_the_fixtures(deployment: Deployment, case: Case) -> None:
    device_id = f"sim-{case.protocol}"
    deployment.write_files(
        directory_extra=f'[[devices]]\nid = "{device_id}"\nresident = "{RESIDENT_EN}"\nkind = "{case.kind}"\n'
        f'protocol = "{case.protocol}"\n{case.directory_keys}'
    )
    entry = next(device for device in load_directory(deployment.directory_path).devices if device.id == device_id)
    spec = spec_for(
        device_id, entry.protocol, kind=entry.kind, topic=entry.topic, serial=entry.serial, actions=entry.actions
    )
    device = SimulatedDevice(spec, fix=HOME if case.kind == "gps_phone" else None)
    expected = [word for _, words in case.steps for word in words]

    async with deployment.monitor() as monitor:
        address = BrokerAddress(deployment.broker.host, deployment.broker.port)
        async with Fleet(address, [device], name=f"test-{case.protocol}") as fleet:
            for step, _ in case.steps:
                await step(fleet, device)
            seen = await recorded(monitor, device_id, len(expected))
        # The session's broker is shared: leave no retained availability for the next test's monitor.
        async with MqttLink(address) as cleaner:
            for is_online in (True, False):
                await cleaner.publish(Publication(device.availability(is_online).topic, b"", retain=True))

    assert seen == expected
    if case.protocol != "native":  # the native protocol is ours: it has no third-party samples
        assert set(seen) <= fixture_outcomes(case.protocol)
