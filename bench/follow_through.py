"""Follow-through timing: 200 alerts taken and then left without arrival, every reminder and
every arrival deadline due at the same instant. How late the re-escalation's SMS reached the
SMS API after the deadline (p50/p99/max), and the reminders' lateness as the monitor wrote
them. The baseline, in the same run, is one alert alone.

    python -m bench.follow_through [--alerts 200] [--arrive-within 10]

Each alert is raised by a press and asks the area responder (tier 1); once every ask went out,
all are recorded as taken by the responder, half of ``--arrive-within`` before one instant a few
seconds ahead: the reminders fall due at that instant and the deadlines ``--arrive-within / 2``
later, all together. Every alert must get exactly one reminder and one re-escalation (the
leader asked once), else exit 1. Goal: p99 of the re-escalation SMS under 1 s late.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bench.escalation import LEADER_PHONE, code_of, press_all
from bench.harness import BenchFailure, BenchMonitor, command_line, lateness_table, note, percentile, verdict
from monitor.store.database import Database
from monitor.store.models import Alert, Notification
from simulator.harness.mosquitto import Mosquitto
from simulator.load import LoadPlan
from simulator.load.directory import RESPONDER_PHONE, directory_lines
from simulator.sandbox import SmsSandbox

GOAL_S = 1.0
STORM_LEAD_S = 5.0


def write_directory(path: Path, plan: LoadPlan, arrive_within_s: int) -> Path:
    """The load directory with a second tier (the leader), its policy giving ``arrive_within_s``."""
    chunks = list(directory_lines(plan, ack_timeout_s=3600, second_tier_timeout_s=3600))
    policy = next(index for index, chunk in enumerate(chunks) if chunk.lstrip().startswith("[[policies]]"))
    chunks[policy] = chunks[policy].rstrip() + f"\narrive_within_s = {arrive_within_s}\n"
    path.write_text("\n".join(chunks) + "\n", encoding="utf-8")
    return path


async def storm(
    broker: Mosquitto,
    sandbox: SmsSandbox,
    database: Database,
    plan: LoadPlan,
    count: int,
    offset: int,
    arrive_within_s: int,
) -> dict[str, list[float]]:
    """Raise ``count`` alerts, have them all taken so that their follow-ups fall due together, and
    measure how late each reminder and re-escalation came (seconds)."""
    sandbox.reset()
    await press_all(broker, plan, count, offset)
    await sandbox.wait_for_messages(count, to=RESPONDER_PHONE, timeout=300)
    reminders_due = datetime.now(UTC) + timedelta(seconds=STORM_LEAD_S)
    half = timedelta(seconds=arrive_within_s / 2)
    deadline = reminders_due + half
    async with database.write() as session:
        ids = list((await session.scalars(select(Alert.id).where(Alert.state == "open", Alert.tier == 0))).all())
        await session.execute(
            update(Alert)
            .where(Alert.id.in_(ids))
            .values(
                state="acknowledged",
                acknowledged_by="v-load",
                acknowledged_at=reminders_due - half,
                taken_at=reminders_due - half,
                next_escalation_at=None,
                follow_up="remind_arrival",
                follow_up_at=reminders_due,
            )
        )
    note(f"{len(ids)} alerts taken: reminders due {reminders_due.time()}, deadlines {deadline.time()}")
    leader = await sandbox.wait_for_messages(len(ids), to=LEADER_PHONE, timeout=300 + arrive_within_s)
    await asyncio.sleep(1)  # anything duplicated would arrive now
    leader = sandbox.messages(to=LEADER_PHONE)
    codes = [code_of(message.body) for message in leader]
    if sorted(codes) != sorted(ids):
        raise BenchFailure(f"re-escalation: {len(codes)} SMS for {len(ids)} alerts ({len(set(codes))} distinct)")
    async with database.read() as session:
        reminders = (
            await session.execute(
                select(Notification.alert_id, Notification.created_at).where(
                    Notification.alert_id.in_(ids), Notification.template == "arrival_reminder"
                )
            )
        ).all()
    reminded = sorted(alert_id for alert_id, _ in reminders if alert_id is not None)
    if reminded != sorted(ids):
        raise BenchFailure(f"reminders: {len(reminded)} for {len(ids)} alerts ({len(set(reminded))} distinct)")
    return {
        "reminder written": [created.timestamp() - reminders_due.timestamp() for _, created in reminders],
        "re-escalation SMS": [message.arrived_wall - deadline.timestamp() for message in leader],
    }


async def main(alerts: int, arrive_within: int) -> None:
    """``alerts`` at once, and one alone; ``arrive_within`` in seconds."""
    plan = LoadPlan(devices=alerts + 1)
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-follow-through-") as scratch:
        folder = Path(scratch)
        directory = write_directory(folder / "directory.toml", plan, arrive_within)
        database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        async with Mosquitto(folder / "broker") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            monitor = BenchMonitor(folder / "monitor", broker, sandbox, database_url=database_url, directory=directory)
            async with monitor, Database(database_url) as database:
                note("baseline: one alert alone")
                results["1 alert (baseline)"] = await storm(broker, sandbox, database, plan, 1, alerts, arrive_within)
                note(f"storm: {alerts} alerts left without arrival")
                started = time.monotonic()
                results[f"{alerts} alerts at once"] = await storm(
                    broker, sandbox, database, plan, alerts, 0, arrive_within
                )
                note(f"storm done in {time.monotonic() - started:.0f} s")
    lateness_table(
        f"Follow-through timing: lateness after the due time, seconds (arrive_within_s {arrive_within})", results
    )
    worst = percentile(results[f"{alerts} alerts at once"]["re-escalation SMS"], 0.99)
    print(f"storm: re-escalation SMS p99 {worst:.3f} s {verdict(f'p99 < {GOAL_S:g} s', worst < GOAL_S)}")


if __name__ == "__main__":
    command_line(main, __doc__, alerts=200, arrive_within=10)
