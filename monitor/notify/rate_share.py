"""The sender's rate, shared among the monitors running on one database.

The provider takes messages from our sender at a fixed rate and queues the rest first come,
first served. Each monitor's ``SendGate`` keeps its own queue, most urgent first; monitors
each sending at the full rate would overrun the provider, and its queue would decide the
order again (an SOS ask behind device reports). So every monitor notes on each upkeep pass
that it is running and takes the rate divided by the monitors seen within ``ALIVE_WITHIN``;
one that stops cleanly leaves at once, a dead one's share returns to the others after that.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.database import Database
from monitor.store.models import MonitorInstance
from monitor.store.statements import insert_or_update

#: several upkeep passes (monitor.notify.outbox: every 5 s at most): one late pass does not count as gone
ALIVE_WITHIN = timedelta(seconds=20)
#: rows of monitors gone for good are deleted after this (they would only grow the table)
FORGOTTEN_AFTER = timedelta(hours=1)


async def monitors_running(database: Database, instance_id: str, now: datetime) -> int:
    """Note that ``instance_id`` is running at ``now``; how many monitors are (itself included)."""

    async def note_running(session: AsyncSession) -> int:
        await insert_or_update(session, MonitorInstance, {"instance_id": instance_id, "seen_at": now}, ["instance_id"])
        await session.execute(delete(MonitorInstance).where(MonitorInstance.seen_at < now - FORGOTTEN_AFTER))
        running = await session.scalar(
            select(func.count()).select_from(MonitorInstance).where(MonitorInstance.seen_at >= now - ALIVE_WITHIN)
        )
        return max(1, int(running or 0))

    return await database.transact(note_running, bookkeeping=True)


async def leave(database: Database, instance_id: str) -> None:
    """``instance_id`` stops: the others take its share on their next pass."""
    async with database.write() as session:
        await session.execute(delete(MonitorInstance).where(MonitorInstance.instance_id == instance_id))
