"""Several monitors on one PostgreSQL agree which SMS provider is up (``provider_states``): once one
monitor has found Alibaba Cloud down, the other sends straight through the next provider, without
trying it first. Real `callwatch run` processes, Mosquitto, the SMS sandbox with both official clients.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack

import httpx
from sqlalchemy import select

from monitor.store.database import Database
from monitor.store.models import Notification
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.system.scaleout.test_failover import started


def asks_about(deployment: Deployment, resident: str) -> list[str]:
    """Who carried the asks to Li Ming about ``resident``."""
    return [message.provider for message in deployment.sandbox.phone(TIER1[0]).inbox if resident in message.body]


def aliyun_requests(deployment: Deployment) -> int:
    return len([attempt for attempt in deployment.sandbox.create_attempts() if attempt.provider == "aliyun"])


async def test_a_provider_one_monitor_found_down_is_skipped_by_the_other(deployment: Deployment) -> None:
    deployment.sms_providers = ("aliyun", "sandbox")
    async with AsyncExitStack() as stack:
        monitors = await started(stack, deployment, 2)
        deployment.sandbox.faults.fail_next(None, status=500, provider="aliyun")
        await deployment.press("btn-f0")
        await until(lambda: asks_about(deployment, "Resident F00"), what="the first ask, through the next provider")

        async def everyone_sees_it_down() -> bool:
            async with httpx.AsyncClient() as http:
                seen = [(await http.get(f"{monitor.web_url}/healthz")).json()["components"] for monitor in monitors]
            return all(not components.get("sms:aliyun", {"ok": True})["ok"] for components in seen)

        await until(everyone_sees_it_down, what="both monitors see aliyun down", within_s=10)
        refused = aliyun_requests(deployment)
        # many presses: the shared subscription hands them to both monitors
        pressed = time.monotonic()
        for index in range(1, 7):
            await deployment.press(f"btn-f{index}")
        for index in range(1, 7):
            await until(lambda index=index: asks_about(deployment, f"Resident F{index:02d}"), what=f"ask {index}")
        took_s = time.monotonic() - pressed
        await deployment.sandbox.idle()
    async with Database(deployment.database_url) as database, database.read() as session:
        senders = set((await session.scalars(select(Notification.claimed_by).where(Notification.id > 2))).all())
    assert len(senders) == 2, f"the broker handed the presses to both monitors (asks sent by {senders})"
    assert asks_about(deployment, "Resident F00") == ["twilio"]
    assert all(asks_about(deployment, f"Resident F{index:02d}") == ["twilio"] for index in range(1, 7))
    assert aliyun_requests(deployment) == refused, "neither monitor tried the provider found down"
    print(f"6 presses after aliyun was found down: every ask through Twilio's API within {took_s:.2f} s")
