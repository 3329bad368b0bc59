"""PostgreSQL stopped under a running monitor (a private cluster: the shared server is not touched).

Messages are not acknowledged to the broker while it is away, /healthz and the console say
so, and everything catches up once it is back, each press raising its alert exactly once.
"""

from __future__ import annotations

import asyncio

import pytest

from simulator.harness.postgres import PrivatePostgres
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.system.reliability.outage import alerts_by_event, database_degraded, needs_postgres_server
from tests.web.support import ConsoleClient, add_user

pytestmark = needs_postgres_server


@pytest.fixture
def database_url(private_postgres: PrivatePostgres) -> str:
    return private_postgres.url


async def test_postgres_stopped_holds_messages_at_the_broker_and_catches_up(
    deployment: Deployment, private_postgres: PrivatePostgres
) -> None:
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        assert (await console.sign_in("duty")).status_code == 303

        # Away while the monitor runs: the press waits, /healthz and the console say why.
        await asyncio.to_thread(private_postgres.stop)
        await deployment.press("btn-1", event_id="while-running")
        await until(lambda: database_degraded(deployment.web_url), what="/healthz reporting the database")
        page = await console.http.get("/")
        assert page.status_code == 503
        assert "cannot reach its database" in page.text and 'data-component="database"' in page.text
        assert deployment.sandbox.messages() == []

        await asyncio.to_thread(private_postgres.start)
        await deployment.sandbox.wait_for_messages(2, timeout=20)
        assert await alerts_by_event(monitor) == {"while-running": 1}

        # Away again, and the monitor stopped meanwhile: the press was never acknowledged, so the
        # broker delivers it to the next monitor once the database is back.
        await asyncio.to_thread(private_postgres.stop)
        await deployment.press("btn-2", event_id="while-stopped")
        await until(lambda: database_degraded(deployment.web_url), what="/healthz reporting the database")
    await asyncio.to_thread(private_postgres.start)
    async with deployment.monitor() as monitor:
        await deployment.sandbox.wait_for_messages(4, timeout=20)
        assert await alerts_by_event(monitor) == {"while-running": 1, "while-stopped": 1}
    assert sorted(message.to for message in deployment.sandbox.messages()) == sorted(TIER1 * 2)
