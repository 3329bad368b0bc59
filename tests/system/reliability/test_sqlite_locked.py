"""SQLite locked by another process under a running monitor.

Reads still work (WAL), writes wait: the press is held unacknowledged at the broker,
/healthz says the database is degraded although it still answers reads, the board shows
the banner, and the alert is raised (once) as soon as the lock is gone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.system.reliability.outage import alerts_by_event, database_degraded
from tests.system.reliability.sqlite_lock import WriteLock
from tests.web.support import ConsoleClient, add_user


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def test_sqlite_locked_by_another_process_holds_the_press_and_shows_it(deployment: Deployment) -> None:
    database_file = Path(make_url(deployment.database_url).database or "")
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        assert (await console.sign_in("duty")).status_code == 303
        lock = WriteLock(database_file)
        with lock:
            await deployment.press("btn-1", event_id="while-locked")
            # the write waits out SQLite's busy timeout (10 s) before the monitor calls it an outage
            await until(lambda: database_degraded(deployment.web_url), within_s=30, what="/healthz degraded")
            board = await console.http.get("/")
            assert board.status_code == 200  # reads still work
            assert 'id="health-banner"' in board.text and 'data-component="database"' in board.text
            assert "hidden" not in board.text.split('id="health-banner"')[1].split(">")[0]
            assert deployment.sandbox.messages() == []
        await deployment.sandbox.wait_for_messages(2, timeout=30)
        assert await alerts_by_event(monitor) == {"while-locked": 1}
    assert sorted(message.to for message in deployment.sandbox.messages()) == sorted(TIER1)
