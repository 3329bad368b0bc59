"""Bookkeeping writers wait for an urgent burst to end, but never longer than the limit.

The limit keeps delivery reports answered well within the 15 s a provider waits for a webhook.
"""

from __future__ import annotations

import asyncio

from monitor.store.database import UrgentBursts


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
