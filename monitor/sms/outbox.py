"""The SMS outbox: sends queued SMS rows, at most once each.

A row moves ``pending`` → ``claimed`` (committed before the provider is called) → the
provider's status. If the process dies between claiming and recording, the row stays
``claimed``; once its lease has run out it becomes ``unconfirmed`` and the provider is
asked whether it has that message before anything is sent again. Temporary failures (429,
5xx, no connection) are retried with backoff; permanent ones (invalid number, landline)
mark the row ``rejected`` and let escalation move on to the next people at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.clock import Clock
from monitor.effects import AfterCommit, Effects
from monitor.escalation import Escalation
from monitor.health import Health
from monitor.metrics import Metrics
from monitor.notifications import NotificationStatus, lock_notification
from monitor.sms.delivery import apply_delivery_reports
from monitor.sms.gateway import FailureKind, OutgoingSms, SendFailure, SendReceipt, SmsGateway
from monitor.store.database import Database, is_unavailable
from monitor.store.models import AlertEvent, Notification

log = logging.getLogger("callwatch.sms")

CLAIM_BATCH = 20
MAX_ATTEMPTS = 6
IDLE_CHECK_S = 1.0
#: Consecutive failed sends after which /healthz reports the provider as down.
FAILURES_BEFORE_DEGRADED = 3


@dataclass(frozen=True, slots=True)
class ClaimedSms:
    id: int
    phone: str
    body: str
    attempts: int
    claimed_at: datetime


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... at most a minute: an SOS must not wait long for a provider blip."""
    return timedelta(seconds=min(60, 2**attempts))


class SmsOutbox:
    def __init__(
        self,
        database: Database,
        gateway: SmsGateway,
        escalation: Escalation,
        clock: Clock,
        metrics: Metrics,
        health: Health,
        *,
        instance_id: str,
        lease_s: float,
        status_callback_url: str | None,
        after_commit: AfterCommit,
        concurrency: int = 8,
    ) -> None:
        self.database = database
        self.gateway = gateway
        self.escalation = escalation
        self.clock = clock
        self.metrics = metrics
        self.health = health
        self.instance_id = instance_id
        self.lease = timedelta(seconds=lease_s)
        self.status_callback_url = status_callback_url
        self.after_commit = after_commit
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._consecutive_failures = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send whatever is due until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self.recover_stale()
                while await self.send_due():
                    pass
            except Exception as exc:
                if is_unavailable(exc):
                    log.error("SMS outbox cannot reach the database: %s", exc)
                else:
                    log.exception("SMS outbox pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_CHECK_S)

    async def send_due(self) -> int:
        """Claim and send one batch of due SMS; how many were claimed."""
        claimed = await self._claim()
        if claimed:
            await asyncio.gather(*(self._send(sms) for sms in claimed))
        return len(claimed)

    async def _claim(self) -> list[ClaimedSms]:
        now = self.clock.now()
        async with self.database.write() as session:
            ids = (
                await session.scalars(
                    select(Notification.id)
                    .where(Notification.status == NotificationStatus.PENDING, Notification.not_before <= now)
                    .order_by(Notification.priority, Notification.id)
                    .limit(CLAIM_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not ids:
                return []
            rows = (
                await session.execute(
                    update(Notification)
                    .where(Notification.id.in_(ids), Notification.status == NotificationStatus.PENDING)
                    .values(
                        status=NotificationStatus.CLAIMED.value,
                        claimed_at=now,
                        claimed_by=self.instance_id,
                        attempts=Notification.attempts + 1,
                    )
                    .returning(Notification.id, Notification.phone, Notification.body, Notification.attempts)
                )
            ).all()
        return [ClaimedSms(row[0], row[1], row[2], row[3], now) for row in rows]

    async def _send(self, sms: ClaimedSms) -> None:
        async with self._slots:
            try:
                receipt = await self.gateway.send(OutgoingSms(sms.phone, sms.body, self.status_callback_url))
            except SendFailure as failure:
                await self._record_failure(sms, failure)
            else:
                await self._record_sent(sms.id, receipt)

    async def _record_sent(self, notification_id: int, receipt: SendReceipt) -> None:
        self._consecutive_failures = 0
        self.health.mark("sms", ok=True, detail=f"last SMS accepted by {self.gateway.name}")
        self.metrics.sms_sent.inc()
        now = self.clock.now()

        async def record(session: AsyncSession) -> Effects:
            effects = Effects()
            notification = await lock_notification(session, Notification.id == notification_id)
            if notification is None:
                return effects
            notification.status = receipt.status
            notification.provider_id = receipt.provider_id
            notification.sent_at = now
            notification.status_at = now
            if receipt.segments is not None:
                notification.segments = receipt.segments
            if notification.alert_id is not None:
                session.add(
                    AlertEvent(
                        alert_id=notification.alert_id,
                        at=now,
                        kind="sms_sent",
                        actor="system",
                        detail=f"{notification.purpose} SMS to {notification.phone} accepted ({receipt.provider_id})",
                        notification_id=notification.id,
                    )
                )
                effects.changed_alert_ids.add(notification.alert_id)
            # A fast provider may have reported delivery before we stored its message id.
            await apply_delivery_reports(session, notification, self.escalation, now, effects)
            return effects

        await self.after_commit(await self.database.transact(record))

    async def _record_failure(self, sms: ClaimedSms, failure: SendFailure) -> None:
        self.metrics.sms_failed.labels(kind=failure.kind.value, code=failure.code or "").inc()
        self._consecutive_failures += 1
        if self._consecutive_failures >= FAILURES_BEFORE_DEGRADED:
            self.health.mark(
                "sms", ok=False, detail=f"{self._consecutive_failures} sends failed in a row: {failure.message}"
            )
        log.warning("SMS %d to %s failed: %s", sms.id, sms.phone, failure)
        now = self.clock.now()

        async def record(session: AsyncSession) -> Effects:
            effects = Effects()
            notification = await lock_notification(session, Notification.id == sms.id)
            if notification is None:
                return effects
            notification.error_code = failure.code
            notification.error_message = failure.message
            notification.status_at = now
            if failure.kind is FailureKind.UNKNOWN:
                notification.status = NotificationStatus.UNCONFIRMED.value
            elif failure.kind is FailureKind.TEMPORARY and sms.attempts < MAX_ATTEMPTS:
                notification.status = NotificationStatus.PENDING.value
                notification.not_before = now + retry_delay(sms.attempts)
            else:
                notification.status = NotificationStatus.REJECTED.value
                await self._log_failure(session, notification, failure, now, effects)
                await self.escalation.on_unreachable(session, notification, now, effects)
            return effects

        await self.after_commit(await self.database.transact(record))

    async def _log_failure(
        self,
        session: AsyncSession,
        notification: Notification,
        failure: SendFailure,
        now: datetime,
        effects: Effects,
    ) -> None:
        if notification.alert_id is None:
            return
        session.add(
            AlertEvent(
                alert_id=notification.alert_id,
                at=now,
                kind="sms_failed",
                actor="system",
                detail=f"{notification.purpose} SMS to {notification.phone} failed for good: "
                f"{failure.code} {failure.message}",
                notification_id=notification.id,
            )
        )
        effects.changed_alert_ids.add(notification.alert_id)

    async def recover_stale(self) -> None:
        """Settle rows whose hand-over to the provider may or may not have happened."""
        now = self.clock.now()
        async with self.database.write() as session:
            await session.execute(
                update(Notification)
                .where(
                    Notification.status == NotificationStatus.CLAIMED,
                    or_(Notification.claimed_at.is_(None), Notification.claimed_at < now - self.lease),
                )
                .values(status=NotificationStatus.UNCONFIRMED.value, status_at=now)
            )
            unconfirmed = (
                await session.execute(
                    select(Notification.id, Notification.phone, Notification.body, Notification.claimed_at)
                    .where(Notification.status == NotificationStatus.UNCONFIRMED)
                    .limit(CLAIM_BATCH)
                )
            ).all()
        for notification_id, phone, body, claimed_at in unconfirmed:
            await self._settle(notification_id, phone, body, claimed_at or now)

    async def _settle(self, notification_id: int, phone: str, body: str, claimed_at: datetime) -> None:
        try:
            found = await self.gateway.find_sent(phone, body, claimed_at)
        except SendFailure as failure:
            log.warning("cannot check SMS %d with the provider yet: %s", notification_id, failure)
            return
        if found is not None:
            log.info("SMS %d had reached the provider before the interruption (%s)", notification_id, found.provider_id)
            await self._record_sent(notification_id, found)
            return
        async with self.database.write() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == NotificationStatus.UNCONFIRMED)
                .values(status=NotificationStatus.PENDING.value, not_before=self.clock.now())
            )
        self.wake()
