"""The monitor's MQTT client against a real Mosquitto: a message is acknowledged to the broker
only when the monitor says so, so exactly the unacknowledged ones come again after a reconnect,
including those a persistent session hands over right after CONNACK (docs/architecture.md,
invariant 1). And an aiomqtt that no longer offers the paho client this rests on is refused
at construction, not used with acknowledgement on receipt."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiomqtt
import pytest

from monitor.ingest.mqtt_client import AckingClient, MqttClientUnsupported
from tests.support.broker import Broker

TOPIC = "callwatch/acks/event"


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


async def publish(broker: Broker, payloads: list[bytes]) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as device:
        for payload in payloads:
            await device.publish(TOPIC, payload, qos=1)


async def acks_read_by_broker(client: AckingClient) -> None:
    """A round trip after the acks: the broker answers a connection's packets in order, so its
    UNSUBACK means it has read every PUBACK before it. Without it the test's own disconnect can
    cut acks the broker had not read yet; those would come again (harmless for callwatch, whose
    unique keys make a second processing a no-op, but not what this test is about)."""
    await client.unsubscribe("callwatch/acks/round-trip")


def payloads_of(messages: list[aiomqtt.Message]) -> list[bytes]:
    return [bytes(message.payload) for message in messages]


async def test_only_the_unacknowledged_messages_come_again_after_a_reconnect(broker: Broker) -> None:
    client_id = f"acks-{uuid.uuid4().hex[:8]}"
    presses = [f"press {n}".encode() for n in range(100)]
    # Acknowledged out of order and not as a prefix: each message stands on its own.
    committed = {n for n in range(100) if n % 3 != 0}
    async with monitor_client(broker, client_id) as monitor:
        await monitor.subscribe(TOPIC, qos=1)
        await publish(broker, presses)
        first = await received(monitor, 100)
        for n in sorted(committed, reverse=True):  # the monitor stops before committing the others
            monitor.ack(first[n])
        await acks_read_by_broker(monitor)
    assert payloads_of(first) == presses

    # Meanwhile devices go on publishing: the persistent session keeps those for the monitor.
    while_away = [f"while away {n}".encode() for n in range(10)]
    await publish(broker, while_away)
    uncommitted = [presses[n] for n in range(100) if n not in committed]
    async with monitor_client(broker, client_id) as monitor:
        # Delivered right after CONNACK, before anything could be subscribed: still held.
        again = await received(monitor, len(uncommitted) + len(while_away))
        monitor.ack(again[0])  # only the first of them is committed this time
        await acks_read_by_broker(monitor)
    assert payloads_of(again) == uncommitted + while_away

    async with monitor_client(broker, client_id) as monitor:
        await publish(broker, [b"after the second restart"])
        third = await received(monitor, len(again))
        for message in third:
            monitor.ack(message)
        await acks_read_by_broker(monitor)
    assert payloads_of(third) == [*payloads_of(again)[1:], b"after the second restart"]

    async with monitor_client(broker, client_id) as monitor:
        await publish(broker, [b"all caught up"])
        assert payloads_of(await received(monitor, 1)) == [b"all caught up"]


async def test_an_aiomqtt_without_a_paho_client_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    original = aiomqtt.Client.__init__

    def without_paho(self: aiomqtt.Client, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._client = object()  # type: ignore[assignment]  # as a future aiomqtt might keep something else there

    monkeypatch.setattr(aiomqtt.Client, "__init__", without_paho)
    with pytest.raises(MqttClientUnsupported, match="acknowledge a device's message only after it is committed"):
        AckingClient("127.0.0.1", 1883, identifier="never-connects")
