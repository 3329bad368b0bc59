"""Escalation's timers: the loop that runs every step whose time has come.

Timers are the open alerts' ``next_escalation_at`` and the taken alerts' ``follow_up_at``
(reminders and deadlines of whoever took them: ``monitor.alerts.follow_up``, run through the
``follow_up`` hook, ``monitor.actions.follow_through``). The loop looks at least every
``IDLE_CHECK_S`` (other monitors set timers too, and clocks jump), and sooner when a
committed transaction set an earlier one (``timer_set``). Due alerts are claimed with
``FOR UPDATE SKIP LOCKED``, a batch per transaction, so several monitors never step the
same alert and a storm of a thousand due alerts costs ten transactions, not a thousand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import TAKEN, AlertState
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects, commit_then_apply
from monitor.core.heartbeat import Heartbeat
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.escalation.engine import Escalation
from monitor.escalation.step_reads import StepReads
from monitor.store.database import Database
from monitor.store.models import Alert

log = logging.getLogger("callwatch.escalation")

#: Waits at most the seconds given until the notifications handed over so far have reached their provider.
HandedOver = Callable[[float], Awaitable[None]]

#: How often the loop looks for due work even when nothing woke it (other monitors, clock jumps).
IDLE_CHECK_S = 1.0
#: Steps per transaction: in a storm, fewer transactions is less Python per alert.
DUE_BATCH = 100
#: In a storm, how long a batch's asks may take to reach the provider before the next batch goes on anyway.
BATCH_HANDOVER_WAIT_S = 1.0
#: The open alerts whose timer has run out, the earliest first.
DUE = select(Alert).where(Alert.state == AlertState.OPEN, Alert.next_escalation_at.is_not(None))
#: The taken alerts with a follow-through step to come.
FOLLOW_UPS = select(Alert).where(Alert.state.in_([state.value for state in TAKEN]), Alert.follow_up_at.is_not(None))
#: Runs a taken alert's due follow-through step, inside the timer's transaction (the alert locked).
FollowUpStep = Callable[[AsyncSession, Effects, Alert, StepReads], Awaitable[None]]


class EscalationTimer:
    def __init__(
        self,
        engine: Escalation,
        database: Database,
        clock: Clock,
        metrics: Metrics,
        *,
        after_commit: AfterCommit,
        follow_up: FollowUpStep | None = None,
    ) -> None:
        self.engine = engine
        self.follow_up = follow_up
        self.database = database
        self.clock = clock
        self.metrics = metrics
        self.after_commit = after_commit
        self._wake = asyncio.Event()
        #: when the idle loop will look again by itself (None while it is not idle)
        self._looks_again_at: datetime | None = None

    def timer_set(self, at: datetime) -> None:
        """A committed transaction set an alert's timer to ``at``: wake the loop if it would look too late.

        Not on every new timer: the loop looks at least every ``IDLE_CHECK_S``, and a read
        transaction per press right after its commit would compete with the press's asks.
        """
        if self._looks_again_at is None or at < self._looks_again_at:
            self._wake.set()

    async def run_due(self) -> int:
        """Step the open alerts whose timeout has passed and the taken alerts whose follow-up is
        due (at most a batch of each); how many of the larger kind were stepped."""
        now = self.clock.now()

        async def step_due(session: AsyncSession, effects: Effects) -> int:
            due = (
                await session.scalars(
                    DUE.where(Alert.next_escalation_at <= now)
                    .order_by(Alert.next_escalation_at)
                    .limit(DUE_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            # One read of the batch's residents and notification rows serves every step; the
            # steps' changes are written together at the commit, not flushed step by step.
            reads = self.engine.reads(session, now)
            with session.no_autoflush:
                await reads.prefetch(due)
                for alert in due:
                    if alert.next_escalation_at is not None:
                        self.metrics.escalation_lag.observe((now - alert.next_escalation_at).total_seconds())
                    reason = f"nobody took it within tier {alert.tier + 1}'s timeout"
                    await self.engine.step(session, alert, now, effects, reason, reads)
            if self.follow_up is None:
                return len(due)
            following = (
                await session.scalars(
                    FOLLOW_UPS.where(Alert.follow_up_at <= now)
                    .order_by(Alert.follow_up_at)
                    .limit(DUE_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            with session.no_autoflush:
                await reads.prefetch(following)
                for alert in following:
                    if alert.follow_up_at is not None:
                        self.metrics.escalation_lag.observe((now - alert.follow_up_at).total_seconds())
                    await self.follow_up(session, effects, alert, reads)
            return max(len(due), len(following))

        return await commit_then_apply(self.database, self.after_commit, step_due, urgent=True)

    async def next_due(self) -> datetime | None:
        async with self.database.read() as session:
            escalation: datetime | None = await session.scalar(
                select(func.min(Alert.next_escalation_at)).where(Alert.state == AlertState.OPEN)
            )
            if self.follow_up is None:
                return escalation
            follow_up: datetime | None = await session.scalar(
                select(func.min(Alert.follow_up_at)).where(Alert.state.in_([state.value for state in TAKEN]))
            )
            return min((due for due in (escalation, follow_up) if due is not None), default=None)

    async def run(self, heartbeat: Heartbeat, stop: LoopStop, handed_over: HandedOver | None = None) -> None:
        """Keep every escalation on time until stopped, beating ``heartbeat`` as the loop turns.

        ``handed_over``: waits (at most the seconds given) until the provider has answered the
        requests of the steps so far. In a storm (more steps due than one batch), each batch's
        asks go out before the next batch is worked out, and bookkeeping waits
        (``Database.urgent_burst``): on one core, the last ask goes out soonest that way.
        """
        while not stop.requested:
            heartbeat.beat()
            self._wake.clear()
            self._looks_again_at = None
            try:
                due = await self.next_due()
                # A read decides whether the write lock is needed at all.
                if due is not None and due <= self.clock.now():
                    async with self.database.urgent_burst():
                        while await self.run_due() == DUE_BATCH:
                            heartbeat.beat()
                            if handed_over is not None:
                                await handed_over(BATCH_HANDOVER_WAIT_S)
                    due = await self.next_due()
            except Exception:  # a bug or a database outage must not end escalation for good
                log.exception("escalation pass failed; retrying")
                due = None
                if not await stop.idle(IDLE_CHECK_S):
                    return
            wait = IDLE_CHECK_S
            if due is not None:
                wait = min(wait, (due - self.clock.now()).total_seconds())
            self._looks_again_at = self.clock.now() + timedelta(seconds=wait)
            await stop.idle(wait, self._wake)
