"""Each phone's SMS limit: at most N SMS in any 15 minutes, the rest in one digest.

Only rows that are not urgent pass through here (``monitor.notify.requests``): they are
born ``pending`` and the outbox claims them in a pass of its own, so the limit's lookups
never stand between a press and its ask. Asks about an emergency are born claimed and
always go; they count towards the limit, so a volunteer in the middle of a storm of SOS
asks gets those and nothing else until the storm passes. A claim pass:

- claims each pending row whose phone is under its limit (counting every SMS that went, or
  is going, to it in the last 15 minutes); rows of other channels are claimed as they come;
- marks the others ``held``;
- for each phone with held rows and room again, claims one digest SMS quoting them, most
  urgent first, and marks them ``digested`` (they are never sent on their own).

On PostgreSQL, claim passes of several monitors take turns (a transaction-scoped advisory
lock), so two monitors never both spend a phone's last place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import ClaimedNotification
from monitor.notify import texts
from monitor.notify.requests import (
    PRIORITY,
    SMS,
    UNREACHED,
    URGENT_PRIORITY,
    NotificationStatus,
    Purpose,
    claimed_notification,
)
from monitor.notify.sms.segments import count_segments
from monitor.store.models import Notification, Volunteer

WINDOW = timedelta(minutes=15)
#: Rows that never reach the phone on their own: they do not count towards its limit.
NOT_COUNTED: frozenset[str] = frozenset(
    {NotificationStatus.HELD, NotificationStatus.DIGESTED, NotificationStatus.CANCELLED, *UNREACHED}
)
#: pg_advisory_xact_lock key: one claim pass at a time across monitors
CLAIM_LOCK = 8127303


@dataclass(frozen=True, slots=True)
class PhoneLimit:
    per_window: int

    async def counts(self, session: AsyncSession, phones: Iterable[str], now: datetime) -> Counter[str]:
        """SMS sent or being sent to each phone in the last 15 minutes."""
        wanted = sorted(set(phones))
        if not wanted:
            return Counter()
        rows = await session.execute(
            select(Notification.phone, func.count())
            .where(
                Notification.phone.in_(wanted),
                Notification.channel == SMS,
                Notification.claimed_at >= now - WINDOW,
                Notification.status.not_in(NOT_COUNTED),
            )
            .group_by(Notification.phone)
        )
        return Counter({phone: int(count) for phone, count in rows.all()})

    async def phones_ready_for_digest(self, session: AsyncSession, now: datetime) -> list[str]:
        """Phones with held messages and room for one more SMS now."""
        held = (
            await session.scalars(
                select(Notification.phone).where(Notification.status == NotificationStatus.HELD).distinct()
            )
        ).all()
        counts = await self.counts(session, held, now)
        return [phone for phone in held if counts[phone] < self.per_window]


class ClaimPass:
    """One transaction's worth of claiming: pending rows within their phone's limit, then digests."""

    def __init__(self, session: AsyncSession, limit: PhoneLimit, now: datetime, claimer: str) -> None:
        self.session = session
        self.limit = limit
        self.now = now
        self.claimer = claimer

    async def take_turn(self) -> None:
        """Wait for other monitors' claim passes to finish (PostgreSQL; SQLite has one writer anyway)."""
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))

    async def claim_pending(self, batch: int) -> list[ClaimedNotification]:
        due = (
            await self.session.scalars(
                select(Notification)
                .where(Notification.status == NotificationStatus.PENDING, Notification.not_before <= self.now)
                .order_by(Notification.priority, Notification.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        counts = await self.limit.counts(self.session, (row.phone for row in due), self.now)
        claimed = []
        for row in due:
            # A retry was admitted the first time; urgent rows are never held; the limit is one of SMS.
            admitted = (
                row.channel != SMS
                or row.attempts > 0
                or row.priority == URGENT_PRIORITY
                or counts[row.phone] < self.limit.per_window
            )
            if not admitted:
                row.status = NotificationStatus.HELD.value
                row.status_at = self.now
                continue
            if row.attempts == 0 and row.channel == SMS:
                counts[row.phone] += 1
            claimed.append(self._claim(row))
        return claimed

    async def claim_digests(self) -> list[ClaimedNotification]:
        digests = []
        for phone in await self.limit.phones_ready_for_digest(self.session, self.now):
            held = (
                await self.session.scalars(
                    select(Notification)
                    .where(Notification.phone == phone, Notification.status == NotificationStatus.HELD)
                    .order_by(Notification.priority, Notification.id)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if held:
                digests.append(await self._digest(phone, held))
        return digests

    async def _digest(self, phone: str, held: Sequence[Notification]) -> ClaimedNotification:
        volunteer_id = next((row.volunteer_id for row in held if row.volunteer_id), None)
        volunteer = await self.session.get(Volunteer, volunteer_id) if volunteer_id else None
        language = volunteer.language if volunteer else "en"
        message = texts.digest([row.body for row in held], language, self.limit.per_window)
        segments = count_segments(message.text)
        digest = Notification(
            dedupe_key=f"digest:{phone}:{held[0].id}",
            volunteer_id=volunteer_id,
            phone=phone,
            purpose=Purpose.DIGEST.value,
            priority=PRIORITY[Purpose.DIGEST],
            channel=SMS,
            body=message.text,
            template=message.template,
            params=dict(message.params),
            segments=segments.segments,
            encoding=segments.encoding,
            status=NotificationStatus.PENDING.value,
            attempts=0,
            not_before=self.now,
            created_at=self.now,
        )
        self.session.add(digest)
        await self.session.flush()
        for row in held:
            row.status = NotificationStatus.DIGESTED.value
            row.status_at = self.now
            row.digest_id = digest.id
        return self._claim(digest)

    def _claim(self, row: Notification) -> ClaimedNotification:
        row.status = NotificationStatus.CLAIMED.value
        row.claimed_at = self.now
        row.claimed_by = self.claimer
        row.attempts += 1
        return claimed_notification(row, at=self.now)
