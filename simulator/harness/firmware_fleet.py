"""Devices publishing steadily through broker restarts: real paho clients, as firmware would use them.

Each device is one paho client (MQTT 3.1.1, QoS 1, its own network thread, reconnecting
by itself). paho keeps QoS 1 messages it could not hand over and sends them once the
broker is back, as device firmware with a send queue does. The fleet remembers every
event id the broker acknowledged (PUBACK): those are the messages the broker took
responsibility for, the ones the monitor must not lose.

(``simulator.fleet`` is the other kind: simulated devices of every family, for scenarios.)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from simulator.harness.waiting import until


@dataclass(frozen=True)
class BrokerAccess:
    host: str
    port: int
    #: CA file for TLS, None for plain TCP
    ca_file: str | None = None
    #: password per device id; None = no accounts (an open test broker)
    passwords: Mapping[str, str] | None = None


class FirmwareFleet:
    """``with FirmwareFleet(access, device_ids) as fleet``: one connected paho client per device."""

    def __init__(self, access: BrokerAccess, device_ids: list[str]) -> None:
        self.access = access
        self.device_ids = device_ids
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, int], str] = {}  # (device, mid) -> event id
        self._early: set[tuple[str, int]] = set()  # PUBACKs that beat publish() back to us
        self.published: list[tuple[str, str]] = []  # (device, event id), in publish order
        self.acknowledged: set[tuple[str, str]] = set()
        self._clients: dict[str, mqtt.Client] = {}

    def __enter__(self) -> FirmwareFleet:
        for device_id in self.device_ids:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=f"fleet-{device_id}-{uuid.uuid4().hex[:6]}",
                protocol=mqtt.MQTTv311,
            )
            client.max_queued_messages_set(0)  # keep everything while the broker is away
            # paho annotates whole seconds but computes with floats: retry within 0.1 s of a restart
            client.reconnect_delay_set(min_delay=0.1, max_delay=1)  # type: ignore[arg-type]
            if self.access.ca_file:
                client.tls_set(ca_certs=self.access.ca_file)
            if self.access.passwords is not None:
                client.username_pw_set(device_id, self.access.passwords[device_id])
            client.on_publish = self._acknowledged_by(device_id)
            client.connect(self.access.host, self.access.port, keepalive=10)
            client.loop_start()
            self._clients[device_id] = client
        return self

    def __exit__(self, *exc_info: object) -> None:
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()

    def _acknowledged_by(self, device_id: str) -> mqtt.CallbackOnPublish:
        def on_publish(client: object, userdata: object, mid: int, reason: object, properties: object) -> None:
            with self._lock:
                event_id = self._sent.pop((device_id, mid), None)
                if event_id is None:
                    self._early.add((device_id, mid))
                else:
                    self.acknowledged.add((device_id, event_id))

        return on_publish

    def publish(self, device_id: str, event_type: str = "heartbeat") -> str:
        event_id = uuid.uuid4().hex[:16]
        payload = json.dumps({"type": event_type, "id": event_id, "ts": time.time()})
        # paho calls on_publish holding its own lock: never hold ours while calling paho.
        info = self._clients[device_id].publish(f"callwatch/{device_id}/event", payload, qos=1)
        with self._lock:
            self.published.append((device_id, event_id))
            if (device_id, info.mid) in self._early:
                self._early.discard((device_id, info.mid))
                self.acknowledged.add((device_id, event_id))
            else:
                self._sent[(device_id, info.mid)] = event_id
        return event_id

    async def publish_steadily(self, count: int, rate_per_s: float) -> None:
        """``count`` heartbeats round the fleet at ``rate_per_s``."""
        gap = 1 / rate_per_s
        started = time.monotonic()
        for index in range(count):
            self.publish(self.device_ids[index % len(self.device_ids)])
            await asyncio.sleep(max(0.0, started + (index + 1) * gap - time.monotonic()))

    async def wait_until_acknowledged(self, *, within_s: float) -> None:
        """Every message published so far was taken by the broker (devices retry until it is)."""

        def all_taken() -> bool:
            with self._lock:
                return len(self.acknowledged) == len(self.published)

        await until(all_taken, within_s=within_s, what="the broker acknowledging every message")
