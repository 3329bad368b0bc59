"""The outbox's check of an idle provider: a provider that stopped answering shows as down
before any SOS needs it, and its waiting retries go at once when it answers again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.clock import SystemClock
from monitor.core.effects import Effects
from monitor.core.health import Health
from monitor.core.metrics import Metrics
from monitor.notify.channel import FailureKind, Outgoing, SendFailure, SendReceipt
from monitor.notify.log_channel import LogChannel
from monitor.notify.requests import NotificationRequest, NotificationStatus, Purpose, queue_many
from monitor.notify.texts import Message
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from monitor.store.models import Notification
from tests.notify.kit import outbox_for


class SwitchableProvider(LogChannel):
    """An SMS provider that is up or down at the test's word."""

    provider = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.up = False

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        raise AssertionError("nothing is sent in this test")

    async def check(self) -> None:
        if not self.up:
            raise SendFailure(FailureKind.TEMPORARY, "connect", "connection refused")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}") as opened:
        await upgrade(opened)
        yield opened


async def test_an_idle_provider_that_stops_answering_shows_down_and_retries_go_when_it_is_back(
    database: Database,
) -> None:
    clock, health, metrics = SystemClock(), Health(SystemClock()), Metrics()
    provider = SwitchableProvider()
    outbox = outbox_for(database, {"sms": provider}, clock, metrics=metrics, health=health, rate_per_s=10)
    async with database.write() as session:  # a report waiting for a retry in a minute
        report = NotificationRequest("+8613900000001", Message("health_report", "report"), Purpose.HEALTH)
        await queue_many(session, Effects(), [report], clock.now())
        row = await session.scalar(select(Notification))
        assert row is not None
        row.attempts, row.not_before = 1, clock.now() + timedelta(minutes=1)

    await outbox.check_provider()
    assert health.components["sms"].ok  # one failure may be a blip
    await outbox.check_provider()
    assert not health.components["sms"].ok and "connection refused" in health.components["sms"].detail

    provider.up = True
    await outbox.check_provider()
    async with database.read() as session:
        retry = await session.scalar(select(Notification))
    assert retry is not None and retry.status == NotificationStatus.PENDING
    assert retry.not_before <= clock.now()  # brought forward: it goes now
    assert not health.components["sms"].ok  # until that send succeeds, the provider is not trusted


async def test_a_provider_is_down_after_two_of_its_own_failures_in_its_row_and_up_after_a_send(
    database_url: str,
) -> None:
    async with Database(database_url) as database:
        await provider_failures_in_its_row(database)


async def provider_failures_in_its_row(database: Database) -> None:
    """Two monitors' outboxes on one database (SQLite, and PostgreSQL as several monitors share it)."""
    clock, health, metrics = SystemClock(), Health(SystemClock()), Metrics()
    outbox = outbox_for(database, {"sms": SwitchableProvider()}, clock, metrics=metrics, health=health)
    await outbox.add_providers()
    watch = outbox.watches[("sms", "fake")]
    invalid_number = SendFailure(FailureKind.PERMANENT, "21211", "invalid 'To' number", about_recipient=True)
    outage = SendFailure(FailureKind.TEMPORARY, "503", "service unavailable")

    async def failed(failure: SendFailure) -> None:
        async with database.write() as session:
            await watch.failed(session, failure, clock.now())

    for _ in range(5):
        await failed(invalid_number)
    assert health.components["sms"].ok and not watch.down
    await failed(outage)
    assert health.components["sms"].ok
    await failed(SendFailure(FailureKind.UNKNOWN, "timeout", "no answer"))
    assert watch.down and not health.components["sms"].ok
    # another monitor on the database reads the same state from the row
    other_health = Health(SystemClock())
    other = outbox_for(database, {"sms": SwitchableProvider()}, clock, metrics=Metrics(), health=other_health)
    await other.read_providers()
    assert other.watches[("sms", "fake")].down and "no answer" in other_health.components["sms"].detail
    async with database.write() as session:
        await watch.accepted(session, clock.now())
    assert health.components["sms"].ok and not watch.down
    assert 'callwatch_provider_up{channel="sms",provider="fake"} 1.0' in metrics.render().decode()
