"""No phone gets more than its limit of SMS in 15 minutes; what is over it goes as one digest.

Asks about an emergency always go at once (and count); the rest of what a volunteer
would get (here: "the resident cancelled" notices) waits once the phone is at its limit,
and goes out as one digest as soon as the phone has room again. On both databases: the
limit is counted in SQL, and on PostgreSQL claim passes take turns.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from monitor.notify.requests import NotificationStatus, Purpose
from monitor.store.models import Notification
from simulator.harness.deployment import set_setting
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.watch.kit import ShiftedClock, monitor_on

LIMIT = 4
CYCLES = 3


async def test_over_the_limit_waits_for_one_digest_and_asks_never_wait(deployment: Deployment) -> None:
    deployment.tier1_timeout_s = 3600  # nobody is asked twice while the test moves the clock
    deployment.write_files()
    set_setting(deployment, "sms", "phone_limit_15min", str(LIMIT))
    clock = ShiftedClock(datetime.now(UTC))
    async with monitor_on(deployment, clock) as monitor:
        for cycle in range(1, CYCLES + 1):
            await deployment.press("btn-1", event_id=f"sos-{cycle}")
            await deployment.sandbox.wait_for_messages(cycle * 2 - 1, to=TIER1[0])  # the ask: never held
            await deployment.press("btn-1", "cancel", event_id=f"cancel-{cycle}")
            if cycle < CYCLES:
                await deployment.sandbox.wait_for_messages(cycle * 2, to=TIER1[0])

        async def held() -> list[Notification]:
            async with monitor.database.read() as session:
                query = select(Notification).where(Notification.status == NotificationStatus.HELD)
                return list((await session.scalars(query)).all())

        [held_for_one, _] = sorted(await until(held, what="the third notice held"), key=lambda row: row.phone)
        before_window = deployment.sandbox.messages(to=TIER1[0])
        clock.advance(minutes=16)
        [digest] = await deployment.sandbox.wait_for_messages(1, to=TIER1[0], body_contains="汇总", timeout=10)
        [english] = await deployment.sandbox.wait_for_messages(1, to=TIER1[1], body_contains="Digest", timeout=10)
        async with monitor.database.read() as session:
            went_in = await session.get(Notification, held_for_one.id, populate_existing=True)
            digest_row = await session.scalar(
                select(Notification).where(Notification.purpose == Purpose.DIGEST, Notification.phone == TIER1[0])
            )
    assert len(before_window) == 2 * CYCLES - 1  # 3 asks, 2 notices: over the limit of 4 only by an ask
    assert held_for_one.phone == TIER1[0] and held_for_one.purpose == Purpose.CANCELLED
    assert held_for_one.body[:20] in digest.body
    assert went_in is not None and went_in.status == NotificationStatus.DIGESTED
    assert digest_row is not None and went_in.digest_id == digest_row.id
    assert english.body.startswith("Digest of 1 messages held back (at most 4 SMS per 15 min)")
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 2 * CYCLES
