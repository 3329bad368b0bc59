"""Any bytes on any device family's topics, sent to a running monitor: each message is kept
and read or rejected with a reason, and the monitor keeps running (docs/architecture.md, invariants 4 and 5)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from monitor.runtime.service import Monitor
from monitor.store.models import DeviceMessage as StoredMessage
from tests.devices.kit import FAMILIES, listing, payloads
from tests.support.deployment import TIER1, Deployment
from tests.watch.kit import eventually

#: one message: a family's real topic, and anything at all as its payload
messages = st.sampled_from(sorted(FAMILIES)).flatmap(
    lambda protocol: st.tuples(st.sampled_from(FAMILIES[protocol][1]), payloads(protocol))
)


def every_family() -> str:
    """The devices the property tests talk about, one resident each."""
    return "\n".join(listing(protocol, device) for protocol, (device, _) in sorted(FAMILIES.items()))


@pytest.fixture
async def monitor(deployment: Deployment) -> AsyncIterator[Monitor]:
    deployment.write_files(directory_extra=every_family())
    async with deployment.monitor() as running:
        yield running


async def still_running(monitor: Monitor) -> None:
    """Every loop of the monitor is alive (``wait_until`` raises for one that ended)."""
    stop = asyncio.Event()
    stop.set()
    await monitor.wait_until(stop)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(messages, min_size=1, max_size=8))
async def test_any_bytes_on_any_familys_topic_leave_the_monitor_running(
    monitor: Monitor, deployment: Deployment, batch: list[tuple[str, bytes]]
) -> None:
    sentinel = json.dumps({"type": "heartbeat", "id": uuid.uuid4().hex})
    async with aiomqtt.Client(deployment.broker.host, deployment.broker.port) as device:
        for topic, payload in batch:
            await device.publish(topic, payload, qos=1)
        await device.publish("callwatch/btn-1/event", sentinel, qos=1)  # after the batch, on the same connection

    async def sentinel_kept() -> bool | None:
        async with monitor.database.read() as session:
            kept = await session.scalar(select(StoredMessage.id).where(StoredMessage.payload == sentinel.encode()))
        return True if kept is not None else None

    await eventually(sentinel_kept, what="the monitor reads on after the batch")
    async with monitor.database.read() as session:
        crashed = await session.scalar(
            select(func.count()).select_from(StoredMessage).where(StoredMessage.detail.like("internal error%"))
        )
    assert crashed == 0
    await still_running(monitor)


async def test_after_garbage_from_every_family_a_real_sos_still_gets_through(
    monitor: Monitor, deployment: Deployment
) -> None:
    async with aiomqtt.Client(deployment.broker.host, deployment.broker.port) as device:
        for _, (_, topics) in sorted(FAMILIES.items()):
            for topic in topics:
                for payload in (b"\xff\xfe", b"{", b'{"a":' + b"9" * 500 + b"}", b"[]", b"null", b"x" * 70_000):
                    await device.publish(topic, payload, qos=1)
    await deployment.press("btn-1", event_id="real")
    asked = await deployment.sandbox.wait_for_messages(2)
    assert {message.to for message in asked} == set(TIER1)
    await still_running(monitor)
