"""Fault campaigns with real processes: what callwatch loses or duplicates when things break.

    python -m bench.faults kills [--kills 20] [--database sqlite|postgresql] [--seed N] [--longest-life-s 7]
                                 [--report FILE]
    python -m bench.faults broker [--restarts 5] [--crash] [--monitor-down]

**kills**: devices publish heartbeats steadily, residents press SOS (some twice, some
presses delivered twice), and the monitor (`callwatch run`, its own process) is SIGKILLed
at random moments, over and over: while it starts, while it ingests, while it sends SMS,
while its escalation timers are due (tier timeouts of a few seconds, so every alert goes
to tier 2 and then to duty staff during the campaign). It is restarted straight away, as
systemd would. Afterwards it checks, from the database and the SMS sandbox's own records:
every message the broker accepted is stored; every press raised exactly one alert; every
SMS went out exactly once per (alert, recipient, tier, round), and none is missing; every
alert went through every tier, none early, and how late.

**broker**: devices publish steadily through the broker (config/mosquitto.conf as
shipped: TLS, accounts, persistence) while it is restarted (`--crash`: SIGKILLed and
started again). Afterwards: every message the broker acknowledged to a device is stored
by the monitor; anything missing is counted and explained.

Both exit 1 when anything is lost or duplicated. The test suite runs a short kill
campaign as a child process (tests/system/reliability/test_monitor_kills.py, reading the
``--report`` file); `make bench-short` a longer one. The processes (Mosquitto, the monitor,
the databases) are launched by ``simulator.harness``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from monitor.notify.requests import NotificationStatus, Purpose
from monitor.store.database import Database
from monitor.store.models import Alert, Notification, SeenDeviceEvent
from simulator.directory_entries import directory_file, entry
from simulator.harness.deployment import Deployment
from simulator.harness.firmware_fleet import BrokerAccess, FirmwareFleet
from simulator.harness.monitor_process import MonitorExited, MonitorProcess
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.neighbourhood import RESIDENT_EN
from simulator.harness.ports import free_port
from simulator.harness.postgres import POSTGRES_ENV, fresh_database, postgres_url
from simulator.harness.secured import secure
from simulator.harness.shipped_broker import ShippedBroker
from simulator.harness.waiting import until
from simulator.sandbox import SmsSandbox

TIER_TIMEOUT_S = 3
#: devices that only send heartbeats; the SOS devices are added per kill
HEARTBEAT_DEVICES = 8
SOS_PER_KILL = 2
SETTLE_WITHIN_S = 180.0
#: it takes some 4 s to start, much longer on a busy machine
HEALTHY_WITHIN_S = 60.0
#: the verdict a campaign prints when all is well (it exits 1 and prints FAILED: ... otherwise)
NOTHING_LOST = "nothing lost, nothing duplicated"
UNSETTLED = (
    NotificationStatus.PENDING,
    NotificationStatus.CLAIMED,
    NotificationStatus.UNCONFIRMED,
    NotificationStatus.HELD,
)


def sos_devices(presses: int) -> list[str]:
    """The campaign's SOS buttons: one per press, each pressed once (some twice) during the campaign."""
    return [f"sos-{index}" for index in range(presses)]


def heartbeat_devices() -> list[str]:
    """The campaign's buttons that only send heartbeats, the steady load."""
    return [f"hb-{index}" for index in range(HEARTBEAT_DEVICES)]


def extra_directory(presses: int) -> str:
    """The deployment's directory plus a resident and button per SOS, and heartbeat-only buttons."""
    entries = []
    for index, device in enumerate(sos_devices(presses)):
        entries.append(entry("residents", id=f"r-{device}", name=f"Resident {index}", area="a-1", language="en"))
        entries.append(entry("devices", id=device, resident=f"r-{device}", protocol="native"))
    for device in heartbeat_devices():
        entries.append(entry("devices", id=device, resident=RESIDENT_EN, protocol="native"))
    return directory_file(*entries)


@asynccontextmanager
async def campaign_deployment(
    folder: Path, database_url: str, web_port: int, presses: int
) -> AsyncIterator[Deployment]:
    """What a kill campaign runs on, one monitor or several: a broker, the SMS sandbox (phones
    reply to the monitor on ``web_port``), tier timeouts of ``TIER_TIMEOUT_S``, and the
    deployment's directory with a button for each of ``presses`` SOS and the heartbeat buttons."""
    async with (
        Mosquitto(folder / "mosquitto") as broker,
        SmsSandbox(inbound_url=f"http://127.0.0.1:{web_port}/twilio/sms", status_step_delay=0.01) as sandbox,
    ):
        deployment = Deployment(
            folder=folder,
            broker=broker,
            sandbox=sandbox,
            database_url=database_url,
            web_port=web_port,
            tier1_timeout_s=TIER_TIMEOUT_S,
            tier2_timeout_s=TIER_TIMEOUT_S,
        )
        deployment.write_files(directory_extra=extra_directory(presses))
        yield deployment


def campaign_fleet(deployment: Deployment, presses: int) -> FirmwareFleet:
    """Every button of the campaign (heartbeat and SOS) as firmware publishing to the deployment's broker."""
    access = BrokerAccess(deployment.broker.host, deployment.broker.port)
    return FirmwareFleet(access, heartbeat_devices() + sos_devices(presses))


@dataclass
class KillReport:
    database: str
    monitors: int = 1
    kills: int = 0
    killed_while_starting: int = 0
    messages_accepted: int = 0
    messages_lost: int = 0
    presses: int = 0
    alerts_missing: int = 0
    alerts_duplicated: int = 0
    sms_expected: int = 0
    sms_sent: int = 0
    sms_missing: int = 0
    sms_duplicated: int = 0
    sms_unrecorded: int = 0
    timers: int = 0
    timers_early: int = 0
    timers_never_ran: int = 0
    lateness_s: list[float] = field(default_factory=list)
    #: each ask's SMS: from its step's commit to its arrival at the SMS API
    sms_delay_s: list[float] = field(default_factory=list)
    #: each press: from the device publishing to its first ask being queued
    press_to_ask_s: list[float] = field(default_factory=list)
    #: several monitors: the device messages each took in before the first kill (all up since the start)
    messages_per_monitor: list[int] = field(default_factory=list)
    minutes: float = 0.0

    @property
    def problems(self) -> list[str]:
        counts = {
            "messages lost": self.messages_lost,
            "presses without an alert": self.alerts_missing,
            "presses with more than one alert": self.alerts_duplicated,
            "SMS missing": self.sms_missing,
            "SMS sent twice": self.sms_duplicated,
            "SMS sent but not recorded": self.sms_unrecorded,
            "timers run early": self.timers_early,
            "timers never run": self.timers_never_ran,
        }
        return [f"{count} {what}" for what, count in counts.items() if count]

    def lines(self) -> list[str]:
        late = sorted(self.lateness_s)
        p95 = late[int(0.95 * (len(late) - 1))] if late else 0.0
        return [
            f"kill campaign on {self.database}{f', {self.monitors} monitors' if self.monitors > 1 else ''}: "
            f"{self.kills} SIGKILLs ({self.killed_while_starting} while starting) "
            f"in {self.minutes:.1f} min",
            f"  device messages accepted by the broker: {self.messages_accepted}, lost: {self.messages_lost}",
            f"  SOS presses: {self.presses}, alerts missing: {self.alerts_missing}, "
            f"duplicated: {self.alerts_duplicated}",
            f"  SMS expected: {self.sms_expected}, sent: {self.sms_sent}, missing: {self.sms_missing}, "
            f"sent twice: {self.sms_duplicated}, sent unrecorded: {self.sms_unrecorded}",
            f"  escalation timers: {self.timers}, run early: {self.timers_early}, never run: {self.timers_never_ran}, "
            f"lateness median {statistics.median(late) if late else 0:.1f} s, p95 {p95:.1f} s, "
            f"max {max(late, default=0):.2f} s{' (the monitor was down meanwhile)' if self.monitors == 1 else ''}",
            f"  press to first ask queued: median {statistics.median(self.press_to_ask_s or [0]):.2f} s, "
            f"max {max(self.press_to_ask_s, default=0):.2f} s",
            f"  ask SMS from step to the SMS API: median {statistics.median(self.sms_delay_s or [0]):.2f} s, "
            f"max {max(self.sms_delay_s, default=0):.2f} s",
            *(
                [f"  messages taken in by each monitor before the first kill: {self.messages_per_monitor}"]
                if self.messages_per_monitor
                else []
            ),
        ]


async def kill_campaign(
    folder: Path,
    database_url: str,
    *,
    kills: int,
    seed: int,
    rate_per_s: float = 30.0,
    lives_s: tuple[float, float] = (0.5, 7.0),
) -> KillReport:
    """Run the campaign on a fresh ``database_url``; what was lost or duplicated.

    Each life of the monitor lasts a random time within ``lives_s`` (it takes some 4 s to
    start: many kills land while it is still starting)."""
    chooser = random.Random(seed)
    report = KillReport(database="PostgreSQL" if database_url.startswith("postgresql") else "SQLite")
    started = time.monotonic()
    pressed = kills * SOS_PER_KILL
    async with campaign_deployment(folder, database_url, free_port(), pressed) as deployment:
        monitor = deployment.monitor_process(healthy_within_s=HEALTHY_WITHIN_S)
        try:
            await monitor.start()
            with campaign_fleet(deployment, pressed) as fleet:
                load = asyncio.create_task(fleet.publish_steadily(10**9, rate_per_s))
                presses = Presses(fleet, sos_devices(pressed), chooser)
                for _ in range(kills):
                    # A random moment of the monitor's life: starting (imports, migrations, directory),
                    # catching up with what queued while it was dead, or running.
                    lives_for = chooser.uniform(*lives_s)
                    became_healthy = asyncio.create_task(_healthy_within(monitor, lives_for))
                    await asyncio.sleep(chooser.uniform(0, lives_for))
                    await presses.press_some(SOS_PER_KILL)
                    healthy = await became_healthy
                    monitor.kill()
                    report.kills += 1
                    report.killed_while_starting += not healthy
                    monitor.launch()  # straight away, as systemd would
                load.cancel()
                await monitor.wait_healthy()
                await check_campaign(report, deployment, fleet, presses)
            assert await monitor.stop() == 0, "the monitor did not stop cleanly at the end"
        finally:
            if monitor.running:  # the campaign failed: leave nothing behind
                monitor.kill()
    report.minutes = (time.monotonic() - started) / 60
    return report


async def _healthy_within(monitor: MonitorProcess, seconds: float) -> bool:
    """Let the monitor run ``seconds``; whether it was healthy at some point meanwhile."""
    ends = time.monotonic() + seconds
    try:
        await monitor.wait_healthy(seconds)
    except (TimeoutError, MonitorExited):
        await asyncio.sleep(max(0.0, ends - time.monotonic()))
        return False
    await asyncio.sleep(max(0.0, ends - time.monotonic()))
    return True


class Presses:
    """SOS presses during the campaign: each device once, some twice, some delivered twice."""

    def __init__(self, fleet: FirmwareFleet, devices: list[str], chooser: random.Random) -> None:
        self.fleet = fleet
        self.waiting = list(devices)
        self.chooser = chooser
        self.first_press: dict[str, str] = {}
        #: wall-clock time of each device's first press
        self.pressed_at: dict[str, float] = {}

    async def press_some(self, count: int) -> None:
        for _ in range(count):
            device = self.waiting.pop(0)
            self.pressed_at[device] = time.time()
            self.first_press[device] = self.fleet.publish(device, "sos")
            if self.chooser.random() < 0.3:
                self.fleet.publish(device, "sos")  # pressed again while help is on its way: same alert


async def settle(database_url: str, presses: int) -> None:
    """Wait until every press has its alert flagged UNANSWERED and no SMS is left in hand."""

    async def settled() -> bool:
        async with Database(database_url, pool_size=1) as database, database.read() as session:
            flagged = (await session.scalars(select(Alert.id).where(Alert.unanswered.is_(True)))).all()
            in_hand = await session.scalar(select(Notification.id).where(Notification.status.in_(UNSETTLED)).limit(1))
        return len(flagged) >= presses and in_hand is None

    await until(settled, within_s=SETTLE_WITHIN_S, what="every alert through every tier, every SMS settled")


async def check_campaign(report: KillReport, deployment: Deployment, fleet: FirmwareFleet, presses: Presses) -> None:
    """Once the load has stopped: wait until the broker acknowledged every message and every alert
    went through every tier, then count into ``report`` what was lost, duplicated, early or late."""
    await fleet.wait_until_acknowledged(within_s=60)
    accepted = set(fleet.acknowledged)
    report.presses = len(presses.first_press)
    await settle(deployment.database_url, report.presses)
    sandbox = deployment.sandbox
    await sandbox.idle()
    async with Database(deployment.database_url, pool_size=1) as database, database.read() as session:
        seen = set((await session.execute(select(SeenDeviceEvent.device_id, SeenDeviceEvent.event_id))).all())
        alerts = (await session.scalars(select(Alert))).all()
        notifications = (await session.scalars(select(Notification))).all()
    report.messages_accepted = len(accepted)
    report.messages_lost = len(accepted - {(device, event) for device, event in seen})
    per_device = Counter(alert.device_id for alert in alerts)
    report.alerts_missing = sum(1 for device in presses.first_press if per_device[device] == 0)
    report.alerts_duplicated = sum(1 for device in presses.first_press if per_device[device] > 1)

    # Expected: tier 1 (2 people), tier 2 (1), duty staff (1) for every alert.
    report.sms_expected = 4 * len(alerts)
    sent = sandbox.messages()
    report.sms_sent = len(sent)
    by_sid = {message.sid for message in sent}
    recorded = {row.provider_id: row for row in notifications if row.provider_id}
    report.sms_unrecorded = sum(1 for message in sent if message.sid not in recorded)
    steps = Counter((message.to, message.body) for message in sent)
    report.sms_duplicated = sum(count - 1 for count in steps.values() if count > 1)
    asked = Counter(
        (row.alert_id, row.phone, row.purpose, row.tier, row.round)
        for row in notifications
        if row.provider_id in by_sid and row.purpose in (Purpose.ALERT, Purpose.UNANSWERED)
    )
    report.sms_missing = report.sms_expected - len(asked)
    arrived = {message.sid: message.arrived_wall for message in sent}
    report.sms_delay_s = [
        arrived[row.provider_id] - _utc(row.created_at).timestamp()
        for row in notifications
        if row.provider_id in arrived and row.purpose in (Purpose.ALERT, Purpose.UNANSWERED)
    ]

    for alert in alerts:
        first_ask = min(
            (row.created_at for row in notifications if row.alert_id == alert.id and row.purpose == Purpose.ALERT),
            default=None,
        )
        if first_ask is not None and alert.device_id in presses.pressed_at:
            report.press_to_ask_s.append(_utc(first_ask).timestamp() - presses.pressed_at[alert.device_id])
        asks = sorted(
            (row.created_at, row.tier or 0, row.purpose)
            for row in notifications
            if row.alert_id == alert.id and row.purpose in (Purpose.ALERT, Purpose.UNANSWERED)
        )
        first_at = {(tier, purpose): at for at, tier, purpose in reversed(asks)}
        for previous, following in (
            ((0, Purpose.ALERT), (1, Purpose.ALERT)),
            ((1, Purpose.ALERT), (1, Purpose.UNANSWERED)),
        ):
            report.timers += 1
            if previous not in first_at or following not in first_at:
                report.timers_never_ran += 1
                continue
            waited = (first_at[following] - first_at[previous]).total_seconds()
            if waited < TIER_TIMEOUT_S - 0.01:
                report.timers_early += 1
            report.lateness_s.append(max(0.0, waited - TIER_TIMEOUT_S))


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def run_kills(kills: int, backend: str, seed: int, longest_life_s: float, report_path: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="callwatch-faults-") as temporary:
        folder = Path(temporary)
        async with fresh_database(backend, folder) as database_url:
            report = await kill_campaign(folder, database_url, kills=kills, seed=seed, lives_s=(0.5, longest_life_s))
    return conclude(report, report_path)


def conclude(report: KillReport, report_path: Path | None) -> int:
    """Print the report, and write its figures to ``report_path`` as JSON (problems included, for a
    test that runs a campaign); the exit status: 1 when anything was lost or duplicated."""
    print("\n".join(report.lines()))
    if report_path is not None:
        report_path.write_text(json.dumps({**dataclasses.asdict(report), "problems": report.problems}, indent=1))
    if report.problems:
        print("FAILED: " + "; ".join(report.problems))
        return 1
    print(NOTHING_LOST)
    return 0


@dataclass
class BrokerReport:
    restarts: int
    crash: bool
    monitor_down: bool
    accepted: int = 0
    stored: int = 0
    lost: int = 0
    redelivered: int = 0
    outage_s: list[float] = field(default_factory=list)

    def lines(self) -> list[str]:
        how = "SIGKILL (crash), then start" if self.crash else "SIGTERM (systemctl restart)"
        when = ", each while the monitor was down (messages queued at the broker)" if self.monitor_down else ""
        return [
            f"broker campaign: {self.restarts} restarts by {how}{when}; shipped config/mosquitto.conf (TLS, accounts)",
            f"  messages acknowledged by the broker to devices: {self.accepted}, stored by the monitor: {self.stored}, "
            f"lost: {self.lost}",
            f"  broker down for {min(self.outage_s, default=0):.1f}-{max(self.outage_s, default=0):.1f} s each time",
        ]


async def broker_campaign(
    folder: Path, *, restarts: int, crash: bool, monitor_down: bool, rate_per_s: float = 100.0
) -> BrokerReport:
    report = BrokerReport(restarts=restarts, crash=crash, monitor_down=monitor_down)
    shipped = ShippedBroker(folder / "broker")
    web_port = free_port()
    async with (
        SmsSandbox(inbound_url=f"http://127.0.0.1:{web_port}/twilio/sms") as sandbox,
        fresh_database("sqlite", folder) as database_url,
    ):
        deployment = Deployment(
            folder=folder, broker=shipped, sandbox=sandbox, database_url=database_url, web_port=web_port
        )
        deployment.write_files()
        passwords = await secure(deployment, shipped)
        monitor = deployment.monitor_process(healthy_within_s=HEALTHY_WITHIN_S)
        try:
            await monitor.start()
            access = BrokerAccess("localhost", shipped.tls_port, str(shipped.certificates.ca_file), passwords)
            with FirmwareFleet(access, ["btn-1", "btn-2"]) as fleet:
                load = asyncio.create_task(fleet.publish_steadily(10**9, rate_per_s))
                for _ in range(restarts):
                    if monitor_down:
                        monitor.kill()  # what devices send now waits in the monitor's session at the broker
                    await asyncio.sleep(3)
                    down_at = time.monotonic()
                    await asyncio.to_thread(shipped.kill if crash else shipped.stop)
                    await asyncio.sleep(1)
                    await asyncio.to_thread(shipped.start)
                    report.outage_s.append(time.monotonic() - down_at)
                    if monitor_down:
                        monitor.launch()
                await asyncio.sleep(3)
                load.cancel()
                await fleet.wait_until_acknowledged(within_s=60)
                accepted = set(fleet.acknowledged)
            await monitor.wait_healthy()

            async def stored() -> set[tuple[str, str]]:
                async with Database(database_url, pool_size=1) as database, database.read() as session:
                    rows = (await session.execute(select(SeenDeviceEvent.device_id, SeenDeviceEvent.event_id))).all()
                return {(device, event) for device, event in rows}

            async def all_stored() -> set[tuple[str, str]] | None:
                seen = await stored()
                return seen if accepted <= seen else None

            # Give the monitor time to take in what the broker still holds for it; then count.
            try:
                seen = await until(all_stored, within_s=30, what="every message stored")
            except TimeoutError:
                seen = await stored()
            report.accepted, report.stored = len(accepted), len(accepted & seen)
            report.lost = len(accepted - seen)
            assert await monitor.stop() == 0
        finally:
            if monitor.running:
                monitor.kill()
            shipped.stop()
    return report


async def run_broker(restarts: int, crash: bool, monitor_down: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="callwatch-faults-") as temporary:
        report = await broker_campaign(Path(temporary), restarts=restarts, crash=crash, monitor_down=monitor_down)
    print("\n".join(report.lines()))
    if report.lost and not crash:
        print(f"FAILED: {report.lost} messages lost across graceful restarts")
        return 1
    if report.lost:
        print(
            f"{report.lost} messages lost: the broker had acknowledged them to their devices but had neither "
            "delivered them to the monitor nor saved them (autosave_interval) when it was killed"
        )
    else:
        print("nothing lost")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    campaigns = parser.add_subparsers(dest="campaign", required=True)
    kills = campaigns.add_parser("kills", help="SIGKILL the monitor at random moments under load")
    kills.add_argument("--kills", type=int, default=20)
    kills.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    kills.add_argument("--seed", type=int, default=int(time.time()))
    kills.add_argument(
        "--longest-life-s", type=float, default=7.0, help="each life of the monitor lasts 0.5 s up to this"
    )
    kills.add_argument("--report", type=Path, help="also write the report's figures to this file, as JSON")
    broker = campaigns.add_parser("broker", help="restart (or crash) the broker while devices publish")
    broker.add_argument("--restarts", type=int, default=5)
    broker.add_argument("--crash", action="store_true", help="SIGKILL the broker instead of stopping it")
    broker.add_argument(
        "--monitor-down", action="store_true", help="kill the monitor first, so the broker holds its queue"
    )
    arguments = parser.parse_args()
    if arguments.campaign == "kills":
        if arguments.database == "postgresql" and not postgres_url():
            parser.error(f"--database postgresql needs {POSTGRES_ENV}")
        print(f"seed {arguments.seed}")
        code = asyncio.run(
            run_kills(arguments.kills, arguments.database, arguments.seed, arguments.longest_life_s, arguments.report)
        )
    else:
        code = asyncio.run(run_broker(arguments.restarts, arguments.crash, arguments.monitor_down))
    sys.exit(code)


if __name__ == "__main__":
    main()
