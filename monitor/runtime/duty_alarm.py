"""The duty alarm: an SMS (and a call, with ``[voice] duty_calls``) to every duty-staff phone
when the monitor itself is in trouble.

Raised by the watchdog (``monitor.runtime.watchdog``) when a loop stalls, and by a survivor
when another monitor has died and stayed dead past ``[mqtt] failover_s``
(``monitor.runtime.gone_monitors``). The usual way is the
usual way of every SMS: a row in the database, sent at once. A stalled loop often means
the database does not answer, so if that way does not finish in time, the alarm goes to
the provider directly, by SMS, without a record, to the staff phones learned at start (and
every few minutes since). A dead monitor is known only from the database, so that alarm goes
only through it. Either way it goes through the first SMS provider that is up, and through the
next when that one did not send it (the outbox's failover; directly, the same order here).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.clock import Clock
from monitor.core.deadline import finish_within
from monitor.core.effects import AfterCommit, Effects, commit_then_apply
from monitor.core.loop_stop import LoopStop
from monitor.notify.channel import FailureKind, Outgoing, SendFailure
from monitor.notify.outbox import Outbox
from monitor.notify.requests import SMS, NotificationRequest, Purpose, queue_many
from monitor.notify.texts import Message, monitor_gone, watchdog
from monitor.oncall.people import staff
from monitor.store.database import Database
from monitor.store.monitor_instances import GoneMonitor, claim_alarm

log = logging.getLogger("callwatch.duty_alarm")

THROUGH_DATABASE_S = 5.0
DIRECT_SEND_S = 5.0
STAFF_REFRESH_S = 300.0


@dataclass(frozen=True, slots=True)
class StaffPhone:
    volunteer_id: str
    phone: str
    language: str


class DutyAlarm:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        clock: Clock,
        *,
        instance_id: str,
        after_commit: AfterCommit,
        channels: Sequence[str] = (SMS,),
    ) -> None:
        self.database = database
        #: the alarm's way through the database; without it, its SMS providers directly
        self.outbox = outbox
        #: the channels the alarm goes by through the database
        self.channels = tuple(channels)
        self.clock = clock
        self.instance_id = instance_id
        self.after_commit = after_commit
        self.host = socket.gethostname()
        self._staff: list[StaffPhone] = []

    async def run(self, stop: LoopStop) -> None:
        """Keep the staff phones known, for an alarm the database cannot carry; until stopped."""
        while not stop.requested:
            try:
                await self.learn_staff()
            except Exception as exc:  # the last list learned still serves
                log.warning("could not refresh the duty staff's phones: %s", exc)
            await stop.idle(STAFF_REFRESH_S)

    async def learn_staff(self) -> None:
        async with self.database.read() as session:
            self._staff = [StaffPhone(one.id, one.phone, one.language) for one in await staff(session)]

    async def raise_alarm(self, loop: str, silent_s: float) -> None:
        """A loop of this monitor stalled (the watchdog)."""

        async def queue(session: AsyncSession, effects: Effects) -> int:
            return await self._queue_to_staff(
                session,
                effects,
                lambda language: watchdog(loop, silent_s, self.host, language),
                alarm=f"watchdog:{self.instance_id}:{loop}",
            )

        try:
            queued = await finish_within(
                commit_then_apply(self.database, self.after_commit, queue, urgent=True), THROUGH_DATABASE_S
            )
        except Exception as exc:
            log.error("duty alarm through the database failed (%s); sending it directly", type(exc).__name__)
            await asyncio.gather(*(self._directly(person, loop, silent_s) for person in self._staff))
            return
        await self.outbox.drain(within_s=DIRECT_SEND_S)
        log.warning("duty alarm queued for %d staff phones", queued)

    async def monitor_gone(self, gone: GoneMonitor) -> bool:
        """Another monitor died and has stayed dead past the failover bound; whether this monitor
        told duty staff. Only one monitor ever does, once for that monitor (``claim_alarm``; the
        rows' keys would refuse a second alarm too)."""
        now = self.clock.now()
        silent_s = (now - gone.seen_at).total_seconds()
        client_id = gone.mqtt_client_id or gone.instance_id

        async def queue(session: AsyncSession, effects: Effects) -> int | None:
            if not await claim_alarm(session, gone.instance_id, self.instance_id, now):
                return None
            return await self._queue_to_staff(
                session,
                effects,
                lambda language: monitor_gone(client_id, gone.instance_id, silent_s, language),
                alarm=f"monitor-gone:{gone.instance_id}",
            )

        queued = await commit_then_apply(self.database, self.after_commit, queue, urgent=True)
        if queued is None:
            return False
        await self.outbox.drain(within_s=DIRECT_SEND_S)
        log.warning(
            "monitor %s (MQTT client id %r) has been silent for %.0f s: duty alarm queued for %d staff phones",
            gone.instance_id,
            client_id,
            silent_s,
            queued,
        )
        return True

    async def _queue_to_staff(
        self, session: AsyncSession, effects: Effects, message: Callable[[str], Message], *, alarm: str
    ) -> int:
        """Queue ``message`` (in each person's language) to every duty-staff phone on each of the
        alarm's channels; how many rows were new. One row per ``alarm``, phone and channel."""
        requests = [
            NotificationRequest(
                phone=person.phone,
                message=message(person.language),
                purpose=Purpose.WATCHDOG,
                volunteer_id=person.id,
                channel=channel,
                key=self._key(alarm, person.phone, channel),
            )
            for person in await staff(session)
            for channel in self.channels
        ]
        queued = await queue_many(session, effects, requests, self.clock.now())
        return sum(1 for row_id in queued if row_id is not None)

    @staticmethod
    def _key(alarm: str, phone: str, channel: str) -> str:
        """One row per alarm, phone and channel (an SMS's key names no channel, as before)."""
        key = f"{alarm}:{phone}"
        return key if channel == SMS else f"{key}:{channel}"

    async def _directly(self, person: StaffPhone, loop: str, silent_s: float) -> None:
        """Through the SMS providers, those up first, until one takes it; not on to the next after
        an outcome that is unknown (it may have gone out: nobody wants the alarm twice)."""
        message = watchdog(loop, silent_s, self.host, person.language)
        for carrier in self.outbox.in_failover_order(SMS):
            try:
                await finish_within(
                    carrier.send(Outgoing(person.phone, message.for_links(carrier.links))), DIRECT_SEND_S
                )
            except SendFailure as failure:
                log.error("duty alarm to staff %s not sent by %s: %s", person.volunteer_id, carrier.provider, failure)
                if failure.kind is FailureKind.UNKNOWN or failure.about_recipient:
                    return
            except TimeoutError:
                log.error("duty alarm to staff %s: %s did not answer in time", person.volunteer_id, carrier.provider)
                return
            else:
                log.warning("duty alarm sent directly to staff %s through %s", person.volunteer_id, carrier.provider)
                return
