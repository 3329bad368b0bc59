"""What the reliability tests look at while a database is away: /healthz, the console, the alerts."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import Alert


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
