"""One MQTT connection for the simulator, as an async context manager.

paho runs the connection in its own network thread; publications are awaited through
asyncio futures resolved from paho's callbacks. Unlike aiomqtt, this gives what a
simulated device needs: a Last Will, and ``drop()``, which cuts the TCP connection without
an MQTT DISCONNECT, so that the broker publishes the will exactly as when a real device
loses power.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from simulator.families import Publication

CONNECT_TIMEOUT_S = 10.0
MessageHandler = Callable[[str, bytes, bool], None]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://host:1883`` or ``mqtts://user:pass@host:8883``; ValueError otherwise."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"{url!r} is not a broker URL like mqtt://127.0.0.1:1883")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


class MqttLink:
    """``async with MqttLink(address, client_id, will=...) as link: await link.publish(...)``."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str | None = None,
        *,
        will: Publication | None = None,
        keepalive_s: int = 30,
        max_inflight: int = 1000,
        on_message: MessageHandler | None = None,
    ) -> None:
        self.address = address
        self.client_id = client_id or f"callwatch-sim-{uuid.uuid4().hex[:10]}"
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True)
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set_context(ssl.create_default_context())
        if will is not None:
            self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self._keepalive_s = keepalive_s
        self._on_message = on_message
        self._lock = threading.Lock()
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._unawaited: set[int] = set()
        #: confirmations that arrived before their publish call had registered them
        self._early: set[int] = set()
        self._connected: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dropped = False
        #: publications confirmed by the broker (PUBACK for QoS 1), awaited or not
        self.confirmed = 0

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        self._connected = self._loop.create_future()
        client = self._client
        client.on_connect = self._handle_connect
        client.on_publish = self._handle_publish
        client.on_message = self._handle_message
        client.on_subscribe = self._handle_subscribe
        client.on_disconnect = self._handle_disconnect
        try:
            await asyncio.to_thread(client.connect, self.address.host, self.address.port, self._keepalive_s)
        except OSError as exc:
            raise ConnectionError(f"cannot reach the MQTT broker at {self.address.url}: {exc}") from exc
        client.loop_start()
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), CONNECT_TIMEOUT_S)
        except BaseException:
            client.loop_stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._dropped:
            return
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        self._fail_pending(ConnectionError("link closed"))

    # -- publishing -----------------------------------------------------------------------

    async def publish(self, publication: Publication) -> None:
        """Publish and wait until the broker has it (PUBACK at QoS 1)."""
        assert self._loop is not None, "use MqttLink inside 'async with'"
        info = self._client.publish(
            publication.topic, publication.payload, qos=publication.qos, retain=publication.retain
        )
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish to {publication.topic} failed: {paho.error_string(info.rc)}")
        future = self._loop.create_future()
        self._register(info.mid, future)
        await future

    def publish_nowait(self, topic: str, payload: bytes, *, qos: int = 1) -> None:
        """Hand a message to paho without waiting; ``confirmed`` counts it once the broker has it."""
        info = self._client.publish(topic, payload, qos=qos)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        self._register(info.mid, None)

    async def flush(self) -> None:
        """Wait until the broker has confirmed everything handed over with ``publish_nowait``."""
        while self._unawaited:  # noqa: ASYNC110 - confirmations arrive on paho's thread
            await asyncio.sleep(0.01)

    @property
    def unconfirmed(self) -> int:
        """Messages handed over with ``publish_nowait`` that the broker has not confirmed yet."""
        return len(self._unawaited)

    async def subscribe(self, topic_filter: str, qos: int = 1) -> None:
        assert self._loop is not None
        result, mid = self._client.subscribe(topic_filter, qos)
        if result != paho.MQTT_ERR_SUCCESS or mid is None:
            raise ConnectionError(f"subscribe to {topic_filter} failed: {paho.error_string(result)}")
        future = self._loop.create_future()
        self._register(mid, future)
        await future

    def _register(self, mid: int, future: asyncio.Future[None] | None) -> None:
        """Wait for ``mid``'s confirmation, unless it came already (paho's thread may be quicker)."""
        with self._lock:
            early = mid in self._early
            self._early.discard(mid)
            if not early:
                if future is None:
                    self._unawaited.add(mid)
                else:
                    self._pending[mid] = future
        if early and future is not None:
            _settle(future, None)

    # -- going away -----------------------------------------------------------------------

    async def drop(self) -> None:
        """Cut the connection as a power cut would: no DISCONNECT, so the broker sends the Last Will."""
        self._dropped = True
        await asyncio.to_thread(self._client.loop_stop)
        raw = self._client.socket()
        if isinstance(raw, socket.socket):
            with contextlib.suppress(OSError):  # already gone: the broker has noticed anyway
                raw.shutdown(socket.SHUT_RDWR)
            raw.close()
        self._fail_pending(ConnectionError("link dropped"))

    # -- paho's callbacks, on its network thread ------------------------------------------

    def _handle_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if self._connected is None or self._loop is None:
            return
        if reason.is_failure:
            error = ConnectionError(f"the broker at {self.address.url} refused the connection: {reason}")
            self._loop.call_soon_threadsafe(_settle, self._connected, error)
        else:
            self._loop.call_soon_threadsafe(_settle, self._connected, None)

    def _handle_publish(self, client: paho.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        self._confirm(mid, count=True)

    def _handle_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        self._confirm(mid, count=False)

    def _confirm(self, mid: int, *, count: bool) -> None:
        # Never call paho while holding our lock: paho calls us holding its own (lock order).
        with self._lock:
            if count:
                self.confirmed += 1
            future = self._pending.pop(mid, None)
            if future is None and mid not in self._unawaited:
                self._early.add(mid)
            self._unawaited.discard(mid)
        if future is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(_settle, future, None)

    def _handle_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if self._on_message is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_message, message.topic, bytes(message.payload), message.retain)

    def _handle_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure and not self._dropped:
            self._fail_pending(ConnectionError(f"lost the connection to {self.address.url}: {reason}"))

    def _fail_pending(self, error: Exception) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if self._loop is None or self._loop.is_closed():
            return
        for future in pending.values():
            self._loop.call_soon_threadsafe(_settle, future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
