"""The sender's rate, shared among the monitors running on one database.

The provider takes messages from our sender at a fixed rate and queues the rest first come,
first served. Each monitor's ``SendGate`` keeps its own queue, most urgent first; monitors
each sending at the full rate would overrun the provider, and its queue would decide the
order again (an SOS ask behind device reports). So every monitor notes on each upkeep pass
that it is running and takes the rate divided by the monitors alive
(``monitor.store.monitor_instances``); one that stops cleanly leaves at once, a dead one's
share returns to the others once it has been silent for ``gone_after`` (``[mqtt] failover_s`` / 2).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store import monitor_instances
from monitor.store.database import Database
from monitor.store.models import MonitorInstance


def share_of(rate_per_s: float, running: int) -> float:
    """One monitor's share of the sender's ``rate_per_s`` while ``running`` monitors are alive."""
    return rate_per_s / max(1, running)


async def monitors_running(database: Database, instance_id: str, now: datetime, gone_after: timedelta) -> int:
    """Note that ``instance_id`` is running at ``now``; how many monitors are (itself included)."""

    async def note_running(session: AsyncSession) -> int:
        await monitor_instances.note_alive(session, instance_id, now, gone_after)
        running = await session.scalar(
            select(func.count()).select_from(MonitorInstance).where(monitor_instances.alive(now, gone_after))
        )
        return max(1, int(running or 0))

    return await database.transact(note_running, bookkeeping=True)


async def leave(database: Database, instance_id: str, now: datetime, gone_after: timedelta) -> None:
    """``instance_id`` stops: the others take its share on their next pass."""
    async with database.write() as session:
        await monitor_instances.leave(session, instance_id, now, gone_after)
