"""A device on the shipped broker: its own account, TLS, MQTT 5 so that refusals come back as reason codes."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from simulator.harness.shipped_broker import ShippedBroker

WAIT_S = 10.0


class Refused(Exception):
    """The broker refused the connection (CONNACK with a failure reason)."""


@dataclass
class DeviceClient:
    """One connected MQTT 5 client, driven from a thread by paho's own loop."""

    broker: ShippedBroker
    username: str | None
    password: str | None
    tls: bool = True
    received: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{self.username}", protocol=mqtt.MQTTv5)
        if self.tls:
            self.client.tls_set(ca_certs=str(self.broker.certificates.ca_file))
        if self.username is not None:
            self.client.username_pw_set(self.username, self.password)
        self._connected = threading.Event()
        self._connect_reason: ReasonCode | None = None
        self._acks: dict[int, ReasonCode] = {}
        self._acked = threading.Condition()
        self._granted: dict[int, list[ReasonCode]] = {}
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: object, userdata: object, flags: object, reason: ReasonCode, props: object) -> None:
        self._connect_reason = reason
        self._connected.set()

    def _on_publish(self, client: object, userdata: object, mid: int, reason: ReasonCode, props: object) -> None:
        with self._acked:
            self._acks[mid] = reason
            self._acked.notify_all()

    def _on_subscribe(
        self, client: object, userdata: object, mid: int, reasons: list[ReasonCode], props: object
    ) -> None:
        with self._acked:
            self._granted[mid] = reasons
            self._acked.notify_all()

    def _on_message(self, client: object, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._acked:
            self.received.append((message.topic, message.payload))
            self._acked.notify_all()

    def connect(self) -> None:
        port = self.broker.tls_port if self.tls else self.broker.plain_port
        assert port is not None
        self.client.connect(self.broker.host if not self.tls else "localhost", port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(WAIT_S):
            raise TimeoutError("no CONNACK")
        if self._connect_reason is not None and self._connect_reason.is_failure:
            self.close()
            raise Refused(str(self._connect_reason))

    def publish(self, topic: str, payload: bytes | str) -> str:
        """Publish at QoS 1; the broker's answer ("Success", "Not authorized", ...)."""
        info = self.client.publish(topic, payload, qos=1, properties=Properties(mqtt.PacketTypes.PUBLISH))
        with self._acked:
            if not self._acked.wait_for(lambda: info.mid in self._acks, WAIT_S):
                raise TimeoutError(f"no PUBACK for {topic}")
            return str(self._acks[info.mid])

    def subscribe(self, topic: str) -> str:
        _, mid = self.client.subscribe(topic, qos=1)
        with self._acked:
            if not self._acked.wait_for(lambda: mid in self._granted, WAIT_S):
                raise TimeoutError(f"no SUBACK for {topic}")
            return str(self._granted[mid][0])

    def wait_for_message(self, topic: str) -> bytes:
        with self._acked:
            found = self._acked.wait_for(lambda: any(seen == topic for seen, _ in self.received), WAIT_S)
        if not found:
            raise TimeoutError(f"nothing arrived on {topic}")
        return next(payload for seen, payload in self.received if seen == topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def connected(client: DeviceClient) -> DeviceClient:
    await asyncio.to_thread(client.connect)
    return client
