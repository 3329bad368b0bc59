"""The SMS outbox: sends SMS rows, at most once each.

A row is ``claimed`` (committed) before the provider is called, then takes the provider's
status. Urgent rows are born claimed and sent straight after their transaction commits
(``send_claimed``); the others are born ``pending`` and claimed by the outbox's own pass,
which applies each phone's limit (``monitor.notify.sms.phone_limit``). Every request then waits its
turn at the ``SendGate``: the sender's rate, most urgent first.

A claim is a lease: while this process still holds a row (waiting at the gate or in a
request), it renews the lease. If the process dies between claiming and recording, the
row stays ``claimed``; once its lease has run out it becomes ``unconfirmed`` and the
provider is asked whether it has that message before anything is sent again. A request
the provider did not answer in time is ``unconfirmed`` too; it is sent again only once
the provider has no record of it a whole lease after the attempt (it may still have been
on its way). Temporary failures (429, 5xx, no connection) are retried with backoff for as
long as the message is worth sending; permanent ones (invalid number, landline) mark the
row ``rejected`` and let escalation move on to the next people at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import AlertState
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, ClaimedSms, Effects
from monitor.core.health import Health
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.core.pending import PendingCount
from monitor.escalation.engine import Escalation
from monitor.notify.channel import FailureKind, OutgoingSms, SendFailure, SendReceipt, SmsGateway
from monitor.notify.delivery import apply_delivery_reports
from monitor.notify.pacing import SendGate
from monitor.notify.provider_watch import ProviderWatch
from monitor.notify.rate_share import leave, monitors_running
from monitor.notify.requests import ASKING, NotificationStatus, lock_notification
from monitor.notify.sms.phone_limit import ClaimPass, PhoneLimit
from monitor.store.database import Database, is_unavailable
from monitor.store.group_commit import GroupCommit
from monitor.store.models import Alert, AlertEvent, Notification

log = logging.getLogger("callwatch.sms")

CLAIM_BATCH = 20
IDLE_CHECK_S = 1.0
#: the upkeep (lease renewal, settling, provider check) runs at least this often
UPKEEP_EVERY_S = 5.0


@dataclass(frozen=True)
class _Sent:
    """An SMS the provider accepted, to be recorded on its row."""

    notification_id: int
    receipt: SendReceipt
    at: datetime


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
        phone_limit: int,
        rate_per_s: float,
        give_up_after_s: float,
        #: requests at once: a storm's batch overlaps its round trips (well under the provider's own limit)
        concurrency: int = 32,
    ) -> None:
        self.database = database
        self.gateway = gateway
        self.escalation = escalation
        self.clock = clock
        self.metrics = metrics
        self.instance_id = instance_id
        self.lease = timedelta(seconds=lease_s)
        self.status_callback_url = status_callback_url
        self.after_commit = after_commit
        self.limit = PhoneLimit(phone_limit)
        self.give_up_after = timedelta(seconds=give_up_after_s)
        #: the sender's rate at the provider, shared with the other monitors on this database
        self.sender_rate_per_s = rate_per_s
        self.gate = SendGate(rate_per_s=rate_per_s, concurrency=concurrency)
        self.watch = ProviderWatch(health, gateway.name)
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

    def send_claimed(self, claimed: Sequence[ClaimedSms]) -> None:
        """Send rows a committed transaction queued (and so claimed) for this process."""
        for sms in claimed:
            self._in_hand.add(sms.id)
            self._claimed_unanswered.add()
            task = asyncio.create_task(self._send(sms, claimed_here=True), name=f"sms-{sms.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    async def claimed_answered(self, within_s: float) -> None:
        """Wait until the provider has answered every request ``send_claimed`` was given, at most
        ``within_s``: an escalation storm works out its next batch once this one's SMS are out."""
        await self._claimed_unanswered.wait_none(within_s)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending an SMS failed unexpectedly", exc_info=task.exception())

    async def drain(self, within_s: float) -> None:
        """Let SMS already handed to the provider finish recording (for a clean stop)."""
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
        while not stop.requested:
            try:
                await self._renew_leases()
                await self.recover_stale()
                if self.watch.check_due():
                    await self.check_provider()
                await self.share_rate()
            except Exception as exc:
                _log_pass_failure("upkeep", exc)
            await stop.idle(every)

    async def share_rate(self) -> None:
        """Take this monitor's share of the sender's rate (``monitor.notify.rate_share``)."""
        if self.database.is_sqlite:
            return  # one monitor process writes to SQLite: the whole rate is its own
        running = await monitors_running(self.database, self.instance_id, self.clock.now())
        rate = self.sender_rate_per_s / running
        if rate != self.gate.rate_per_s:
            log.info("sending at %g SMS/s: %d monitors share the sender's %g/s", rate, running, self.sender_rate_per_s)
            self.gate.set_rate(rate)

    async def leave(self) -> None:
        """This monitor stops: the others take its share of the rate at once."""
        if not self.database.is_sqlite:
            await leave(self.database, self.instance_id)

    # -- claiming ------------------------------------------------------------------------------

    async def send_due(self) -> int:
        """Claim and send one batch of waiting SMS (and digests); how many were claimed."""
        if not await self._anything_due():
            return 0
        claimed = await self._claim()
        if claimed:
            self._in_hand.update(sms.id for sms in claimed)
            await asyncio.gather(*(self._send(sms) for sms in claimed))
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

    async def _claim(self) -> list[ClaimedSms]:
        now = self.clock.now()
        async with self.database.write() as session:
            claim = ClaimPass(session, self.limit, now, self.instance_id)
            await claim.take_turn()
            claimed = await claim.claim_pending(CLAIM_BATCH)
            claimed += await claim.claim_digests()
        return claimed

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, sms: ClaimedSms, *, claimed_here: bool = False) -> None:
        """``claimed_here``: given to ``send_claimed`` (counted until the provider answers)."""
        try:
            try:
                async with self.gate.turn(sms.priority):
                    try:
                        receipt = await self.gateway.send(OutgoingSms(sms.phone, sms.body, self.status_callback_url))
                    except SendFailure as failure:
                        outcome: SendReceipt | SendFailure = failure
                    else:
                        outcome = receipt
            finally:
                if claimed_here:
                    self._claimed_unanswered.done()
            if isinstance(outcome, SendFailure):
                await self._record_failure(sms, outcome)
            else:
                await self._record_sent(sms.id, outcome)
        finally:
            self._in_hand.discard(sms.id)

    async def _record_sent(self, notification_id: int, receipt: SendReceipt) -> None:
        self.watch.sent()
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
        await apply_delivery_reports(session, notification, self.escalation, sent.at, effects)

    async def _record_failure(self, sms: ClaimedSms, failure: SendFailure) -> None:
        self.metrics.sms_failed.labels(kind=failure.kind.value, code=failure.code or "").inc()
        self.watch.failed(failure)
        log.warning("SMS %d failed: %s", sms.id, failure)
        now = self.clock.now()

        async def record(session: AsyncSession) -> Effects:
            effects = Effects()
            notification = await lock_notification(session, Notification.id, sms.id)
            if notification is None:
                return effects
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
                notification.not_before = now + retry_delay(sms.attempts)
            else:
                notification.status = NotificationStatus.REJECTED.value
                await self._log_failure(session, notification, failure, now, effects)
                await self.escalation.on_unreachable(session, notification, now, effects)
            if notification.alert_id is not None:
                effects.changed_alert_ids.add(notification.alert_id)
            return effects

        # Urgent: a refused SMS moves its alert on at once, in a storm too.
        await self.after_commit(await self.database.transact(record, urgent=True))

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

    async def recover_stale(self) -> None:
        """Settle rows whose hand-over to the provider may or may not have happened."""
        now = self.clock.now()
        expired = now - self.lease
        stale = or_(
            Notification.status == NotificationStatus.UNCONFIRMED,
            (Notification.status == NotificationStatus.CLAIMED)
            & or_(Notification.claimed_at.is_(None), Notification.claimed_at < expired),
        )
        async with self.database.read() as session:
            candidates = (
                await session.execute(
                    select(
                        Notification.id,
                        Notification.phone,
                        Notification.body,
                        Notification.status,
                        Notification.attempts,
                        Notification.claimed_at,
                        Notification.status_at,
                    )
                    .where(stale, Notification.id.not_in(sorted(self._in_hand)))
                    .order_by(Notification.priority, Notification.id)
                    .limit(CLAIM_BATCH)
                )
            ).all()
        for notification_id, phone, body, status, attempts, claimed_at, status_at in candidates:
            # An unconfirmed request may still reach the provider until a lease after the attempt.
            in_doubt = status == NotificationStatus.UNCONFIRMED and status_at is not None and status_at > expired
            await self._settle(
                notification_id, phone, body, claimed_at or now, seen=(status, attempts), resend=not in_doubt
            )

    async def _settle(
        self,
        notification_id: int,
        phone: str,
        body: str,
        claimed_at: datetime,
        *,
        seen: tuple[str, int],
        resend: bool,
    ) -> None:
        """Record what the provider has of the row, or put it back to be sent again; ``seen`` is the
        (status, attempts) it was found in, so a row that moved on meanwhile is left alone."""
        try:
            found = await self.gateway.find_sent(phone, body, claimed_at)
        except SendFailure as failure:
            self.watch.failed(failure)
            log.warning("cannot check SMS %d with the provider yet: %s", notification_id, failure)
            return
        if found is not None:
            log.info("SMS %d had reached the provider before the interruption (%s)", notification_id, found.provider_id)
            await self._record_sent(notification_id, found)
            return
        if not resend:
            return  # not there yet; look again at the next upkeep
        now = self.clock.now()
        async with self.database.write() as session:
            await session.execute(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    # Only as it was seen: another monitor may have settled it and a sender claimed
                    # it again (every claim counts an attempt) while the provider was being asked.
                    Notification.status == seen[0],
                    Notification.attempts == seen[1],
                )
                .values(status=NotificationStatus.PENDING.value, not_before=now, status_at=now)
            )
        self.wake()

    async def check_provider(self) -> None:
        """Ask the provider something cheap (when idle, and while it is down); bring retries forward when it is back."""
        try:
            await self.gateway.check()
        except SendFailure as failure:
            self.watch.failed(failure)
            log.warning("the SMS provider did not answer a check: %s", failure)
            return
        brought_forward = await self._bring_retries_forward() if self.watch.down else 0
        self.watch.answered_check(retries_waiting=brought_forward > 0)
        if brought_forward:
            log.info("the SMS provider answers again: %d retries brought forward", brought_forward)
            self.wake()

    async def _bring_retries_forward(self) -> int:
        now = self.clock.now()
        async with self.database.write() as session:
            result = await session.execute(
                update(Notification)
                .where(
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


def _log_pass_failure(what: str, error: Exception) -> None:
    if is_unavailable(error):
        log.error("SMS outbox %s cannot reach the database: %s", what, error)
    else:
        log.exception("SMS outbox %s pass failed; retrying", what, exc_info=error)
