"""The ingest loop: connect, subscribe, take messages in small batches, commit, acknowledge.

A batch is whatever is already waiting when the first message arrives (at most
``MAX_BATCH``): one message at a time when it is quiet, so a press is never held back,
and a few hundred per transaction under load, so throughput does not collapse to one
commit per message. Messages are acknowledged to the broker only after their batch
committed (docs/architecture.md, invariant 1); if the monitor dies first, the broker delivers them
again and device event ids make the second delivery harmless.

Subscribing: one device's topic must never take ingest down for the others. Mosquitto closes
the connection of a client whose SUBSCRIBE holds a malformed filter (not UTF-8, a control
character, a misplaced wildcard), and with it every device's messages; it refuses a filter
it merely will not grant with a failure code for that filter alone (SUBACK 0x80). So each
filter is checked before it is ever sent, by the directory's own rules (``devices.topics``),
and never sent if it breaks them; the broker's answer is read filter by filter; and should
a broker close the connection over a SUBSCRIBE anyway, its filters are sent one at a time
after reconnecting, after all the others, until the one it will not take is found
(``Subscriptions``). Every filter left out is named, with the devices it is for, in the log,
on /healthz (component ``subscriptions``) and on the console's banner; the rest keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import aiomqtt
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import select

import devices
from devices.base import DeviceMessage, DeviceProfile
from devices.topics import topic_filter_problem
from monitor.config.settings import MqttSettings
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects
from monitor.core.health import Health
from monitor.core.heartbeat import Heartbeat
from monitor.core.metrics import Metrics
from monitor.directory.sync import DIRECTORY_REVISION_KEY
from monitor.ingest.mqtt_client import AckingClient, connect_options, subscription_topic
from monitor.ingest.processor import MessageProcessor
from monitor.ingest.routes import Routes, load_routes
from monitor.oncall.positions import VOLUNTEER_PHONE_KIND
from monitor.store.database import Database, is_conflict, is_transient, is_unavailable
from monitor.store.models import Device, ServiceMeta, VolunteerPhone

log = logging.getLogger("callwatch.ingest")

MAX_BATCH = 200
SUBSCRIBE_CHUNK = 100
DIRECTORY_CHECK_S = 5.0
RETRY_FIRST_S = 0.5
#: a filter that alone in its SUBSCRIBE lost the connection this often is left out (once could be chance)
DROPS_TO_LEAVE_OUT = 2
#: the component on /healthz and the console's banner naming the filters left out
SUBSCRIPTIONS = "subscriptions"
#: how much of the list of filters left out /healthz shows (the log has all of it)
HEALTH_DETAIL_CHARS = 600
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
        self.subscriptions = Subscriptions()
        self._reported_left_out = False
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
                    self.subscriptions.connected()
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
        self.processor.routes = readable_routes(routes)
        self._directory_revision = revision
        await self._subscribe(client, routes)

    async def _subscribe(self, client: AckingClient, routes: Routes) -> None:
        """Subscribe what ``routes`` needs and is not subscribed yet, each filter on its own
        merits; then say which are left out. Raises ``MqttError`` when the connection is lost."""
        wanted = routes.subscriptions - self.subscriptions.granted - self.subscriptions.left_out.keys()
        for packet in self.subscriptions.plan(wanted):
            await self._send(client, packet)
        if wanted:
            log.info("subscribed to %d topic filters", len(wanted & self.subscriptions.granted))
        await self._report_left_out(routes)

    async def _send(self, client: AckingClient, packet: list[str]) -> None:
        """One SUBSCRIBE; the broker's answer for each of its filters is recorded."""
        try:
            answers = await client.subscribe([(subscription_topic(f, self.settings.shared_group), 1) for f in packet])
        except aiomqtt.MqttError:
            self.subscriptions.lost(packet)
            raise
        except (ValueError, UnicodeError) as exc:  # the MQTT client would not even send it
            if len(packet) > 1:
                for topic_filter in packet:
                    await self._send(client, [topic_filter])
                return
            self.subscriptions.unsendable(packet[0], f"the MQTT client could not send it ({exc})")
            return
        self.subscriptions.answered(packet, answers)

    async def _report_left_out(self, routes: Routes) -> None:
        """The filters left out, named with their devices in the log, on /healthz and on the banner."""
        left_out = {f: why for f, why in self.subscriptions.left_out.items() if f in routes.subscriptions}
        if not left_out:
            if self._reported_left_out:
                self._reported_left_out = False
                self.health.mark(SUBSCRIPTIONS, ok=True, detail="every device's topic filters are subscribed")
                log.info("every device's topic filters are subscribed again")
            return
        behind = await self._devices_behind(left_out)
        named = {topic_filter: _devices_named(behind.get(topic_filter, [])) for topic_filter in sorted(left_out)}
        sentence = (
            f"{len(left_out)} topic filter(s) not subscribed, so the devices they are for are not heard "
            "(fix their topics in the directory; every other device is heard): "
        )
        # /healthz answers without signing in: it names devices, never topics (a topic may hold a name).
        shown = sentence + "; ".join(f"{devices}: {left_out[f]}" for f, devices in named.items())
        if len(shown) > HEALTH_DETAIL_CHARS:
            shown = shown[: HEALTH_DETAIL_CHARS - 30].rsplit("; ", 1)[0] + "; ... (the log names them all)"
        self.health.mark(SUBSCRIPTIONS, ok=False, detail=shown)
        self._reported_left_out = True
        log.error(sentence + "; ".join(f"{f!r} ({devices}): {left_out[f]}" for f, devices in named.items()))

    async def _devices_behind(self, topic_filters: Iterable[str]) -> dict[str, list[str]]:
        """The devices each filter is subscribed for (read only when some are left out)."""
        wanted = set(topic_filters)
        try:
            async with self.database.read() as session:
                owned = (
                    await session.execute(select(Device.protocol, Device.id, Device.kind, Device.topic, Device.serial))
                ).all()
                phones = (
                    await session.execute(
                        select(VolunteerPhone.protocol, VolunteerPhone.id, VolunteerPhone.topic, VolunteerPhone.serial)
                    )
                ).all()
        except Exception:  # naming them is a courtesy: it must never stop the subscribing
            log.warning("could not read which devices the filters left out are for", exc_info=True)
            return {}
        profiles = [
            (protocol, DeviceProfile(device_id=device_id, kind=kind, topic=topic, serial=serial))
            for protocol, device_id, kind, topic, serial in owned
        ]
        profiles += [
            (protocol, DeviceProfile(device_id=phone_id, kind=VOLUNTEER_PHONE_KIND, topic=topic, serial=serial))
            for protocol, phone_id, topic, serial in phones
        ]
        behind: dict[str, list[str]] = {}
        registry = devices.registry()
        for protocol, profile in profiles:
            adapter = registry.get(protocol)
            if adapter is None:
                continue
            for topic_filter in set(adapter.topic_filters(profile)) & wanted:
                behind.setdefault(topic_filter, []).append(profile.device_id)
        return behind

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
                    await self.commit(batch)
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
        self.processor.routes = readable_routes(routes)
        self._directory_revision = revision
        await self._subscribe(client, routes)
        log.info("directory changed (revision %s): routes reloaded", revision)

    async def commit(self, batch: Sequence[aiomqtt.Message]) -> None:
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


class Subscriptions:
    """What ingest asked the broker for, and what became of each filter.

    ``granted`` and the broker's refusals are for the connection at hand (a new connection
    asks again: a refusal may have been lifted); a filter that breaks the directory's rules
    is never sent, and one that cost the connection is not sent again while the monitor runs.
    """

    def __init__(self) -> None:
        self.granted: set[str] = set()
        #: filter -> why it is not subscribed, in words for the log and /healthz
        self.left_out: dict[str, str] = {}
        #: filters of a SUBSCRIBE the broker answered by closing the connection: sent alone next time
        self._suspects: set[str] = set()
        self._drops: Counter[str] = Counter()
        #: filters that alone lost the connection ``DROPS_TO_LEAVE_OUT`` times: never sent again
        self._costly: dict[str, str] = {}

    def connected(self) -> None:
        """A new connection: everything is asked for again, except what cost a connection."""
        self.granted = set()
        self.left_out = dict(self._costly)

    def plan(self, wanted: Iterable[str]) -> list[list[str]]:
        """The SUBSCRIBE packets for ``wanted``: filters that break the rules left out (never
        sent), the rest in packets of ``SUBSCRIBE_CHUNK``, suspects last and one per packet."""
        sendable = []
        for topic_filter in sorted(wanted):
            if topic_filter in self._costly:
                self.left_out[topic_filter] = self._costly[topic_filter]
            elif (problem := topic_filter_problem(topic_filter)) is not None:
                self.left_out[topic_filter] = f"never sent to the broker: it {problem}"
            else:
                sendable.append(topic_filter)
        plain = [topic_filter for topic_filter in sendable if topic_filter not in self._suspects]
        packets = [plain[start : start + SUBSCRIBE_CHUNK] for start in range(0, len(plain), SUBSCRIBE_CHUNK)]
        return packets + [[topic_filter] for topic_filter in sendable if topic_filter in self._suspects]

    def answered(self, packet: Sequence[str], answers: Sequence[ReasonCode] | Sequence[int]) -> None:
        """The broker's SUBACK: a code per filter, 0x80 and above refusing that filter alone."""
        codes = [answer.value if isinstance(answer, ReasonCode) else int(answer) for answer in answers]
        for index, topic_filter in enumerate(packet):
            self._suspects.discard(topic_filter)
            self._drops.pop(topic_filter, None)
            code = codes[index] if index < len(codes) else None
            if code is not None and code < 0x80:
                self.granted.add(topic_filter)
                self.left_out.pop(topic_filter, None)
            elif code is None:
                self.left_out[topic_filter] = "the broker's answer (SUBACK) did not mention it"
            else:
                self.left_out[topic_filter] = f"refused by the broker (SUBACK code 0x{code:02X})"

    def unsendable(self, topic_filter: str, why: str) -> None:
        """The MQTT client itself refused to send it (checked here, so it should never be)."""
        self.left_out[topic_filter] = why

    def lost(self, packet: Sequence[str]) -> None:
        """The connection ended while ``packet`` awaited its answer: maybe over one of its filters."""
        if len(packet) > 1:
            self._suspects.update(packet)
            return
        topic_filter = packet[0]
        self._drops[topic_filter] += 1
        if self._drops[topic_filter] >= DROPS_TO_LEAVE_OUT:
            self._suspects.discard(topic_filter)
            self._costly[topic_filter] = (
                f"the broker closed the connection each time it was asked for it ({self._drops[topic_filter]} times); "
                "it is not asked for again until the monitor restarts"
            )
            log.error("leaving out the topic filter %r: %s", topic_filter, self._costly[topic_filter])
        else:
            self._suspects.add(topic_filter)


def readable_routes(routes: Routes) -> Routes:
    """``routes`` without the filters that break the rules: they are never subscribed, and
    matching a topic against a malformed filter raises (every message would trip on it)."""
    kept = {
        protocol: frozenset(topic_filter for topic_filter in filters if topic_filter_problem(topic_filter) is None)
        for protocol, filters in routes.filters.items()
    }
    return routes if kept == routes.filters else Routes(kept)


def _devices_named(device_ids: Sequence[str]) -> str:
    if not device_ids:
        return "no device found for it"
    shown = ", ".join(repr(device_id) for device_id in sorted(device_ids)[:5])
    more = f" and {len(device_ids) - 5} more" if len(device_ids) > 5 else ""
    return f"device{'s' if len(device_ids) > 1 else ''} {shown}{more}"


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()
