"""What the benchmarks share: a monitor in its own process, figures, the machine, verdicts.

Benchmarks print figures with their baseline measured in the same run. They fail (exit 1)
only on a real failure — a crash, a message or notification lost or duplicated — and print
a verdict, never an exit code, for a performance goal missed.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self

import httpx

from simulator.broker import free_port
from simulator.load.report import percentile

REPO = Path(__file__).resolve().parents[1]
HEALTHY_WITHIN_S = 120.0

__all__ = [
    "BenchFailure",
    "MonitorProcess",
    "machine",
    "percentile",
    "progress",
    "summary",
    "verdict",
]


class BenchFailure(Exception):
    """A real failure: the benchmark's numbers cannot be trusted (crash, loss, duplicates)."""


def run_benchmark(benchmark: Coroutine[Any, Any, int]) -> NoReturn:
    """Run a benchmark's main and exit with its status; a real failure is one line and exit 1."""
    try:
        sys.exit(asyncio.run(benchmark))
    except BenchFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)


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


class MonitorProcess:
    """`python -m monitor run` on a config of its own, killable and restartable.

    The MQTT client id stays the same across restarts, so the broker keeps the monitor's
    persistent session (and what arrives while it is down) for the next start.
    """

    def __init__(
        self,
        folder: Path,
        *,
        broker_url: str,
        database_url: str,
        sandbox_url: str,
        directory: Path | None,
        send_lease_s: float = 30.0,
        shared_group: str = "",
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.config = folder / "callwatch.toml"
        directory_line = f'file = "{directory}"' if directory else ""
        self.config.write_text(
            f"""
[mqtt]
url = "{broker_url}"
client_id = "bench-{uuid.uuid4().hex[:8]}"
shared_group = "{shared_group}"
reconnect_max_s = 1
[database]
url = "{database_url}"
[sms]
provider = "sandbox"
# the sandbox takes any rate: measure callwatch, not a provider's per-sender limit
send_rate_per_s = 1000
send_lease_s = {send_lease_s}
[sms.sandbox]
api_base_url = "{sandbox_url}"
[web]
listen = "127.0.0.1:{self.port}"
public_url = "http://127.0.0.1:{self.port}"
[directory]
{directory_line}
[service]
log_format = "text"
log_level = "WARNING"
""",
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> float:
        """Start and wait until it is subscribed; the seconds that took."""
        started = time.monotonic()
        with (self.folder / "monitor.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - started before anything is timed
                [sys.executable, "-m", "monitor", "run", "--config", str(self.config)],
                cwd=REPO,
                stdout=log,
                stderr=log,
            )
        await self.wait_healthy(HEALTHY_WITHIN_S)
        return time.monotonic() - started

    async def wait_healthy(self, within_s: float) -> None:
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise BenchFailure(
                        f"the monitor exited with {self.process.returncode}; see {self.folder}/monitor.log"
                    )
                try:
                    answer = await client.get(f"{self.url}/healthz", timeout=2)
                    if answer.status_code == 200 and answer.json()["components"]["broker"]["ok"]:
                        return
                except (httpx.HTTPError, KeyError, ValueError):
                    pass
                await asyncio.sleep(0.02)
        raise BenchFailure(f"the monitor was not healthy within {within_s:.0f} s; see {self.folder}/monitor.log")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a power cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(self.process.wait, 60)
            if code != 0:
                raise BenchFailure(f"the monitor stopped with exit code {code}; see {self.folder}/monitor.log")

    def rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else 0.0

    async def messages_received(self, client: httpx.AsyncClient) -> int:
        """The monitor's own count of MQTT messages taken in (from /metrics)."""
        answer = await client.get(f"{self.url}/metrics", timeout=5)
        found = re.search(r"^callwatch_mqtt_messages_received_total (\S+)$", answer.text, re.MULTILINE)
        return int(float(found.group(1))) if found else 0
