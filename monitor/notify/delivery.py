"""Delivery reports: what became of each notification at the handset.

Reports can arrive out of order and even before the send that caused them has been
recorded (then they are kept until it is: applied when the send is recorded, or, where the
two crossed in concurrent transactions on PostgreSQL, by the outbox's next upkeep
``apply_stray_reports``); a notification only ever moves forward
(queued → sent → delivered, or to a failure). A notification that can no longer arrive is
handed, in the same transaction, to the ``UnreachableHook`` the service gave (escalation's:
if nobody asked in that tier can be reached, the alert moves on at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import Effects
from monitor.notify.channel import ReportedStatus
from monitor.notify.requests import UNREACHED, NotificationStatus, lock_notification, note_about
from monitor.store.group_commit import Write
from monitor.store.models import DeliveryReport, Notification

#: How far along each provider status is; a report never moves a message backwards.
PROGRESS: dict[str, int] = {
    NotificationStatus.ACCEPTED: 1,
    NotificationStatus.QUEUED: 2,
    NotificationStatus.SENDING: 3,
    NotificationStatus.SENT: 4,
    NotificationStatus.DELIVERED: 5,
    NotificationStatus.UNDELIVERED: 6,
    NotificationStatus.FAILED: 6,
}

#: The reports of one notification that came before its provider id was recorded, oldest first.
_WAITING_REPORTS = (
    select(DeliveryReport)
    .where(DeliveryReport.provider_id == bindparam("provider_id"), DeliveryReport.applied.is_(False))
    .order_by(DeliveryReport.id)
)


class UnreachableHook(Protocol):
    """Told, inside the transaction that records it, of a notification that can no longer arrive."""

    async def __call__(
        self, session: AsyncSession, notification: Notification, now: datetime, effects: Effects
    ) -> None: ...


def delivery_report_writer(on_unreachable: UnreachableHook) -> Write[ReportedStatus]:
    """The write of one report, for a ``GroupCommit`` (a storm brings several per SMS)."""

    async def write(session: AsyncSession, report: ReportedStatus, effects: Effects) -> None:
        await record_delivery_report(
            session,
            on_unreachable,
            provider_id=report.provider_id,
            status=report.status,
            error_code=report.error_code,
            now=report.at,
            effects=effects,
        )

    return write


async def record_delivery_report(
    session: AsyncSession,
    on_unreachable: UnreachableHook,
    *,
    provider_id: str,
    status: str,
    error_code: str | None,
    now: datetime,
    effects: Effects,
) -> bool:
    """Apply one report to its notification; whether that is known yet (otherwise the report is kept)."""
    notification = await lock_notification(session, Notification.provider_id, provider_id)
    if notification is None:
        session.add(DeliveryReport(provider_id=provider_id, status=status, error_code=error_code, received_at=now))
        return False
    await _apply(session, notification, status, error_code, on_unreachable, now, effects)
    return True


async def apply_delivery_reports(
    session: AsyncSession, notification: Notification, on_unreachable: UnreachableHook, now: datetime, effects: Effects
) -> None:
    """Apply the reports that arrived before ``notification``'s provider id was recorded."""
    if notification.provider_id is None:
        return
    reports = (await session.scalars(_WAITING_REPORTS, {"provider_id": notification.provider_id})).all()
    for report in reports:
        report.applied = True
        await _apply(session, notification, report.status, report.error_code, on_unreachable, now, effects)


#: Kept reports whose notification is known now (a report and the record of its send crossed).
STRAY_REPORT = (
    select(DeliveryReport.provider_id)
    .join(Notification, Notification.provider_id == DeliveryReport.provider_id)
    .where(DeliveryReport.applied.is_(False))
)
_STRAY_REPORTS = STRAY_REPORT.distinct().limit(100)


async def apply_stray_reports(
    session: AsyncSession, on_unreachable: UnreachableHook, now: datetime, effects: Effects
) -> int:
    """Apply kept reports whose notification became known after they were kept; how many messages."""
    provider_ids = (await session.scalars(_STRAY_REPORTS)).all()
    for provider_id in provider_ids:
        notification = await lock_notification(session, Notification.provider_id, provider_id)
        if notification is not None:
            await apply_delivery_reports(session, notification, on_unreachable, now, effects)
    return len(provider_ids)


async def _apply(
    session: AsyncSession,
    notification: Notification,
    status: str,
    error_code: str | None,
    on_unreachable: UnreachableHook,
    now: datetime,
    effects: Effects,
) -> None:
    if PROGRESS.get(status, 0) <= PROGRESS.get(notification.status, 0):
        return
    notification.status = status
    notification.status_at = now
    if error_code:
        notification.error_code = error_code
    if status in (NotificationStatus.DELIVERED, *UNREACHED):
        note_about(
            session, effects, notification, status, status + (f" (error {error_code})" if error_code else ""), now
        )
    if status in UNREACHED:
        await on_unreachable(session, notification, now, effects)
