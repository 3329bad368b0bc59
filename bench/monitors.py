"""Scale-out: sustained ingest and alert latency with 1, 2 and 3 monitors on one broker and one
PostgreSQL, in one run, and where the time goes (CPU of each process at the sustained rate).

    python -m bench.monitors [--monitors 3] [--devices 10000] [--step-seconds 5] [--presses 100] [--floor 0]
    python -m bench.monitors --short        # make bench-short: 2,000 devices, 1.5 s steps from 300/s, 20 presses

Needs CALLWATCH_TEST_POSTGRES_URL (a fresh database per size). For each size N, N monitors
(`callwatch run`, one process each, their own client id, one MQTT shared subscription) share
the devices' messages:
1. ingest: the ladder of steady rates of bench/rate_search.py, counting what all monitors took
   in (their /metrics); afterwards every published message must be stored exactly once;
2. CPU: the highest sustained rate held again while the CPU time of every process is read from
   /proc: the monitors, the broker, PostgreSQL (this database's backends and the server's
   writers) and this process (the load generator);
3. alert latency: presses one at a time, press -> SMS request at the sandbox, with half the
   sustained rate of heartbeats and locations going on.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import BenchFailure, BenchMonitor, benchmark_command, machine, note, run_benchmark, summary
from bench.ingest import stored_events
from bench.latency import press_to_sms
from bench.rate_search import best, climb, hold
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.postgres import fresh_database, plain_connection, postgres_url
from simulator.harness.waiting import until
from simulator.load import LoadGenerator, LoadPlan, write_directory
from simulator.sandbox import SmsSandbox

SHARED_GROUP = "callwatch"
SHORT_HELP = "for make bench-short: 2,000 devices, 1.5 s steps from 300 msg/s, 20 presses"
STORED_WITHIN_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: the PostgreSQL server's own writers, working for every database
SERVER_WRITERS = ("walwriter", "checkpointer", "background writer")


@dataclass(frozen=True)
class SizeResult:
    monitors: int
    sustained: float
    publisher_limited: bool
    #: CPU seconds spent while the sustained rate was held again, by what
    cpu_s: dict[str, float]
    per_monitor_cpu_s: list[float]
    #: messages published while ``cpu_s`` was measured, and how long that took (load and drain)
    held_messages: int
    held_s: float
    latency: dict[str, float | str | int]

    def ms_per_message(self, name: str) -> float:
        return self.cpu_s[name] / max(1, self.held_messages) * 1000

    def cores(self, cpu_s: float) -> float:
        """Cores kept busy on average while the rate was held (and drained)."""
        return cpu_s / self.held_s


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


async def postgres_pids(database_url: str) -> list[int]:
    """This database's backends and the server's writers."""
    async with plain_connection(database_url) as connection:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (datname = current_database() OR backend_type = ANY($1::text[]))",
            list(SERVER_WRITERS),
        )
    return [int(row["pid"]) for row in rows]


async def all_stored(database_url: str, published: int) -> bool:
    return await stored_events(database_url) >= published


class CpuWatch:
    """CPU seconds of groups of processes since ``start``."""

    def __init__(self, groups: dict[str, Iterable[int]]) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self._before: dict[int, float] = {}

    def start(self) -> None:
        self._before = {pid: cpu_seconds(pid) for pids in self.groups.values() for pid in pids}

    def spent(self, pids: Iterable[int]) -> float:
        return sum(cpu_seconds(pid) - self._before.get(pid, 0.0) for pid in pids)

    def stop(self) -> dict[str, float]:
        return {name: self.spent(pids) for name, pids in self.groups.items()}


def prepare(folder: Path, plan: LoadPlan, pressers: list[str]) -> Path:
    """A folder for one size, with the directory: the load's devices and the pressing ones."""
    folder.mkdir(parents=True)
    return write_directory(folder / "directory.toml", plan, pressers=pressers)


async def measure_size(
    folder: Path, monitors: int, devices: int, step_s: float, presses: int, floor: float
) -> SizeResult:
    plan = LoadPlan(devices=devices)
    pressers = [f"btn-m{monitors}-{index:04d}" for index in range(presses)]
    directory = prepare(folder, plan, pressers)
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
                # The first imports the directory; the others find it in the database.
                directory=directory if number == 1 else None,
                shared_group=SHARED_GROUP,
            )
            for number in range(1, monitors + 1)
        ]
        # The first imports the directory; then the others start together.
        await stack.enter_async_context(members[0])
        for member in members[1:]:
            stack.push_async_callback(member.stop)
        await asyncio.gather(*(member.start() for member in members[1:]))
        client = await stack.enter_async_context(httpx.AsyncClient())

        async def processed() -> int:
            counts = await asyncio.gather(*(member.messages_received(client) for member in members))
            return sum(counts)

        steps = await climb(f"{monitors} monitor(s)", broker.address, devices, step_s, processed, floor=floor)
        sustained, limited = best(steps)
        if not sustained:
            raise BenchFailure(f"{monitors} monitor(s) sustained no rate of the ladder at all")
        published = sum(step.published for step in steps)
        # Taken in is counted before the commit: let the last batches commit before counting.
        with suppress(TimeoutError):
            await until(
                lambda: all_stored(database_url, published), within_s=STORED_WITHIN_S, what="every message stored"
            )
        # The load's messages carry no event id: each stored once means exactly as many rows.
        if (stored := await stored_events(database_url)) != published:
            raise BenchFailure(f"{monitors} monitor(s): published {published:,} messages, stored {stored:,}")
        note(f"zero loss: all {published:,} messages stored, each once")

        monitor_pids = [member.process.pid for member in members if member.process is not None]
        watch = CpuWatch(
            {
                "monitors": monitor_pids,
                "broker": [broker.pid],
                "PostgreSQL": await postgres_pids(database_url),
                "load generator and sandbox": [os.getpid()],
            }
        )
        watch.start()
        started = time.monotonic()
        held = await hold(broker.address, devices, sustained, step_s, processed)
        held_s = time.monotonic() - started  # the load, then its drain: CPU spent on it all falls within
        per_monitor = [watch.spent([pid]) for pid in monitor_pids]
        cpu = watch.stop()

        half = sustained / 2
        background = LoadGenerator(broker.address, LoadPlan(devices=devices, rate=half, duration_s=3600))
        loading = asyncio.create_task(background.run())
        try:
            await asyncio.sleep(1)  # let the load settle in
            samples = await press_to_sms(broker, sandbox, pressers, 0.02, f"{monitors} monitor(s), half load")
        finally:
            background.stop()
            await loading
        if len(samples) < presses:
            raise BenchFailure(f"{monitors} monitor(s): {presses} presses, only {len(samples)} SMS")
    return SizeResult(
        monitors, sustained, limited, cpu, per_monitor, held.published, held_s, summary("press → SMS", samples)
    )


def bottleneck(result: SizeResult) -> str:
    """Which process group spent the most CPU, how busy the busiest monitor and the machine were."""
    busiest = max(result.cpu_s, key=lambda name: result.cpu_s[name])
    machine_cores = os.cpu_count() or 1
    total = result.cores(sum(result.cpu_s.values()))
    member = result.cores(max(result.per_monitor_cpu_s, default=0.0))
    return (
        f"most CPU went to {busiest} ({result.ms_per_message(busiest):.2f} ms per message); the busiest "
        f"monitor used {member:.2f} of the one core a Python process can use; all together "
        f"{total:.2f} of the machine's {machine_cores} cores"
    )


def print_table(results: list[SizeResult], devices: int, step_s: float) -> None:
    base = results[0].sustained or 1.0
    groups = list(results[0].cpu_s)
    print(f"\nScale-out: N monitors, one Mosquitto, one PostgreSQL; {devices:,} devices, ladder steps of {step_s:g} s")
    print(f"machine: {machine()}")
    print(
        f"{'monitors':>8} {'sustained msg/s':>16} {'x 1 monitor':>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f"   CPU ms per message: {', '.join(groups)}"
    )
    for result in results:
        limited = " (publisher limit)" if result.publisher_limited else ""
        cpu = " / ".join(f"{result.ms_per_message(name):.2f}" for name in groups)
        print(
            f"{result.monitors:>8} {result.sustained:>16,.0f} {result.sustained / base:>12.2f} "
            f"{float(result.latency['p50']):>8.1f} {float(result.latency['p95']):>8.1f} "
            f"{float(result.latency['p99']):>8.1f}   {cpu}{limited}"
        )
    print("(latency: press → SMS request at the sandbox, one press at a time, with half the size's sustained load;")
    print(" CPU: from /proc while the sustained rate was held again)")
    for result in results:
        print(f"{result.monitors} monitor(s): {bottleneck(result)}")


async def main(monitors: int, devices: int, step_s: float, presses: int, floor: float) -> None:
    if not postgres_url():
        raise BenchFailure("several monitors need PostgreSQL: set CALLWATCH_TEST_POSTGRES_URL")
    results = []
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-monitors-") as scratch:
        for size in range(1, monitors + 1):
            note(f"--- {size} monitor(s) ---")
            folder = Path(scratch) / f"n{size}"
            results.append(await measure_size(folder, size, devices, step_s, presses, floor))
    print_table(results, devices, step_s)


if __name__ == "__main__":
    parser = benchmark_command(__doc__)
    parser.add_argument("--monitors", type=int, default=3)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--step-seconds", type=float, default=5.0)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--floor", type=float, default=0, help="start the ladder at this rate (msg/s)")
    parser.add_argument("--short", action="store_true", help=SHORT_HELP)
    arguments = parser.parse_args()
    if arguments.short:
        arguments.devices, arguments.step_seconds, arguments.presses, arguments.floor = 2_000, 1.5, 20, 300
    run_benchmark(
        main(arguments.monitors, arguments.devices, arguments.step_seconds, arguments.presses, arguments.floor)
    )
