"""What the reliability tests of a database going away share: the private PostgreSQL cluster they
take it from, and what they look at meanwhile (/healthz, the console, the alerts)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import Alert
from simulator.harness.postgres import server_binaries

#: a suite that stops, freezes or kills a PostgreSQL cluster of its own needs the server's binaries
needs_postgres_server = pytest.mark.skipif(
    server_binaries() is None, reason="needs PostgreSQL's server binaries (initdb, pg_ctl)"
)


async def health(web_url: str) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{web_url}/healthz", timeout=5)
    return answer.status_code, answer.json()


async def database_degraded(web_url: str) -> bool:
    status, report = await health(web_url)
    components = report["components"]
    assert isinstance(components, dict)
    return status == 503 and not components["database"]["ok"]


async def alerts_by_event(monitor: Monitor) -> dict[str | None, int]:
    """How many alerts each device event raised."""
    async with monitor.database.read() as session:
        event_ids = (await session.scalars(select(Alert.event_id))).all()
    counted: dict[str | None, int] = {}
    for event_id in event_ids:
        counted[event_id] = counted.get(event_id, 0) + 1
    return counted
