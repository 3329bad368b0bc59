"""Two monitors racing for the same work on one PostgreSQL never both do it.

- Escalation: both run their timer pass at the same moment over the same due alerts, round
  after round: every alert moves on exactly once and each of its next tier's SMS is queued
  (and claimed for sending) by exactly one of them.
- Sending: an SMS claimed by a monitor that died is settled by two survivors at once; one puts
  it back and sends it while the other's question to the provider is still on its way. The
  slower one must not put it back again (it went out once).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from monitor.core.effects import Effects
from monitor.notify.requests import NotificationRequest, NotificationStatus, Purpose, queue_many
from monitor.notify.texts import Message
from monitor.store.models import Alert, AlertEvent, Notification
from tests.support.deployment import TIER2
from tests.support.waiting import until
from tests.system.scaleout.engines import LEASE_S, Engines, FakeProvider, open_due_alerts, prepare

ROUNDS = 40
ALERTS_PER_ROUND = 3


async def test_two_monitors_racing_for_due_escalations_never_both_step_one(tmp_path: Path, database_url: str) -> None:
    await prepare(database_url, tmp_path)
    provider = FakeProvider()
    chooser = random.Random(3)
    async with Engines(database_url, provider, "a") as first, Engines(database_url, provider, "b") as second:
        alert_ids: list[int] = []
        winners: Counter[str] = Counter()
        for _ in range(ROUNDS):
            alert_ids += await open_due_alerts(first.database, ALERTS_PER_ROUND)
            # Start together, give or take a few ms either way: both orders, and true overlap.
            stagger = chooser.uniform(0, 0.005)
            late, early = (first, second) if chooser.random() < 0.5 else (second, first)

            async def later(engines: Engines = late, pause: float = stagger) -> int:
                await asyncio.sleep(pause)
                return await engines.timer.run_due()

            advanced = await asyncio.gather(early.timer.run_due(), later())
            assert sum(advanced) == ALERTS_PER_ROUND, f"advanced {advanced} of {ALERTS_PER_ROUND}"
            winners["both" if all(advanced) else early.name if advanced[0] else late.name] += 1

        async with first.database.read() as session:
            tiers = Counter((await session.scalars(select(Alert.tier).where(Alert.id.in_(alert_ids)))).all())
            escalated = Counter(
                (
                    await session.scalars(
                        select(AlertEvent.alert_id).where(
                            AlertEvent.alert_id.in_(alert_ids), AlertEvent.kind == "escalated"
                        )
                    )
                ).all()
            )
            asks = Counter(
                (
                    await session.execute(
                        select(Notification.alert_id, Notification.phone).where(
                            Notification.alert_id.in_(alert_ids), Notification.purpose == Purpose.ALERT
                        )
                    )
                ).all()
            )
    assert tiers == {1: len(alert_ids)}, "every alert is at tier 2, none skipped past it"
    assert set(escalated.values()) == {1} and len(escalated) == len(alert_ids), "each escalated once"
    assert asks == Counter({(alert_id, TIER2): 1 for alert_id in alert_ids}), "the leader asked once per alert"
    claimed = Counter(sms.id for sms in first.claimed + second.claimed)
    assert len(claimed) == len(alert_ids) and set(claimed.values()) == {1}, "each ask sent by one monitor"
    print(f"{ROUNDS} races for {ALERTS_PER_ROUND} due alerts each, won by: {dict(winners)}")


async def test_an_sms_settled_by_two_monitors_at_once_is_sent_once(tmp_path: Path, database_url: str) -> None:
    await prepare(database_url, tmp_path)
    provider = FakeProvider()
    async with Engines(database_url, provider, "a") as first, Engines(database_url, provider, "b") as second:
        # An ask claimed (and perhaps sent, perhaps not) by a monitor that died a lease ago.
        async with first.database.write() as session:
            ask = Message("ask", "Please take alert 1")
            [orphan] = await queue_many(
                session,
                Effects(),
                [NotificationRequest(TIER2, ask, Purpose.ALERT, tier=0, round_number=0)],
                first.clock.now(),
            )
            await session.execute(
                update(Notification)
                .where(Notification.id == orphan)
                .values(claimed_at=first.clock.now() - timedelta(seconds=3 * LEASE_S))
            )
        assert orphan is not None

        # The second survivor asks the provider first; its answer ("not there") comes back late.
        lookup_answers = asyncio.Event()
        second.channel.lookups_wait_for = lookup_answers
        slow_settle = asyncio.create_task(second.outbox.recover_stale())
        await asyncio.wait_for(second.channel.lookups_started.wait(), timeout=10)

        # Meanwhile the first settles it, claims it again and hands it to the provider.
        provider.hold()
        await first.outbox.recover_stale()
        sending = asyncio.create_task(first.outbox.send_due())
        await until(lambda: len(provider.requests) == 1, within_s=10, what="the resend reaching the provider")

        lookup_answers.set()
        await asyncio.wait_for(slow_settle, timeout=10)
        # Anything it put back would be claimed and sent (and held by the provider) now.
        resent = await asyncio.wait_for(second.outbox.send_due(), timeout=10)
        assert resent == 0, "the row went back to be sent while it was being sent"
        provider.release.set()
        await asyncio.wait_for(sending, timeout=10)

        async with first.database.read() as session:
            row = await session.get(Notification, orphan)
            pending = await session.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == NotificationStatus.PENDING)
            )
    assert len(provider.requests) == 1
    assert row is not None and row.status == "queued" and row.attempts == 2
    assert pending == 0
