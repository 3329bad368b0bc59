"""Recovery: SIGKILL the monitor under load, restart it at once. How long until it is
processing again, and how many device messages or notifications were lost or duplicated.

    python -m bench.recovery [--rate 150] [--sos-rate 4] [--seconds 30]

Heartbeats and locations (each with a sequence number) and SOS presses (each a new event id)
go on throughout; the monitor is killed halfway and restarted. Afterwards: every message must
be in the database (lost = published but never stored; a message redelivered after the kill
and stored twice is at-least-once delivery, reported but expected), every press exactly one
alert, every alert exactly one SMS per person asked. Any loss or duplicate alert or SMS is a
failure (exit 1). The baseline, in the same run, is the monitor's first (clean) start.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.harness import BenchFailure, BenchMonitor, command_line, machine, note, verdict
from monitor.store.database import Database
from monitor.store.models import Alert, DeviceMessage
from simulator.harness.mosquitto import Mosquitto
from simulator.load import LoadGenerator, LoadPlan, write_directory
from simulator.load.directory import RESPONDER_PHONE
from simulator.sandbox import SmsSandbox

DEVICES = 2000
CODE = re.compile(r"ACK (\d+)")
SETTLE_WITHIN_S = 120.0


async def back_to_work(monitor: BenchMonitor, client: httpx.AsyncClient, killed_at: float) -> tuple[float, float]:
    """Restart; (seconds from the kill until healthy, until it took in its first message)."""
    await monitor.start()
    healthy = time.monotonic() - killed_at
    while await monitor.messages_received(client) == 0:  # noqa: ASYNC110 - another process: polled over HTTP
        await asyncio.sleep(0.01)
    return healthy, time.monotonic() - killed_at


async def stored(database: Database) -> tuple[Counter[int], Counter[str]]:
    """How many times each background sequence number and each press id was stored."""
    sequences: Counter[int] = Counter()
    presses: Counter[str] = Counter()
    async with database.read() as session:
        for (payload,) in (await session.execute(select(DeviceMessage.payload))).all():
            try:
                body = json.loads(payload)
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            if "seq" in body:
                sequences[int(body["seq"])] += 1
            elif body.get("type") == "sos":
                presses[str(body.get("id"))] += 1
    return sequences, presses


async def main(rate: float, sos_rate: float, seconds: float) -> None:
    plan = LoadPlan(devices=DEVICES, rate=rate, sos_rate=sos_rate, duration_s=seconds, connections=2)
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-recovery-") as scratch:
        folder = Path(scratch)
        directory = write_directory(folder / "directory.toml", plan)
        database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        async with Mosquitto(folder / "broker") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            monitor = BenchMonitor(
                folder / "monitor", broker, sandbox, database_url=database_url, directory=directory, send_lease_s=2
            )
            clean_start_s = await monitor.start()
            try:
                generator = LoadGenerator(broker.address, plan, progress=note, settle_s=60)
                running = asyncio.create_task(generator.run())
                await asyncio.sleep(seconds / 2)
                killed_at = time.monotonic()
                monitor.kill()
                note(f"SIGKILL after {generator.report.published:,} messages; restarting at once")
                async with httpx.AsyncClient() as client:
                    healthy_s, working_s = await back_to_work(monitor, client, killed_at)
                report = await running
                async with Database(database_url) as database:
                    deadline = time.monotonic() + SETTLE_WITHIN_S
                    while True:
                        sequences, presses = await stored(database)
                        background = report.heartbeats + report.locations
                        if (len(sequences) >= background and len(presses) >= report.sos_sent) or (
                            time.monotonic() > deadline
                        ):
                            break
                        await asyncio.sleep(0.5)
                    await sandbox.wait_for_messages(len(presses), to=RESPONDER_PHONE, timeout=SETTLE_WITHIN_S)
                    await asyncio.sleep(3)  # a duplicate SMS would arrive now
                    async with database.read() as session:
                        alerts = Counter((await session.scalars(select(Alert.event_id))).all())
            finally:
                await monitor.stop()
            sms = Counter(
                int(found.group(1)) for m in sandbox.messages(to=RESPONDER_PHONE) if (found := CODE.search(m.body))
            )
    lost_messages = background - len(sequences)
    redelivered = sum(count - 1 for count in sequences.values()) + sum(count - 1 for count in presses.values())
    lost_alerts = report.sos_sent - len(alerts)
    duplicate_alerts = sum(count - 1 for count in alerts.values())
    duplicate_sms = sum(count - 1 for count in sms.values())
    lost_sms = len(alerts) - len(sms)
    print(f"\nRecovery: SIGKILL at {seconds / 2:g} s under {rate:g} msg/s + {sos_rate:g} SOS/s, restarted at once")
    print(f"machine: {machine()}")
    print(f"clean start (baseline): healthy after {clean_start_s:.2f} s")
    print(f"after SIGKILL: healthy after {healthy_s:.2f} s, processing again after {working_s:.2f} s")
    print(f"published: {background:,} heartbeats/locations, {report.sos_sent} SOS")
    print(f"device messages lost: {lost_messages}; stored twice after redelivery (at-least-once): {redelivered}")
    print(f"alerts: {len(alerts)} for {report.sos_sent} presses; lost {lost_alerts}, duplicated {duplicate_alerts}")
    print(f"alert SMS: {sum(sms.values())} for {len(alerts)} alerts; lost {lost_sms}, duplicated {duplicate_sms}")
    failures = lost_messages + lost_alerts + duplicate_alerts + duplicate_sms + lost_sms
    print(verdict("zero lost or duplicated messages, alerts and SMS", failures == 0))
    if failures:
        raise BenchFailure(f"{failures} lost or duplicated messages, alerts or SMS")


if __name__ == "__main__":
    command_line(main, __doc__, rate=150.0, sos_rate=4.0, seconds=30.0)
