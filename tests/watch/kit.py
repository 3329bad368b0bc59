"""What the device, supervision, check-in and geofence tests share: a clock the test can move,
the monitor running on it, reads of what the monitor decided, and bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent, Device, Resident
from tests.support.broker import Broker
from tests.support.deployment import Deployment

T = TypeVar("T")


class ShiftedClock:
    """Real time moved by a settable offset: time flows, and the test jumps it forward."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, **delta: float) -> None:
        self._offset += timedelta(**delta)

    def move_to(self, moment: datetime) -> None:
        self._offset += moment - self.now()


@asynccontextmanager
async def monitor_on(deployment: Deployment, clock: ShiftedClock) -> AsyncIterator[Monitor]:
    """The deployment's monitor, in-process, reading time from ``clock``."""
    async with Monitor(deployment.settings, config_path=deployment.config_path, clock=clock) as monitor:
        await deployment.wait_until_subscribed()
        yield monitor


async def eventually(
    check: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    what: str = "",
) -> T:
    """Wait until ``check`` returns something other than None; that value."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"never happened: {what or check}")
        await asyncio.sleep(0.05)


async def alerts(monitor: Monitor, *kinds: str) -> list[Alert]:
    query = select(Alert).order_by(Alert.id)
    if kinds:
        query = query.where(Alert.kind.in_(kinds))
    async with monitor.database.read() as session:
        return list((await session.scalars(query)).all())


async def log_entries(database: Database, alert_id: int, *kinds: str) -> list[AlertEvent]:
    """An alert's log, oldest first; only the entries of ``kinds`` when given."""
    query = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    if kinds:
        query = query.where(AlertEvent.kind.in_(kinds))
    async with database.read() as session:
        return list((await session.scalars(query)).all())


async def alert_log(monitor: Monitor, alert_id: int, *kinds: str) -> list[AlertEvent]:
    return await log_entries(monitor.database, alert_id, *kinds)


async def device(monitor: Monitor, device_id: str) -> Device:
    async with monitor.database.read() as session:
        found = await session.get(Device, device_id)
    assert found is not None, device_id
    return found


async def resident(monitor: Monitor, resident_id: str) -> Resident:
    async with monitor.database.read() as session:
        found = await session.get(Resident, resident_id)
    assert found is not None, resident_id
    return found


async def clear_retained(broker: Broker, topics: Iterable[str]) -> None:
    """Remove retained messages a test left at the shared broker (an empty retained payload)."""
    for topic in sorted(set(topics)):
        process = await asyncio.create_subprocess_exec(
            "mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-t", topic, "-r", "-n", "-q", "1"
        )
        await process.wait()
