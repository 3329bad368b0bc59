"""Scale of the directory: the monitor's start-up time and memory (RSS) with 100,000 devices
registered and 1,000 open alerts, beside the same monitor with a one-device directory
(the baseline, in the same run). Start-up is from process start until it is subscribed and
healthy; the directory is imported beforehand (`callwatch import`, timed separately).

    python -m bench.scale [--devices 100000] [--alerts 1000]

Goal: under 300 MB and under 5 s.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import REPO, BenchFailure, BenchMonitor, command_line, machine, note, verdict
from simulator.harness.mosquitto import Mosquitto
from simulator.load import LoadPlan, write_directory
from simulator.mqtt_link import MqttLink
from simulator.sandbox import SmsSandbox

GOAL_MB = 300.0
GOAL_S = 5.0
SETTLE_S = 3.0


async def open_alerts(broker: Mosquitto, sandbox: SmsSandbox, plan: LoadPlan, count: int) -> None:
    async with MqttLink(broker.address, "bench-scale-presses") as link:
        for index in range(count):
            body = json.dumps({"type": "sos", "id": f"scale-{index}"}).encode()
            link.publish_nowait(f"callwatch/{plan.device_id(index * 97)}/event", body)
        await link.flush()
    await sandbox.wait_for_messages(count, timeout=600)


async def measure(folder: Path, broker: Mosquitto, sandbox: SmsSandbox, database_url: str) -> tuple[float, float]:
    """Start a monitor on an imported database: seconds until healthy, RSS in MB once settled."""
    monitor = BenchMonitor(folder, broker, sandbox, database_url=database_url, directory=None)
    started_s = await monitor.start()
    try:
        await asyncio.sleep(SETTLE_S)  # what it holds once running, not only at the first healthy answer
        return started_s, monitor.rss_mb()
    finally:
        await monitor.stop()


async def prepared(
    folder: Path, broker: Mosquitto, sandbox: SmsSandbox, plan: LoadPlan, alerts: int
) -> tuple[str, float]:
    """A database with ``plan``'s directory imported and ``alerts`` open alerts; the import's seconds."""
    directory = write_directory(folder / "directory.toml", plan)
    database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    monitor = BenchMonitor(folder / "setup", broker, sandbox, database_url=database_url, directory=None)
    started = time.monotonic()
    imported = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "monitor", "import", str(directory), "--config", str(monitor.config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if imported.returncode != 0:
        raise BenchFailure(f"callwatch import failed: {imported.stderr[-500:]}")
    import_s = time.monotonic() - started
    note(f"imported {plan.devices:,} devices in {import_s:.1f} s")
    if alerts:
        async with monitor:
            await open_alerts(broker, sandbox, plan, alerts)
    return database_url, import_s


async def main(devices: int, alerts: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-scale-") as scratch:
        folder = Path(scratch)
        async with Mosquitto(folder / "broker") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            for label, plan, count in (
                ("1 device, no alerts (baseline)", LoadPlan(devices=1, prefix="base-"), 0),
                (f"{devices:,} devices, {alerts:,} open alerts", LoadPlan(devices=devices, prefix="big-"), alerts),
            ):
                run = folder / plan.prefix.strip("-")
                run.mkdir()
                note(f"{label}: importing and opening alerts")
                database_url, import_s = await prepared(run, broker, sandbox, plan, count)
                note(f"{label}: starting the monitor")
                start_s, rss = await measure(run / "measured", broker, sandbox, database_url)
                rows.append((label, import_s, start_s, rss))
    print("\nDirectory scale: monitor start-up (process start -> subscribed and healthy) and RSS")
    print(f"machine: {machine()}")
    print(f"{'directory':<34} {'import s':>9} {'start-up s':>11} {'RSS MB':>8}")
    for label, import_s, start_s, rss in rows:
        print(f"{label:<34} {import_s:>9.1f} {start_s:>11.2f} {rss:>8.0f}")
    _, _, start_s, rss = rows[-1]
    print(f"start-up {start_s:.2f} s {verdict(f'< {GOAL_S:g} s', start_s < GOAL_S)}")
    print(f"memory {rss:.0f} MB {verdict(f'< {GOAL_MB:g} MB', rss < GOAL_MB)}")


if __name__ == "__main__":
    command_line(main, __doc__, devices=100_000, alerts=1000)
