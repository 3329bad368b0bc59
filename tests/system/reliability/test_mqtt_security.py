"""The broker as shipped (config/mosquitto.conf) with accounts from `callwatch acl`: TLS,
passwords, and an ACL that keeps every device to its own topics."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from sqlalchemy import func, select

from monitor.directory.file import load_directory
from monitor.directory.sync import import_directory
from monitor.store.database import Database
from monitor.store.models import Alert, DeviceMessage
from simulator.harness.secured import MONITOR_PASSWORD, MONITOR_USER, secure
from simulator.harness.shipped_broker import ShippedBroker
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.system.reliability.devices import DeviceClient, Refused, connected


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    """The broker's rules do not depend on the database: SQLite is enough."""
    return sqlite_only


async def stored_on(database: Database, topic: str) -> list[bytes]:
    async with database.read() as session:
        return list((await session.scalars(select(DeviceMessage.payload).where(DeviceMessage.topic == topic))).all())


async def test_the_monitor_works_over_tls_and_a_device_cannot_speak_for_another(
    deployment: Deployment, shipped: ShippedBroker
) -> None:
    passwords = await secure(deployment, shipped)
    assert set(passwords) == {"btn-1", "btn-2"}
    async with deployment.monitor() as monitor:  # connected over mqtts:// with its own account
        own = await connected(DeviceClient(shipped, "btn-1", passwords["btn-1"]))
        other = await connected(DeviceClient(shipped, "btn-2", passwords["btn-2"]))
        try:
            answer = await asyncio.to_thread(
                own.publish, "callwatch/btn-1/event", json.dumps({"type": "sos", "id": "real"})
            )
            assert answer == "Success"
            await deployment.sandbox.wait_for_messages(2)  # tier 1 asked: the monitor got it over TLS

            forged = await asyncio.to_thread(
                other.publish, "callwatch/btn-1/event", json.dumps({"type": "sos", "id": "forged"})
            )
            assert forged == "Not authorized"
            # Its own topic still works; once that arrived, the forged one would have too.
            assert (
                await asyncio.to_thread(
                    other.publish, "callwatch/btn-2/event", json.dumps({"type": "heartbeat", "id": "own"})
                )
                == "Success"
            )
            await until(lambda: stored_on(monitor.database, "callwatch/btn-2/event"), what="btn-2's own message")
        finally:
            own.close()
            other.close()
        stored = await stored_on(monitor.database, "callwatch/btn-1/event")
        async with monitor.database.read() as session:
            alerts = await session.scalar(select(func.count()).select_from(Alert))
    assert [json.loads(payload)["id"] for payload in stored] == ["real"]
    assert alerts == 1
    assert {message.to for message in deployment.sandbox.messages()} == set(TIER1)


async def test_strangers_and_wrong_passwords_are_refused(deployment: Deployment, shipped: ShippedBroker) -> None:
    passwords = await secure(deployment, shipped)
    for username, password in [(None, None), ("btn-1", "not-its-password"), ("nobody", "x"), (MONITOR_USER, "guess")]:
        with pytest.raises(Refused, match=r"Not authorized|Bad user name or password"):
            await connected(DeviceClient(shipped, username, password))
    # The right password over plain TCP is fine on the plain listener, and TLS is not optional on 8883.
    plain = await connected(DeviceClient(shipped, "btn-1", passwords["btn-1"], tls=False))
    plain.close()
    monitor_account = await connected(DeviceClient(shipped, MONITOR_USER, MONITOR_PASSWORD))
    monitor_account.close()


async def test_a_device_reads_its_own_feedback_and_nobody_elses(deployment: Deployment, shipped: ShippedBroker) -> None:
    passwords = await secure(deployment, shipped)
    own = await connected(DeviceClient(shipped, "btn-1", passwords["btn-1"]))
    nosy = await connected(DeviceClient(shipped, "btn-2", passwords["btn-2"]))
    monitor_account = await connected(DeviceClient(shipped, MONITOR_USER, MONITOR_PASSWORD))
    try:
        assert await asyncio.to_thread(own.subscribe, "callwatch/btn-1/feedback") == "Granted QoS 1"
        # Mosquitto grants any subscription and checks each message against the ACL on delivery.
        for topic in ("callwatch/btn-1/feedback", "callwatch/+/feedback", "callwatch/#", "#"):
            await asyncio.to_thread(nosy.subscribe, topic)
        # A device may not write feedback, not even to itself.
        assert await asyncio.to_thread(own.publish, "callwatch/btn-1/feedback", "{}") == "Not authorized"
        await asyncio.to_thread(monitor_account.publish, "callwatch/btn-1/feedback", '{"state": "received"}')
        await asyncio.to_thread(own.wait_for_message, "callwatch/btn-1/feedback")
        # Published after btn-1 got its own: when this arrives, btn-1's would have too.
        await asyncio.to_thread(monitor_account.publish, "callwatch/btn-2/feedback", '{"state": "sentinel"}')
        await asyncio.to_thread(nosy.wait_for_message, "callwatch/btn-2/feedback")
    finally:
        for client in (own, nosy, monitor_account):
            client.close()
    assert {topic for topic, _ in nosy.received} == {"callwatch/btn-2/feedback"}


async def login_refused(client: DeviceClient) -> bool:
    try:
        (await connected(client)).close()
    except Refused:
        return True
    return False


async def test_a_retired_devices_account_is_dropped_and_the_broker_refuses_its_login(
    deployment: Deployment, shipped: ShippedBroker
) -> None:
    passwords = await secure(deployment, shipped)
    file = load_directory(deployment.directory_path)
    handed_back = [
        entry.model_copy(update={"active": False}) if entry.id == "btn-2" else entry for entry in file.devices
    ]
    async with Database(deployment.database_url) as database:
        await import_directory(database, file.model_copy(update={"devices": handed_back}))
    result = deployment.cli("acl", "--config", str(deployment.config_path), "--out", str(shipped.password_file.parent))
    os.kill(shipped.pid, signal.SIGHUP)  # Mosquitto reads its password file and ACL again

    await until(lambda: login_refused(DeviceClient(shipped, "btn-2", passwords["btn-2"])), what="btn-2 refused")
    still_there = await connected(DeviceClient(shipped, "btn-1", passwords["btn-1"]))
    still_there.close()
    assert result.returncode == 0, result.stderr
    assert "btn-2" not in shipped.password_file.read_text()
