"""The watchdog: a silent loop raises the duty alarm and ends the monitor; systemd is petted
while all is well; a blocked event loop is ended from a thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.core.clock import SystemClock
from monitor.core.health import Health
from monitor.core.heartbeat import Heartbeat
from monitor.core.loop_stop import LoopStop
from monitor.runtime.sd_notify import SystemdNotifier
from monitor.runtime.watchdog import EXIT_STALLED, LastResort, LoopStalled, Watchdog
from tests.support.waiting import until


async def keep_beating(heartbeat: Heartbeat) -> None:
    while True:
        heartbeat.beat()
        await asyncio.sleep(0.02)


async def test_a_silent_loop_raises_the_duty_alarm_and_ends_the_monitor() -> None:
    health = Health(SystemClock())
    turning, stuck = Heartbeat("ingest"), Heartbeat("escalation")
    alarms: list[str] = []

    async def alarm(loop: str, silent_s: float) -> None:
        alarms.append(loop)

    with LastResort(stall_after_s=0.3, exit_code=EXIT_STALLED) as last_resort:
        watchdog = Watchdog(
            [turning, stuck],
            stall_after_s=0.3,
            health=health,
            alarm=alarm,
            notifier=SystemdNotifier({}),
            last_resort=last_resort,
        )
        beating = asyncio.create_task(keep_beating(turning))
        try:
            with pytest.raises(LoopStalled) as stalled:
                await watchdog.run(LoopStop())
        finally:
            beating.cancel()
    assert stalled.value.loop == "escalation"
    assert alarms == ["escalation"]
    assert not health.ok and "escalation loop made no progress" in health.components["loops"].detail


async def test_systemd_is_told_ready_and_petted_while_every_loop_turns(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    received: list[str] = []

    def read(systemd: socket.socket) -> list[str]:
        with contextlib.suppress(BlockingIOError):
            while True:
                received.append(systemd.recv(64).decode())
        return received

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.setblocking(False)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path)})
        notifier.ready()
        ingest, escalation = Heartbeat("ingest"), Heartbeat("escalation")
        with LastResort(stall_after_s=0.3, exit_code=EXIT_STALLED) as last_resort:
            watchdog = Watchdog(
                [ingest, escalation],
                stall_after_s=0.3,
                health=Health(SystemClock()),
                alarm=lambda loop, silent_s: asyncio.sleep(0),
                notifier=notifier,
                last_resort=last_resort,
            )
            beating = [asyncio.create_task(keep_beating(ingest)), asyncio.create_task(keep_beating(escalation))]
            watching = asyncio.create_task(watchdog.run(LoopStop()))
            await until(lambda: read(systemd).count("WATCHDOG=1") >= 2, within_s=5, what="two pets")
            for task in beating:
                task.cancel()
            with pytest.raises(LoopStalled):
                await watching
    assert received[0] == "READY=1"


def test_a_blocked_event_loop_is_ended_from_the_thread() -> None:
    blocked = (
        "import time\n"
        "from monitor.runtime.watchdog import LastResort\n"
        "with LastResort(stall_after_s=0.5, exit_code=70) as guard:\n"
        "    guard.watching(True)\n"
        "    time.sleep(30)  # a blocking call on the event loop's thread: nothing beats\n"
    )
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == EXIT_STALLED
    assert "event loop has been blocked" in result.stderr
