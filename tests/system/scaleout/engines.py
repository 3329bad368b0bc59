"""Two monitors' escalation and SMS engines in one process, racing on one PostgreSQL database.

Each ``Engines`` has its own connection pool, as a separate monitor process would, and records
what its committed transactions asked it to send; the provider is a fake whose answers the
test controls step by step. Cheap enough to race many times over.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo

from monitor.core.clock import SystemClock
from monitor.core.effects import ClaimedNotification, Effects
from monitor.core.metrics import Metrics
from monitor.directory.file import load_directory
from monitor.directory.sync import import_directory
from monitor.escalation.engine import Escalation
from monitor.escalation.timer import EscalationTimer
from monitor.notify.channel import Outgoing, SendReceipt
from monitor.notify.log_channel import LogChannel
from monitor.notify.texts import MessageStyle
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from monitor.store.models import Alert
from tests.notify.kit import outbox_for
from tests.support.deployment import RESIDENT_ZH, directory_text

LEASE_S = 2.0
STYLE = MessageStyle(ZoneInfo("Asia/Shanghai"), "https://maps.example/?lat={lat}&lon={lon}")


class FakeProvider:
    """The SMS provider: counts requests; ``hold`` keeps them waiting until released."""

    def __init__(self) -> None:
        self.requests: list[Outgoing] = []
        self.release = asyncio.Event()
        self.release.set()

    def hold(self) -> None:
        self.release.clear()

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        self.requests.append(outgoing)
        await self.release.wait()
        return SendReceipt(provider_id=f"SM{len(self.requests):032d}", status="queued")


class ProviderView(LogChannel):
    """One monitor's connection to the shared ``FakeProvider``; ``lookups_wait_for`` delays its
    answers to "was this sent?" (they say no) until the test lets them through."""

    provider = "fake"

    def __init__(self, shared: FakeProvider) -> None:
        super().__init__()
        self.shared = shared
        self.lookups_wait_for: asyncio.Event | None = None
        self.lookups_started = asyncio.Event()

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        return await self.shared.send(outgoing)

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        self.lookups_started.set()
        if self.lookups_wait_for is not None:
            await self.lookups_wait_for.wait()
        return None


class Engines:
    """One monitor's escalation engine and SMS outbox on its own pool; async context manager."""

    def __init__(self, database_url: str, provider: FakeProvider, name: str) -> None:
        self.database = Database(database_url, pool_size=2, instance_id=name)
        self.channel = ProviderView(provider)
        self.name = name
        #: the SMS each committed transaction of this monitor claimed for sending
        self.claimed: list[ClaimedNotification] = []

    async def __aenter__(self) -> Engines:
        await self.database.__aenter__()
        clock, metrics = SystemClock(), Metrics()
        self.clock = clock
        self.escalation = Escalation(STYLE, metrics)
        self.timer = EscalationTimer(self.escalation, self.database, clock, metrics, after_commit=self.after_commit)
        self.outbox = outbox_for(
            self.database,
            {"sms": self.channel},
            clock,
            metrics=metrics,
            instance_id=self.name,
            lease_s=LEASE_S,
            after_commit=self.after_commit,
            on_unreachable=self.escalation.on_unreachable,
            phone_limit=100,
            rate_per_s=1000,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.database.__aexit__(exc_type, exc, tb)

    async def after_commit(self, effects: Effects) -> None:
        self.claimed.extend(effects.to_send)


async def prepare(database_url: str, folder: Path) -> None:
    """Schema and the test directory (two tiers: the area team, then the leader)."""
    directory = folder / "directory.toml"
    directory.write_text(directory_text(tier1_timeout_s=60, tier2_timeout_s=60), encoding="utf-8")
    async with Database(database_url, pool_size=1) as database:
        await upgrade(database)
        await import_directory(database, load_directory(directory))


async def open_due_alerts(database: Database, count: int) -> list[int]:
    """``count`` open SOS alerts whose tier-1 timeout has just run out."""
    now = SystemClock().now()
    async with database.write() as session:
        alerts = [
            Alert(
                kind="sos",
                state="open",
                device_id="btn-1",
                resident_id=RESIDENT_ZH,
                area_id="a-1",
                raised_at=now - timedelta(seconds=61),
                tier=0,
                round=0,
                next_escalation_at=now - timedelta(milliseconds=10),
            )
            for _ in range(count)
        ]
        session.add_all(alerts)
        await session.flush()
        return [alert.id for alert in alerts]
