"""Whether each provider of a channel works, as every monitor on the database and duty staff see it.

A provider's state is a row (``provider_states``, one per channel and provider), so it outlives
a crash and every monitor on PostgreSQL chooses the same way: a message goes out through the
first provider of its channel that is up (``monitor.notify.outbox``). Only failures that are
the provider's (no connection, 5xx, 429, timeouts, our account or template refused) count; a
number that is invalid or a landline says nothing about the provider. Two such failures in a
row mark it down; a message it accepts marks it up. When nothing was sent through it for a
while, a cheap request checks it anyway, so an outage shows before the next SOS needs it;
while it is down the same check runs every ``CHECK_EVERY_S``. When it answers, the retries
waiting for it go at once and their sends decide; with none waiting, the answer puts it back on
probation (up, one failure from down again: the API may answer while sending still fails).

Each monitor keeps a copy of the rows, read again at every upkeep of its outbox, for choosing
without a read per message, for /healthz, the console's banner and /metrics. The choice is
only a preference: what makes a message go out at most once is the provider written on its
row before the request (``monitor.notify.outbox``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.health import Health
from monitor.core.metrics import Metrics
from monitor.notify.channel import SendFailure
from monitor.store.models import ProviderState
from monitor.store.statements import insert_many_unless_exist

#: provider failures in a row that mark it down
FAILURES_BEFORE_DOWN = 2
#: look at the provider after this long without a send (and this often while it is down)
CHECK_EVERY_S = 20.0


class ProviderWatch:
    """One provider of one channel: its state (a copy of its row) and where it is shown."""

    def __init__(self, health: Health, metrics: Metrics, channel: str, provider: str, *, one_of: int) -> None:
        self.health = health
        self.metrics = metrics
        self.channel = channel
        self.provider = provider
        #: how many providers its channel has: one alone is the channel on /healthz ("sms"), one of
        #: several is shown on its own ("sms:aliyun") and the channel is down only when all are
        self.one_of = one_of
        #: its row's state, as last read or written here
        self.up = True
        self.failures = 0
        self._last_heard = asyncio.get_running_loop().time()

    @property
    def component(self) -> str:
        """Its name on /healthz and the console's banner."""
        return self.channel if self.one_of == 1 else f"{self.channel}:{self.provider}"

    @property
    def down(self) -> bool:
        return not self.up

    @property
    def clean(self) -> bool:
        """Up with no failure counted: a message it accepts changes nothing in its row."""
        return self.up and self.failures == 0

    def check_due(self) -> bool:
        return asyncio.get_running_loop().time() - self._last_heard >= CHECK_EVERY_S

    def heard(self) -> None:
        self._last_heard = asyncio.get_running_loop().time()

    async def accepted(self, session: AsyncSession, now: datetime) -> None:
        """It accepted a message: up, no failures."""
        await self._up(session, now, f"last SMS accepted by {self.provider}", failures_if_down=0)

    async def failed(self, session: AsyncSession, failure: SendFailure, now: datetime) -> None:
        """A send or a check failed: counted against it unless the failure is the recipient's."""
        self.heard()
        if failure.about_recipient or self.down:
            return  # (down already: a storm's failures need not queue on its row's lock)
        row = await self._locked(session, now)
        row.failures += 1
        row.last_error, row.last_error_at = str(failure)[:300], now
        if row.up and row.failures >= FAILURES_BEFORE_DOWN:
            row.up, row.since = False, now
        self.show(row)

    async def answered(self, session: AsyncSession, now: datetime) -> None:
        """It answered a check: up; if it was down, on probation (one failure from down again)."""
        await self._up(session, now, f"{self.provider} answers", failures_if_down=FAILURES_BEFORE_DOWN - 1)

    async def _up(self, session: AsyncSession, now: datetime, detail: str, *, failures_if_down: int) -> None:
        """Up (its row written only when that changes it)."""
        self.heard()
        if self.clean:
            return
        row = await self._locked(session, now)
        row.failures = 0 if row.up else failures_if_down
        if not row.up:
            row.up, row.since = True, now
        self.show(row, detail=detail)

    async def _locked(self, session: AsyncSession, now: datetime) -> ProviderState:
        row = await session.get(ProviderState, (self.channel, self.provider), with_for_update=True)
        if row is None:  # (rows are made at start: only a test's database lacks it)
            row = ProviderState(channel=self.channel, provider=self.provider, up=True, since=now, failures=0)
            session.add(row)
        return row

    def show(self, row: ProviderState, *, detail: str | None = None) -> None:
        """Take its row's state as its own, and show it on /healthz, the banner and /metrics."""
        self.up, self.failures = row.up, row.failures
        if row.up:
            said = detail or f"{self.provider} up"
        else:
            said = f"{self.provider}: {FAILURES_BEFORE_DOWN} requests failed in a row, last: {row.last_error}"
        if row.last_error and row.up:
            said += f"; last error {row.last_error_at:%Y-%m-%d %H:%M:%S}Z: {row.last_error}"
        self.health.mark(self.component, ok=row.up, detail=said[:300], since=row.since)
        labels = {"channel": self.channel, "provider": self.provider}
        self.metrics.provider_up.labels(**labels).set(1 if row.up else 0)
        self.metrics.provider_since.labels(**labels).set(row.since.timestamp())


async def add_providers(session: AsyncSession, channel: str, providers: list[str], now: datetime) -> None:
    """Give each provider of ``channel`` its row (up) unless it has one."""
    rows = [{"channel": channel, "provider": name, "up": True, "since": now, "failures": 0} for name in providers]
    await insert_many_unless_exist(
        session, ProviderState, rows, ["channel", "provider"], (ProviderState.channel, ProviderState.provider)
    )


async def provider_rows(session: AsyncSession) -> list[ProviderState]:
    return list((await session.scalars(select(ProviderState))).all())
