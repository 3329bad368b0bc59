"""How the monitor meets Alibaba Cloud's answers through the official SDK, as it meets Twilio's
(tests/system/reliability/test_sms_provider_answers.py):

- a SendSms never answered (nothing sent): QuerySendDetails finds nothing, it is sent again, once;
- a SendSms answered too late (sent all the same): QuerySendDetails finds it by its OutId, and it
  is never sent twice;
- 500: retried, sent once.

The provider's answers do not depend on the database: SQLite only.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.store.models import Notification
from simulator.harness.deployment import aliyun_template_code, set_setting
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


def on_aliyun_timing_out(deployment: Deployment) -> None:
    deployment.sms_provider = "aliyun"
    deployment.write_files()
    set_setting(deployment, "sms.aliyun", "timeout_s", "0.5")


def requests_to(deployment: Deployment, phone: str) -> int:
    return len([attempt for attempt in deployment.sandbox.create_attempts() if attempt.to == phone])


async def test_a_sendsms_never_answered_is_looked_up_then_sent_once(deployment: Deployment) -> None:
    on_aliyun_timing_out(deployment)
    deployment.sandbox.faults.hang_next(1, to=TIER1[0])  # no answer, and nothing sent
    async with deployment.monitor():
        await deployment.press("btn-1")
        # unconfirmed after 0.5 s; QuerySendDetails has no such message a lease (2 s) later: sent again
        [sms] = await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=20)
        await deployment.sandbox.idle()
    assert sms.template_code == aliyun_template_code("ask") and sms.template_params["resident"] == "王秀英"
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1
    assert requests_to(deployment, TIER1[0]) == 2


async def test_a_sendsms_answered_too_late_is_found_by_its_outid_and_not_sent_again(deployment: Deployment) -> None:
    on_aliyun_timing_out(deployment)
    deployment.sandbox.faults.slow_next(1, delay=1.5, to=TIER1[0])  # the SDK gives up at 0.5 s; sent at 1.5 s
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        [sms] = await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=20)

        async def settled() -> Notification | None:
            async with monitor.database.read() as session:
                row = await session.scalar(select(Notification).where(Notification.phone == TIER1[0]))
            return row if row is not None and row.provider_id is not None else None

        row = await until(settled, within_s=20, what="the ask settled with the provider")
        await deployment.sandbox.idle()
    assert row.provider_id == f"out:{row.id}" and sms.out_id == str(row.id)
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1
    assert requests_to(deployment, TIER1[0]) == 1


async def test_a_500_is_retried_and_sent_once(deployment: Deployment) -> None:
    on_aliyun_timing_out(deployment)
    deployment.sandbox.faults.fail_next(1, status=500, to=TIER1[0])
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=20)
        await deployment.sandbox.idle()
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1
    assert requests_to(deployment, TIER1[0]) == 2
