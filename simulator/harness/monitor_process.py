"""`callwatch run` as a child process: start, wait until healthy, SIGKILL, SIGTERM, restart.

``MonitorProcess`` runs ``python -m monitor run --config FILE`` with its output in a log file
and ``CALLWATCH_*`` overrides of its own in the environment (one of several monitors on one
config: its own client id and web port). Healthy means what a service manager or a load
balancer would check: ``/healthz`` answers 200 and the broker component is ok, so the
monitor is connected and subscribed.

    async with MonitorProcess(config, "http://127.0.0.1:8080", log_path=folder / "monitor.log") as monitor:
        monitor.kill(); await monitor.start()
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp

#: the folder holding the ``monitor`` package: the repository in a checkout, site-packages when installed
SOURCE_ROOT = Path(__file__).resolve().parents[2]
HEALTHY_WITHIN_S = 30.0
STOP_WITHIN_S = 60.0
KILL_WITHIN_S = 10.0
POLL_S = 0.02


class MonitorExited(RuntimeError):
    """The monitor process ended while it was awaited to become healthy."""


def broker_ok(health: object) -> bool:
    """Whether a /healthz report says the broker connection (with its subscriptions) is up."""
    if not isinstance(health, dict):
        return False
    components = health.get("components")
    broker = components.get("broker") if isinstance(components, dict) else None
    return isinstance(broker, dict) and bool(broker.get("ok"))


async def is_healthy(session: aiohttp.ClientSession, web_url: str) -> bool:
    """One look at ``web_url``/healthz: 200, and the broker ok."""
    try:
        async with session.get(f"{web_url}/healthz", timeout=aiohttp.ClientTimeout(total=2)) as answer:
            if answer.status != 200:
                return False
            return broker_ok(await answer.json(content_type=None))
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False


async def wait_until_healthy(web_url: str, *, within_s: float, alive: Callable[[], bool] | None = None) -> None:
    """Poll ``web_url``/healthz until the monitor is healthy; TimeoutError after ``within_s``,
    MonitorExited as soon as ``alive`` says the process is gone."""
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while not await is_healthy(session, web_url):
            if alive is not None and not alive():
                raise MonitorExited(f"the monitor exited before it was healthy on {web_url}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the monitor did not become healthy on {web_url} within {within_s:g} s")
            await asyncio.sleep(POLL_S)


class MonitorProcess:
    """One `callwatch run` on ``config``, serving ``web_url``; killable and restartable at will.

    Its MQTT client id stays the same across restarts (it is in the config), so the broker
    keeps its persistent session, and what arrives while it is down, for the next start.
    """

    def __init__(
        self,
        config: Path,
        web_url: str,
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        healthy_within_s: float = HEALTHY_WITHIN_S,
    ) -> None:
        self.config = config
        self.web_url = web_url
        self.log_path = log_path
        self.env = dict(env or {})
        self.healthy_within_s = healthy_within_s
        self.process: subprocess.Popen[bytes] | None = None
        #: how many times it was launched
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the monitor was never started")
        return self.process.pid

    def launch(self) -> None:
        """Start the process and return at once (it takes seconds to become healthy)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our own config
                [sys.executable, "-m", "monitor", "run", "--config", str(self.config)],
                cwd=SOURCE_ROOT,
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            )
        self.starts += 1

    async def start(self) -> float:
        """Start and wait until healthy; the seconds that took."""
        started = time.monotonic()
        self.launch()
        await self.wait_healthy()
        return time.monotonic() - started

    async def wait_healthy(self, within_s: float | None = None) -> None:
        """TimeoutError if it is not healthy within ``within_s``; MonitorExited (naming the log) if it ends."""
        within_s = self.healthy_within_s if within_s is None else within_s
        try:
            await wait_until_healthy(self.web_url, within_s=within_s, alive=lambda: self.running)
        except MonitorExited:
            code = self.process.returncode if self.process is not None else None
            raise MonitorExited(f"the monitor exited with {code} before it was healthy; see {self.log_path}") from None
        except TimeoutError:
            raise TimeoutError(f"the monitor was not healthy within {within_s:g} s; see {self.log_path}") from None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a power cut."""
        if self.process is None:
            raise RuntimeError("the monitor was never started")
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=KILL_WITHIN_S)

    async def terminate(self, within_s: float = STOP_WITHIN_S) -> int:
        """SIGTERM, as a service manager stops it; its exit code."""
        if self.process is None:
            raise RuntimeError("the monitor was never started")
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, within_s)

    async def stop(self) -> int | None:
        """SIGTERM if it still runs; its exit code (None if it was not running)."""
        if not self.running:
            return None
        return await self.terminate()

    async def restart(self) -> float:
        """SIGKILL if it runs, as a crash; then start and wait until healthy (as systemd's Restart= would)."""
        if self.running:
            self.kill()
        return await self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss_mb(self) -> float:
        """Resident memory now, in MB (from /proc)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else 0.0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
