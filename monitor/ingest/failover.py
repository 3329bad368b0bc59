"""Failover: a survivor drains the broker session of a monitor that died and never came back.

Several monitors take the device messages through one MQTT shared subscription, each with a
persistent session under its own client id. Mosquitto (2.0) goes on handing a dead member
its share: the messages wait in its session, with the batch it had received but not
committed, until that client id connects again (docs/architecture.md, "Several monitors",
compares this with the other mechanisms measured and with what EMQX, HiveMQ and VerneMQ do).

So every monitor notes in ``monitor_instances``, every ``[mqtt] failover_s`` / 10, that it is
alive and which client id it holds. A monitor silent for ``failover_s`` / 2 is dead; if no
living monitor holds its client id (a restarted one notes its own before it connects), one
survivor claims the session in the same table and connects with that client id (the broker
hands it the session: the messages delivered but never acknowledged first, then the queue),
unsubscribes it from the shared subscription at once, so that the broker hands everything
from then on to the living, stores and acknowledges what the session held through the same
commit as its own ingest, and once nothing more comes for ``DRAIN_QUIET_S`` leaves the empty
session behind and notes the dead monitor's row drained (it stays for the console and the duty
alarm: ``monitor.runtime.gone_monitors``). Device event ids make any message
processed twice on the way (the dead one committed, then died before acknowledging)
harmless, as after any restart. If the dead monitor comes back meanwhile, its connection
takes the session back from the survivor, which simply stops. If the survivor dies while
draining, its claim lapses with it and another survivor starts again.

Only on PostgreSQL: on SQLite there is one monitor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import aiomqtt
from sqlalchemy import or_, select, update

from monitor.config.settings import MqttSettings
from monitor.core.clock import Clock
from monitor.core.health import Health
from monitor.core.loop_stop import LoopStop
from monitor.ingest.mqtt_client import AckingClient, connect_options, subscription_topic
from monitor.ingest.routes import load_routes
from monitor.store.database import Database, is_unavailable
from monitor.store.models import MonitorInstance
from monitor.store.monitor_instances import alive, alive_ids, held_sessions, note_alive

log = logging.getLogger("callwatch.failover")

#: a drained session: nothing more arrived for this long after the last batch was acknowledged
DRAIN_QUIET_S = 0.5
#: how often the drain looks whether more has arrived
DRAIN_POLL_S = 0.02
#: the component on /healthz naming the monitors alive and the sessions being drained
MONITORS = "monitors"
MAX_BATCH = 200
UNSUBSCRIBE_CHUNK = 100

#: stores and commits a batch, then returns (``MqttIngest.commit``)
Commit = Callable[[Sequence[aiomqtt.Message]], Awaitable[None]]


@dataclass(frozen=True)
class Orphan:
    """The broker session of a monitor that died, claimed by this one to drain."""

    instance_id: str
    client_id: str


class SessionFailover:
    def __init__(
        self,
        settings: MqttSettings,
        database: Database,
        clock: Clock,
        health: Health,
        *,
        instance_id: str,
        commit: Commit,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.health = health
        self.instance_id = instance_id
        self.commit = commit
        self.gone_after = timedelta(seconds=settings.gone_after_s)
        #: the sessions being drained, one task each (several monitors may die together)
        self._draining: set[asyncio.Task[None]] = set()

    async def note_alive(self) -> None:
        """This monitor is alive and holds its client id's session: before it connects, so that
        no survivor takes the session of a monitor that is starting again."""
        async with self.database.write() as session:
            back = await note_alive(
                session, self.instance_id, self.clock.now(), self.gone_after, self.settings.client_id
            )
        for life in back:
            if life.stopped_at is None:
                log.warning(
                    "this monitor (MQTT client id %r) is back: as %s it had been gone since %s%s",
                    life.mqtt_client_id,
                    life.instance_id,
                    life.seen_at.isoformat(timespec="seconds"),
                    f"; duty staff were told at {life.alarmed_at.isoformat(timespec='seconds')}"
                    if life.alarmed_at
                    else "",
                )

    async def run(self, stop: LoopStop) -> None:
        """Note this monitor alive and drain dead monitors' sessions, until stopped."""
        while not stop.requested:
            try:
                await self.note_alive()
                while (orphan := await self._claim_orphan()) is not None:
                    task = asyncio.create_task(self._drain(orphan, stop), name=f"failover-{orphan.client_id}")
                    self._draining.add(task)
                    task.add_done_callback(self._draining.discard)
                await self._report()
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("failover pass failed; retrying")
                else:
                    log.error("failover cannot reach the database: %s", exc)
            await stop.idle(self.settings.alive_every_s)
        await asyncio.gather(*self._draining, return_exceptions=True)

    async def _claim_orphan(self) -> Orphan | None:
        """The session of a dead monitor that nobody alive holds or drains, now claimed by this one."""
        now = self.clock.now()
        held = held_sessions(now, self.gone_after)
        async with self.database.write() as session:
            found = (
                await session.execute(
                    select(MonitorInstance.instance_id, MonitorInstance.mqtt_client_id)
                    .where(
                        ~alive(now, self.gone_after),
                        MonitorInstance.mqtt_client_id.is_not(None),
                        MonitorInstance.mqtt_client_id.not_in(held),
                        MonitorInstance.drained_at.is_(None),
                        or_(
                            MonitorInstance.adopted_by.is_(None),
                            MonitorInstance.adopted_by.not_in(alive_ids(now, self.gone_after)),
                        ),
                    )
                    .order_by(MonitorInstance.seen_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if found is None:
                return None
            instance_id, client_id = found
            # Every dead row of that session (a monitor that came back and died again left two).
            await session.execute(
                update(MonitorInstance)
                .where(
                    MonitorInstance.mqtt_client_id == client_id,
                    ~alive(now, self.gone_after),
                    MonitorInstance.drained_at.is_(None),
                )
                .values(adopted_by=self.instance_id)
            )
        return Orphan(instance_id=str(instance_id), client_id=str(client_id))

    async def _drain(self, orphan: Orphan, stop: LoopStop) -> None:
        log.warning(
            "monitor %s (MQTT client id %r) has been silent for %.0f s: taking over its broker session",
            orphan.instance_id,
            orphan.client_id,
            self.gone_after.total_seconds(),
        )
        try:
            taken = await self._take_over(orphan.client_id, stop)
        except aiomqtt.MqttError as exc:
            # Its own monitor is back (the broker gave it the session) or the broker is away:
            # the next pass looks again (a monitor back holds its client id: nobody drains it).
            log.warning("stopped draining the session of %r: %s", orphan.client_id, exc)
            await self._release(orphan)
            return
        except Exception:
            log.exception("draining the session of %r failed; the next pass tries again", orphan.client_id)
            await self._release(orphan)
            return
        if stop.requested:
            return
        now = self.clock.now()
        async with self.database.write() as session:
            await session.execute(
                update(MonitorInstance)
                .where(
                    MonitorInstance.mqtt_client_id == orphan.client_id,
                    ~alive(now, self.gone_after),
                    MonitorInstance.drained_at.is_(None),
                )
                .values(drained_at=now)
            )
        log.warning(
            "the broker session of %r is drained (%d messages stored) and out of the shared subscription; "
            "its share goes to the monitors alive",
            orphan.client_id,
            taken,
        )

    async def _release(self, orphan: Orphan) -> None:
        """Give up the claim on a session not drained, so that the next pass takes it again."""
        try:
            async with self.database.write() as session:
                await session.execute(
                    update(MonitorInstance)
                    .where(
                        MonitorInstance.mqtt_client_id == orphan.client_id,
                        MonitorInstance.adopted_by == self.instance_id,
                    )
                    .values(adopted_by=None)
                )
        except Exception as exc:  # the claim then lapses with this monitor, if ever
            log.warning("could not give up the claim on the session of %r: %s", orphan.client_id, exc)

    async def _take_over(self, client_id: str, stop: LoopStop) -> int:
        """Connect as ``client_id``, leave the shared subscription, store what the session held;
        how many messages it held."""
        routes, _ = await load_routes(self.database)
        filters = sorted(subscription_topic(f, self.settings.shared_group) for f in routes.subscriptions)
        taken = 0
        async with AckingClient(**connect_options(self.settings, client_id)) as client:
            # First out of the group: from here on the broker hands new messages to the living.
            for start in range(0, len(filters), UNSUBSCRIBE_CHUNK):
                await client.unsubscribe(filters[start : start + UNSUBSCRIBE_CHUNK])
            messages = client.messages
            loop = asyncio.get_running_loop()
            while not stop.requested:
                # Taken only once in the queue: a receive cancelled while waiting could lose the
                # message it had just taken, which would then wait in this session for good.
                quiet_until = loop.time() + DRAIN_QUIET_S
                while not len(messages) and loop.time() < quiet_until:  # noqa: ASYNC110 - see above
                    await asyncio.sleep(DRAIN_POLL_S)
                if not len(messages):
                    break
                batch = [await anext(messages) for _ in range(min(len(messages), MAX_BATCH))]
                await self.commit(batch)
                for message in batch:
                    client.ack(message)
                taken += len(batch)
        return taken

    async def _report(self) -> None:
        """/healthz: the monitors alive, and the dead ones whose sessions are drained or wait."""
        now = self.clock.now()
        async with self.database.read() as session:
            rows = (
                await session.execute(
                    select(
                        MonitorInstance.instance_id,
                        MonitorInstance.mqtt_client_id,
                        MonitorInstance.seen_at,
                        MonitorInstance.adopted_by,
                        MonitorInstance.drained_at,
                    ).order_by(MonitorInstance.instance_id)
                )
            ).all()
        living = [
            f"{instance_id} ({client_id})"
            for instance_id, client_id, seen_at, _, _ in rows
            if seen_at >= now - self.gone_after
        ]
        dead = [
            f"{client_id} silent {(now - seen_at).total_seconds():.0f} s, "
            + (
                f"drained by {adopted_by}"
                if drained_at
                else f"draining by {adopted_by}"
                if adopted_by
                else "not taken over yet"
            )
            for _, client_id, seen_at, adopted_by, drained_at in rows
            if seen_at < now - self.gone_after and client_id is not None
        ]
        detail = f"{len(living)} alive: {', '.join(living)}"
        if dead:
            detail += f"; gone: {'; '.join(dead)}"
        self.health.mark(MONITORS, ok=True, detail=detail[:600])
