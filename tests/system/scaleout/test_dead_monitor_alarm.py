"""Operators see a monitor that died for good (issue 22, "operators can see it").

A dead monitor costs no SOS (a survivor takes its work over, ``test_failover.py``), so nobody
would notice it. Once it has been silent for ``[mqtt] failover_s`` duty staff get one alarm SMS
naming it, sent by exactly one survivor however many there are, and never again for that
monitor when the survivor restarts; the console's monitors page shows it gone and the others
alive. Real `callwatch run` processes on PostgreSQL and Mosquitto, and, to race survivors at
will, two monitors' engines in one process (``engines.py``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from monitor.config.settings import MqttSettings
from monitor.core.clock import SystemClock
from monitor.notify.requests import SMS
from monitor.runtime.duty_alarm import DutyAlarm
from monitor.runtime.gone_monitors import GoneMonitors
from monitor.store.models import MonitorInstance, Notification
from monitor.store.monitor_instances import leave, note_alive
from simulator.sandbox.records import OutboundMessage
from tests.support.deployment import STAFF, TIER1, Deployment
from tests.system.scaleout.engines import Engines, FakeProvider, prepare
from tests.system.scaleout.test_failover import started
from tests.web.support import PASSWORD, ConsoleClient, add_user

SETTINGS = MqttSettings()
FAILOVER_S = SETTINGS.failover_s
GONE_AFTER = timedelta(seconds=SETTINGS.gone_after_s)
#: a pass of the survivors' look-out (``failover_s`` / 10), the SMS's way to the sandbox, a busy machine
MARGIN_S = 3.0
ROW = re.compile(r'<tr class="monitor-\w+" data-instance="[^"]*" data-client-id="([^"]*)" data-standing="(\w+)"')


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


async def alarms_about(deployment: Deployment, client_id: str, *, within_s: float) -> list[OutboundMessage]:
    """The duty desk's SMS naming ``client_id``, once there is one."""
    return await deployment.sandbox.wait_for_messages(1, to=STAFF, body_contains=client_id, timeout=within_s)


async def an_sos_answered(deployment: Deployment, device_id: str) -> None:
    """A press, up to its ask: every monitor alive has looked for dead ones again meanwhile."""
    since = time.monotonic()
    await deployment.press(device_id)
    await deployment.sandbox.wait_for_messages(1, to=TIER1[0], since=since, timeout=FAILOVER_S)


async def monitors_page_standings(deployment: Deployment, web_url: str) -> dict[str, str]:
    """Per MQTT client id, what the console's monitors page says of it, signed in as duty staff."""
    added = deployment.cli(
        "user",
        "add",
        "duty",
        "--password-stdin",
        "--language",
        "en",
        "--config",
        str(deployment.config_path),
        typed=f"{PASSWORD}\n",
    )
    assert added.returncode == 0, added.stderr
    async with ConsoleClient(web_url) as console:
        assert (await console.sign_in("duty")).status_code == 303
        page = await console.http.get("/monitors")
    assert page.status_code == 200
    return dict(ROW.findall(page.text))


async def test_a_monitor_dead_for_good_raises_one_alarm_and_the_console_shows_it_gone(
    deployment: Deployment, stack: AsyncExitStack
) -> None:
    survivor, victim = await started(stack, deployment, 2)
    victim_id, survivor_id = f"{deployment.client_id}-2", f"{deployment.client_id}-1"
    killed = time.monotonic()
    victim.kill()  # and never started again

    [alarm] = await alarms_about(deployment, victim_id, within_s=FAILOVER_S + MARGIN_S)
    after_s = alarm.arrived_monotonic - killed
    print(f"SIGKILL -> duty alarm after {after_s:.2f} s (failover_s {FAILOVER_S:g} s)")
    # not as soon as it is taken for dead (``gone_after_s``): once its last note is ``failover_s`` old
    assert SETTINGS.gone_after_s < after_s <= FAILOVER_S + MARGIN_S
    assert "系统故障" in alarm.body  # the duty desk reads Chinese

    standings = await monitors_page_standings(deployment, survivor.web_url)
    assert standings == {survivor_id: "alive", victim_id: "gone"}

    # The survivor restarts (a clean stop, a new life): the dead monitor is not announced again.
    await survivor.terminate()
    await survivor.start()
    await an_sos_answered(deployment, "btn-f0")
    assert len(deployment.sandbox.messages(to=STAFF)) == 1
    assert "this monitor" not in survivor.log()  # nobody came back


async def test_with_two_survivors_one_of_them_alone_raises_the_alarm(
    deployment: Deployment, stack: AsyncExitStack
) -> None:
    processes = await started(stack, deployment, 3)
    victim_id = f"{deployment.client_id}-3"
    processes[-1].kill()

    await alarms_about(deployment, victim_id, within_s=FAILOVER_S + MARGIN_S)
    await an_sos_answered(deployment, "btn-f0")
    assert len(deployment.sandbox.messages(to=STAFF)) == 1
    raised = [process for process in processes[:2] if "duty alarm queued" in process.log()]
    assert len(raised) == 1, "exactly one survivor raised the alarm"


async def test_a_dead_monitor_coming_back_is_logged(deployment: Deployment, stack: AsyncExitStack) -> None:
    survivor, victim = await started(stack, deployment, 2)
    victim_id = f"{deployment.client_id}-2"
    victim.kill()
    await alarms_about(deployment, victim_id, within_s=FAILOVER_S + MARGIN_S)

    await victim.start()
    assert f"this monitor (MQTT client id {victim_id!r}) is back" in victim.log()
    assert "duty staff were told at" in victim.log()
    assert await monitors_page_standings(deployment, survivor.web_url) == {
        f"{deployment.client_id}-1": "alive",
        victim_id: "alive",
    }


async def test_survivors_racing_raise_one_alarm_once_and_none_for_a_planned_stop(
    tmp_path: Path, database_url: str
) -> None:
    await prepare(database_url, tmp_path)
    provider = FakeProvider()
    now = SystemClock().now()
    silent_since = now - timedelta(seconds=FAILOVER_S + 1)
    async with Engines(database_url, provider, "a") as a, Engines(database_url, provider, "b") as b:
        async with a.database.write() as session:
            await note_alive(session, "dead", silent_since, GONE_AFTER, "client-dead")
            await note_alive(session, "stopped", silent_since, GONE_AFTER, "client-stopped")
            await leave(session, "stopped", silent_since, GONE_AFTER)  # a planned stop
            for name in ("a", "b"):
                await note_alive(session, name, now, GONE_AFTER, f"client-{name}")

        def look_out(engines: Engines, instance_id: str) -> GoneMonitors:
            alarm = DutyAlarm(
                engines.database,
                engines.outbox,
                engines.clock,
                instance_id=instance_id,
                after_commit=engines.after_commit,
            )
            return GoneMonitors(SETTINGS, engines.database, engines.clock, alarm)

        raised = await asyncio.gather(look_out(a, "a").check(), look_out(b, "b").check())
        # the same survivors again, and one of them restarted (a new life: another instance id)
        again = await asyncio.gather(look_out(a, "a").check(), look_out(b, "b-restarted").check())
        async with a.database.read() as session:
            rows = await session.scalar(
                select(func.count()).select_from(Notification).where(Notification.template == "monitor_gone")
            )

    assert sorted(raised) == [0, 1] and again == [0, 0]
    assert rows == 1, "one alarm row (the duty desk's SMS), none about the monitor that stopped"
    [sent] = [sent for sent in a.claimed + b.claimed if sent.template == "monitor_gone"]
    assert sent.channel == SMS and "client-dead" in sent.text


async def test_a_monitor_never_raises_the_alarm_about_itself_after_its_clock_jumped(
    tmp_path: Path, database_url: str
) -> None:
    await prepare(database_url, tmp_path)
    provider = FakeProvider()
    # Its own last note looks old from where the clock is now (a jump, or a loop that stalled).
    noted_at = SystemClock().now() - timedelta(seconds=FAILOVER_S * 30)
    async with Engines(database_url, provider, "a") as a:
        async with a.database.write() as session:
            await note_alive(session, "a", noted_at, GONE_AFTER, "client-a")
        alarm = DutyAlarm(
            a.database,
            a.outbox,
            a.clock,
            instance_id="a",
            after_commit=a.after_commit,
        )
        raised = await GoneMonitors(SETTINGS, a.database, a.clock, alarm).check()
    assert raised == 0 and not [sent for sent in a.claimed if sent.template == "monitor_gone"]


async def test_the_monitors_page_shows_each_monitors_state_and_what_it_took_over_in_chinese(
    deployment: Deployment,
) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty", language="zh")
        now = monitor.clock.now()
        silent_since = now - timedelta(minutes=3)
        async with monitor.database.write() as session:
            await note_alive(session, "host-b:41:aaaaaa", silent_since, GONE_AFTER, "client-b")
            await note_alive(session, "host-c:42:bbbbbb", silent_since, GONE_AFTER, "client-c")
            await leave(session, "host-c:42:bbbbbb", silent_since, GONE_AFTER)
            await note_alive(session, "host-d:43:cccccc", now, GONE_AFTER, "client-d")
            await session.execute(
                update(MonitorInstance)
                .where(MonitorInstance.instance_id == "host-b:41:aaaaaa")
                .values(
                    adopted_by=monitor.instance_id,
                    drained_at=silent_since + GONE_AFTER,
                    alarmed_at=silent_since + timedelta(seconds=FAILOVER_S),
                    alarmed_by="host-d:43:cccccc",
                )
            )
        async with ConsoleClient(deployment.web_url) as console:
            await console.sign_in("duty")
            page = (await console.http.get("/monitors")).text

    assert dict(ROW.findall(page)) == {
        deployment.client_id: "alive",
        "client-d": "alive",
        "client-b": "gone",
        "client-c": "stopped",
    }
    assert "2 个运行中" in page and "1 个已失联" in page
    badges = re.findall(r'<span class="monitor-badge monitor-(\w+)">([^<]+)</span>', page)
    assert sorted(set(badges)) == [("alive", "运行中"), ("gone", "已失联"), ("stopped", "已停止")]
    mine = page[page.index(f'data-instance="{monitor.instance_id}"') :].split("</tr>")[0]
    assert "client-b" in mine and "接管完毕" in mine, "the sessions it took over"
    assert "5/秒（共 10/秒）" in mine, "half the sender's rate: two monitors alive"
    told = page[page.index('data-instance="host-b:41:aaaaaa"') :].split("</tr>")[0]
    assert "由 host-d:43:cccccc 发出" in told
