"""The supervision loop: device health, check-in deadlines, reports to people, housekeeping.

Each pass first reads whether it has anything to do, and only then takes a write
transaction (on SQLite the single writer, behind any press). With several monitors on
PostgreSQL, one at a time supervises (a transaction-scoped advisory lock; the others skip
the pass; within one monitor, passes wait for each other), so an area's outage is judged
once. Work is due by times kept in the database; the loop looks every second, and sooner
when woken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects, commit_then_apply
from monitor.core.loop_stop import LoopStop
from monitor.notify.texts import MessageStyle
from monitor.store.database import Database
from monitor.store.models import Device, Resident, SeenDeviceEvent
from monitor.watch.checkin_judge import JUDGE_BATCH, CheckinJudge, checkins_due
from monitor.watch.device_health import REVIEW_BATCH, DeviceHealth, devices_due
from monitor.watch.health_reports import HealthReports
from monitor.watch.rules import SEEN_EVENTS_KEPT, SupervisionRules

log = logging.getLogger("callwatch.supervision")

IDLE_CHECK_S = 1.0
PRUNE_EVERY = timedelta(hours=1)
#: pg_try_advisory_xact_lock key: one supervising monitor at a time
SUPERVISOR_LOCK = 8127302

Work = Callable[[AsyncSession, Effects, datetime], Awaitable[int]]


class Supervision:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        actions: AlertActions,
        style: MessageStyle,
        rules: SupervisionRules,
        *,
        after_commit: AfterCommit,
    ) -> None:
        self.database = database
        self.clock = clock
        self.after_commit = after_commit
        self.devices = DeviceHealth(actions, rules)
        self.checkins = CheckinJudge(actions, style.timezone)
        self.reports = HealthReports(style, rules)
        self._wake = asyncio.Event()
        # one pass at a time in this process: a second pass would find this monitor's own
        # advisory lock taken on PostgreSQL and skip its work instead of doing it after
        self._one_pass = asyncio.Lock()
        self._pruned_at: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: LoopStop) -> None:
        """Supervise until stopped."""
        while not stop.requested:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # a bug or a database outage must not end supervision for good
                log.exception("supervision pass failed; retrying")
            await stop.idle(IDLE_CHECK_S, self._wake)

    async def run_once(self) -> None:
        """Do everything that is due now, in order: what one pass raises, the next one reports."""
        async with self._one_pass:
            await self._pass(self.clock.now())

    async def _pass(self, now: datetime) -> None:
        passes: list[tuple[Callable[[AsyncSession, datetime], Awaitable[bool]], Work, int | None]] = [
            (self._devices_due, self.devices.review_due, REVIEW_BATCH),
            (self._checkins_due, self.checkins.judge_due, JUDGE_BATCH),
            (self.reports.staff_due, self.reports.tell_staff, None),
            (self.reports.digest_due, self.reports.send_digests, None),
        ]
        for is_due, work, batch in passes:
            async with self.database.read() as session:  # a cheap read decides whether to take the write lock
                due = await is_due(session, now)
            while due:
                due = await self._write(work, now) == batch
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            await self._write(self._forget_old_event_ids, now)
            self._pruned_at = now

    async def _devices_due(self, session: AsyncSession, now: datetime) -> bool:
        return await session.scalar(select(Device.id).where(*devices_due(now)).limit(1)) is not None

    async def _checkins_due(self, session: AsyncSession, now: datetime) -> bool:
        return await session.scalar(select(Resident.id).where(*checkins_due(now)).limit(1)) is not None

    async def _write(self, work: Work, now: datetime) -> int:
        """Run one pass in its own transaction, then carry out its effects; how much it did."""

        async def supervise(session: AsyncSession, effects: Effects) -> int:
            if not await _exclusive(session):
                return 0  # another monitor is supervising right now
            return await work(session, effects, now)

        return await commit_then_apply(self.database, self.after_commit, supervise)

    async def _forget_old_event_ids(self, session: AsyncSession, effects: Effects, now: datetime) -> int:
        """Device event ids are kept for SEEN_EVENTS_KEPT to drop redeliveries, then forgotten."""
        result = await session.execute(delete(SeenDeviceEvent).where(SeenDeviceEvent.seen_at < now - SEEN_EVENTS_KEPT))
        return int(getattr(result, "rowcount", 0) or 0)


async def _exclusive(session: AsyncSession) -> bool:
    """Whether this transaction may supervise: always on SQLite (one writer at a time anyway)."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text(f"SELECT pg_try_advisory_xact_lock({SUPERVISOR_LOCK})")))
