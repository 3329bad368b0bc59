"""The outbox's check of an idle provider: a provider that stopped answering shows as down
before any SOS needs it, and its waiting retries go at once when it answers again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Self
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.core.clock import SystemClock
from monitor.core.effects import Effects
from monitor.core.health import Health
from monitor.core.metrics import Metrics
from monitor.escalation.engine import Escalation
from monitor.notify.channel import FailureKind, OutgoingSms, SendFailure, SendReceipt
from monitor.notify.outbox import SmsOutbox
from monitor.notify.requests import NotificationStatus, Purpose, SmsRequest, queue_sms_many
from monitor.notify.texts import MessageStyle
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from monitor.store.models import Notification


class SwitchableProvider:
    """A provider that is up or down at the test's word."""

    name = "fake"

    def __init__(self) -> None:
        self.up = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        raise AssertionError("nothing is sent in this test")

    async def find_sent(self, to: str, body: str, since: object) -> SendReceipt | None:
        return None

    async def check(self) -> None:
        if not self.up:
            raise SendFailure(FailureKind.TEMPORARY, "connect", "connection refused")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}") as opened:
        await upgrade(opened)
        yield opened


async def nothing(effects: Effects) -> None:
    return None


async def test_an_idle_provider_that_stops_answering_shows_down_and_retries_go_when_it_is_back(
    database: Database,
) -> None:
    clock, health, metrics = SystemClock(), Health(SystemClock()), Metrics()
    style = MessageStyle(ZoneInfo("UTC"), "https://map/{lat}/{lon}")
    provider = SwitchableProvider()
    outbox = SmsOutbox(
        database,
        provider,
        Escalation(database, clock, style, metrics, after_commit=nothing),
        clock,
        metrics,
        health,
        instance_id="test",
        lease_s=30,
        status_callback_url=None,
        after_commit=nothing,
        phone_limit=10,
        rate_per_s=10,
        give_up_after_s=3600,
    )
    async with database.write() as session:  # a report waiting for a retry in a minute
        await queue_sms_many(session, Effects(), [SmsRequest("+8613900000001", "report", Purpose.HEALTH)], clock.now())
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
