"""A message over the broker's limit never reaches the monitor (issue #20, finding 8).

The demo's brokers (a private Mosquitto, or the embedded amqtt when Mosquitto is not
installed) take no packet over 256 KiB, as the shipped config/mosquitto.conf. Before the fix
the demo broker passed a 20 MiB message on: the monitor refused it, but its memory reached
522 MB. Here a device sends 20 MiB to a `callwatch run` process: the broker cuts the device
off, the monitor never hears of it (no record of a refused message), its resident memory grows
by less than a few MB, and the next SOS is handled as ever.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from monitor.store.database import Database
from monitor.store.models import DeviceMessage
from simulator.broker import PrivateBroker
from simulator.harness.deployment import set_setting
from simulator.harness.mosquitto import MAX_PACKET_BYTES
from tests.support.deployment import REPO, Deployment

HUGE = 20 * 1024 * 1024
#: what the monitor's resident memory may grow by over the test (allocator noise, one more SOS)
GROWTH_MB = 5.0
SETTLED_WITHIN_S = 30.0


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    """What reaches the monitor does not depend on the database: SQLite is enough."""
    return sqlite_only


def send_as_device(host: str, port: int, topic: str, payload: bytes) -> bool:
    """Publish at QoS 1 as a device would; whether the broker acknowledged it before closing the
    connection (False: the device was cut off)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"device-{len(payload)}")
    settled = threading.Event()
    client.on_publish = lambda *_: settled.set()
    client.on_disconnect = lambda *_: settled.set()
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        sent = client.publish(topic, payload, qos=1)
        assert settled.wait(SETTLED_WITHIN_S), "neither acknowledged nor cut off"
        return sent.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


async def stored_topics(database_url: str) -> list[str]:
    async with Database(database_url) as database, database.read() as session:
        return list((await session.scalars(select(DeviceMessage.topic))).all())


def test_the_demo_brokers_cap_is_the_shipped_one() -> None:
    shipped = (REPO / "config" / "mosquitto.conf").read_text()
    assert re.search(rf"(?m)^max_packet_size {MAX_PACKET_BYTES}$", shipped)


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
async def test_a_message_over_the_limit_cannot_swell_the_monitor(
    deployment: Deployment, tmp_path: Path, kind: str
) -> None:
    async with PrivateBroker(tmp_path / "demo-broker", prefer=kind) as broker:
        set_setting(deployment, "mqtt", "url", json.dumps(broker.url))
        async with deployment.process() as monitor:
            first = json.dumps({"type": "sos", "id": "before"}).encode()
            assert await asyncio.to_thread(send_as_device, broker.host, broker.port, "callwatch/btn-1/event", first)
            await deployment.sandbox.wait_for_messages(2)
            before_mb = monitor.rss_mb()
            huge = b'{"type":"sos","id":"huge","pad":"' + b"x" * HUGE + b'"}'
            delivered = await asyncio.to_thread(send_as_device, broker.host, broker.port, "callwatch/btn-2/event", huge)
            after = json.dumps({"type": "sos", "id": "after"}).encode()
            assert await asyncio.to_thread(send_as_device, broker.host, broker.port, "callwatch/btn-2/event", after)
            await deployment.sandbox.wait_for_messages(4)
            after_mb = monitor.rss_mb()
        topics = await stored_topics(deployment.database_url)
    assert not delivered, f"the {kind} broker took {HUGE} bytes"
    assert sorted(topics) == ["callwatch/btn-1/event", "callwatch/btn-2/event"], topics
    assert after_mb - before_mb < GROWTH_MB, f"{before_mb:.1f} MB -> {after_mb:.1f} MB"
