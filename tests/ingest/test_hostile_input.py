"""Garbage on the device topics: rejected, counted, never stops the monitor (docs/architecture.md, invariant 4)."""

from __future__ import annotations

import json
import re

import aiomqtt

from devices.base import MAX_PAYLOAD_BYTES
from simulator.harness.mosquitto import MAX_PACKET_BYTES
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until

#: over the monitor's limit on a payload, under the broker's on a packet (which cuts the sender off)
OVERSIZED = b"{" + b'"x":' * ((MAX_PAYLOAD_BYTES + MAX_PACKET_BYTES) // 8) + b"1}"


def hostile_payloads() -> list[tuple[str, bytes]]:
    own = "callwatch/btn-1"
    payloads: list[tuple[str, bytes]] = []
    payloads += [(f"{own}/event", b'{"type": "sos", ' + str(n).encode()) for n in range(300)]  # broken JSON
    wrong_types: list[object] = [5, None, ["sos"], {"type": "sos"}, True]
    payloads += [(f"{own}/event", json.dumps({"type": wrong_types[n % 5]}).encode()) for n in range(100)]
    payloads += [(f"{own}/event", json.dumps({"type": "sos", "id": {"n": n}}).encode()) for n in range(50)]
    payloads += [(f"{own}/event", json.dumps([{"type": "sos"}] * 3).encode()) for _ in range(50)]
    payloads += [(f"{own}/event", OVERSIZED) for _ in range(10)]
    payloads += [(f"callwatch/nobody-{n}/event", b'{"type": "sos"}') for n in range(200)]
    payloads += [(f"{own}/event", bytes([0xFF, 0xFE, n % 256, 0x80])) for n in range(100)]
    payloads += [(f"{own}/event", json.dumps({"type": "explode", "id": str(n)}).encode()) for n in range(100)]
    payloads += [(f"{own}/status", f"maybe-{n}".encode()) for n in range(90)]
    assert len(payloads) == 1000
    return payloads


def counter(metrics: str, name: str) -> float:
    return sum(float(value) for value in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics, re.MULTILINE))


async def test_a_thousand_hostile_messages_then_a_real_sos_is_handled(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        async with aiomqtt.Client(deployment.broker.host, deployment.broker.port) as attacker:
            for topic, payload in hostile_payloads():
                await attacker.publish(topic, payload, qos=1)
        await until(
            lambda: counter(monitor.metrics.render().decode(), "callwatch_mqtt_messages_received_total") >= 1000,
            what="all hostile messages received",
        )
        await deployment.press("btn-1", event_id="real")
        messages = await deployment.sandbox.wait_for_messages(2)
        metrics = monitor.metrics.render().decode()
    assert {message.to for message in messages} == set(TIER1)
    assert counter(metrics, "callwatch_mqtt_messages_rejected_total") == 1000
    assert 'callwatch_mqtt_messages_rejected_total{reason="oversized"} 10.0' in metrics
    assert 'callwatch_mqtt_messages_rejected_total{reason="unknown_device"} 200.0' in metrics
    assert 'reason="internal_error"' not in metrics
    [alert] = deployment.alerts()
    assert alert["device_id"] == "btn-1" and alert["state"] == "open"
