"""What volunteers say by SMS about themselves: OFF, ON, PAUSE, STATUS; and STOP / START from any known phone.

OFF lasts until ON; PAUSE until its end (or an earlier ON); the latest word wins. STOP is
kept per phone: from then on nothing is queued for that number (``monitor.notify.requests``
refuses it too) and what was waiting to go is cancelled; START lifts it. The carrier (or
Twilio's Advanced Opt-Out) answers STOP and START itself, so callwatch sends nothing then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.notify.requests import NotificationStatus
from monitor.store.models import Notification, SmsOptOut, VolunteerAvailability
from monitor.store.statements import insert_unless_exists

#: Rows not yet handed to the provider: a STOP means they must never be.
NOT_YET_SENT = (NotificationStatus.PENDING.value, NotificationStatus.HELD.value)


async def _availability(session: AsyncSession, volunteer_id: str, now: datetime) -> VolunteerAvailability:
    row = await session.get(VolunteerAvailability, volunteer_id, with_for_update=True)
    if row is None:
        row = VolunteerAvailability(volunteer_id=volunteer_id, changed_at=now)
        session.add(row)
    return row


async def go_off(session: AsyncSession, volunteer_id: str, now: datetime) -> None:
    row = await _availability(session, volunteer_id, now)
    row.off_since, row.paused_until, row.changed_at = now, None, now


async def go_on(session: AsyncSession, volunteer_id: str, now: datetime) -> None:
    row = await _availability(session, volunteer_id, now)
    row.off_since, row.paused_until, row.changed_at = None, None, now


async def pause(session: AsyncSession, volunteer_id: str, length: timedelta, now: datetime) -> None:
    row = await _availability(session, volunteer_id, now)
    row.off_since, row.paused_until, row.changed_at = None, now + length, now


async def opt_out(session: AsyncSession, phone: str, now: datetime, inbound_id: int | None) -> int:
    """Record that ``phone`` replied STOP and cancel what waits to go to it; how many were cancelled."""
    await insert_unless_exists(
        session, SmsOptOut, {"phone": phone, "opted_out_at": now, "inbound_id": inbound_id}, ["phone"]
    )
    cancelled = await session.execute(
        update(Notification)
        .where(Notification.phone == phone, Notification.status.in_(NOT_YET_SENT))
        .values(status=NotificationStatus.CANCELLED.value, status_at=now, error_message="the phone opted out (STOP)")
    )
    return int(getattr(cancelled, "rowcount", 0) or 0)


async def opt_in(session: AsyncSession, phone: str) -> bool:
    """Lift ``phone``'s opt-out (it replied START); whether it had opted out."""
    lifted = await session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
    return bool(getattr(lifted, "rowcount", 0))
