"""An escalation storm: more alerts due at once than one batch of steps.

On one core, the storm's last SMS goes out soonest when each batch's SMS reach the provider
before the next batch is worked out, and when bookkeeping (the records that an SMS reached
the provider) waits until the storm is over. Both are checked here through what the provider
saw and what the SMS rows say, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from sqlalchemy import func, select

from monitor.core.clock import SystemClock
from monitor.core.effects import Effects
from monitor.core.heartbeat import Heartbeat
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.escalation.engine import Escalation
from monitor.escalation.timer import DUE_BATCH, EscalationTimer
from monitor.notify.channel import Outgoing, SendReceipt
from monitor.notify.log_channel import LogChannel
from monitor.notify.requests import NotificationStatus
from monitor.store.database import Database
from monitor.store.models import Notification
from tests.notify.kit import outbox_for
from tests.support.deployment import TIER2
from tests.support.waiting import until
from tests.system.scaleout.engines import STYLE, open_due_alerts, prepare

STORM = DUE_BATCH + 10
PROVIDER_ROUND_TRIP_S = 0.002


class RecordingProvider(LogChannel):
    """Answers after a round trip's time; notes each request in the test's timeline."""

    provider = "recording"

    def __init__(self, timeline: list[str]) -> None:
        super().__init__()
        self.timeline = timeline
        self._sids = itertools.count(1)

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        self.timeline.append("sms")
        sid = f"SM{next(self._sids):032d}"
        await asyncio.sleep(PROVIDER_ROUND_TRIP_S)
        return SendReceipt(provider_id=sid, status="queued")


async def test_a_storm_sends_each_batch_before_working_out_the_next_and_records_after(
    tmp_path: Path, database_url: str
) -> None:
    await prepare(database_url, tmp_path)
    timeline: list[str] = []
    #: how many SMS rows were recorded as reached the provider when each batch of steps committed
    recorded_at_batch: list[int] = []
    clock, metrics = SystemClock(), Metrics()
    async with Database(database_url) as database:

        async def after_commit(effects: Effects) -> None:
            if effects.to_send:
                timeline.append(f"batch of {len(effects.to_send)}")
                recorded_at_batch.append(await _count_recorded(database))
                outbox.send_claimed(effects.to_send)

        escalation = Escalation(STYLE, metrics)
        timer = EscalationTimer(escalation, database, clock, metrics, after_commit=after_commit)
        outbox = outbox_for(
            database,
            {"sms": RecordingProvider(timeline)},
            clock,
            metrics=metrics,
            instance_id="storm",
            after_commit=after_commit,
            on_unreachable=escalation.on_unreachable,
            phone_limit=10_000,
            rate_per_s=1000,
        )
        await open_due_alerts(database, STORM)
        stop = LoopStop()
        loop = asyncio.create_task(timer.run(Heartbeat("escalation"), stop, outbox.claimed_answered))
        try:
            await until(lambda: timeline.count("sms") == STORM, what=f"{STORM} tier-2 SMS at the provider")
            await until(lambda: _all_recorded(database), what="every SMS recorded as reached the provider")
        finally:
            stop.request()
            await loop
        async with database.read() as session:
            phones = (await session.scalars(select(Notification.phone))).all()

    assert timeline == [f"batch of {DUE_BATCH}"] + ["sms"] * DUE_BATCH + ["batch of 10"] + ["sms"] * 10
    assert recorded_at_batch == [0, 0], "the first batch's records waited until the storm was over"
    assert phones == [TIER2] * STORM


async def _count_recorded(database: Database) -> int:
    async with database.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status == NotificationStatus.QUEUED)
        )
    return int(count or 0)


async def _all_recorded(database: Database) -> bool:
    return await _count_recorded(database) == STORM
