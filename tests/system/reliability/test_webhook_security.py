"""Twilio's webhooks under attack: replays, people who were not asked, forged delivery reports,
oversized bodies. Every request below is correctly signed unless it says otherwise, as an
attacker who captured real traffic would send it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from monitor.runtime.service import Monitor
from monitor.store.models import Alert, InboundSms, Notification
from simulator.sandbox import SIGNATURE_HEADER
from simulator.sandbox.signing import signature_for
from tests.support.deployment import TIER1, TIER2, Deployment


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def post_signed(deployment: Deployment, path: str, params: dict[str, str], *, sign_for: str | None = None) -> int:
    url = deployment.web_url + path
    signature = signature_for(deployment.sandbox.auth_token, sign_for or url, params)
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, data=params, headers={SIGNATURE_HEADER: signature}, timeout=10)
    return answer.status_code


async def alert_states(monitor: Monitor) -> dict[int, tuple[str, str | None, int]]:
    async with monitor.database.read() as session:
        rows = (await session.execute(select(Alert.id, Alert.state, Alert.acknowledged_by, Alert.tier))).all()
    return {alert_id: (state, taker, tier) for alert_id, state, taker, tier in rows}


async def test_a_replayed_reply_is_applied_once(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        decline = {"MessageSid": "SM" + "1" * 32, "From": TIER1[0], "To": deployment.sandbox.from_number, "Body": "NO"}
        assert await post_signed(deployment, "/twilio/sms", decline) == 200
        await deployment.sandbox.wait_for_messages(1, to=TIER2)  # declined: the next tier asked at once
        await deployment.sandbox.wait_for_messages(2, to=TIER1[0])  # the ask, and the decline confirmed
        for _ in range(3):
            assert await post_signed(deployment, "/twilio/sms", decline) == 200  # Twilio wants 200 regardless
        metrics = monitor.metrics.render().decode()
        [(state, _, tier)] = (await alert_states(monitor)).values()
        async with monitor.database.read() as session:
            purposes = select(Notification.purpose).where(Notification.phone == TIER1[0])
            to_decliner = (await session.scalars(purposes)).all()
    assert 'callwatch_sms_replies_total{outcome="replay"} 3.0' in metrics
    assert (state, tier) == ("open", 1)  # declined once: still at tier 2, not moved on again
    assert sorted(to_decliner) == ["alert", "confirmation"]


async def test_nobody_takes_an_alert_they_were_not_asked_about(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        assert await deployment.sandbox.phone(TIER1[0]).reply("NO") == 200
        await deployment.sandbox.wait_for_messages(1, to=TIER2)  # the leader is asked about the first alert
        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(2, body_contains="Margaret Chen")
        first, second = sorted(await alert_states(monitor))
        # The leader names the second alert, which only the area team was asked about.
        assert await deployment.sandbox.phone(TIER2).reply(f"ACK {second}") == 200
        await deployment.sandbox.wait_for_messages(2, to=TIER2)
        assert await deployment.sandbox.phone(TIER2).reply(f"ACK {first}") == 200
        await deployment.sandbox.wait_for_messages(3, to=TIER2)
        states = await alert_states(monitor)
    assert states[second][:2] == ("open", None)
    assert states[first][:2] == ("acknowledged", "v-9")


async def test_delivery_reports_must_be_signed_for_this_monitor(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        await deployment.sandbox.idle()
        async with monitor.database.read() as session:
            sid = await session.scalar(select(Notification.provider_id).where(Notification.phone == TIER1[0]))
        assert sid is not None
        undelivered = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        signed_elsewhere = await post_signed(
            deployment, "/twilio/status", undelivered, sign_for="https://attacker.example/twilio/status"
        )
        async with httpx.AsyncClient() as client:
            unsigned = await client.post(f"{deployment.web_url}/twilio/status", data=undelivered)
        async with monitor.database.read() as session:
            status = await session.scalar(select(Notification.status).where(Notification.provider_id == sid))
        [(state, _, tier)] = (await alert_states(monitor)).values()
    assert (signed_elsewhere, unsigned.status_code) == (403, 403)
    assert status == "delivered"
    assert (state, tier) == ("open", 0)  # nobody moved the alert on by faking a failure


async def test_an_oversized_webhook_is_refused_unread(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        huge = {"MessageSid": "SM" + "2" * 32, "From": TIER1[0], "Body": "ACK " + "x" * 70_000}
        assert await post_signed(deployment, "/twilio/sms", huge) == 413

        async def endless() -> object:
            for _ in range(100):
                yield b"Body=" + b"x" * 10_000  # no Content-Length: cut off once past the limit

        async with httpx.AsyncClient() as client:
            streamed = await client.post(
                f"{deployment.web_url}/twilio/sms",
                content=endless(),  # type: ignore[arg-type]
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        async with monitor.database.read() as session:
            stored = await session.scalar(select(func.count()).select_from(InboundSms))
    assert streamed.status_code == 413
    assert stored == 0
