"""What the subscription tests share: a device row that slipped past the directory's checks,
the monitor running without waiting for a healthy /healthz, and what /healthz says about
the filters ingest left out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from monitor.directory.sync import DIRECTORY_REVISION_KEY
from monitor.runtime.service import Monitor
from monitor.store.database import Database
from monitor.store.models import Device, ServiceMeta
from simulator.harness.monitor_process import broker_ok
from tests.support.deployment import Deployment
from tests.support.waiting import until


async def save_unchecked(
    database: Database,
    device_id: str,
    topic: str,
    *,
    protocol: str = "native",
    serial: str | None = None,
    resident: str = "r-1",
) -> None:
    """A device saved as the console saved it before topics were checked: straight into the
    database (its ``ref`` made unique), with a new directory revision, as every save makes."""
    async with database.write() as session:
        session.add(
            Device(
                id=device_id,
                resident_id=resident,
                kind="button",
                protocol=protocol,
                topic=topic,
                serial=serial,
                ref=f"unchecked {device_id}",
                heartbeat_s=0,
                action_map={},
                adapter_state={},
            )
        )
        await session.merge(ServiceMeta(key=DIRECTORY_REVISION_KEY, value=uuid.uuid4().hex))


async def health(web_url: str) -> tuple[int, dict[str, dict[str, object]]]:
    """/healthz's status code and components."""
    async with httpx.AsyncClient(base_url=web_url, timeout=5) as client:
        answer = await client.get("/healthz")
    return answer.status_code, answer.json()["components"]


async def left_out(web_url: str) -> str | None:
    """What /healthz says about the subscriptions left out; None while it says none are."""
    _, components = await health(web_url)
    part = components.get("subscriptions")
    return None if part is None or part["ok"] else str(part["detail"])


@asynccontextmanager
async def monitor_connected(deployment: Deployment) -> AsyncIterator[Monitor]:
    """The monitor in-process, once connected to the broker. With a device it leaves out,
    /healthz is 503 (degraded), so `deployment.monitor()`'s wait for 200 does not fit."""
    async with Monitor(deployment.settings, config_path=deployment.config_path) as monitor:

        async def connected() -> bool:
            _, components = await health(deployment.web_url)
            return broker_ok({"components": components})

        await until(connected, what="the monitor connected to the broker")
        yield monitor
