"""The SMS provider down entirely (every create refused with 503), on both databases.

Duty staff see it on /healthz and on the board within seconds of the first SOS that needs
it (the requirement: within a minute); the SOS waits, retried with backoff; once the
provider is back each SMS goes exactly once and the banner clears.
"""

from __future__ import annotations

import time

from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.system.reliability.outage import health
from tests.web.support import ConsoleClient, add_user


async def sms_down(deployment: Deployment) -> bool:
    status, report = await health(deployment.web_url)
    components = report["components"]
    assert isinstance(components, dict)
    return status == 503 and not components["sms"]["ok"]


async def healthy(deployment: Deployment) -> bool:
    status, _ = await health(deployment.web_url)
    return status == 200


async def test_provider_down_is_shown_at_once_and_nothing_is_sent_twice_when_it_is_back(
    deployment: Deployment,
) -> None:
    deployment.sandbox.faults.fail_next(None, status=503)
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        await console.sign_in("duty")
        pressed = time.monotonic()
        await deployment.press("btn-1")
        await until(lambda: sms_down(deployment), within_s=60, what="/healthz reporting the SMS provider down")
        seen_after_s = time.monotonic() - pressed
        board = await console.http.get("/")
        assert 'data-component="sms"' in board.text
        assert deployment.sandbox.messages() == []

        deployment.sandbox.faults.clear()  # the provider is back
        await deployment.sandbox.wait_for_messages(2, timeout=30)
        await until(lambda: healthy(deployment), what="/healthz healthy again")
        board = await console.http.get("/")
        assert 'data-component="sms"' not in board.text
    assert seen_after_s < 60
    for phone in TIER1:
        assert len(deployment.sandbox.messages(to=phone)) == 1
    refused = [attempt for attempt in deployment.sandbox.create_attempts() if attempt.answered_status == 503]
    assert len(refused) >= 2
