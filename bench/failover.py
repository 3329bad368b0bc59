"""Failover: how soon a survivor does the work of a monitor that died for good, and what a
second monitor costs per message.

    python -m bench.failover [--kills 20] [--presses 20] [--failover-s 10] [--devices 2000]
                             [--rate 1000] [--cpu-seconds 10] [--step-seconds 3]
    python -m bench.failover --short    # make bench-short: 3 kills, 10 presses, CPU at 500 msg/s for 5 s, no ladder

Needs CALLWATCH_TEST_POSTGRES_URL (a fresh database per part). Two parts:

1. **failover** (the mechanism built, monitor/ingest/failover.py: one MQTT shared subscription,
   a survivor takes over the session of a monitor silent for ``failover_s`` / 2). Two monitors;
   the baseline is the normal press -> SMS latency with both alive, one press at a time. Then
   ``--kills`` times: one monitor (each in turn) is SIGKILLed and at once ``--presses`` residents
   press SOS; the figures are the time from the SIGKILL to the first and to the last of their
   SMS at the sandbox (about half the presses fall to the dead monitor's session). Every press
   must get exactly one SMS, or the run fails. The victim is started again before the next kill.
2. **cost** of the candidates that need no failover of their own: the monitors' CPU time (from
   /proc) per message while ``--rate`` msg/s of heartbeats is held for ``--cpu-seconds``, with
   one monitor, two sharing the subscription (what failover keeps), and two each subscribed to
   everything (a survivor always has every message already; unique keys make the second
   processing of an event with an id a no-op, but the message is still parsed, locked for and
   stored twice); and, unless ``--short``, the highest rate each sustains (bench/rate_search.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import httpx

from bench.harness import BenchFailure, BenchMonitor, benchmark_command, machine, note, run_benchmark, summary
from bench.ingest import stored_events
from bench.latency import press_to_sms, pressed_device
from bench.monitors import CpuWatch, postgres_pids, prepare
from bench.rate_search import best, climb, hold
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.postgres import fresh_database, postgres_url
from simulator.load import LoadPlan
from simulator.load.report import percentile
from simulator.sandbox import SmsSandbox

SHARED_GROUP = "callwatch"
BASELINE_PRESSES = 20
SHORT_HELP = "for make bench-short: 3 kills of 10 presses, CPU at 500 msg/s for 5 s, no rate ladder"


@dataclass(frozen=True)
class FailoverResult:
    failover_s: float
    baseline_ms: dict[str, float | str | int]
    #: per kill: seconds from the SIGKILL to the first and to the last press's SMS
    first_s: list[float]
    last_s: list[float]


@dataclass(frozen=True)
class CostResult:
    name: str
    monitors: int
    messages: int
    monitor_cpu_s: float
    postgres_cpu_s: float
    stored_per_message: float
    sustained: float | None

    def ms_per_message(self, cpu_s: float) -> float:
        return cpu_s / max(1, self.messages) * 1000


async def measure_failover(folder: Path, kills: int, presses: int, failover_s: float) -> FailoverResult:
    pressers = [f"btn-f{index:04d}" for index in range(BASELINE_PRESSES + kills * presses)]
    directory = prepare(folder, LoadPlan(devices=1), pressers)
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(fresh_database("postgresql", folder))
        broker = await stack.enter_async_context(Mosquitto(folder / "broker"))
        sandbox = await stack.enter_async_context(SmsSandbox(status_step_delay=0.0))
        members = [
            BenchMonitor(
                folder / f"monitor-{number}",
                broker,
                sandbox,
                database_url=database_url,
                directory=directory if number == 1 else None,
                shared_group=SHARED_GROUP,
                failover_s=failover_s,
            )
            for number in (1, 2)
        ]
        for member in members:  # the first imports the directory; the second finds it
            await stack.enter_async_context(member)
        baseline = await press_to_sms(broker, sandbox, pressers[:BASELINE_PRESSES], 0.02, "both alive")
        first_s, last_s = [], []
        async with aiomqtt.Client(broker.host, broker.port) as device_side:
            for kill in range(kills):
                victim = members[kill % len(members)]
                start = BASELINE_PRESSES + kill * presses
                group = pressers[start : start + presses]
                sandbox.reset()
                killed_at = time.monotonic()
                victim.kill()
                for device in group:
                    event = json.dumps({"type": "sos", "id": uuid.uuid4().hex})
                    await device_side.publish(f"callwatch/{device}/event", event, qos=1)
                await sandbox.wait_for_messages(presses, timeout=failover_s * 6)
                await sandbox.idle()
                arrivals = [(pressed_device(m.body), m.arrived_monotonic) for m in sandbox.messages()]
                counts = Counter(device for device, _ in arrivals)
                if set(counts) != set(group) or set(counts.values()) != {1}:
                    twice = sorted(device for device, count in counts.items() if count > 1)
                    raise BenchFailure(f"kill {kill + 1}: SMS per press {dict(counts)}; sent twice: {twice}")
                first_s.append(min(at for _, at in arrivals) - killed_at)
                last_s.append(max(at for _, at in arrivals) - killed_at)
                note(f"kill {kill + 1}/{kills}: first SMS after {first_s[-1]:.2f} s, last after {last_s[-1]:.2f} s")
                await victim.start()
    return FailoverResult(failover_s, summary("press → SMS", baseline), first_s, last_s)


async def measure_cost(
    folder: Path, name: str, setup: tuple[int, str], devices: int, rate: float, seconds: float, ladder_s: float
) -> CostResult:
    monitors, shared_group = setup
    directory = prepare(folder, LoadPlan(devices=devices), [])
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(fresh_database("postgresql", folder))
        broker = await stack.enter_async_context(Mosquitto(folder / "broker"))
        sandbox = await stack.enter_async_context(SmsSandbox(status_step_delay=0.0))
        members = [
            BenchMonitor(
                folder / f"monitor-{number}",
                broker,
                sandbox,
                database_url=database_url,
                directory=directory if number == 1 else None,
                shared_group=shared_group,
            )
            for number in range(1, monitors + 1)
        ]
        for member in members:
            await stack.enter_async_context(member)
        client = await stack.enter_async_context(httpx.AsyncClient())

        async def processed() -> int:
            counts = await asyncio.gather(*(member.messages_received(client) for member in members))
            # Sharing: each message goes to one of them. Everyone subscribed: each must take in all.
            return sum(counts) if shared_group else min(counts)

        sustained = None
        if ladder_s:
            steps = await climb(name, broker.address, devices, ladder_s, processed, floor=300)
            sustained = best(steps)[0]
        stored_before = await stored_events(database_url)
        pids = [member.pid for member in members]
        watch = CpuWatch({"monitors": pids, "PostgreSQL": await postgres_pids(database_url)})
        watch.start()
        held = await hold(broker.address, devices, rate, seconds, processed)
        await asyncio.sleep(1)  # the last batches commit after they were counted as taken in
        cpu = watch.stop()
        stored = await stored_events(database_url) - stored_before
    note(f"{name}: {held.published:,} messages at {held.achieved:,.0f}/s, drained {held.drain_s:.2f} s after")
    return CostResult(
        name, monitors, held.published, cpu["monitors"], cpu["PostgreSQL"], stored / max(1, held.published), sustained
    )


def print_results(failover: FailoverResult, costs: list[CostResult], rate: float) -> None:
    print(f"\nFailover: 2 monitors, one Mosquitto, one PostgreSQL, [mqtt] failover_s = {failover.failover_s:g}")
    print(f"machine: {machine()}")
    baseline = failover.baseline_ms
    print(
        f"baseline, both alive, press → SMS: p50 {float(baseline['p50']):.1f} ms, p99 {float(baseline['p99']):.1f} ms"
    )
    kills = len(failover.last_s)
    for label, values in (("first", failover.first_s), ("last", failover.last_s)):
        print(
            f"SIGKILL → {label} SMS of the presses after it ({kills} kills): p50 {statistics.median(values):.2f} s, "
            f"p99 {percentile(values, 0.99):.2f} s, max {max(values):.2f} s"
        )
    worst = max(failover.last_s)
    met = worst <= failover.failover_s
    print(f"{'meets' if met else 'MISSES'} the goal: every SOS SMSed within failover_s ({worst:.2f} s at worst)")
    print(f"\nCost per message at {rate:,.0f} msg/s of heartbeats (CPU from /proc):")
    print(f"{'setup':<44} {'monitors ms/msg':>16} {'PostgreSQL ms/msg':>18} {'rows/msg':>9} {'sustained msg/s':>16}")
    for cost in costs:
        sustained = f"{cost.sustained:,.0f}" if cost.sustained is not None else "-"
        print(
            f"{cost.name:<44} {cost.ms_per_message(cost.monitor_cpu_s):>16.3f} "
            f"{cost.ms_per_message(cost.postgres_cpu_s):>18.3f} {cost.stored_per_message:>9.2f} {sustained:>16}"
        )


async def main(
    kills: int, presses: int, failover_s: float, devices: int, rate: float, cpu_seconds: float, ladder_s: float
) -> None:
    if not postgres_url():
        raise BenchFailure("several monitors need PostgreSQL: set CALLWATCH_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-failover-") as scratch:
        folder = Path(scratch)
        note("--- failover ---")
        failover = await measure_failover(folder / "failover", kills, presses, failover_s)
        costs = []
        setups = (
            ("1 monitor", 1, ""),
            ("2 monitors, shared subscription (built)", 2, SHARED_GROUP),
            ("2 monitors, each subscribed to everything", 2, ""),
        )
        for index, (name, monitors, group) in enumerate(setups):
            note(f"--- cost: {name} ---")
            costs.append(
                await measure_cost(
                    folder / f"cost-{index}", name, (monitors, group), devices, rate, cpu_seconds, ladder_s
                )
            )
    print_results(failover, costs, rate)
    print(f"(cores on this machine: {os.cpu_count()})")


if __name__ == "__main__":
    parser = benchmark_command(__doc__)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--failover-s", type=float, default=10.0)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    parser.add_argument("--step-seconds", type=float, default=3.0, help="the rate ladder's steps; 0: no ladder")
    parser.add_argument("--short", action="store_true", help=SHORT_HELP)
    arguments = parser.parse_args()
    if arguments.short:
        arguments.kills, arguments.presses, arguments.rate, arguments.cpu_seconds = 3, 10, 500.0, 5.0
        arguments.step_seconds = 0.0
    run_benchmark(
        main(
            arguments.kills,
            arguments.presses,
            arguments.failover_s,
            arguments.devices,
            arguments.rate,
            arguments.cpu_seconds,
            arguments.step_seconds,
        )
    )
