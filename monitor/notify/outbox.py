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

A channel may have several providers (``[sms] providers``, in failover order). A row goes to
the first that is up (``monitor.notify.provider_watch``); the provider it goes to is on the
row before the request (a row that names none goes to the channel's first), so a row in doubt
is always settled with the provider that may have it. When a provider fails in a way that says
"not sent" (no connection, 5xx, our account or template refused), the same transaction that
records the failure puts the row on the next provider that is up and wakes the outbox: it goes
out within moments. A request whose outcome is unknown is settled with its provider first, as
above, and goes to the next provider only once that one has no record of it a lease after. A message with a
responder link goes through a provider that carries no links without it.
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
from monitor.notify.provider_watch import ProviderWatch, add_providers, provider_rows
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
    #: the provider that accepted it, and the text it was given
    provider: str
    text: str


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... at most a minute: an SOS must not wait long for a provider blip."""
    return timedelta(seconds=min(60, 2**attempts))


def outgoing(claimed: ClaimedNotification, carrier: Channel) -> Outgoing:
    """The row's message as ``carrier`` is given it (without the responder link if it carries none)."""
    message = Message(claimed.template, claimed.text, claimed.params, claimed.without_link)
    return Outgoing(claimed.to, message.for_links(carrier.links), claimed.id)


class Outbox:
    def __init__(
        self,
        database: Database,
        #: every provider of every channel, a channel's in failover order (``monitor.notify.channels``)
        channels: Sequence[Channel],
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
        #: each channel's providers, in failover order
        self.providers: dict[str, tuple[Channel, ...]] = {}
        for channel in channels:
            self.providers[channel.name] = (*self.providers.get(channel.name, ()), channel)
        self.clock = clock
        self.metrics = metrics
        self.instance_id = instance_id
        self.lease = timedelta(seconds=lease_s)
        self.after_commit = after_commit
        self.on_unreachable = on_unreachable
        self.limit = PhoneLimit(phone_limit)
        self.give_up_after = timedelta(seconds=give_up_after_s)
        self.gone_after = timedelta(seconds=gone_after_s)
        #: each channel's sender rate at a provider, shared with the other monitors on this database
        self.sender_rates = {name: (channel_rates or {}).get(name, rate_per_s) for name in self.providers}
        self.health = health
        #: per provider of a channel: its gate (rate and requests at once) and its state
        self.gates = {
            (name, channel.provider): SendGate(rate_per_s=self.sender_rates[name], concurrency=concurrency)
            for name, providers in self.providers.items()
            for channel in providers
        }
        self.watches = {
            (name, channel.provider): ProviderWatch(health, metrics, name, channel.provider, one_of=len(providers))
            for name, providers in self.providers.items()
            for channel in providers
        }
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
                await self.read_providers()
                await self.recover_stale()
                await self.apply_stray_reports()
                for (channel, provider), watch in self.watches.items():
                    if watch.check_due():
                        await self.check_provider(channel, provider)
                await self.share_rate()
            except Exception as exc:
                _log_pass_failure("upkeep", exc)
            await stop.idle(every)

    async def share_rate(self) -> None:
        """Take this monitor's share of each sender's rate (``monitor.notify.rate_share``)."""
        if self.database.is_sqlite:
            return  # one monitor process writes to SQLite: the whole rate is its own
        running = await monitors_running(self.database, self.instance_id, self.clock.now(), self.gone_after)
        for (name, provider), gate in self.gates.items():
            shared = self.sender_rates[name]
            rate = share_of(shared, running)
            if rate != gate.rate_per_s:
                log.info(
                    "sending at %g %s/s through %s: %d monitors share the sender's %g/s",
                    rate,
                    name,
                    provider,
                    running,
                    shared,
                )
                gate.set_rate(rate)

    # -- providers -----------------------------------------------------------------------------

    async def add_providers(self) -> None:
        """Give every configured provider its state row (at start), and take the rows' states."""
        now = self.clock.now()
        async with self.database.write() as session:
            for name, providers in self.providers.items():
                await add_providers(session, name, [channel.provider for channel in providers], now)
        await self.read_providers()

    async def read_providers(self) -> None:
        """Take each provider's state as its row says (another monitor may have marked it)."""
        async with self.database.read() as session:
            rows = await provider_rows(session)
        for row in rows:
            if (watch := self.watches.get((row.channel, row.provider))) is not None:
                watch.show(row)
        self._show_channels()

    def _show_channels(self) -> None:
        """A channel of several providers is down on /healthz only while all of them are."""
        for name, providers in self.providers.items():
            if len(providers) == 1:
                continue  # its provider's state is the channel's
            up = [channel.provider for channel in providers if not self.watches[(name, channel.provider)].down]
            detail = f"through {up[0]} ({', '.join(up)} up)" if up else "every provider is down"
            self.health.mark(name, ok=bool(up), detail=detail)

    def in_failover_order(self, channel: str) -> list[Channel]:
        """A channel's providers, those up first, each group in the configured order."""
        providers = self.providers.get(channel, ())
        return sorted(providers, key=lambda carrier: self.watches[(channel, carrier.provider)].down)

    def _named(self, channel: str, provider: str | None) -> Channel | None:
        """The channel's provider a row names (None: the channel's first); None if not configured here."""
        providers = self.providers.get(channel, ())
        if provider is None:
            return providers[0] if providers else None
        return next((carrier for carrier in providers if carrier.provider == provider), None)

    def _carrier(self, claimed: ClaimedNotification) -> Channel | None:
        """The provider to hand a row to: the one it names, unless that is down and another is up."""
        named = self._named(claimed.channel, claimed.provider)
        if named is not None and not self.watches[(claimed.channel, named.provider)].down:
            return named
        up = self.in_failover_order(claimed.channel)
        return up[0] if up else None

    def _next_provider(self, channel: str, after: str) -> Channel | None:
        """The first provider after ``after`` that is up: where a message ``after`` did not send goes next."""
        providers = self.providers.get(channel, ())
        names = [carrier.provider for carrier in providers]
        later = providers[names.index(after) + 1 :] if after in names else ()
        return next((carrier for carrier in later if not self.watches[(channel, carrier.provider)].down), None)

    async def _assign(self, claimed: ClaimedNotification, carrier: Channel) -> bool:
        """Write on a claimed row the provider it goes to, before the request, so a crash after it
        is settled with that provider; False when the row is no longer this claim's."""
        async with self.database.write() as session:
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.id == claimed.id,
                    Notification.status == NotificationStatus.CLAIMED,
                    Notification.attempts == claimed.attempts,
                )
                .values(provider=carrier.provider)
            )
        return bool(getattr(result, "rowcount", 0))

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
                carrier, outcome = await self._hand_over(notification)
            finally:
                if claimed_here:
                    self._claimed_unanswered.done()
            if carrier is None or outcome is None:
                return
            if isinstance(outcome, SendFailure):
                await self._record_failure(notification, carrier, outcome)
            else:
                await self._record_sent(notification, carrier, outcome)
        finally:
            self._in_hand.discard(notification.id)

    async def _hand_over(
        self, notification: ClaimedNotification
    ) -> tuple[Channel | None, SendReceipt | SendFailure | None]:
        """The provider the row went to and its answer; no answer when the row was no longer ours."""
        carrier = self._carrier(notification)
        if carrier is None:
            # Queued by a monitor with a channel this one lacks: nobody here can carry it.
            no_channel = SendFailure(
                FailureKind.PERMANENT, "channel", f"no {notification.channel} channel is configured"
            )
            await self._record_failure(notification, None, no_channel)
            return None, None
        named = self._named(notification.channel, notification.provider)
        if carrier is not named and not await self._assign(notification, carrier):
            return carrier, None
        async with self.gates[(notification.channel, carrier.provider)].turn(notification.priority, notification.rank):
            try:
                return carrier, await carrier.send(outgoing(notification, carrier))
            except SendFailure as failure:
                return carrier, failure

    async def _record_sent(self, claimed: ClaimedNotification, carrier: Channel, receipt: SendReceipt) -> None:
        self.metrics.notifications_sent.labels(channel=claimed.channel).inc()
        if claimed.channel == SMS:
            self.metrics.sms_sent.inc()
        watch = self.watches[(claimed.channel, carrier.provider)]
        text = outgoing(claimed, carrier).message.text
        now = self.clock.now()
        await self._sent_records.submit(_Sent(claimed.id, receipt, now, carrier.provider, text))
        watch.heard()
        if not watch.clean:
            # Its own transaction: the provider's row is locked only after a notification's, or alone.
            async with self.database.write() as session:
                await watch.accepted(session, now)
            self._show_channels()

    async def _write_sent(self, session: AsyncSession, sent: _Sent, effects: Effects) -> None:
        notification = await lock_notification(session, Notification.id, sent.notification_id)
        if notification is None:
            return
        notification.status = sent.receipt.status
        notification.provider_id = sent.receipt.provider_id
        notification.provider = sent.provider
        # What its provider was given (without the responder link, through one that carries none)
        notification.body = sent.text
        notification.body_without_link = None
        notification.sent_at = sent.at
        notification.status_at = sent.at
        if sent.receipt.segments is not None:
            notification.segments = sent.receipt.segments
        if notification.alert_id is not None:
            effects.changed_alert_ids.add(notification.alert_id)
        # A fast provider may have reported delivery before we stored its message id.
        await apply_delivery_reports(session, notification, self.on_unreachable, sent.at, effects)

    async def _record_failure(
        self, claimed: ClaimedNotification, carrier: Channel | None, failure: SendFailure
    ) -> None:
        """Record what became of a row ``carrier`` did not take (None: no provider here can)."""
        if claimed.channel == SMS:
            self.metrics.sms_failed.labels(kind=failure.kind.value, code=failure.code or "").inc()
        watch = self.watches[(claimed.channel, carrier.provider)] if carrier is not None else None
        log.warning(
            "%s %d failed%s: %s",
            claimed.channel,
            claimed.id,
            f" through {carrier.provider}" if carrier else "",
            failure,
        )
        now = self.clock.now()
        # Not sent, and not the number's fault: the channel's next provider may carry it.
        next_carrier = (
            self._next_provider(claimed.channel, carrier.provider)
            if carrier is not None and failure.kind is not FailureKind.UNKNOWN and not failure.about_recipient
            else None
        )
        moved_on: list[str] = []

        async def record(session: AsyncSession, effects: Effects) -> None:
            notification = await lock_notification(session, Notification.id, claimed.id)
            if notification is None:
                return
            notification.error_code = failure.code
            notification.error_message = failure.message
            notification.status_at = now
            if carrier is not None:
                notification.provider = carrier.provider
            worth_retrying = now - notification.created_at < self.give_up_after
            # it could still go out: later through this provider, or now through the next
            again = failure.kind is FailureKind.TEMPORARY or next_carrier is not None
            if failure.kind is FailureKind.UNKNOWN:
                notification.status = NotificationStatus.UNCONFIRMED.value
            elif again and not await _still_asking(session, notification):
                notification.status = NotificationStatus.CANCELLED.value  # someone took the alert meanwhile
            elif next_carrier is not None and worth_retrying:
                notification.status = NotificationStatus.PENDING.value
                notification.provider = next_carrier.provider
                notification.not_before = now
                moved_on.append(next_carrier.provider)
            elif failure.kind is FailureKind.TEMPORARY and worth_retrying:
                notification.status = NotificationStatus.PENDING.value
                notification.not_before = now + retry_delay(claimed.attempts)
                # after the last provider: the first that is up again, once the delay is over
                first_up = self.in_failover_order(claimed.channel)
                if first_up:
                    notification.provider = first_up[0].provider
            else:
                notification.status = NotificationStatus.REJECTED.value
                note_about(
                    session, effects, notification, "failed", f"failed for good: {failure.code} {failure.message}", now
                )
                await self.on_unreachable(session, notification, now, effects)
            if notification.alert_id is not None:
                effects.changed_alert_ids.add(notification.alert_id)
            if watch is not None:
                await watch.failed(session, failure, now)

        # Urgent: a refused ask moves its alert on at once, in a storm too.
        await commit_then_apply(self.database, self.after_commit, record, urgent=True)
        self._show_channels()
        if moved_on and carrier is not None:
            log.warning(
                "%s %d goes out through %s instead of %s", claimed.channel, claimed.id, moved_on[0], carrier.provider
            )
            self.metrics.failovers.labels(
                channel=claimed.channel, from_provider=carrier.provider, to_provider=moved_on[0]
            ).inc()
            self.wake()

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
        """Record what the row's provider has of it, or put it back to be sent again; ``seen`` is the
        (status, attempts) it was found in, so a row that moved on meanwhile is left alone."""
        carrier = self._named(claimed.channel, claimed.provider)
        if carrier is None:
            return  # another monitor's channel or provider: that monitor settles it
        try:
            found = await carrier.find_sent(outgoing(claimed, carrier), claimed.claimed_at)
        except SendFailure as failure:
            await self._note_failure(claimed.channel, carrier.provider, failure)
            log.warning("cannot check %s %d with %s yet: %s", claimed.channel, claimed.id, carrier.provider, failure)
            return
        if found is not None:
            log.info(
                "%s %d had reached %s before the interruption (%s)",
                claimed.channel,
                claimed.id,
                carrier.provider,
                found.provider_id,
            )
            await self._record_sent(claimed, carrier, found)
            return
        if not resend:
            return  # not there yet; look again at the next upkeep
        now = self.clock.now()
        again: dict[str, object] = {"status": NotificationStatus.PENDING.value, "not_before": now, "status_at": now}
        # A request the provider did not answer, and that it does not have: not sent, as a refusal
        # is; the next provider carries it. (A claim a crash left behind says nothing of the provider.)
        next_carrier = (
            self._next_provider(claimed.channel, carrier.provider)
            if seen[0] == NotificationStatus.UNCONFIRMED
            else None
        )
        if next_carrier is not None:
            again["provider"] = next_carrier.provider
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
                .values(again)
            )
        if next_carrier is not None:
            log.warning(
                "%s %d was not sent by %s: it goes out through %s",
                claimed.channel,
                claimed.id,
                carrier.provider,
                next_carrier.provider,
            )
        self.wake()

    async def _note_failure(self, channel: str, provider: str, failure: SendFailure) -> None:
        """A lookup or a check failed: counted against the provider."""
        watch = self.watches[(channel, provider)]
        async with self.database.write() as session:
            await watch.failed(session, failure, self.clock.now())
        self._show_channels()

    async def check_provider(self, channel: str = SMS, provider: str | None = None) -> None:
        """Ask a channel's provider (its first when not named) something cheap, when idle and while
        it is down; bring the channel's retries forward when it is back."""
        carrier = self._named(channel, provider)
        if carrier is None:
            return
        watch = self.watches[(channel, carrier.provider)]
        try:
            await carrier.check()
        except SendFailure as failure:
            await self._note_failure(channel, carrier.provider, failure)
            log.warning("%s provider %s did not answer a check: %s", channel, carrier.provider, failure)
            return
        brought_forward = await self._bring_retries_forward(channel) if watch.down else 0
        if brought_forward or watch.clean:
            watch.heard()  # (with retries waiting, their sends decide: the API may answer while sending fails)
        else:
            async with self.database.write() as session:
                await watch.answered(session, self.clock.now())
            self._show_channels()
        if brought_forward:
            log.info(
                "%s provider %s answers again: %d retries brought forward", channel, carrier.provider, brought_forward
            )
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
