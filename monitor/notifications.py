"""Queueing SMS: one row per message, written in the same transaction as the change it reports.

The SMS outbox (``monitor.sms.outbox``) sends queued rows after the commit. A row's
``dedupe_key`` is unique, so the same (alert, purpose, tier, round, phone) is queued at most
once however many times, or by however many monitors, the step that queues it runs.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.effects import Effects
from monitor.sms.segments import count_segments
from monitor.store.models import Alert, Notification
from monitor.store.statements import insert_unless_exists


class Purpose(StrEnum):
    ALERT = "alert"  # please take this alert
    UNANSWERED = "unanswered"  # to duty staff: nobody took it
    TAKEN = "taken"  # someone else took it
    CANCELLED = "cancelled"  # the resident cancelled
    CONFIRMATION = "confirmation"  # answer to a volunteer's reply
    HELP = "help"  # answer to a reply we could not read


#: Lower goes first: people being asked to help before everything else.
PRIORITY: dict[Purpose, int] = {
    Purpose.ALERT: 0,
    Purpose.UNANSWERED: 0,
    Purpose.CONFIRMATION: 2,
    Purpose.TAKEN: 3,
    Purpose.CANCELLED: 3,
    Purpose.HELP: 5,
}

#: Purposes that ask someone to act; replies are matched against these.
ASKING: frozenset[str] = frozenset({Purpose.ALERT, Purpose.UNANSWERED})


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent
    CLAIMED = "claimed"  # a sender is handing it to the provider right now
    UNCONFIRMED = "unconfirmed"  # the hand-over's outcome is unknown: check before any resend
    CANCELLED = "cancelled"  # no longer needed (the alert was taken first)
    REJECTED = "rejected"  # the provider refused it for good
    # the provider's own statuses from here on
    ACCEPTED = "accepted"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


#: Statuses after which the message can no longer reach the phone.
UNREACHED: frozenset[str] = frozenset(
    {NotificationStatus.REJECTED, NotificationStatus.UNDELIVERED, NotificationStatus.FAILED}
)


def dedupe_key(
    *, purpose: Purpose, phone: str, alert_id: int | None, tier: int | None, round_number: int | None
) -> str:
    return f"{alert_id}:{purpose}:{tier}:{round_number}:{phone}"


async def queue_sms(
    session: AsyncSession,
    effects: Effects,
    *,
    phone: str,
    body: str,
    purpose: Purpose,
    now: datetime,
    alert_id: int | None = None,
    volunteer_id: str | None = None,
    tier: int | None = None,
    round_number: int | None = None,
    key: str | None = None,
) -> int | None:
    """Queue one SMS; its id, or None when the same message was already queued."""
    segments = count_segments(body)
    notification_id = await insert_unless_exists(
        session,
        Notification,
        {
            "dedupe_key": key
            or dedupe_key(purpose=purpose, phone=phone, alert_id=alert_id, tier=tier, round_number=round_number),
            "alert_id": alert_id,
            "volunteer_id": volunteer_id,
            "phone": phone,
            "purpose": purpose.value,
            "priority": PRIORITY[purpose],
            "tier": tier,
            "round": round_number,
            "body": body,
            "segments": segments.segments,
            "encoding": segments.encoding,
            "status": NotificationStatus.PENDING.value,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        },
        ["dedupe_key"],
    )
    if notification_id is not None:
        effects.sms_queued = True
    return int(notification_id) if notification_id is not None else None


async def lock_notification(session: AsyncSession, where: ColumnElement[bool]) -> Notification | None:
    """Lock one SMS row for update, taking its alert's lock first.

    Every writer locks in the order device, alert, notification; taking a notification
    before its alert would deadlock against an acknowledgement in flight.
    """
    alert_id = await session.scalar(select(Notification.alert_id).where(where))
    if alert_id is not None:
        await session.execute(select(Alert.id).where(Alert.id == alert_id).with_for_update())
    return await session.scalar(select(Notification).where(where).with_for_update())
