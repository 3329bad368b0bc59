"""The highest rate a consumer keeps up with: a ladder of steady rates, each held for a while.

A step is sustained when the generator reached its rate and, once it stopped, the consumer
had taken in every message within ``DRAIN_LIMIT_S`` (so its queue never held more than
about a second of messages). The ladder climbs until a step is not sustained.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import note
from simulator.load import LoadGenerator, LoadPlan
from simulator.mqtt_link import BrokerAddress

LADDER = (
    *(100, 150, 200, 300, 400, 500, 750),
    *(1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 7000, 8000, 9000),
    *(10000, 11000, 12000, 14000, 16000, 20000, 24000),
)
DRAIN_LIMIT_S = 1.0
DRAIN_WAIT_S = 120.0
Counter = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Step:
    target: float
    achieved: float
    sustained: bool
    publisher_limited: bool
    drain_s: float
    max_backlog: int
    published: int


async def hold(address: BrokerAddress, devices: int, rate: float, duration_s: float, processed: Counter) -> Step:
    """Send at ``rate`` for ``duration_s`` and watch how far behind the consumer falls."""
    plan = LoadPlan(devices=devices, rate=rate, duration_s=duration_s, connections=4, sos_rate=0)
    generator = LoadGenerator(address, plan, settle_s=30)
    start_count = await processed()
    running = asyncio.create_task(generator.run())
    max_backlog = 0
    while not running.done():
        await asyncio.sleep(0.25)
        max_backlog = max(max_backlog, generator.report.published - (await processed() - start_count))
    report = await running
    stopped = time.monotonic()
    while await processed() - start_count < report.published:
        if time.monotonic() - stopped > DRAIN_WAIT_S:
            raise RuntimeError(f"the consumer never took in {report.published} messages")
        await asyncio.sleep(0.02)
    drain_s = time.monotonic() - stopped
    limited = report.rate < 0.97 * rate or report.stalled_s > 0.1
    sustained = drain_s <= DRAIN_LIMIT_S and not limited
    return Step(rate, report.rate, sustained, limited, drain_s, max_backlog, report.published)


async def climb(
    label: str,
    address: BrokerAddress,
    devices: int,
    duration_s: float,
    processed: Counter,
    *,
    ceiling: float = 1e9,
    floor: float = 0,
) -> list[Step]:
    """Every step of the ladder from ``floor`` up to the first that is not sustained."""
    steps = []
    for rate in LADDER:
        if rate < floor:
            continue
        if rate > ceiling:
            break
        step = await hold(address, devices, rate, duration_s, processed)
        steps.append(step)
        state = "sustained" if step.sustained else "publisher limit" if step.publisher_limited else "fell behind"
        note(
            f"{label}: {rate:>6,}/s -> sent {step.achieved:,.0f}/s, drained {step.drain_s:.2f} s after, "
            f"max backlog {step.max_backlog:,}: {state}"
        )
        if not step.sustained:
            break
    return steps


def best(steps: list[Step]) -> tuple[float, bool]:
    """The highest sustained rate, and whether the publisher (not the consumer) set the limit."""
    sustained = [step.target for step in steps if step.sustained]
    limited = bool(steps) and steps[-1].publisher_limited
    return (max(sustained, default=0.0), limited)
