"""The send gate (sender's rate, most urgent first) and the provider watch (down after two of
its own failures in a row, never because of one person's number)."""

from __future__ import annotations

import asyncio

from monitor.core.clock import SystemClock
from monitor.core.health import Health
from monitor.notify.pacing import SendGate


async def test_waiting_requests_go_most_urgent_first_then_in_order_of_arrival() -> None:
    gate = SendGate(rate_per_s=1000, concurrency=1)
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.turn(0):
            holding.set()
            await release.wait()

    async def send(name: str, priority: int, rank: int = 0) -> None:
        async with gate.turn(priority, rank):
            order.append(name)

    holder = asyncio.create_task(hold())
    await holding.wait()
    waiting = [
        asyncio.create_task(send(name, priority, rank))
        for name, priority, rank in [
            ("report-1", 4, 0),
            ("checkin-ask", 0, 1),  # an ask about a missed check-in waits behind asks about an SOS
            ("report-2", 4, 0),
            ("sos-1", 0, 0),
            ("confirmation", 2, 0),
            ("sos-2", 0, 0),
        ]
    ]
    cancelled = asyncio.create_task(send("given-up", 0))
    await asyncio.sleep(0)  # every waiter has queued
    cancelled.cancel()
    release.set()
    await asyncio.gather(holder, *waiting)
    assert order == ["sos-1", "sos-2", "checkin-ask", "confirmation", "report-1", "report-2"]


async def test_requests_never_go_faster_than_the_rate_after_one_burst() -> None:
    gate = SendGate(rate_per_s=50, concurrency=100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    times: list[float] = []

    async def send() -> None:
        async with gate.turn(1):
            times.append(loop.time() - started)

    await asyncio.gather(*(send() for _ in range(75)))
    # 50 at once (a second's worth), then 25 more at 50 a second: half a second at the least
    assert max(times) >= 0.45
    for moment in (0.1, 0.2, 0.3):  # never more than the burst plus the rate times the time gone by
        assert sum(1 for at in times if at < moment) <= 50 + 50 * moment + 1


def test_a_database_that_answers_reads_does_not_hide_failing_writes() -> None:
    health = Health(SystemClock())
    health.mark("database", ok=False, detail="database is locked", reporter="ingest")
    health.mark("database", ok=True, detail="answers", reporter="ping")
    assert health.components["database"].ok is False
    assert health.components["database"].detail == "database is locked"
    health.mark("database", ok=True, detail="ok", reporter="ingest")
    assert health.components["database"].ok


async def test_a_new_rate_applies_to_the_requests_still_waiting() -> None:
    gate = SendGate(rate_per_s=1000, concurrency=100)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def send() -> None:
        async with gate.turn(1):
            times.append(loop.time())

    await asyncio.gather(*(send() for _ in range(1000)))  # the whole burst: no tokens left
    gate.set_rate(20)  # a second monitor shares the sender now
    started = loop.time()
    await asyncio.gather(*(send() for _ in range(26)))
    # at most a second's worth (20) at once, then 20 a second: a quarter of a second at the
    # least for the other six (at 1000/s, all 26 would take 26 ms)
    assert times[-1] - started >= 0.24
