"""What the benchmarks share: a monitor in its own process, figures, the machine, verdicts.

The processes themselves (Mosquitto, PostgreSQL, `callwatch run`) are launched by
``simulator.harness``, as the test suites launch them.

Benchmarks print figures with their baseline measured in the same run. They fail (exit 1)
only on a real failure — a crash, a message or notification lost or duplicated — and print
a verdict, never an exit code, for a performance goal missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn

import httpx

from simulator.harness.deployment import aliyun_section
from simulator.harness.monitor_process import MonitorExited, MonitorProcess
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.ports import free_port
from simulator.load.report import percentile
from simulator.sandbox import SmsSandbox

REPO = Path(__file__).resolve().parents[1]
HEALTHY_WITHIN_S = 120.0

__all__ = [
    "BenchFailure",
    "BenchMonitor",
    "benchmark_command",
    "command_line",
    "machine",
    "messages_received",
    "percentile",
    "progress",
    "run_benchmark",
    "summary",
    "verdict",
]


class BenchFailure(Exception):
    """A real failure: the benchmark's numbers cannot be trusted (crash, loss, duplicates)."""


def run_benchmark(benchmark: Coroutine[Any, Any, None]) -> NoReturn:
    """Run a benchmark's main: exit 0 when it ends, or 1 with one line on a real failure
    (a missed performance goal is a printed verdict, not a failure)."""
    try:
        asyncio.run(benchmark)
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


def benchmark_command(doc: str) -> argparse.ArgumentParser:
    """A benchmark's command line, with its module docstring as the help."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def command_line(main: Callable[..., Coroutine[Any, Any, None]], doc: str, **defaults: int | float) -> NoReturn:
    """Run a benchmark whose options are ``main``'s parameters: ``--<name>`` (dashes for
    underscores) for each of ``defaults``, of its default's type; then as ``run_benchmark``."""
    parser = benchmark_command(doc)
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default), default=default)
    run_benchmark(main(**vars(parser.parse_args())))


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def summary(name: str, samples_ms: list[float]) -> dict[str, float | str | int]:
    return {
        "name": name,
        "n": len(samples_ms),
        "p50": percentile(samples_ms, 0.50),
        "p95": percentile(samples_ms, 0.95),
        "p99": percentile(samples_ms, 0.99),
        "max": max(samples_ms, default=0.0),
        "mean": statistics.fmean(samples_ms) if samples_ms else 0.0,
    }


def progress(label: str, done: int, total: int) -> None:
    if done == total or done % max(1, total // 10) == 0:
        print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)


def note(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def verdict(goal: str, met: bool) -> str:
    return f"{'meets' if met else 'MISSES'} the goal: {goal}"


def lateness_table(title: str, results: dict[str, dict[str, list[float]]]) -> None:
    """Print ``results`` (run -> what -> lateness samples in seconds) as a table: n, p50, p99, max."""
    print(f"\n{title}")
    print(f"machine: {machine()}")
    print(f"{'run':<22} {'what':<18} {'n':>6} {'p50 s':>8} {'p99 s':>8} {'max s':>8}")
    for run, figures in results.items():
        for what, samples in figures.items():
            print(
                f"{run:<22} {what:<18} {len(samples):>6} {percentile(samples, 0.5):>8.3f} "
                f"{percentile(samples, 0.99):>8.3f} {max(samples):>8.3f}"
            )


class BenchMonitor(MonitorProcess):
    """`callwatch run` on a config of its own in ``folder`` (the harness's ``MonitorProcess``),
    taking device messages from ``broker`` and sending SMS to ``sandbox``: killable and
    restartable; a crash, or a start that never becomes healthy, is a ``BenchFailure``.

    The MQTT client id stays the same across restarts, so the broker keeps the monitor's
    persistent session (and what arrives while it is down) for the next start.
    """

    def __init__(
        self,
        folder: Path,
        broker: Mosquitto,
        sandbox: SmsSandbox,
        *,
        database_url: str,
        directory: Path | None,
        send_lease_s: float = 30.0,
        shared_group: str = "",
        extra_config: str = "",
        failover_s: float = 10.0,
        provider: str = "sandbox",
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        port = free_port()
        config = folder / "callwatch.toml"
        directory_line = f'file = "{directory}"' if directory else ""
        aliyun = aliyun_section(sandbox, f"http://127.0.0.1:{port}") if provider == "aliyun" else ""
        config.write_text(
            f"""
[mqtt]
url = "{broker.url}"
client_id = "bench-{uuid.uuid4().hex[:8]}"
shared_group = "{shared_group}"
failover_s = {failover_s}
reconnect_max_s = 1
[database]
url = "{database_url}"
[sms]
provider = "{provider}"
# the sandbox takes any rate: measure callwatch, not a provider's per-sender limit
send_rate_per_s = 1000
send_lease_s = {send_lease_s}
[sms.sandbox]
api_base_url = "{sandbox.base_url}"
{aliyun}
[web]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
[directory]
{directory_line}
[service]
log_format = "text"
log_level = "WARNING"
{extra_config}
""",
            encoding="utf-8",
        )
        super().__init__(
            config, f"http://127.0.0.1:{port}", log_path=folder / "monitor.log", healthy_within_s=HEALTHY_WITHIN_S
        )

    async def wait_healthy(self, within_s: float | None = None) -> None:
        try:
            await super().wait_healthy(within_s)
        except (MonitorExited, TimeoutError) as failure:
            raise BenchFailure(str(failure)) from None

    async def stop(self) -> int | None:
        code = await super().stop()
        if code not in (None, 0):
            raise BenchFailure(f"the monitor stopped with exit code {code}; see {self.log_path}")
        return code

    async def messages_received(self, client: httpx.AsyncClient) -> int:
        return await messages_received(client, self.web_url)


async def messages_received(client: httpx.AsyncClient, web_url: str) -> int:
    """A monitor's own count of MQTT messages taken in since it started (from /metrics)."""
    answer = await client.get(f"{web_url}/metrics", timeout=5)
    found = re.search(r"^callwatch_mqtt_messages_received_total (\S+)$", answer.text, re.MULTILINE)
    return int(float(found.group(1))) if found else 0
