"""Stopping the service's loops: a loop idling ends at once; one busy finishes its work first."""

from __future__ import annotations

import asyncio

from monitor.core.loop_stop import LoopStop


async def test_a_busy_loop_finishes_its_transaction_before_it_ends() -> None:
    stop = LoopStop()
    committed: list[int] = []
    in_transaction = asyncio.Event()
    finish_transaction = asyncio.Event()

    async def loop() -> None:
        turn = 0
        while not stop.requested:
            turn += 1
            in_transaction.set()
            await finish_transaction.wait()  # stands for a database transaction in flight
            committed.append(turn)
            await stop.idle(60.0)

    running = asyncio.create_task(loop())
    await asyncio.wait_for(in_transaction.wait(), timeout=5)
    stop.request()
    await asyncio.sleep(0)
    assert not running.done()  # not cut off inside the transaction
    finish_transaction.set()
    await asyncio.wait_for(running, timeout=5)  # then ends without waiting out its 60 s idle
    assert committed == [1]


async def test_idle_returns_early_when_woken_and_keeps_the_loop_going() -> None:
    stop, wake = LoopStop(), asyncio.Event()
    wake.set()
    assert await asyncio.wait_for(stop.idle(60.0, wake), timeout=5) is True
    stop.request()
    assert await asyncio.wait_for(stop.idle(60.0), timeout=5) is False
