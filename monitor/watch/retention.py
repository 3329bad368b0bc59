"""Personal data kept only as long as it serves: a scheduled purge (``[retention]`` in the config).

- Raw device messages older than ``device_messages_days`` are deleted. A message an
  alert's record points to (the press that raised it, a position it used) keeps its row,
  so the record stays whole, but loses its payload: what remains is the topic, the size,
  when it came and what it meant.
- Positions older than ``positions_days`` are forgotten: the last known position of a
  device not heard from for that long (a device in use keeps it: an SOS without a fix is
  sent with it, and newer fixes replace it anyway), a volunteer's phone's last fix, and the
  position on alerts closed longer ago than that.
- The texts of SMS older than ``sms_texts_days`` are forgotten: what was sent (the text and
  its template's parameters: names, addresses, map links) once its sending is over, and what
  was received. The rows stay (who was asked when, what became of it, the reply's outcome).

Everything else (alerts and their logs) is the service's record and stays (docs/data-map.md).
The purge works in small transactions, behind any press (on SQLite it is a writer like the
others), and runs at start and every hour; running it in several monitors at once is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import AlertState
from monitor.config.settings import RetentionSettings
from monitor.core.clock import Clock
from monitor.core.loop_stop import LoopStop
from monitor.notify.requests import NotificationStatus
from monitor.store.database import Database, is_unavailable
from monitor.store.models import Alert, AlertEvent, Device, DeviceMessage, InboundSms, Notification, VolunteerPhone

log = logging.getLogger("callwatch.retention")

PURGE_EVERY_S = 3600.0
CHUNK = 500

#: one chunk of a purge in the given transaction; how many rows it changed
Step = Callable[[AsyncSession], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Purged:
    messages_deleted: int
    payloads_cleared: int
    device_positions: int
    volunteer_positions: int
    alert_positions: int
    sms_texts: int
    inbound_texts: int

    def __str__(self) -> str:
        return (
            f"{self.messages_deleted} raw messages deleted, {self.payloads_cleared} alert messages' payloads cleared, "
            f"{self.device_positions} device, {self.volunteer_positions} volunteer phone and "
            f"{self.alert_positions} alert positions forgotten, "
            f"{self.sms_texts} sent and {self.inbound_texts} received SMS texts forgotten"
        )


class Retention:
    def __init__(self, database: Database, clock: Clock, settings: RetentionSettings) -> None:
        self.database = database
        self.clock = clock
        self.messages_kept = timedelta(days=settings.device_messages_days)
        self.positions_kept = timedelta(days=settings.positions_days)
        self.texts_kept = timedelta(days=settings.sms_texts_days)

    async def run(self, stop: LoopStop) -> None:
        """Purge now and every hour, until stopped."""
        while not stop.requested:
            try:
                purged = await self.purge()
                if any(astuple(purged)):
                    log.info("retention: %s", purged)
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("retention pass failed; trying again in an hour")
                else:
                    log.error("retention pass could not reach the database: %s", exc)
            await stop.idle(PURGE_EVERY_S)

    async def purge(self) -> Purged:
        now = self.clock.now()
        messages_before, positions_before = now - self.messages_kept, now - self.positions_kept
        return Purged(
            messages_deleted=await self._in_chunks(partial(_delete_messages, before=messages_before)),
            payloads_cleared=await self._in_chunks(partial(_clear_payloads, before=messages_before)),
            device_positions=await self._in_chunks(partial(_forget_positions, holder=Device, before=positions_before)),
            volunteer_positions=await self._in_chunks(
                partial(_forget_positions, holder=VolunteerPhone, before=positions_before)
            ),
            alert_positions=await self._in_chunks(partial(_forget_alert_positions, before=positions_before)),
            sms_texts=await self._in_chunks(partial(_forget_sms_texts, before=now - self.texts_kept)),
            inbound_texts=await self._in_chunks(partial(_forget_inbound_texts, before=now - self.texts_kept)),
        )

    async def _in_chunks(self, step: Step) -> int:
        """Run ``step`` in one short transaction after another until it finds nothing more to do."""
        total = 0
        while True:
            done = await self.database.transact(step, bookkeeping=True, bulk=True)
            total += done
            if done < CHUNK:
                return total


async def _delete_messages(session: AsyncSession, before: datetime) -> int:
    ids = (
        await session.scalars(
            select(DeviceMessage.id)
            # an alert's record points to it: keep the row (its payload goes in _clear_payloads)
            .where(
                DeviceMessage.received_at < before,
                ~exists().where(AlertEvent.device_message_id == DeviceMessage.id),
            )
            .order_by(DeviceMessage.id)
            .limit(CHUNK)
        )
    ).all()
    if ids:
        await session.execute(delete(DeviceMessage).where(DeviceMessage.id.in_(ids)))
    return len(ids)


async def _blank_chunk(session: AsyncSession, model: type[Any], where: ColumnElement[bool], **blank: object) -> int:
    """Overwrite ``blank`` columns of at most ``CHUNK`` rows of ``model`` matching ``where`` (the
    oldest first); how many. The rows stay: only what they said is forgotten."""
    ids = (await session.scalars(select(model.id).where(where).order_by(model.id).limit(CHUNK))).all()
    if ids:
        await session.execute(update(model).where(model.id.in_(ids)).values(**blank))
    return len(ids)


async def _clear_payloads(session: AsyncSession, before: datetime) -> int:
    where = and_(DeviceMessage.received_at < before, func.length(DeviceMessage.payload) > 0)
    return await _blank_chunk(session, DeviceMessage, where, payload=b"")


async def _forget_positions(
    session: AsyncSession, holder: type[Device] | type[VolunteerPhone], before: datetime
) -> int:
    """Last known positions fixed before ``before``: volunteers' phones', and residents' devices'
    that have not been heard from since."""
    old = [holder.last_lat.is_not(None), or_(holder.last_fix_at.is_(None), holder.last_fix_at < before)]
    if holder is Device:
        old.append(or_(Device.last_seen_at.is_(None), Device.last_seen_at < before))
    ids = (await session.scalars(select(holder.id).where(*old).limit(CHUNK))).all()
    if ids:
        await session.execute(
            update(holder)
            .where(holder.id.in_(ids))
            .values(last_lat=None, last_lon=None, last_accuracy_m=None, last_fix_at=None)
        )
    return len(ids)


async def _forget_alert_positions(session: AsyncSession, before: datetime) -> int:
    closed_before = or_(
        and_(Alert.state == AlertState.RESOLVED.value, Alert.resolved_at < before),
        and_(Alert.state == AlertState.CANCELLED.value, Alert.cancelled_at < before),
    )
    ids = (await session.scalars(select(Alert.id).where(Alert.lat.is_not(None), closed_before).limit(CHUNK))).all()
    if ids:
        await session.execute(
            update(Alert).where(Alert.id.in_(ids)).values(lat=None, lon=None, accuracy_m=None, position_at=None)
        )
    return len(ids)


#: Sending is not over: the text is still needed to send it (or to quote it in a digest)
STILL_SENDING = (
    NotificationStatus.PENDING.value,
    NotificationStatus.CLAIMED.value,
    NotificationStatus.UNCONFIRMED.value,
    NotificationStatus.HELD.value,
)


async def _forget_sms_texts(session: AsyncSession, before: datetime) -> int:
    where = and_(
        Notification.created_at < before,
        Notification.status.not_in(STILL_SENDING),
        or_(
            func.length(Notification.body) > 0,
            Notification.params.is_not(None),
            Notification.body_without_link.is_not(None),
        ),
    )
    return await _blank_chunk(session, Notification, where, body="", params=null(), body_without_link=None)


async def _forget_inbound_texts(session: AsyncSession, before: datetime) -> int:
    where = and_(InboundSms.received_at < before, func.length(InboundSms.body) > 0)
    return await _blank_chunk(session, InboundSms, where, body="")
