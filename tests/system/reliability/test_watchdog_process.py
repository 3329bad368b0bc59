"""A database that accepts connections and never answers (a private PostgreSQL, frozen with SIGSTOP).

The monitor's loops stall; the watchdog tells duty staff by SMS (directly to the provider,
as the database cannot carry it) and `callwatch run` exits with code 70 for the service
manager to restart it. The press it was holding was never acknowledged: the restarted
monitor raises it, once.
"""

from __future__ import annotations

import asyncio

import pytest

from monitor.runtime.watchdog import EXIT_STALLED
from simulator.harness.deployment import set_setting
from simulator.harness.postgres import PrivatePostgres
from tests.support.deployment import STAFF, TIER1, Deployment
from tests.system.reliability.outage import health, needs_postgres_server

pytestmark = needs_postgres_server


@pytest.fixture
def database_url(private_postgres: PrivatePostgres) -> str:
    return private_postgres.url


async def test_a_hung_database_stalls_the_loops_and_the_watchdog_restarts_the_monitor(
    deployment: Deployment, private_postgres: PrivatePostgres
) -> None:
    set_setting(deployment, "service", "watchdog_stall_s", "3")
    async with deployment.process() as monitor:
        private_postgres.freeze()
        await deployment.press("btn-1", event_id="while-hung")
        status, report = await health(deployment.web_url)  # answers (within 2 s) although the database hangs
        assert status == 503 and "no result within" in str(report["components"])
        assert monitor.process is not None
        code = await asyncio.to_thread(monitor.process.wait, 60)
        [alarm] = await deployment.sandbox.wait_for_messages(1, to=STAFF)
        private_postgres.thaw()
        assert code == EXIT_STALLED
        assert "made no progress" in monitor.log()
        await monitor.start()  # what systemd's Restart=on-failure does
        await deployment.sandbox.wait_for_messages(2, body_contains="王秀英", timeout=20)
    assert "系统故障" in alarm.body
    alerts = deployment.alerts()
    assert [(alert["device_id"], alert["state"]) for alert in alerts] == [("btn-1", "open")]
    assert sorted(message.to for message in deployment.sandbox.messages() if message.to != STAFF) == sorted(TIER1)
