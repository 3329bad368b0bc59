"""The broker restarted (as `systemctl restart mosquitto` does) while devices publish.

The monitor reconnects with backoff, its persistent session gives it everything the
broker queued meanwhile, and nothing the broker acknowledged to a device is lost. (A
broker *crash* can lose what arrived since its last autosave: see bench/faults.py.)
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import Alert, SeenDeviceEvent
from simulator.harness.firmware_fleet import BrokerAccess, FirmwareFleet
from simulator.harness.secured import secure
from simulator.harness.shipped_broker import ShippedBroker
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until

RESTARTS = 2
MESSAGES = 600
RATE_PER_S = 100.0


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def stored_events(monitor: Monitor) -> set[tuple[str, str]]:
    async with monitor.database.read() as session:
        rows = (await session.execute(select(SeenDeviceEvent.device_id, SeenDeviceEvent.event_id))).all()
    return {(device_id, event_id) for device_id, event_id in rows}


async def test_broker_restarts_while_devices_publish_lose_nothing(
    deployment: Deployment, shipped: ShippedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="callwatch.ingest")
    passwords = await secure(deployment, shipped)
    access = BrokerAccess("localhost", shipped.tls_port, str(shipped.certificates.ca_file), passwords)
    async with deployment.monitor() as monitor:
        with FirmwareFleet(access, ["btn-1", "btn-2"]) as fleet:
            publishing = asyncio.create_task(fleet.publish_steadily(MESSAGES, RATE_PER_S))

            def broker_ok() -> bool:
                return monitor.health.components["broker"].ok

            for restart in range(RESTARTS):
                published = (restart + 1) * MESSAGES // 4
                await until(lambda: len(fleet.acknowledged) > published, what="devices publishing")  # noqa: B023
                await asyncio.to_thread(shipped.stop)
                await until(lambda: not broker_ok(), what="the monitor noticing the broker is gone")
                if restart == 0:
                    fleet.publish("btn-1", "sos")  # pressed while the broker is down: waits in the device
                await asyncio.to_thread(shipped.start)
                await until(broker_ok, what="the monitor reconnected")
            await publishing
            await fleet.wait_until_acknowledged(within_s=30)
            accepted = set(fleet.acknowledged)

        async def all_stored() -> set[tuple[str, str]] | None:
            stored = await stored_events(monitor)
            return stored if accepted <= stored else None

        stored = await until(all_stored, within_s=30, what="every accepted message stored")
        await deployment.sandbox.wait_for_messages(2)
        async with monitor.database.read() as session:
            alerts = (await session.scalars(select(Alert.kind))).all()
    assert len(accepted) == MESSAGES + 1
    assert accepted - stored == set()  # lost: none
    assert alerts == ["sos"]
    assert sorted(message.to for message in deployment.sandbox.messages()) == sorted(TIER1)
    reconnects = [record for record in caplog.records if "reconnecting to the MQTT broker" in record.getMessage()]
    assert len(reconnects) >= RESTARTS
