"""The ingest loop: connect, subscribe, take messages in small batches, commit, acknowledge.

A batch is whatever is already waiting when the first message arrives (at most
``MAX_BATCH``): one message at a time when it is quiet, so a press is never held back,
and a few hundred per transaction under load, so throughput does not collapse to one
commit per message. Messages are acknowledged to the broker only after their batch
committed (DESIGN.md invariant 1); if the monitor dies first, the broker delivers them
again and device event ids make the second delivery harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path

import aiomqtt
from sqlalchemy import select

from devices.base import DeviceMessage
from monitor.config.settings import MqttSettings
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects
from monitor.core.health import Health
from monitor.core.metrics import Metrics
from monitor.directory.sync import DIRECTORY_REVISION_KEY, load_routes
from monitor.ingest.mqtt_client import AckingClient, connect_options, subscription_topic
from monitor.ingest.processor import MessageProcessor
from monitor.ingest.routes import Routes
from monitor.runtime.watchdog import Heartbeat
from monitor.store.database import Database, is_conflict, is_transient, is_unavailable
from monitor.store.models import ServiceMeta

log = logging.getLogger("callwatch.ingest")

MAX_BATCH = 200
SUBSCRIBE_CHUNK = 100
DIRECTORY_CHECK_S = 5.0
RETRY_FIRST_S = 0.5
#: the loop beats its heartbeat at least this often while it waits (monitor.runtime.watchdog)
BEAT_EVERY_S = 1.0


class HeldAtBroker(Exception):
    """Stopping while the database is away: the batch stays unacknowledged, so the broker keeps it."""


class MqttIngest:
    def __init__(
        self,
        settings: MqttSettings,
        database: Database,
        processor: MessageProcessor,
        after_commit: AfterCommit,
        metrics: Metrics,
        health: Health,
        clock: Clock,
        heartbeat: Heartbeat,
        config_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.processor = processor
        self.after_commit = after_commit
        self.metrics = metrics
        self.health = health
        self.clock = clock
        self.config_path = config_path
        self.client: AckingClient | None = None
        self._subscribed: set[str] = set()
        self._directory_revision: str | None = None
        self._stopping = asyncio.Event()
        #: beaten whenever the loop turns, also while it waits (monitor.runtime.watchdog)
        self._heartbeat = heartbeat

    def stop(self) -> None:
        """Finish the batch in hand, then disconnect."""
        self._stopping.set()

    async def run(self) -> None:
        delay = RETRY_FIRST_S
        while not self._stopping.is_set():
            self._heartbeat.beat()
            connected = False
            try:
                async with AckingClient(**connect_options(self.settings)) as client:
                    self.client = client
                    self._subscribed = set()
                    await self._subscribe_all(client)
                    self._connected()
                    connected = True
                    delay = RETRY_FIRST_S
                    await self._consume_until_stopped(client)
            except aiomqtt.MqttError as exc:
                self._disconnected(exc, lost=connected)
            finally:
                self.client = None
                self.metrics.broker_connected.set(0)
            if self._stopping.is_set():
                break
            pause = delay * random.uniform(0.8, 1.2)
            log.warning("reconnecting to the MQTT broker in %.1f s", pause)
            await self._pause(pause)
            delay = min(delay * 2, self.settings.reconnect_max_s)

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` or until stopped, beating the heartbeat meanwhile."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._stopping.is_set() and (left := deadline - asyncio.get_running_loop().time()) > 0:
            self._heartbeat.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=min(left, BEAT_EVERY_S))

    def _connected(self) -> None:
        self.metrics.broker_connected.set(1)
        self.health.mark("broker", ok=True, detail=f"connected to {self.settings.host}:{self.settings.port}")
        log.info("connected to the MQTT broker at %s:%s", self.settings.host, self.settings.port)

    def _disconnected(self, exc: aiomqtt.MqttError, *, lost: bool) -> None:
        where = f"{self.settings.host}:{self.settings.port}"
        source = f" ([mqtt] url in {self.config_path})" if self.config_path else ""
        sentence = (
            f"cannot reach the MQTT broker at {where}{source}: {exc}; "
            "check that the broker runs and the url, user and password are right"
        )
        if lost:
            # The broker closes a session when another client connects with the same id: two
            # monitors sharing one client id take it from each other over and over.
            sentence += (
                f"; if another monitor also uses [mqtt] client_id {self.settings.client_id!r}, "
                "give each its own (for example CALLWATCH_MQTT__CLIENT_ID=callwatch-2)"
            )
        self.health.mark("broker", ok=False, detail=sentence)
        log.error(sentence)

    async def _subscribe_all(self, client: AckingClient) -> None:
        routes, revision = await load_routes(self.database)
        self.processor.routes = routes
        self._directory_revision = revision
        await self._subscribe(client, routes)

    async def _subscribe(self, client: AckingClient, routes: Routes) -> None:
        wanted = sorted(routes.subscriptions - self._subscribed)
        for start in range(0, len(wanted), SUBSCRIBE_CHUNK):
            chunk = wanted[start : start + SUBSCRIBE_CHUNK]
            await client.subscribe([(subscription_topic(f, self.settings.shared_group), 1) for f in chunk])
            self._subscribed.update(chunk)
        if wanted:
            log.info("subscribed to %d topic filters", len(wanted))

    async def _consume_until_stopped(self, client: AckingClient) -> None:
        messages = client.messages
        watcher = asyncio.create_task(self._watch_directory(client))
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while True:
                # Never cancel a receive in flight while running: a message it already took
                # from the queue would be dropped unacknowledged until the next reconnect.
                receive = asyncio.ensure_future(anext(messages))
                while not (receive.done() or stopping.done() or watcher.done()):
                    self._heartbeat.beat()
                    await asyncio.wait(
                        {receive, stopping, watcher}, timeout=BEAT_EVERY_S, return_when=asyncio.FIRST_COMPLETED
                    )
                if not receive.done():
                    receive.cancel()  # stopping: whatever it held stays unacknowledged, so it comes back
                    if watcher.done():
                        watcher.result()
                    return
                batch = [receive.result()]
                while len(messages) and len(batch) < MAX_BATCH:
                    batch.append(await anext(messages))
                try:
                    await self._commit(batch)
                except HeldAtBroker:
                    log.warning("stopping with %d messages not stored; the broker delivers them again", len(batch))
                    return
                for message in batch:
                    client.ack(message)
                self._heartbeat.beat()
        finally:
            watcher.cancel()
            stopping.cancel()

    async def _watch_directory(self, client: AckingClient) -> None:
        while True:
            await asyncio.sleep(DIRECTORY_CHECK_S)
            await self._refresh_directory(client)

    async def _refresh_directory(self, client: AckingClient) -> None:
        """Subscribe for devices added by `callwatch import` while running."""
        try:
            async with self.database.read() as session:
                revision = await session.scalar(
                    select(ServiceMeta.value).where(ServiceMeta.key == DIRECTORY_REVISION_KEY)
                )
            if revision == self._directory_revision:
                return
            routes, revision = await load_routes(self.database)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            return
        self.processor.routes = routes
        self._directory_revision = revision
        await self._subscribe(client, routes)
        log.info("directory changed (revision %s): routes reloaded", revision)

    async def _commit(self, batch: Sequence[aiomqtt.Message]) -> None:
        """Store the batch and everything it causes; retry while the database is away."""
        received_at = self.clock.now()
        device_messages = [
            DeviceMessage(
                topic=message.topic.value,
                payload=_payload_bytes(message.payload),
                retained=message.retain,
                received_at=received_at,
            )
            for message in batch
        ]
        self.metrics.messages_received.inc(len(batch))
        self.metrics.ingest_batch_size.observe(len(batch))
        delay = RETRY_FIRST_S
        while True:
            self._heartbeat.beat()
            started = time.perf_counter()
            try:
                effects = await self._process(device_messages)
            except Exception as exc:
                if is_conflict(exc):
                    continue  # PostgreSQL broke a lock cycle by aborting us: simply run it again
                if not is_transient(exc):
                    raise
                sentence = f"database unavailable, {len(batch)} messages held unacknowledged at the broker: {exc}"
                self.health.mark("database", ok=False, detail=sentence[:300], reporter="ingest")
                log.error(sentence[:500])
                await self._pause(delay)
                if self._stopping.is_set():
                    raise HeldAtBroker from exc
                delay = min(delay * 2, 10.0)
                continue
            self.metrics.ingest_commit_seconds.observe(time.perf_counter() - started)
            self.health.mark("database", ok=True, detail="ok", reporter="ingest")
            await self.after_commit(effects)
            return

    async def _process(self, device_messages: Sequence[DeviceMessage]) -> Effects:
        effects = Effects()
        try:
            async with self.database.write(urgent=True) as session:
                await self.processor.process(session, device_messages, effects)
            return effects
        except Exception as exc:
            if is_transient(exc):
                raise
            if len(device_messages) == 1:
                return await self._quarantine(device_messages[0], exc)
        # One message in the batch trips a bug: process them one by one so the others go through.
        effects = Effects()
        for message in device_messages:
            effects.merge(await self._process([message]))
        return effects

    async def _quarantine(self, message: DeviceMessage, error: Exception) -> Effects:
        """Record a message that crashed processing as rejected, so it cannot stop ingest."""
        log.exception(
            "internal error processing a message on %s; recorded as rejected", message.topic[:200], exc_info=error
        )
        self.metrics.messages_rejected.labels(reason="internal_error").inc()
        async with self.database.write() as session:
            await self.processor.store_internal_error(session, message, error)
        return Effects()


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()
