"""The outbox: sends notification rows through their channels, at most once each.

A row is ``claimed`` (committed) before its channel is called, then takes the provider's
status. Urgent rows are born claimed and sent straight after their transaction commits
(``send_claimed``); the others are born ``pending`` and claimed by the outbox's own pass,
which applies each phone's SMS limit (``monitor.notify.sms.phone_limit``). Every request
then waits its turn at its channel's ``SendGate``: the sender's rate, most urgent first.

A claim is a lease: while this process still holds a row (waiting at the gate or in a
request), it renews the lease. If the process dies between claiming and recording, the
row stays ``claimed``; once its lease has run out, or sooner once its holder has been gone
``gone_after`` (another monitor on PostgreSQL: ``[mqtt] failover_s`` / 2, so that a dead
monitor's asks go out within the failover bound), the provider is asked whether it has that
message before anything is sent again. A request the provider did not answer in time is
``unconfirmed`` too; it is sent again only once the provider has no record of it a whole
lease after the attempt (it may still have been on its way). Temporary failures (429, 5xx,
no connection) are retried with backoff for as long as the message is worth sending;
permanent ones (invalid number, landline) mark the row ``rejected``, and the
``UnreachableHook`` it was given (escalation's) decides in the same transaction what that
means for the alert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import AlertState
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, ClaimedNotification, Effects, commit_then_apply
from monitor.core.health import Health
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.core.pending import PendingCount
from monitor.notify.channel import Channel, FailureKind, Outgoing, SendFailure, SendReceipt
from monitor.notify.delivery import STRAY_REPORT, UnreachableHook, apply_delivery_reports, apply_stray_reports
from monitor.notify.pacing import SendGate
from monitor.notify.provider_watch import ProviderWatch
from monitor.notify.rate_share import leave, monitors_running, share_of
from monitor.notify.requests import ASKING, SMS, NotificationStatus, claimed_notification, lock_notification, note_about
from monitor.notify.sms.phone_limit import ClaimPass, PhoneLimit
from monitor.notify.texts import Message
from monitor.store.database import Database, is_unavailable
from monitor.store.group_commit import GroupCommit
from monitor.store.models import Alert, Notification
from monitor.store.monitor_instances import alive_ids

log = logging.getLogger("callwatch.notify")

CLAIM_BATCH = 20
IDLE_CHECK_S = 1.0
#: the upkeep (lease renewal, settling, provider check) runs at least this often
UPKEEP_EVERY_S = 5.0


@dataclass(frozen=True)
class _Sent:
    """A notification its provider accepted, to be recorded on its row."""

    notification_id: int
    receipt: SendReceipt
    at: datetime


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... at most a minute: an SOS must not wait long for a provider blip."""
    return timedelta(seconds=min(60, 2**attempts))


def outgoing(claimed: ClaimedNotification) -> Outgoing:
    return Outgoing(claimed.to, Message(claimed.template, claimed.text, claimed.params), claimed.id)


class Outbox:
    def __init__(
        self,
        database: Database,
        channels: Mapping[str, Channel],
        clock: Clock,
        metrics: Metrics,
        health: Health,
        *,
        instance_id: str,
        lease_s: float,
        after_commit: AfterCommit,
        on_unreachable: UnreachableHook,
        phone_limit: int,
        rate_per_s: float,
        give_up_after_s: float,
        #: a monitor silent this long is gone: its share of the rate and its claims are the others'
        gone_after_s: float,
        #: a channel's own sender rate where it is not ``rate_per_s`` (calls: ``[voice] calls_per_s``)
        channel_rates: Mapping[str, float] | None = None,
        #: requests at once: a storm's batch overlaps its round trips (well under the provider's own limit)
        concurrency: int = 32,
    ) -> None:
        self.database = database
        self.channels = dict(channels)
        self.clock = clock
        self.metrics = metrics
        self.instance_id = instance_id
        self.lease = timedelta(seconds=lease_s)
        self.after_commit = after_commit
        self.on_unreachable = on_unreachable
        self.limit = PhoneLimit(phone_limit)
        self.give_up_after = timedelta(seconds=give_up_after_s)
        self.gone_after = timedelta(seconds=gone_after_s)
        #: each channel's sender rate at the provider, shared with the other monitors on this database
        self.sender_rates = {name: (channel_rates or {}).get(name, rate_per_s) for name in self.channels}
        #: per channel: its gate (rate and requests at once) and its provider's health
        self.gates = {
            name: SendGate(rate_per_s=self.sender_rates[name], concurrency=concurrency) for name in self.channels
        }
        self.watches = {name: ProviderWatch(health, name, channel.provider) for name, channel in self.channels.items()}
        self._wake = asyncio.Event()
        #: rows this process claimed and has not recorded yet: their leases are renewed
        self._in_hand: set[int] = set()
        self._in_flight: set[asyncio.Task[None]] = set()
        #: a storm's "reached the provider" records share commits (monitor.store.group_commit)
        self._sent_records = GroupCommit(database, self._write_sent, after_commit=after_commit, bookkeeping=True)
        #: rows given to ``send_claimed`` whose request the provider has not answered yet
        self._claimed_unanswered = PendingCount()

    def wake(self) -> None:
        self._wake.set()

    def send_claimed(self, claimed: Sequence[ClaimedNotification]) -> None:
        """Send rows a committed transaction queued (and so claimed) for this process."""
        for notification in claimed:
            self._in_hand.add(notification.id)
            self._claimed_unanswered.add()
            task = asyncio.create_task(
                self._send(notification, claimed_here=True), name=f"{notification.channel}-{notification.id}"
            )
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    async def claimed_answered(self, within_s: float) -> None:
        """Wait until the provider has answered every request ``send_claimed`` was given, at most
        ``within_s``: an escalation storm works out its next batch once this one's asks are out."""
        await self._claimed_unanswered.wait_none(within_s)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending a notification failed unexpectedly", exc_info=task.exception())

    async def drain(self, within_s: float) -> None:
        """Let notifications already handed to a provider finish recording (for a clean stop)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=within_s)

    async def run(self, stop: LoopStop) -> None:
        """Send what waits, keep leases, settle interrupted sends, watch the provider; until stopped."""
        await asyncio.gather(self._sending_loop(stop), self._upkeep_loop(stop))

    async def _sending_loop(self, stop: LoopStop) -> None:
        while not stop.requested:
            self._wake.clear()
            try:
                while await self.send_due():
                    pass
            except Exception as exc:
                _log_pass_failure("sending", exc)
            await stop.idle(IDLE_CHECK_S, self._wake)

    async def _upkeep_loop(self, stop: LoopStop) -> None:
        every = min(UPKEEP_EVERY_S, self.lease.total_seconds() / 3)
        if not self.database.is_sqlite:
            # Often enough that a dead monitor's claims and share are taken back within the failover bound.
            every = min(every, self.gone_after.total_seconds() / 2)
        while not stop.requested:
            try:
                await self._renew_leases()
                await self.recover_stale()
                await self.apply_stray_reports()
                for name, watch in self.watches.items():
                    if watch.check_due():
                        await self.check_provider(name)
                await self.share_rate()
            except Exception as exc:
                _log_pass_failure("upkeep", exc)
            await stop.idle(every)

    async def share_rate(self) -> None:
        """Take this monitor's share of the sender's rate (``monitor.notify.rate_share``)."""
        if self.database.is_sqlite:
            return  # one monitor process writes to SQLite: the whole rate is its own
        running = await monitors_running(self.database, self.instance_id, self.clock.now(), self.gone_after)
        for name, gate in self.gates.items():
            shared = self.sender_rates[name]
            rate = share_of(shared, running)
            if rate != gate.rate_per_s:
                log.info("sending at %g %s/s: %d monitors share the sender's %g/s", rate, name, running, shared)
                gate.set_rate(rate)

    async def leave(self) -> None:
        """This monitor stops: the others take its share of the rate at once."""
        if not self.database.is_sqlite:
            await leave(self.database, self.instance_id, self.clock.now(), self.gone_after)

    # -- claiming ------------------------------------------------------------------------------

    async def send_due(self) -> int:
        """Claim and send one batch of waiting notifications (and SMS digests); how many were claimed."""
        if not await self._anything_due():
            return 0
        claimed = await self._claim()
        if claimed:
            self._in_hand.update(notification.id for notification in claimed)
            await asyncio.gather(*(self._send(notification) for notification in claimed))
        return len(claimed)

    async def _anything_due(self) -> bool:
        # A read first, so an idle outbox never takes the write lock.
        now = self.clock.now()
        async with self.database.read() as session:
            due = await session.scalar(
                select(Notification.id)
                .where(Notification.status == NotificationStatus.PENDING, Notification.not_before <= now)
                .limit(1)
            )
            return due is not None or bool(await self.limit.phones_ready_for_digest(session, now))

    async def _claim(self) -> list[ClaimedNotification]:
        now = self.clock.now()
        async with self.database.write() as session:
            claim = ClaimPass(session, self.limit, now, self.instance_id)
            await claim.take_turn()
            claimed = await claim.claim_pending(CLAIM_BATCH)
            claimed += await claim.claim_digests()
        return claimed

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, notification: ClaimedNotification, *, claimed_here: bool = False) -> None:
        """``claimed_here``: given to ``send_claimed`` (counted until the provider answers)."""
        try:
            try:
                outcome = await self._hand_over(notification)
            finally:
                if claimed_here:
                    self._claimed_unanswered.done()
            if isinstance(outcome, SendFailure):
                await self._record_failure(notification, outcome)
            else:
                await self._record_sent(notification.id, notification.channel, outcome)
        finally:
            self._in_hand.discard(notification.id)

    async def _hand_over(self, notification: ClaimedNotification) -> SendReceipt | SendFailure:
        channel = self.channels.get(notification.channel)
        if channel is None:
            # Queued by a monitor with a channel this one lacks: nobody here can carry it.
            return SendFailure(FailureKind.PERMANENT, "channel", f"no {notification.channel} channel is configured")
        async with self.gates[notification.channel].turn(notification.priority, notification.rank):
            try:
                return await channel.send(outgoing(notification))
            except SendFailure as failure:
                return failure

    async def _record_sent(self, notification_id: int, channel: str, receipt: SendReceipt) -> None:
        self.watches[channel].sent()
        self.metrics.notifications_sent.labels(channel=channel).inc()
        if channel == SMS:
            self.metrics.sms_sent.inc()
        await self._sent_records.submit(_Sent(notification_id, receipt, self.clock.now()))

    async def _write_sent(self, session: AsyncSession, sent: _Sent, effects: Effects) -> None:
        notification = await lock_notification(session, Notification.id, sent.notification_id)
        if notification is None:
            return
        notification.status = sent.receipt.status
        notification.provider_id = sent.receipt.provider_id
        notification.sent_at = sent.at
        notification.status_at = sent.at
        if sent.receipt.segments is not None:
            notification.segments = sent.receipt.segments
        if notification.alert_id is not None:
            effects.changed_alert_ids.add(notification.alert_id)
        # A fast provider may have reported delivery before we stored its message id.
        await apply_delivery_reports(session, notification, self.on_unreachable, sent.at, effects)

    async def _record_failure(self, claimed: ClaimedNotification, failure: SendFailure) -> None:
        if claimed.channel == SMS:
            self.metrics.sms_failed.labels(kind=failure.kind.value, code=failure.code or "").inc()
        if (watch := self.watches.get(claimed.channel)) is not None:
            watch.failed(failure)
        log.warning("%s %d failed: %s", claimed.channel, claimed.id, failure)
        now = self.clock.now()

        async def record(session: AsyncSession, effects: Effects) -> None:
            notification = await lock_notification(session, Notification.id, claimed.id)
            if notification is None:
                return
            notification.error_code = failure.code
            notification.error_message = failure.message
            notification.status_at = now
            worth_retrying = now - notification.created_at < self.give_up_after
            if failure.kind is FailureKind.UNKNOWN:
                notification.status = NotificationStatus.UNCONFIRMED.value
            elif failure.kind is FailureKind.TEMPORARY and not await _still_asking(session, notification):
                notification.status = NotificationStatus.CANCELLED.value  # someone took the alert meanwhile
            elif failure.kind is FailureKind.TEMPORARY and worth_retrying:
                notification.status = NotificationStatus.PENDING.value
                notification.not_before = now + retry_delay(claimed.attempts)
            else:
                notification.status = NotificationStatus.REJECTED.value
                note_about(
                    session, effects, notification, "failed", f"failed for good: {failure.code} {failure.message}", now
                )
                await self.on_unreachable(session, notification, now, effects)
            if notification.alert_id is not None:
                effects.changed_alert_ids.add(notification.alert_id)

        # Urgent: a refused ask moves its alert on at once, in a storm too.
        await commit_then_apply(self.database, self.after_commit, record, urgent=True)

    # -- upkeep --------------------------------------------------------------------------------

    async def _renew_leases(self) -> None:
        """Rows still waiting here for their turn keep their claim: nobody else may settle them."""
        held = sorted(self._in_hand)
        if not held:
            return
        async with self.database.write() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id.in_(held), Notification.status == NotificationStatus.CLAIMED)
                .values(claimed_at=self.clock.now())
            )

    async def apply_stray_reports(self) -> None:
        """Delivery reports kept while their send was being recorded in another transaction."""
        async with self.database.read() as session:
            stray = await session.scalar(_ANY_STRAY_REPORT)
        if stray is None:
            return  # (a read first: an idle outbox takes no write lock)

        async def apply(session: AsyncSession, effects: Effects) -> None:
            await apply_stray_reports(session, self.on_unreachable, self.clock.now(), effects)

        await commit_then_apply(self.database, self.after_commit, apply)

    async def recover_stale(self) -> None:
        """Settle rows whose hand-over to the provider may or may not have happened."""
        now = self.clock.now()
        expired = now - self.lease
        abandoned = or_(Notification.claimed_at.is_(None), Notification.claimed_at < expired)
        if not self.database.is_sqlite:
            # Another monitor that has been silent for ``gone_after`` died: its claims need not
            # wait for their lease (the one monitor on SQLite has no one to wait for).
            abandoned = or_(abandoned, self._held_by_the_gone(now))
        stale = or_(
            Notification.status == NotificationStatus.UNCONFIRMED,
            (Notification.status == NotificationStatus.CLAIMED) & abandoned,
        )
        async with self.database.read() as session:
            candidates = (
                await session.scalars(
                    select(Notification)
                    .where(stale, Notification.id.not_in(sorted(self._in_hand)))
                    .order_by(Notification.priority, Notification.id)
                    .limit(CLAIM_BATCH)
                )
            ).all()
        for row in candidates:
            # An unconfirmed request may still reach the provider until a lease after the attempt.
            unconfirmed = row.status == NotificationStatus.UNCONFIRMED
            in_doubt = unconfirmed and row.status_at is not None and row.status_at > expired
            found = claimed_notification(row, at=row.claimed_at or now)
            await self._settle(found, seen=(row.status, row.attempts), resend=not in_doubt)

    def _held_by_the_gone(self, now: datetime) -> ColumnElement[bool]:
        """Claims of another monitor that has not noted itself alive within ``gone_after``
        (renewed within it too: a holder alive but cut off from the database also renews nothing)."""
        return (
            (Notification.claimed_by != self.instance_id)
            & Notification.claimed_at.is_not(None)
            & (Notification.claimed_at < now - self.gone_after)
            & Notification.claimed_by.not_in(alive_ids(now, self.gone_after))
        )

    async def _settle(self, claimed: ClaimedNotification, *, seen: tuple[str, int], resend: bool) -> None:
        """Record what the provider has of the row, or put it back to be sent again; ``seen`` is the
        (status, attempts) it was found in, so a row that moved on meanwhile is left alone."""
        channel = self.channels.get(claimed.channel)
        if channel is None:
            return  # another monitor's channel: that monitor settles it
        try:
            found = await channel.find_sent(outgoing(claimed), claimed.claimed_at)
        except SendFailure as failure:
            self.watches[claimed.channel].failed(failure)
            log.warning("cannot check %s %d with the provider yet: %s", claimed.channel, claimed.id, failure)
            return
        if found is not None:
            log.info(
                "%s %d had reached the provider before the interruption (%s)",
                claimed.channel,
                claimed.id,
                found.provider_id,
            )
            await self._record_sent(claimed.id, claimed.channel, found)
            return
        if not resend:
            return  # not there yet; look again at the next upkeep
        now = self.clock.now()
        async with self.database.write() as session:
            await session.execute(
                update(Notification)
                .where(
                    Notification.id == claimed.id,
                    # Only as it was seen: another monitor may have settled it and a sender claimed
                    # it again (every claim counts an attempt) while the provider was being asked.
                    Notification.status == seen[0],
                    Notification.attempts == seen[1],
                )
                .values(status=NotificationStatus.PENDING.value, not_before=now, status_at=now)
            )
        self.wake()

    async def check_provider(self, channel: str = SMS) -> None:
        """Ask a channel's provider something cheap (when idle, and while it is down); bring its
        retries forward when it is back."""
        watch = self.watches[channel]
        try:
            await self.channels[channel].check()
        except SendFailure as failure:
            watch.failed(failure)
            log.warning("the %s provider did not answer a check: %s", channel, failure)
            return
        brought_forward = await self._bring_retries_forward(channel) if watch.down else 0
        watch.answered_check(retries_waiting=brought_forward > 0)
        if brought_forward:
            log.info("the %s provider answers again: %d retries brought forward", channel, brought_forward)
            self.wake()

    async def _bring_retries_forward(self, channel: str) -> int:
        now = self.clock.now()
        async with self.database.write() as session:
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.channel == channel,
                    Notification.status == NotificationStatus.PENDING,
                    Notification.attempts > 0,
                    Notification.not_before > now,
                )
                .values(not_before=now)
            )
        return int(getattr(result, "rowcount", 0) or 0)


async def _still_asking(session: AsyncSession, notification: Notification) -> bool:
    """Whether a message is still worth sending: an ask only while its alert is open."""
    if notification.purpose not in ASKING or notification.alert_id is None:
        return True
    state = await session.scalar(_ALERT_STATE, {"alert_id": notification.alert_id})
    return state == AlertState.OPEN


_ALERT_STATE = select(Alert.state).where(Alert.id == bindparam("alert_id"))
_ANY_STRAY_REPORT = STRAY_REPORT.limit(1)


def _log_pass_failure(what: str, error: Exception) -> None:
    if is_unavailable(error):
        log.error("outbox %s cannot reach the database: %s", what, error)
    else:
        log.exception("outbox %s pass failed; retrying", what, exc_info=error)
