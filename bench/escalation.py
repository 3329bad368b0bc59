"""Escalation timing: 1,000 alerts due for tier 2 at the same instant, then (nobody answers)
UNANSWERED to duty staff. How late each step ran, and how late its SMS reached the SMS API,
compared with the due time: p50/p99/max. The baseline, in the same run, is one alert alone.

    python -m bench.escalation [--alerts 1000] [--tier2-timeout 5]

Tier 1 is the area responder with a long timeout; once every alert has asked tier 1, all
their due times are set to one instant a few seconds ahead (a storm: every tier 2 due at
once). Every alert must get exactly one tier-2 SMS and one UNANSWERED SMS (else exit 1).
Goal: p99 lateness under 1 s.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bench.harness import BenchFailure, BenchMonitor, command_line, lateness_table, note, percentile, verdict
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent
from simulator.harness.mosquitto import Mosquitto
from simulator.load import LoadPlan, write_directory
from simulator.load.directory import STAFF_PHONE
from simulator.mqtt_link import MqttLink
from simulator.sandbox import SmsSandbox

LEADER_PHONE = "+8613900000009"
GOAL_S = 1.0
CODE = re.compile(r"ACK (\d+)")
STORM_LEAD_S = 5.0


def code_of(body: str) -> int:
    found = CODE.search(body)
    if found is None:
        raise BenchFailure(f"an alert SMS without its code: {body!r}")
    return int(found.group(1))


async def press_all(broker: Mosquitto, plan: LoadPlan, count: int, offset: int) -> None:
    async with MqttLink(broker.address, f"bench-escalation-{offset}") as link:
        for index in range(offset, offset + count):
            body = json.dumps({"type": "sos", "id": f"storm-{index}"}).encode()
            link.publish_nowait(f"callwatch/{plan.device_id(index)}/event", body)
        await link.flush()


async def storm(
    broker: Mosquitto,
    sandbox: SmsSandbox,
    database: Database,
    plan: LoadPlan,
    count: int,
    offset: int,
    tier2_timeout_s: float,
) -> dict[str, list[float]]:
    """Raise ``count`` alerts, make them all due at once, and measure each step's lateness (seconds)."""
    sandbox.reset()
    await press_all(broker, plan, count, offset)
    await sandbox.wait_for_messages(count, timeout=300)  # tier 1 asked for every alert
    due = datetime.now(UTC) + timedelta(seconds=STORM_LEAD_S)
    async with database.write() as session:
        ids = list((await session.scalars(select(Alert.id).where(Alert.state == "open", Alert.tier == 0))).all())
        await session.execute(update(Alert).where(Alert.id.in_(ids)).values(next_escalation_at=due))
    note(f"{len(ids)} alerts due for tier 2 at {due.time().isoformat(timespec='milliseconds')}")
    leader = await sandbox.wait_for_messages(len(ids), to=LEADER_PHONE, timeout=300)
    staff = await sandbox.wait_for_messages(len(ids), to=STAFF_PHONE, timeout=300 + tier2_timeout_s)
    await asyncio.sleep(1)  # anything duplicated would arrive now
    leader, staff = sandbox.messages(to=LEADER_PHONE), sandbox.messages(to=STAFF_PHONE)
    for who, messages in (("tier 2", leader), ("duty staff", staff)):
        codes = [code_of(message.body) for message in messages]
        if sorted(codes) != sorted(ids):
            raise BenchFailure(f"{who}: {len(codes)} SMS for {len(ids)} alerts ({len(set(codes))} distinct)")
    async with database.read() as session:
        events = (
            await session.execute(
                select(AlertEvent.alert_id, AlertEvent.kind, AlertEvent.at).where(
                    AlertEvent.alert_id.in_(ids), AlertEvent.kind.in_(("escalated", "unanswered"))
                )
            )
        ).all()
    first_step: dict[int, datetime] = {}
    for alert_id, kind, at in sorted(events, key=lambda row: row[2]):
        if kind == "escalated":
            first_step.setdefault(alert_id, at)
    unanswered = {alert_id: at for alert_id, kind, at in events if kind == "unanswered"}
    tier2_due = due.timestamp()
    return {
        "tier 2 step": [first_step[i].timestamp() - tier2_due for i in ids],
        "tier 2 SMS": [m.arrived_wall - tier2_due for m in leader],
        "UNANSWERED step": [unanswered[i].timestamp() - (first_step[i].timestamp() + tier2_timeout_s) for i in ids],
        "UNANSWERED SMS": [m.arrived_wall - (first_step[code_of(m.body)].timestamp() + tier2_timeout_s) for m in staff],
    }


async def main(alerts: int, tier2_timeout: int) -> None:
    """``alerts`` at once, and one alone; ``tier2_timeout`` in seconds."""
    plan = LoadPlan(devices=alerts + 1)
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-escalation-") as scratch:
        folder = Path(scratch)
        directory = write_directory(
            folder / "directory.toml", plan, ack_timeout_s=3600, second_tier_timeout_s=tier2_timeout
        )
        database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        async with Mosquitto(folder / "broker") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            monitor = BenchMonitor(folder / "monitor", broker, sandbox, database_url=database_url, directory=directory)
            async with monitor, Database(database_url) as database:
                note("baseline: one alert alone")
                results["1 alert (baseline)"] = await storm(broker, sandbox, database, plan, 1, alerts, tier2_timeout)
                note(f"storm: {alerts} alerts at once")
                started = time.monotonic()
                results[f"{alerts} alerts at once"] = await storm(
                    broker, sandbox, database, plan, alerts, 0, tier2_timeout
                )
                note(f"storm done in {time.monotonic() - started:.0f} s")
    lateness_table(
        f"Escalation timing: lateness after the due time, seconds (tier 2 timeout {tier2_timeout} s)", results
    )
    storm_runs = [figures for run, figures in results.items() if run != "1 alert (baseline)"]
    worst = max(percentile(samples, 0.99) for figures in storm_runs for samples in figures.values())
    print(f"storm: worst p99 {worst:.3f} s {verdict(f'p99 < {GOAL_S:g} s', worst < GOAL_S)}")


if __name__ == "__main__":
    command_line(main, __doc__, alerts=1000, tier2_timeout=5)
