"""Devices going quiet: Last Will at the real broker, heartbeats stopping, a whole area dropping.

Time is the monitor's clock, moved by the test; each supervision pass is run when the test
says (the loop runs too, on the same clock, and does the same work at most once).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import aiomqtt
import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import Effects
from monitor.core.loop_stop import LoopStop
from monitor.runtime.service import Monitor
from monitor.store.models import AlertDevice, Device, Notification
from monitor.watch.supervision import Supervision
from tests.support.broker import Broker
from tests.support.deployment import STAFF, Deployment
from tests.watch.kit import ShiftedClock, alerts, clear_retained, device, eventually, monitor_on

START = datetime(2026, 5, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai, long before the 09:00 digest
STORM_AREA_DEVICES = 51
HEARTBEAT_DEVICE = """
[[devices]]
id = "hb-1"
resident = "r-2"
protocol = "native"
heartbeat_s = 60
"""


def storm_area() -> str:
    """Another area: 51 residents, each with a button, and their own volunteer."""
    entries = ['[[areas]]\nid = "a-2"\nname = "Hexi 1"\n']
    entries += [
        f'[[residents]]\nid = "r-s{n}"\nname = "Resident {n}"\narea = "a-2"\n\n'
        f'[[devices]]\nid = "st-{n}"\nresident = "r-s{n}"\nprotocol = "native"\n'
        for n in range(STORM_AREA_DEVICES)
    ]
    entries.append('[[volunteers]]\nid = "v-s"\nname = "Sun Li"\nphone = "+8613900000051"\nareas = ["a-2"]\n')
    return "\n".join(entries)


async def sms_queued(monitor: Monitor) -> list[Notification]:
    """Every SMS the monitor queued: who it went to and what it said."""
    async with monitor.database.read() as session:
        return list((await session.scalars(select(Notification).order_by(Notification.id))).all())


async def offline(monitor: Monitor, device_id: str) -> Device | None:
    found = await device(monitor, device_id)
    return found if found.online is False else None


async def test_heartbeats_stopping_mark_a_device_offline_after_two_intervals_plus_grace(
    deployment: Deployment,
) -> None:
    deployment.write_files(directory_extra=HEARTBEAT_DEVICE)
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        await deployment.press("hb-1", "heartbeat")

        async def seen() -> datetime | None:
            return (await device(monitor, "hb-1")).last_seen_at

        last_seen = await eventually(seen, what="the heartbeat is recorded")
        silent_from = last_seen + 2 * timedelta(seconds=60) + timedelta(seconds=60)  # grace: at least a minute

        clock.move_to(silent_from - timedelta(seconds=1))
        await monitor.supervision.run_once()
        assert (await device(monitor, "hb-1")).online is True

        clock.move_to(silent_from + timedelta(seconds=1))
        await monitor.supervision.run_once()
        gone = await device(monitor, "hb-1")
        assert (gone.online, gone.offline_at) == (False, silent_from)
        assert await alerts(monitor) == []  # a blip of under a minute raises nothing

        clock.move_to(silent_from + timedelta(seconds=61))
        await monitor.supervision.run_once()
        [alert] = await alerts(monitor)
        assert (alert.kind, alert.device_id, alert.state, alert.tier) == ("device_offline", "hb-1", "open", 0)
        assert alert.next_escalation_at is None  # device health never escalates
        [to_staff] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
        local = (silent_from + timedelta(hours=8)).strftime("%H:%M")  # offline since, in Shanghai
        assert to_staff.body == f"【设备状态】1条新提醒：设备离线 hb-1（Margaret Chen），{local}起。详情见值班台。"

        await deployment.press("hb-1", "heartbeat")  # online again on the next message
        await eventually(lambda: _online(monitor, "hb-1"), what="hb-1 online again")
        await monitor.supervision.run_once()
        [alert] = await alerts(monitor)
        assert (alert.state, alert.outcome) == ("resolved", "cleared")
        assert [sms.phone for sms in await sms_queued(monitor)] == [STAFF]


async def test_a_pass_asked_for_while_another_pass_is_writing_does_its_work_after_it(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a second pass of the same monitor used to meet the first one's advisory lock and skip."""

    async def loop_off(supervision: Supervision, stop: LoopStop) -> None:  # only the test's passes run
        while await stop.idle(3600):
            pass

    monkeypatch.setattr(Supervision, "run", loop_off)
    deployment.write_files(directory_extra=HEARTBEAT_DEVICE + HEARTBEAT_DEVICE.replace("hb-1", "hb-2"))
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        await deployment.press("hb-1", "heartbeat")
        await eventually(lambda: _online(monitor, "hb-1"), what="hb-1's heartbeat is recorded")
        clock.advance(seconds=100)
        await deployment.press("hb-2", "heartbeat")
        await eventually(lambda: _online(monitor, "hb-2"), what="hb-2's heartbeat is recorded")

        hb2_silent_from = START + timedelta(seconds=100 + 180)
        holding, release = asyncio.Event(), asyncio.Event()
        review_due = monitor.supervision.devices.review_due

        async def review_and_hold(session: AsyncSession, effects: Effects, now: datetime) -> int:
            reviewed = await review_due(session, effects, now)
            if now < hb2_silent_from:
                holding.set()
                await release.wait()  # the first pass stays in its transaction, holding what it holds
            return reviewed

        monitor.supervision.devices.review_due = review_and_hold  # type: ignore[method-assign]
        clock.move_to(START + timedelta(seconds=190))  # hb-1 silent for two intervals plus grace, hb-2 not yet
        first_pass = asyncio.create_task(monitor.supervision.run_once())
        await holding.wait()
        clock.move_to(hb2_silent_from + timedelta(seconds=10))
        second_pass = asyncio.create_task(monitor.supervision.run_once())
        await asyncio.wait({second_pass}, timeout=1.0)  # one that skips its work is done long before
        release.set()
        await asyncio.gather(first_pass, second_pass)
        assert ((await device(monitor, "hb-1")).online, (await device(monitor, "hb-2")).online) == (False, False)


async def _online(monitor: Monitor, device_id: str) -> bool | None:
    return True if (await device(monitor, device_id)).online else None


def connect_with_last_will(broker: Broker, topic: str) -> mqtt.Client:
    """A device on its own MQTT connection, with its Last Will and an 'online' status, retained."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{uuid.uuid4().hex[:8]}")
    client.will_set(topic, "offline", qos=1, retain=True)
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    client.publish(topic, "online", qos=1, retain=True).wait_for_publish(timeout=5)
    return client


def pull_the_plug(client: mqtt.Client) -> None:
    """The connection drops with no DISCONNECT, as when the device loses power."""
    client.loop_stop()
    sock = client.socket()
    assert sock is not None
    sock.close()


async def test_a_device_that_drops_without_disconnecting_is_offline_by_its_last_will(
    deployment: Deployment,
) -> None:
    topic = "callwatch/btn-2/status"
    clock = ShiftedClock(START)
    try:
        async with monitor_on(deployment, clock) as monitor:
            client = await asyncio.to_thread(connect_with_last_will, deployment.broker, topic)
            await eventually(lambda: _online(monitor, "btn-2"), what="btn-2 online")
            await asyncio.to_thread(pull_the_plug, client)
            gone = await eventually(lambda: offline(monitor, "btn-2"), what="the broker fires btn-2's Last Will")
            assert gone.offline_at is not None

            clock.advance(seconds=61)
            await monitor.supervision.run_once()
            [alert] = await alerts(monitor)
            assert (alert.kind, alert.device_id, alert.state) == ("device_offline", "btn-2", "open")
            await deployment.sandbox.wait_for_messages(1, to=STAFF, body_contains="btn-2")
    finally:
        await clear_retained(deployment.broker, [topic])


async def test_fifty_devices_of_one_area_dropping_within_a_minute_are_one_area_outage(
    deployment: Deployment,
) -> None:
    deployment.write_files(directory_extra=storm_area())
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        first_fifty = [f"st-{n}" for n in range(50)]
        async with aiomqtt.Client(deployment.broker.host, deployment.broker.port) as gateway:
            for device_id in [*first_fifty, "st-50"]:
                event = {"type": "heartbeat", "id": uuid.uuid4().hex}
                await gateway.publish(f"callwatch/{device_id}/event", json.dumps(event), qos=1)
            for device_id in first_fifty:  # the power cut: fifty Last Wills within a second
                await gateway.publish(f"callwatch/{device_id}/status", "offline", qos=1)
            await eventually(lambda: _count_offline(monitor, 50), what="fifty devices offline")

            clock.advance(seconds=61)
            await monitor.supervision.run_once()
            [outage] = await alerts(monitor)
            assert (outage.kind, outage.area_id, outage.device_id, outage.state) == ("area_outage", "a-2", None, "open")
            assert await _listed(monitor, outage.id) == set(first_fifty)
            [to_staff] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
            assert "区域设备大面积离线 Hexi 1（50台设备）" in to_staff.body

            # one more of the area drops while the outage lasts: it joins, no new alert
            await gateway.publish("callwatch/st-50/status", "offline", qos=1)
            await eventually(lambda: offline(monitor, "st-50"), what="st-50 offline")
            clock.advance(seconds=61)
            await monitor.supervision.run_once()
            assert [alert.id for alert in await alerts(monitor)] == [outage.id]
            assert len(await _listed(monitor, outage.id)) == STORM_AREA_DEVICES

            for device_id in [*first_fifty, "st-50"]:  # power is back
                await gateway.publish(f"callwatch/{device_id}/status", "online", qos=1)
            await eventually(lambda: _count_offline(monitor, 0), what="every device online again")
        await monitor.supervision.run_once()
        [outage] = await alerts(monitor)
        assert (outage.state, outage.outcome) == ("resolved", "cleared")
        assert [sms.phone for sms in await sms_queued(monitor)] == [STAFF]  # no volunteer was woken


async def _count_offline(monitor: Monitor, expected: int) -> bool | None:
    async with monitor.database.read() as session:
        count = await session.scalar(select(func.count()).select_from(Device).where(Device.online.is_(False)))
    return True if count == expected else None


async def _listed(monitor: Monitor, alert_id: int) -> set[str]:
    async with monitor.database.read() as session:
        rows = await session.scalars(select(AlertDevice.device_id).where(AlertDevice.alert_id == alert_id))
        return set(rows.all())


async def test_a_restarted_monitor_carries_on_where_supervision_left_off(deployment: Deployment) -> None:
    clock = ShiftedClock(START)
    async with monitor_on(deployment, clock) as monitor:
        await deployment.publish("callwatch/btn-1/status", "offline")
        await eventually(lambda: offline(monitor, "btn-1"), what="btn-1 offline")
    clock.advance(seconds=61)  # the minute runs out while no monitor is running
    async with monitor_on(deployment, clock) as monitor:
        await monitor.supervision.run_once()
        await monitor.supervision.run_once()
        [alert] = await alerts(monitor)
        assert (alert.kind, alert.device_id) == ("device_offline", "btn-1")
        assert [sms.phone for sms in await sms_queued(monitor)] == [STAFF]
