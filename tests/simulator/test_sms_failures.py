"""Each of the SMS sandbox's failure modes, met by the monitor: retry, move on, show the failure.

- 429 and 5xx at create: retried with backoff, each SMS sent exactly once in the end;
- 21211 (invalid number) and 21614 (landline) at create, 30003 and 30006 after sending:
  nobody in tier 1 can be reached, so tier 2 is asked at once, not after tier 1's timeout;
- a create not answered in time (the client timed out): checked with the provider, never sent twice;
- every failure is on the alert's timeline in the console API, with its error code.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import Alert, Notification
from simulator.sandbox import Outcome
from tests.support.deployment import TIER1, TIER2, Deployment

API_TOKEN = "test-api-token-0123456789"  # tests/support/deployment.py's [web] api_token


async def timeline(deployment: Deployment, alert_id: int) -> str:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {API_TOKEN}"}) as client:
        answer = await client.get(f"{deployment.web_url}/api/alerts/{alert_id}", timeout=5)
    answer.raise_for_status()
    return "\n".join(f"{entry['kind']} {entry['text']}" for entry in answer.json()["timeline"])


async def only_alert_id(monitor: Monitor) -> int:
    async with monitor.database.read() as session:
        [alert_id] = (await session.scalars(select(Alert.id))).all()
    return alert_id


async def settled_status(monitor: Monitor, phone: str, within_s: float = 15.0) -> str:
    """The status of the SMS to ``phone`` once the outbox knows what became of it."""
    deadline = time.monotonic() + within_s
    while True:
        async with monitor.database.read() as session:
            status = await session.scalar(select(Notification.status).where(Notification.phone == phone))
        if status not in (None, "claimed", "unconfirmed", "pending") or time.monotonic() > deadline:
            return str(status)
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_temporary_refusals_are_retried_and_each_sms_goes_once(deployment: Deployment, status: int) -> None:
    deployment.sandbox.faults.fail_next(1, status=status, to=TIER1[0])
    async with deployment.monitor():
        await deployment.press("btn-1")
        [sms] = await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=15)
        await deployment.sandbox.wait_for_messages(1, to=TIER1[1])
    attempts = [attempt for attempt in deployment.sandbox.create_attempts() if attempt.to == TIER1[0]]
    assert len(attempts) == 2  # refused once, then accepted
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1
    assert "王秀英" in sms.body


@pytest.mark.parametrize(
    ("outcomes", "codes"),
    [
        ((Outcome.invalid_number(), Outcome.landline()), ("21211", "21614")),
        ((Outcome.undelivered(30003), Outcome.undelivered(30006)), ("30003", "30006")),
    ],
    ids=["refused at create", "undelivered"],
)
async def test_unreachable_tier_moves_on_at_once_and_shows_why(
    deployment: Deployment, outcomes: tuple[Outcome, Outcome], codes: tuple[str, str]
) -> None:
    for number, outcome in zip(TIER1, outcomes, strict=True):
        deployment.sandbox.outcomes.set(number, outcome)
    async with deployment.monitor() as monitor:
        pressed = time.monotonic()
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
        # well before tier 1's 30 s timeout: the monitor did not wait for people it cannot reach
        assert time.monotonic() - pressed < 10
        shown = await timeline(deployment, await only_alert_id(monitor))
    for number, code in zip(TIER1, codes, strict=True):
        assert number in shown and code in shown, shown


async def test_a_send_without_answer_is_checked_before_any_resend(deployment: Deployment) -> None:
    """The provider did not answer in time: the outbox asks it before sending again; one SMS arrives."""
    deployment.config_path.write_text(
        deployment.config_path.read_text().replace("[sms.sandbox]\n", "[sms.sandbox]\ntimeout_s = 0.5\n")
    )
    deployment.sandbox.faults.slow_next(1, delay=1.5, to=TIER1[0])
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=10)
        # unconfirmed after the timeout; the outbox asks the provider once the lease (2 s) is over
        status = await settled_status(monitor, TIER1[0])
        await deployment.sandbox.idle()
    assert status in ("sent", "delivered")
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1
