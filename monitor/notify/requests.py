"""Queueing notifications: one row per message to one person on one channel, written in the same
transaction as the change it reports.

A notification is a request to reach one person (an address on a channel: a phone number
for "sms") about one alert, or about the person themself, with one ``Message``
(``monitor.notify.texts``). An urgent row (someone asked to help: priority 0) is born
``claimed`` by the transaction that queues it, and that process hands it to its channel
right after the commit (``monitor.notify.outbox``): no second transaction and no
throttling stands between a press and its ask. Should the process die first, the claim's
lease runs out and the outbox checks with the provider before sending it (at most once).
Every other row is born ``pending``; the outbox claims it moments later, applying each
phone's SMS limit (``monitor.notify.sms.phone_limit``). A row's ``dedupe_key`` is unique,
so the same (alert, purpose, tier, round, person, channel) is queued at most once however
many times, or by however many monitors, the step that queues it runs
(docs/architecture.md, invariant 3).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from monitor.alerts.log import log_entry
from monitor.core.effects import ClaimedNotification, Effects
from monitor.notify.sms.segments import count_segments
from monitor.notify.texts import Message
from monitor.store.database import writing_instance
from monitor.store.models import Alert, Notification, SmsOptOut
from monitor.store.statements import insert_many_unless_exist


class Purpose(StrEnum):
    ALERT = "alert"  # please take this alert
    UNANSWERED = "unanswered"  # to duty staff: nobody took it
    TAKEN = "taken"  # someone else took it
    CANCELLED = "cancelled"  # the resident cancelled
    CONFIRMATION = "confirmation"  # answer to a volunteer's reply
    HELP = "help"  # answer to a reply we could not read
    HEALTH = "health"  # device-health news: duty staff's batched SMS, an area team's daily digest
    DIGEST = "digest"  # what a phone's limit held back, in one SMS
    WATCHDOG = "watchdog"  # to duty staff: the monitor itself is in trouble
    INFORM = "inform"  # to a resident's family: an alert about her was raised, or has ended
    FOLLOW_UP = "follow_up"  # to whoever took an alert: are you on the way, is it over, others asked too
    DUTY = "duty"  # to duty staff: a taken alert needs them (handed back, nobody arrived, not resolved)
    RETIRED = "retired"  # to a volunteer the directory retired: no more asks (once)


#: Lower goes first: people being asked to help before everything else.
PRIORITY: dict[Purpose, int] = {
    Purpose.ALERT: 0,
    Purpose.UNANSWERED: 0,
    Purpose.WATCHDOG: 0,
    # after the asks a re-escalation makes (those are what gets someone there), before the rest
    Purpose.DUTY: 1,
    Purpose.FOLLOW_UP: 1,
    Purpose.CONFIRMATION: 2,
    Purpose.TAKEN: 3,
    Purpose.CANCELLED: 3,
    Purpose.INFORM: 3,
    Purpose.HEALTH: 4,
    Purpose.DIGEST: 4,
    Purpose.HELP: 5,
    Purpose.RETIRED: 5,
}
#: Rows of this priority are sent straight after their commit and never held by a phone's limit.
URGENT_PRIORITY = 0

#: Purposes that ask someone to act; replies are matched against these.
ASKING: frozenset[str] = frozenset({Purpose.ALERT, Purpose.UNANSWERED})


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent
    CLAIMED = "claimed"  # a sender is handing it to the provider right now
    UNCONFIRMED = "unconfirmed"  # the hand-over's outcome is unknown: check before any resend
    CANCELLED = "cancelled"  # no longer needed (the alert was taken first)
    REJECTED = "rejected"  # the provider refused it for good
    HELD = "held"  # over the phone's limit: waits to go out inside a digest
    DIGESTED = "digested"  # went out inside the digest ``digest_id``
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


#: The channel of SMS; the one every reply and every notice that is not an ask goes by.
SMS = "sms"
#: The channel that calls people (``monitor.notify.voice``): asks only, answered with a key.
VOICE = "voice"


def channel_noun(channel: str) -> str:
    """How the audit log names a channel's messages: "SMS", "voice"."""
    return "SMS" if channel == SMS else channel


def dedupe_key(
    *,
    purpose: Purpose,
    phone: str,
    alert_id: int | None,
    tier: int | None,
    round_number: int | None,
    channel: str = SMS,
) -> str:
    """One row per (alert, purpose, tier, round, person, channel); an SMS's key names no channel
    (the keys of rows written before there were other channels stay valid)."""
    key = f"{alert_id}:{purpose}:{tier}:{round_number}:{phone}"
    return key if channel == SMS else f"{key}:{channel}"


@dataclass(frozen=True, slots=True)
class NotificationRequest:
    """Reach one person (``phone``: their address on ``channel``) with ``message``."""

    phone: str
    message: Message
    purpose: Purpose
    alert_id: int | None = None
    volunteer_id: str | None = None
    tier: int | None = None
    round_number: int | None = None
    channel: str = SMS
    #: overrides the default dedupe key (e.g. one answer per inbound reply)
    key: str | None = None
    #: goes out this many seconds from now, unless cancelled first (a tier's ``call_after_s``);
    #: such a row is born ``pending`` however urgent, and the outbox claims it when it is due
    after_s: float = 0.0
    #: among requests of one priority, lower goes to the provider first (``ClaimedNotification.rank``)
    rank: int = 0

    @property
    def dedupe_key(self) -> str:
        return self.key or dedupe_key(
            purpose=self.purpose,
            phone=self.phone,
            alert_id=self.alert_id,
            tier=self.tier,
            round_number=self.round_number,
            channel=self.channel,
        )


async def queue_many(
    session: AsyncSession,
    effects: Effects,
    requests: Sequence[NotificationRequest],
    now: datetime,
    *,
    opted_out: Collection[str] | None = None,
) -> list[int | None]:
    """Queue several notifications in one statement; per request its row id, or None if it was
    queued before or its phone opted out (replied STOP: nothing more may be sent to it, on any
    channel). ``opted_out``: which of the requests' phones opted out, when this transaction has
    read that already."""
    if not requests:
        return []
    # The last guard: whoever chose the recipients, an opted-out phone gets no row at all.
    if opted_out is None:
        opted_out = set(
            (
                await session.scalars(
                    select(SmsOptOut.phone).where(SmsOptOut.phone.in_({request.phone for request in requests}))
                )
            ).all()
        )
    rows = []
    claimer = writing_instance(session)
    for request in requests:
        if request.phone in opted_out:
            continue
        segments = count_segments(request.message.text)
        urgent = PRIORITY[request.purpose] == URGENT_PRIORITY and not request.after_s
        rows.append(
            {
                "dedupe_key": request.dedupe_key,
                "alert_id": request.alert_id,
                "volunteer_id": request.volunteer_id,
                "phone": request.phone,
                "channel": request.channel,
                "purpose": request.purpose.value,
                "priority": PRIORITY[request.purpose],
                "tier": request.tier,
                "round": request.round_number,
                "body": request.message.text,
                "body_without_link": request.message.without_link,
                "template": request.message.template,
                "params": dict(request.message.params),
                "segments": segments.segments,
                "encoding": segments.encoding,
                "status": (NotificationStatus.CLAIMED if urgent else NotificationStatus.PENDING).value,
                "attempts": 1 if urgent else 0,
                "not_before": now + timedelta(seconds=request.after_s),
                "created_at": now,
                "claimed_at": now if urgent else None,
                # whose it is: if that monitor dies, the others settle it without waiting out the lease
                "claimed_by": claimer if urgent else None,
            }
        )
    inserted = await insert_many_unless_exist(
        session, Notification, rows, ["dedupe_key"], (Notification.dedupe_key, Notification.id)
    )
    ids = {str(key): int(row_id) for key, row_id in inserted}
    result: list[int | None] = []
    for request in requests:
        row_id = ids.get(request.dedupe_key)
        result.append(row_id)
        if row_id is None:
            continue
        if PRIORITY[request.purpose] == URGENT_PRIORITY and not request.after_s:
            effects.to_send.append(
                ClaimedNotification(
                    row_id,
                    request.channel,
                    request.phone,
                    request.message.text,
                    request.message.template,
                    request.message.params,
                    attempts=1,
                    claimed_at=now,
                    priority=URGENT_PRIORITY,
                    rank=request.rank,
                    without_link=request.message.without_link,
                )
            )
        else:
            effects.notifications_waiting = True
    return result


async def queue_sms(
    session: AsyncSession,
    effects: Effects,
    *,
    phone: str,
    message: Message,
    purpose: Purpose,
    now: datetime,
    alert_id: int | None = None,
    volunteer_id: str | None = None,
    key: str | None = None,
    opted_out: Collection[str] | None = None,
) -> int | None:
    """Queue one SMS (answers and notices: everything that is not an ask); its id, or None when
    the same message was already queued. ``opted_out``: as for ``queue_many``."""
    request = NotificationRequest(phone, message, purpose, alert_id, volunteer_id, key=key)
    [queued] = await queue_many(session, effects, [request], now, opted_out=opted_out)
    return queued


async def lock_notification(
    session: AsyncSession, key: InstrumentedAttribute[Any], value: object
) -> Notification | None:
    """Lock the notification row whose ``key`` column (``Notification.id``, ``Notification.provider_id``)
    is ``value`` for update, taking its alert's lock first.

    Every writer locks in the order device, alert, notification; taking a notification
    before its alert would deadlock against an acknowledgement in flight.
    """
    its_alert, row = _locking(key)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        # (SQLite has one writer at a time: no row locks, nothing to order.)
        alert_id = await session.scalar(its_alert, {"value": value})
        if alert_id is not None:
            await session.execute(_LOCK_ALERT, {"alert_id": alert_id})
    notification: Notification | None = await session.scalar(row, {"value": value})
    return notification


_LOCK_ALERT = select(Alert.id).where(Alert.id == bindparam("alert_id")).with_for_update()


@cache
def _locking(key: InstrumentedAttribute[Any]) -> tuple[Select[int | None], Select[Notification]]:
    """The statements of ``lock_notification`` for one key column, built once (a storm of
    delivery reports runs them thousands of times)."""
    where = key == bindparam("value")
    return select(Notification.alert_id).where(where), select(Notification).where(where).with_for_update()


def claimed_notification(row: Notification, *, at: datetime) -> ClaimedNotification:
    """A row claimed at ``at``, as the outbox hands it to its channel."""
    return ClaimedNotification(
        row.id,
        row.channel,
        row.phone,
        row.body,
        row.template or "",
        row.params or {},
        row.attempts,
        at,
        row.priority,
        without_link=row.body_without_link,
        provider=row.provider,
    )


def note_about(
    session: AsyncSession, effects: Effects, notification: Notification, status: str, what: str, now: datetime
) -> None:
    """Put what became of a notification in its alert's log: its ``status`` ("delivered", "failed")
    and ``what`` to say of it ("failed for good: 21211 invalid number")."""
    if notification.alert_id is None:
        return
    log_entry(
        session,
        notification.alert_id,
        at=now,
        kind=f"{notification.channel}_{status}",
        detail=f"{notification.purpose} {channel_noun(notification.channel)} to {notification.phone} {what}",
        notification_id=notification.id,
    )
    effects.changed_alert_ids.add(notification.alert_id)
