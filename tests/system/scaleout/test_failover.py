"""A monitor that dies for good delays no SOS beyond ``[mqtt] failover_s`` (issue: real failover).

Two (or three) `callwatch run` processes on one PostgreSQL and one Mosquitto share the devices'
messages through a shared subscription, each with its persistent session. One is SIGKILLed and
never started again; then 50 residents press SOS. Mosquitto hands half the presses to the dead
monitor's session; a survivor must take that session over, so every press gets its SMS within
the bound, and none twice. The second test kills a monitor holding a batch it received and
never committed (it is frozen with SIGSTOP first, so the broker has delivered the presses to
it): a survivor processes those too, within the same bound.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import func, select

from monitor.config.settings import MqttSettings
from monitor.store.database import Database
from monitor.store.models import Alert, MonitorInstance
from simulator.directory_entries import directory_file, entry
from simulator.harness.monitor_process import MonitorProcess
from simulator.harness.neighbourhood import TIER1
from simulator.harness.ports import free_port
from tests.support.deployment import Deployment
from tests.support.waiting import until

#: the bound the monitors run with: the default
FAILOVER_S = MqttSettings().failover_s
RESIDENTS = 50
#: it takes some 4 s to start, much longer on a busy machine
HEALTHY_WITHIN_S = 60.0


def pressing_residents() -> str:
    """A resident and a button for each press, in the deployment's area (its team of two is asked)."""
    entries = []
    for index in range(RESIDENTS):
        entries.append(entry("residents", id=f"r-f{index}", name=f"Resident F{index:02d}", area="a-1", language="en"))
        entries.append(entry("devices", id=f"btn-f{index}", resident=f"r-f{index}", protocol="native"))
    return directory_file(*entries)


def members(deployment: Deployment, count: int) -> list[MonitorProcess]:
    """``count`` monitors on the deployment's config: each its own client id and web port."""
    return [
        deployment.monitor_process(
            name=f"monitor-{number}",
            web_port=deployment.web_port if number == 1 else free_port(),
            overrides={
                "CALLWATCH_MQTT__CLIENT_ID": f"{deployment.client_id}-{number}",
                # The suite's broker outlives tests: another test's sessions must not share this group.
                "CALLWATCH_MQTT__SHARED_GROUP": f"group-{deployment.client_id}",
                # 100 asks at once: at a real sender's 10/s the provider's pace, not failover,
                # would set when the last goes (the sandbox takes any rate)
                "CALLWATCH_SMS__SEND_RATE_PER_S": "1000",
            },
            healthy_within_s=HEALTHY_WITHIN_S,
        )
        for number in range(1, count + 1)
    ]


async def started(stack: AsyncExitStack, deployment: Deployment, count: int) -> list[MonitorProcess]:
    deployment.write_files(directory_extra=pressing_residents())
    processes = members(deployment, count)
    await stack.enter_async_context(processes[0])  # imports the directory; the others find it
    for process in processes[1:]:
        await stack.enter_async_context(process)
    return processes


async def press_all_and_time_their_asks(
    deployment: Deployment, after_pressing: Callable[[], None] | None = None
) -> dict[int, float]:
    """Each resident presses once (then ``after_pressing``); per resident, seconds from the press
    to the first ask at the sandbox."""
    pressed_at = {}
    for index in range(RESIDENTS):
        pressed_at[index] = time.monotonic()
        await deployment.press(f"btn-f{index}")
    if after_pressing is not None:
        after_pressing()
    phone = deployment.sandbox.phone(TIER1[0])

    def asked() -> dict[int, float] | None:
        first: dict[int, float] = {}
        for message in phone.inbox:
            for index in pressed_at:
                if f"Resident F{index:02d}" in message.body and index not in first:
                    first[index] = message.arrived_monotonic - pressed_at[index]
        return first if len(first) == RESIDENTS else None

    found = await until(asked, within_s=FAILOVER_S * 3, what=f"an ask for each of the {RESIDENTS} presses")
    assert found is not None
    return found


async def assert_once_each(deployment: Deployment) -> None:
    """One alert per press, and each volunteer asked once per alert."""
    async with Database(deployment.database_url, pool_size=1) as database, database.read() as session:
        alerts = await session.scalar(select(func.count()).select_from(Alert))
    assert alerts == RESIDENTS
    for number in TIER1:
        bodies = Counter(message.body for message in deployment.sandbox.phone(number).inbox)
        assert len(bodies) == RESIDENTS
        assert set(bodies.values()) == {1}, f"{number} got an ask twice"


async def sessions_left(deployment: Deployment) -> int:
    """Broker sessions noted in the database and not drained (a dead one's row stays, drained, for
    the console and the duty alarm)."""
    async with Database(deployment.database_url, pool_size=1) as database, database.read() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(MonitorInstance).where(MonitorInstance.drained_at.is_(None))
            )
            or 0
        )


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


@pytest.mark.parametrize(("monitors", "killed"), [(2, 1), (3, 2)])
async def test_sos_presses_after_monitors_die_for_good_each_get_their_sms_within_the_bound(
    deployment: Deployment, stack: AsyncExitStack, monitors: int, killed: int
) -> None:
    processes = await started(stack, deployment, monitors)
    for process in processes[-killed:]:
        process.kill()  # and never started again

    delays = await press_all_and_time_their_asks(deployment)

    slowest = max(delays.values())
    print(f"press -> ask after {killed} of {monitors} monitors died: p99 {slowest:.2f} s")
    assert slowest <= FAILOVER_S, f"an SOS waited {slowest:.1f} s for its SMS (bound {FAILOVER_S:g} s)"
    await assert_once_each(deployment)

    # The dead monitors' sessions were drained: only the survivors' are left.
    async def survivors_alone() -> bool:
        return await sessions_left(deployment) == monitors - killed

    await until(survivors_alone, within_s=FAILOVER_S, what="only the survivors' sessions left undrained")


async def test_a_batch_the_dead_monitor_received_but_never_committed_is_processed_by_a_survivor(
    deployment: Deployment, stack: AsyncExitStack
) -> None:
    survivor, victim = await started(stack, deployment, 2)
    os.kill(victim.pid, signal.SIGSTOP)  # the broker hands it its share of the presses: never committed
    try:
        # Killed once the presses were handed out; a stopped process dies of SIGKILL too.
        delays = await press_all_and_time_their_asks(deployment, after_pressing=victim.kill)
    finally:
        if victim.running:
            victim.kill()
    slowest = max(delays.values())
    assert slowest <= FAILOVER_S, f"an SOS waited {slowest:.1f} s for its SMS (bound {FAILOVER_S:g} s)"
    await assert_once_each(deployment)
    assert survivor.running
