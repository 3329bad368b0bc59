"""Waiting until nothing is under way (the SMS a storm's batch handed over, urgent bursts),
never longer than the limit; in a burst, bookkeeping writers wait and nobody else does.

The limit keeps delivery reports answered well within the 15 s a provider waits for a webhook.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from monitor.core.pending import PendingCount
from monitor.store.database import Database


async def test_a_waiter_goes_when_the_last_one_under_way_is_done() -> None:
    pending = PendingCount()
    await asyncio.wait_for(pending.wait_none(60), 1)  # nothing under way: no wait
    pending.add()
    pending.add()
    waiter = asyncio.create_task(pending.wait_none(60))
    pending.done()
    await asyncio.sleep(0)
    assert not waiter.done(), "still waiting while one is under way"
    pending.done()
    await asyncio.wait_for(waiter, 1)


async def test_a_waiter_goes_after_the_limit_while_something_is_still_under_way() -> None:
    pending = PendingCount()
    pending.add()
    await asyncio.wait_for(pending.wait_none(0.05), 5)


async def test_in_a_burst_only_bookkeeping_waits_not_a_person_at_the_console(tmp_path: Path) -> None:
    async def one_write(database: Database, *, bookkeeping: bool) -> None:
        async with database.write(bookkeeping=bookkeeping) as session:
            await session.execute(text("SELECT 1"))

    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'bursts.db'}") as database:
        async with database.urgent_burst():
            await asyncio.wait_for(one_write(database, bookkeeping=False), 1)
            record = asyncio.create_task(one_write(database, bookkeeping=True))
            await asyncio.wait_for(one_write(database, bookkeeping=False), 1)
            assert not record.done(), "bookkeeping waits while the burst is under way"
        await asyncio.wait_for(record, 1)
