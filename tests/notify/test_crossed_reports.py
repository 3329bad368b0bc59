"""A delivery report and the record of its send crossing in concurrent transactions (PostgreSQL):
the report was kept as "not known yet", the send recorded without seeing it. The outbox's upkeep
applies it, so a call that went unanswered still moves its alert on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.effects import Effects, commit_then_apply
from monitor.notify.delivery import record_delivery_report
from monitor.notify.requests import VOICE, NotificationRequest, Purpose, queue_many
from monitor.notify.texts import Message
from monitor.store.database import Database
from monitor.store.models import DeliveryReport, Notification
from tests.notify.kit import nothing_after_commit, outbox_for

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


class SetClock:
    def now(self) -> datetime:
        return NOW


async def test_a_report_kept_while_its_send_was_recorded_elsewhere_is_applied(database_url: str) -> None:
    unreachable: list[tuple[int, str]] = []

    async def on_unreachable(
        session: AsyncSession, notification: Notification, now: datetime, effects: Effects
    ) -> None:
        unreachable.append((notification.id, notification.status))

    async with Database(database_url) as database:
        async with database.write() as session:
            request = NotificationRequest("+8613900000001", Message("call_ask", "SOS"), Purpose.HEALTH, channel=VOICE)
            [row_id] = await queue_many(session, Effects(), [request], NOW)

        async def report(session: AsyncSession, effects: Effects) -> bool:
            return await record_delivery_report(
                session,
                on_unreachable,
                provider_id="CA1",
                status="undelivered",
                error_code="busy",
                now=NOW,
                effects=effects,
            )

        assert not await commit_then_apply(database, nothing_after_commit, report)  # kept: not known yet
        async with database.write() as session:  # the send's record, which did not see the report
            await session.execute(
                update(Notification).where(Notification.id == row_id).values(provider_id="CA1", status="queued")
            )

        outbox = outbox_for(database, {}, SetClock(), on_unreachable=on_unreachable)
        await outbox.apply_stray_reports()
        await outbox.apply_stray_reports()  # once applied, never again

        async with database.read() as session:
            row = await session.get(Notification, row_id)
            applied = (await session.scalars(select(DeliveryReport.applied))).all()
    assert row is not None and (row.status, row.error_code) == ("undelivered", "busy")
    assert applied == [True]
    assert unreachable == [(row_id, "undelivered")]
