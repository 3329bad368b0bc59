"""Alert latency under load: press -> SMS request at the sandbox (p50/p95/p99) with no
background load and with half the monitor's highest sustained ingest rate of heartbeats
and locations from 10,000 devices, beside the broker's own round trip measured the same way.

    python -m bench.latency_load [--presses 200] [--load-rate R]

Without --load-rate, the monitor's sustained rate is measured first, in the same run
(bench/rate_search.py, short steps). Goals: p99 under 15 ms with no load, 50 ms at half load.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx

from bench.harness import BenchFailure, BenchMonitor, benchmark_command, machine, note, run_benchmark, summary, verdict
from bench.latency import broker_round_trip, press_to_sms
from bench.rate_search import best, climb
from simulator.harness.mosquitto import Mosquitto
from simulator.load import LoadGenerator, LoadPlan
from simulator.load.directory import write_directory
from simulator.sandbox import SmsSandbox

LOAD_DEVICES = 10_000
GOALS_MS = {"no load": 15.0, "half load": 50.0}


async def main(presses: int, load_rate: float | None, gap_ms: float) -> None:
    gap_s = gap_ms / 1000
    plan = LoadPlan(devices=LOAD_DEVICES)
    rows = []
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-latency-load-") as scratch:
        folder = Path(scratch)
        quiet = [f"btn-q{index:04d}" for index in range(presses)]
        loaded = [f"btn-l{index:04d}" for index in range(presses)]
        directory = write_directory(folder / "directory.toml", plan, pressers=quiet + loaded)
        async with Mosquitto(folder / "broker") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
            monitor = BenchMonitor(folder / "monitor", broker, sandbox, database_url=database_url, directory=directory)
            async with monitor:
                rows.append(summary("broker round trip, no load", await broker_round_trip(broker, presses, gap_s)))
                rows.append(
                    summary("press → SMS, no load", await press_to_sms(broker, sandbox, quiet, gap_s, "no load"))
                )
                if load_rate is None:
                    async with httpx.AsyncClient() as client:

                        async def processed() -> int:
                            return await monitor.messages_received(client)

                        measured, _ = best(await climb("monitor", broker.address, LOAD_DEVICES, 3.0, processed))
                    if not measured:
                        raise BenchFailure("the monitor sustained no rate of the ladder at all")
                    load_rate = measured
                half = load_rate / 2
                note(f"background load: {half:,.0f} messages/s (half of {load_rate:,.0f})")
                background = LoadGenerator(broker.address, LoadPlan(devices=LOAD_DEVICES, rate=half, duration_s=3600))
                loading = asyncio.create_task(background.run())
                try:
                    await asyncio.sleep(2)  # let the load settle in
                    rtt = await broker_round_trip(broker, presses, gap_s)
                    rows.append(summary(f"broker round trip, {half:,.0f}/s", rtt))
                    samples = await press_to_sms(broker, sandbox, loaded, gap_s, "half load")
                    rows.append(summary(f"press → SMS, {half:,.0f}/s", samples))
                finally:
                    background.stop()
                    await loading
    print(f"\nAlert latency: press → SMS request at the sandbox, {presses} presses each, {LOAD_DEVICES:,} devices")
    print(f"machine: {machine()}")
    print(f"{'path':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for row in rows:
        print(
            f"{row['name']!s:<34} {row['n']:>5} {row['p50']:>8.2f} {row['p95']:>8.2f} {row['p99']:>8.2f} "
            f"{row['max']:>8.2f}"
        )
    for row, (label, goal) in zip((rows[1], rows[3]), GOALS_MS.items(), strict=True):
        if int(row["n"]) < presses:
            raise BenchFailure(f"{label}: {presses} presses, only {row['n']} SMS")
        print(f"{label}: p99 {float(row['p99']):.1f} ms {verdict(f'p99 < {goal:.0f} ms', float(row['p99']) < goal)}")


if __name__ == "__main__":
    parser = benchmark_command(__doc__)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--load-rate", type=float, help="the monitor's sustained ingest rate (measured when left out)")
    parser.add_argument("--gap-ms", type=float, default=20.0)
    arguments = parser.parse_args()
    run_benchmark(main(arguments.presses, arguments.load_rate, arguments.gap_ms))
