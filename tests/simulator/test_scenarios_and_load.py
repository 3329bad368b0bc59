"""Scenario files and load mode, against a live monitor."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import func, select

from monitor.store.models import Alert
from monitor.store.models import DeviceMessage as StoredMessage
from simulator.demo import SCENARIOS
from simulator.families import Publication
from simulator.fleet import Fleet
from simulator.load import LoadGenerator, LoadPlan, write_directory
from simulator.mqtt_link import BrokerAddress, MqttLink
from simulator.scenario import SandboxScripts, ScenarioError, ScenarioRun, load_scenario
from simulator.scenario.fleet_of import scenario_devices
from tests.support.broker import Broker
from tests.support.deployment import TIER1, Deployment

SCENARIO = """
name = "test"

[[phones]]
number = "{phone}"
rules = [{{ pattern = '王秀英.*回复“收到 (?P<code>\\d+)”', reply = '收到 \\g<code>', delay = 0.2 }}]

[[steps]]
at = 0.1
device = "btn-1"
action = "press"

[[steps]]
at = 0.2
device = "btn-2"
action = "press"

[[steps]]
at = 0.6
device = "btn-2"
action = "press"
meaning = "cancel"
"""


async def test_a_scenario_drives_devices_and_phones(deployment: Deployment, tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(phone=TIER1[0]), encoding="utf-8")
    scenario, directory = load_scenario(path, deployment.directory_path)
    address = BrokerAddress(deployment.broker.host, deployment.broker.port)
    narrated: list[str] = []
    async with deployment.monitor() as monitor, Fleet(address, scenario_devices(scenario, directory)) as fleet:
        await SandboxScripts(deployment.sandbox).apply(scenario.phones)
        failures = await ScenarioRun(scenario, fleet, narrate=narrated.append).run()
        deadline = time.monotonic() + 10
        while True:
            async with monitor.database.read() as session:
                states = dict((await session.execute(select(Alert.device_id, Alert.state))).all())
            if states == {"btn-1": "acknowledged", "btn-2": "cancelled"} or time.monotonic() > deadline:
                break
            await deployment.sandbox.idle()
        # The session's broker is shared: leave no retained "online" for the next test's monitor.
        async with MqttLink(address) as cleaner:
            for device_id in ("btn-1", "btn-2"):
                await cleaner.publish(Publication(f"callwatch/{device_id}/status", b"", retain=True))
    assert failures == []
    assert states == {"btn-1": "acknowledged", "btn-2": "cancelled"}


def test_a_scenario_naming_an_unknown_device_is_refused_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[steps]]\nat = 1\ndevice = "nobody"\naction = "press"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"steps\[0\] names device 'nobody'"):
        load_scenario(path)


def test_the_shipped_scenarios_are_valid(tmp_path: Path) -> None:
    from simulator.demo.directory import demo_directory

    demo_directory_file = tmp_path / "directory.toml"
    demo_directory_file.write_text(demo_directory(tier_timeout_s=20, checkin_by="10:00"), encoding="utf-8")
    for path in SCENARIOS.glob("*.toml"):
        load_scenario(path, demo_directory_file if path.name.startswith("demo") else None)


async def test_load_mode_reports_what_it_sent_and_what_the_monitor_confirmed(deployment: Deployment) -> None:
    plan = LoadPlan(devices=300, rate=120, sos_rate=2, duration_s=3, connections=2)
    write_directory(deployment.directory_path, plan)
    progress: list[str] = []
    address = BrokerAddress(deployment.broker.host, deployment.broker.port)
    async with deployment.monitor() as monitor:
        report = await LoadGenerator(address, plan, progress=progress.append, progress_every_s=1).run()
        deadline = time.monotonic() + 10
        while True:
            async with monitor.database.read() as session:
                stored = await session.scalar(
                    select(func.count()).select_from(StoredMessage).where(StoredMessage.topic.like("%/event"))
                )
            if stored == report.published or time.monotonic() > deadline:
                break
            await deployment.sandbox.idle()
    assert report.published >= 300
    assert report.broker_confirmed == report.published
    assert report.sos_sent >= 4 and report.sos_confirmed == report.sos_sent
    assert len(report.latencies_ms) == report.sos_sent
    assert stored == report.published
    assert progress, "a long run shows progress"


async def test_load_mode_waits_for_a_press_confirmed_after_the_earlier_ones_were(broker: Broker) -> None:
    """The first press is confirmed at once, so none is waiting when the next goes out; the
    later ones only after the load has stopped: the run must wait for them, not report them
    missing."""

    async def confirm_each_press_late(monitor: aiomqtt.Client) -> None:
        presses = 0
        async for message in monitor.messages:
            event = json.loads(bytes(message.payload))
            if event.get("type") == "sos":
                presses += 1
                await asyncio.sleep(0 if presses == 1 else 1.5)
                device = message.topic.value.split("/")[1]
                feedback = {"event_id": event["id"], "alert_id": 1, "state": "received", "by": None}
                await monitor.publish(f"callwatch/{device}/feedback", json.dumps(feedback), qos=1)

    plan = LoadPlan(devices=50, rate=20, sos_rate=2, duration_s=2, connections=1)
    async with aiomqtt.Client(broker.host, broker.port) as monitor:
        await monitor.subscribe("callwatch/+/event", qos=1)
        confirming = asyncio.create_task(confirm_each_press_late(monitor))
        try:
            report = await LoadGenerator(BrokerAddress(broker.host, broker.port), plan, settle_s=5).run()
        finally:
            confirming.cancel()
    assert report.sos_sent >= 2
    assert report.sos_confirmed == report.sos_sent
