"""Delivery reports (Twilio status callbacks): what became of each SMS at the handset.

Reports can arrive out of order and even before the send that caused them has been
recorded; each is stored, and a notification only ever moves forward
(queued → sent → delivered, or to a failure).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.effects import Effects
from monitor.escalation import Escalation
from monitor.notifications import UNREACHED, NotificationStatus, lock_notification
from monitor.store.models import AlertEvent, DeliveryReport, Notification

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


async def record_delivery_report(
    session: AsyncSession,
    escalation: Escalation,
    *,
    provider_id: str,
    status: str,
    error_code: str | None,
    now: datetime,
    effects: Effects,
) -> bool:
    """Store one report and apply it; whether the SMS it is about is known yet."""
    session.add(DeliveryReport(provider_id=provider_id, status=status, error_code=error_code, received_at=now))
    await session.flush()
    notification = await lock_notification(session, Notification.provider_id == provider_id)
    if notification is None:
        return False
    await apply_delivery_reports(session, notification, escalation, now, effects)
    return True


async def apply_delivery_reports(
    session: AsyncSession, notification: Notification, escalation: Escalation, now: datetime, effects: Effects
) -> None:
    """Apply every stored, not yet applied report for ``notification``."""
    if notification.provider_id is None:
        return
    reports = (
        await session.scalars(
            select(DeliveryReport)
            .where(DeliveryReport.provider_id == notification.provider_id, DeliveryReport.applied.is_(False))
            .order_by(DeliveryReport.id)
        )
    ).all()
    for report in reports:
        report.applied = True
        if PROGRESS.get(report.status, 0) <= PROGRESS.get(notification.status, 0):
            continue
        notification.status = report.status
        notification.status_at = now
        if report.error_code:
            notification.error_code = report.error_code
        if notification.alert_id is not None and report.status in (
            NotificationStatus.DELIVERED,
            *UNREACHED,
        ):
            suffix = f" (error {report.error_code})" if report.error_code else ""
            session.add(
                AlertEvent(
                    alert_id=notification.alert_id,
                    at=now,
                    kind=f"sms_{report.status}",
                    actor="system",
                    detail=f"{notification.purpose} SMS to {notification.phone} {report.status}{suffix}",
                    notification_id=notification.id,
                )
            )
            effects.changed_alert_ids.add(notification.alert_id)
        if report.status in UNREACHED:
            await escalation.on_unreachable(session, notification, now, effects)
