"""The monitor's MQTT client against a real Mosquitto: packets read in large chunks and
acknowledged a batch at a time must still arrive whole, in order, and come again exactly
when they were not acknowledged (DESIGN.md invariant 1)."""

from __future__ import annotations

import asyncio
import uuid

import aiomqtt

from monitor.ingest.mqtt_client import READ_CHUNK, AckingClient
from tests.support.broker import Broker

TOPIC = "callwatch/chunks/event"


def monitor_client(broker: Broker, client_id: str) -> AckingClient:
    return AckingClient(broker.host, broker.port, identifier=client_id, clean_session=False)


async def received(client: AckingClient, count: int) -> list[aiomqtt.Message]:
    messages: list[aiomqtt.Message] = []
    async with asyncio.timeout(20):
        async for message in client.messages:
            messages.append(message)
            if len(messages) == count:
                return messages
    raise AssertionError("the message stream ended")


async def test_small_and_oversized_messages_in_one_burst_arrive_whole_and_in_order(broker: Broker) -> None:
    # Hundreds of heartbeats share one read; the big one spans several reads.
    payloads = [f'{{"type": "heartbeat", "seq": {n}}}'.encode() for n in range(500)]
    payloads.append(bytes(range(256)) * (3 * READ_CHUNK // 256 + 7))
    payloads += [f'{{"type": "heartbeat", "seq": {n}}}'.encode() for n in range(500, 1000)]
    async with monitor_client(broker, f"chunks-{uuid.uuid4().hex[:8]}") as monitor:
        await monitor.subscribe(TOPIC, qos=1)
        async with aiomqtt.Client(broker.host, broker.port) as device:
            for payload in payloads:
                await device.publish(TOPIC, payload, qos=1)
        got: list[aiomqtt.Message] = []
        while len(got) < len(payloads):
            batch = await received(monitor, min(100, len(payloads) - len(got)))
            for message in batch:
                monitor.ack(message)
            got += batch
    assert [message.payload for message in got] == payloads


async def test_only_the_unacknowledged_messages_come_again_after_a_reconnect(broker: Broker) -> None:
    client_id = f"acks-{uuid.uuid4().hex[:8]}"
    async with monitor_client(broker, client_id) as monitor:
        await monitor.subscribe(TOPIC, qos=1)
        async with aiomqtt.Client(broker.host, broker.port) as device:
            for n in range(100):
                await device.publish(TOPIC, f"press {n}".encode(), qos=1)
        first = await received(monitor, 100)
        for message in first[:60]:  # the monitor stops before committing the other 40
            monitor.ack(message)
    async with monitor_client(broker, client_id) as monitor:
        async with aiomqtt.Client(broker.host, broker.port) as device:
            await device.publish(TOPIC, b"after the restart", qos=1)
        again = await received(monitor, 41)
        for message in again:
            monitor.ack(message)
    assert [message.payload for message in again] == [f"press {n}".encode() for n in range(60, 100)] + [
        b"after the restart"
    ]
