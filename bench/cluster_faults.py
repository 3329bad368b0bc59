"""Several monitors on one PostgreSQL and one broker, one of them SIGKILLed at random moments.

    python -m bench.cluster_faults [--monitors 3] [--kills 5] [--seed N] [--report FILE]
                                   (needs CALLWATCH_TEST_POSTGRES_URL)

The monitors run one config with their own client id and web port as environment overrides
(as `config/callwatch@.service` runs them) and share the device topics through an MQTT shared
subscription (``[mqtt] shared_group``). Devices publish heartbeats steadily and residents
press SOS throughout; at a random moment one monitor, chosen at random, is SIGKILLed, more
presses come while it is down, and it is started again a few seconds later (as systemd
would). Afterwards the same checks as the single-monitor campaign (bench/faults.py): every
message the broker accepted stored, every press one alert, every SMS once, every timer run
and none early; plus how late timers and SMS were while a monitor was dead.

Mosquitto hands a shared subscription's messages to its members in turn, also to a member
whose persistent session is offline: what falls to the dead monitor waits in its session at
the broker until it is back, or until a survivor takes the session over once the monitor has
been silent for ``[mqtt] failover_s`` / 2 (bench/failover.py measures that; "press to first
ask" shows the wait).
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.faults import (
    SOS_PER_KILL,
    KillReport,
    Presses,
    campaign_deployment,
    campaign_fleet,
    check_campaign,
    conclude,
    sos_devices,
)
from bench.harness import benchmark_command, messages_received
from simulator.harness.deployment import Deployment
from simulator.harness.ports import free_port
from simulator.harness.postgres import POSTGRES_ENV, fresh_database, postgres_url

SHARED_GROUP = "callwatch"
#: presses around each kill: one before, SOS_PER_KILL while the monitor is dead, one after its restart
PRESSES_PER_KILL = SOS_PER_KILL + 2
HEALTHY_WITHIN_S = 60.0


class ClusterMember:
    """One monitor of the cluster: `callwatch run` on the shared config with its own overrides."""

    def __init__(self, deployment: Deployment, number: int, web_port: int) -> None:
        self.number = number
        self.process = deployment.monitor_process(
            name=f"monitor-{number}",
            web_port=web_port,
            overrides={
                "CALLWATCH_MQTT__CLIENT_ID": f"{deployment.client_id}-{number}",
                "CALLWATCH_MQTT__SHARED_GROUP": SHARED_GROUP,
            },
            healthy_within_s=HEALTHY_WITHIN_S,
        )

    async def start(self) -> None:
        await self.process.start()

    async def messages_taken_in(self) -> int:
        """The member's own count of MQTT messages received (``/metrics``), since it last started."""
        async with httpx.AsyncClient() as client:
            return await messages_received(client, self.process.web_url)


async def cluster_campaign(
    folder: Path,
    database_url: str,
    *,
    monitors: int,
    kills: int,
    seed: int,
    rate_per_s: float = 30.0,
    lives_s: tuple[float, float] = (0.5, 4.0),
    down_s: tuple[float, float] = (1.0, 4.0),
) -> KillReport:
    """Run the campaign on a fresh PostgreSQL ``database_url``; what was lost, duplicated or late."""
    chooser = random.Random(seed)
    report = KillReport(database="PostgreSQL", monitors=monitors)
    started = time.monotonic()
    ports = [free_port() for _ in range(monitors)]
    pressed = kills * PRESSES_PER_KILL
    # The sandbox posts replies and delivery reports to the first monitor.
    async with campaign_deployment(folder, database_url, ports[0], pressed) as deployment:
        members = [ClusterMember(deployment, number + 1, port) for number, port in enumerate(ports)]
        try:
            await asyncio.gather(*(member.start() for member in members))
            with campaign_fleet(deployment, pressed) as fleet:
                load = asyncio.create_task(fleet.publish_steadily(10**9, rate_per_s))
                presses = Presses(fleet, sos_devices(pressed), chooser)
                for kill in range(kills):
                    await asyncio.sleep(chooser.uniform(*lives_s))
                    await presses.press_some(1)
                    if kill == 0:
                        # A restart resets a member's count, and one restarted just before the end
                        # may take nothing in: the shares are read while all have been up from the start.
                        report.messages_per_monitor = [await member.messages_taken_in() for member in members]
                    # A random moment: the press above may be in the victim's hands right now.
                    await asyncio.sleep(chooser.uniform(0, 0.2))
                    victim = chooser.choice(members)
                    victim.process.kill()
                    report.kills += 1
                    await presses.press_some(SOS_PER_KILL)  # some fall to the dead monitor's session
                    await asyncio.sleep(chooser.uniform(*down_s))
                    await victim.start()
                    await presses.press_some(1)
                load.cancel()
                await check_campaign(report, deployment, fleet, presses)
            codes = await asyncio.gather(*(member.process.stop() for member in members))
            assert codes == [0] * monitors, f"monitors did not stop cleanly: exit codes {codes}"
        finally:
            for member in members:  # the campaign failed: leave nothing behind
                if member.process.running:
                    member.process.kill()
    report.minutes = (time.monotonic() - started) / 60
    return report


async def run(monitors: int, kills: int, seed: int, report_path: Path | None) -> int:
    with tempfile.TemporaryDirectory(prefix="callwatch-cluster-faults-") as temporary:
        folder = Path(temporary)
        async with fresh_database("postgresql", folder) as database_url:
            report = await cluster_campaign(folder, database_url, monitors=monitors, kills=kills, seed=seed)
    return conclude(report, report_path)


if __name__ == "__main__":
    parser = benchmark_command(__doc__)
    parser.add_argument("--monitors", type=int, default=3)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--report", type=Path, help="also write the report's figures to this file, as JSON")
    arguments = parser.parse_args()
    if not postgres_url():
        parser.error(f"several monitors need PostgreSQL: set {POSTGRES_ENV}")
    print(f"seed {arguments.seed}")
    sys.exit(asyncio.run(run(arguments.monitors, arguments.kills, arguments.seed, arguments.report)))
