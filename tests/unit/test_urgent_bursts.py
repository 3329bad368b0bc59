"""Bookkeeping writers wait for an urgent burst to end, but never longer than the limit;
other writers (a person at the console) do not wait at all.

The limit keeps delivery reports answered well within the 15 s a provider waits for a webhook.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from monitor.store.database import Database, UrgentBursts


async def test_a_waiter_goes_when_the_burst_ends() -> None:
    bursts = UrgentBursts(limit_s=60)
    await asyncio.wait_for(bursts.wait_over(), 1)  # no burst: no wait
    async with bursts.burst():
        async with bursts.burst():  # bursts nest (two loops, or a storm inside a storm)
            waiter = asyncio.create_task(bursts.wait_over())
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not waiter.done(), "still waiting while one burst is under way"
    await asyncio.wait_for(waiter, 1)


async def test_a_waiter_goes_after_the_limit_while_the_burst_goes_on() -> None:
    bursts = UrgentBursts(limit_s=0.05)
    async with bursts.burst():
        await asyncio.wait_for(bursts.wait_over(), 5)


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
