"""Ingest: the highest sustained rate of heartbeats and locations from 10,000 devices that the
monitor takes in with zero loss and a bounded queue, beside a bare subscriber on the same
broker in the same run (a paho loop that only counts: bench/bare_subscriber.py).

    python -m bench.ingest [--devices 10000] [--step-seconds 10]

Both consumers climb the same ladder of rates (bench/rate_search.py). Afterwards every
message the generator published must be in the monitor's database exactly once (zero loss);
anything else is a failure (exit 1). Goal: the monitor keeps >= 70 % of the bare rate.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.harness import REPO, BenchFailure, BenchMonitor, command_line, machine, note, verdict
from bench.rate_search import best, climb
from monitor.store.database import Database
from monitor.store.models import DeviceMessage
from simulator.harness.mosquitto import Mosquitto
from simulator.load import LoadPlan, write_directory
from simulator.sandbox import SmsSandbox

GOAL_RATIO = 0.70


async def stored_events(database_url: str) -> int:
    async with Database(database_url) as database, database.read() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(DeviceMessage).where(DeviceMessage.topic.like("%/event"))
            )
            or 0
        )


async def bare_rate(broker: Mosquitto, devices: int, step_s: float, ceiling: float) -> tuple[float, bool, bool]:
    """The bare subscriber's sustained rate, whether the publisher limited it, whether the ladder was capped."""
    process = subprocess.Popen(  # noqa: ASYNC220 - started before anything is timed
        [sys.executable, "-m", "bench.bare_subscriber", broker.host, str(broker.port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    latest = [0]

    def read_counts() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip().isdigit():
                latest[0] = int(line)

    await asyncio.to_thread(process.stdout.readline)  # "ready"
    reader = asyncio.create_task(asyncio.to_thread(read_counts))

    async def processed() -> int:
        await asyncio.sleep(0.11)  # the subscriber prints every 0.1 s: never read a stale count as final
        return latest[0]

    try:
        steps = await climb("bare subscriber", broker.address, devices, step_s, processed, ceiling=ceiling)
        rate, limited = best(steps)
        return rate, limited, bool(steps) and steps[-1].sustained
    finally:
        process.terminate()
        process.wait(timeout=10)
        await asyncio.gather(reader, return_exceptions=True)


async def monitor_rate(broker: Mosquitto, folder: Path, devices: int, step_s: float) -> tuple[float, bool]:
    plan = LoadPlan(devices=devices)
    directory = write_directory(folder / "directory.toml", plan)
    database_url = f"sqlite+aiosqlite:///{folder / 'ingest.db'}"
    async with SmsSandbox(status_step_delay=0.0) as sandbox:
        monitor = BenchMonitor(folder / "monitor", broker, sandbox, database_url=database_url, directory=directory)
        async with monitor, httpx.AsyncClient() as client:

            async def processed() -> int:
                return await monitor.messages_received(client)

            steps = await climb("callwatch monitor", broker.address, devices, step_s, processed)
    published = sum(step.published for step in steps)
    stored = await stored_events(database_url)
    if stored != published:
        raise BenchFailure(f"published {published:,} messages, the monitor stored {stored:,}")
    note(f"zero loss: all {published:,} messages stored, each once")
    return best(steps)


async def main(devices: int, step_seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-ingest-") as scratch:
        folder = Path(scratch)
        async with Mosquitto(folder / "broker") as broker:
            note(f"broker: {broker.kind}")
            monitor, monitor_limited = await monitor_rate(broker, folder, devices, step_seconds)
            # The bare subscriber climbs to 4x the monitor's rate (at least 4,000/s): enough to judge 70 %.
            bare, bare_limited, capped = await bare_rate(broker, devices, step_seconds, ceiling=max(monitor * 4, 4000))
    ratio = monitor / bare if bare else 0.0
    print(f"\nIngest: heartbeats and locations from {devices:,} devices, each step held {step_seconds:g} s")
    print(f"machine: {machine()}")
    print(f"{'consumer':<34} {'sustained msg/s':>16}")
    bare_note = "  (publisher limit)" if bare_limited else "  (at least: the ladder stopped there)" if capped else ""
    print(f"{'bare subscriber (paho, counts)':<34} {bare:>16,.0f}{bare_note}")
    print(f"{'callwatch monitor, SQLite':<34} {monitor:>16,.0f}{'  (publisher limit)' if monitor_limited else ''}")
    goal = f">= {GOAL_RATIO:.0%} of the bare subscriber"
    # A bare rate held back by the publisher or the ladder is only a lower bound, so the ratio is an upper one.
    if not (bare_limited or capped):
        print(f"ratio {ratio:.0%}: {verdict(goal, ratio >= GOAL_RATIO)}")
    elif ratio < GOAL_RATIO:
        print(f"ratio at most {ratio:.0%}: {verdict(goal, False)}")
    else:
        print(f"ratio at most {ratio:.0%}: not shown: the bare subscriber's rate is only a lower bound ({goal})")


if __name__ == "__main__":
    command_line(main, __doc__, devices=10_000, step_seconds=10.0)
