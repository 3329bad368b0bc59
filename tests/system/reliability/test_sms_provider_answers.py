"""How the monitor meets each of the provider's answers, and keeps to the sender's rate.

- 429 twice in a row: retried with growing gaps, sent once;
- a request never answered (the outcome is unknown): the provider is asked before the
  message is sent again, and it arrives once;
- invalid number and landline: flagged on the board beside the person, the next tier asked;
- the sender's rate: requests never go faster, and an SOS ask overtakes waiting health reports.

The provider's answers do not depend on the database: SQLite only.
"""

from __future__ import annotations

import pytest

from monitor.core.effects import Effects
from monitor.notify.requests import NotificationRequest, Purpose, queue_many
from monitor.notify.texts import Message
from simulator.harness.deployment import set_setting
from simulator.sandbox import Outcome
from tests.support.deployment import TIER1, TIER2, Deployment
from tests.web.support import ConsoleClient, add_user


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def test_429_is_retried_with_growing_gaps_and_sent_once(deployment: Deployment) -> None:
    deployment.sandbox.faults.fail_next(2, status=429, to=TIER1[0])
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=20)
    attempts = [attempt.arrived_monotonic for attempt in deployment.sandbox.create_attempts() if attempt.to == TIER1[0]]
    assert len(attempts) == 3
    first_gap, second_gap = attempts[1] - attempts[0], attempts[2] - attempts[1]
    assert 1.5 < first_gap < second_gap  # 2 s, then 4 s
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1


async def test_a_request_never_answered_is_checked_before_it_is_sent_again(deployment: Deployment) -> None:
    set_setting(deployment, "sms.sandbox", "timeout_s", "0.5")
    deployment.sandbox.faults.hang_next(1, to=TIER1[0])  # no answer, and nothing created
    async with deployment.monitor():
        await deployment.press("btn-1")
        # unconfirmed after 0.5 s; the provider has no such message a whole lease (2 s) later: sent again
        [sms] = await deployment.sandbox.wait_for_messages(1, to=TIER1[0], timeout=20)
        await deployment.sandbox.idle()
    assert "王秀英" in sms.body
    assert len(deployment.sandbox.messages(to=TIER1[0])) == 1
    assert len([attempt for attempt in deployment.sandbox.create_attempts() if attempt.to == TIER1[0]]) == 2


async def test_unreachable_people_are_flagged_on_the_board_and_the_next_tier_asked(deployment: Deployment) -> None:
    deployment.sandbox.outcomes.set(TIER1[0], Outcome.invalid_number())
    deployment.sandbox.outcomes.set(TIER1[1], Outcome.landline())
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        await console.sign_in("duty")
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=TIER2, timeout=10)
        rows = (await console.http.get("/board/rows")).text
    assert rows.count("sms-rejected") == 2
    assert "Li Ming" in rows and "Zhang Wei" in rows


async def test_the_sender_rate_holds_and_an_sos_overtakes_waiting_reports(deployment: Deployment) -> None:
    set_setting(deployment, "sms", "send_rate_per_s", "2")
    reports = [f"+86139000010{index:02d}" for index in range(12)]
    async with deployment.monitor() as monitor:
        now = monitor.clock.now()
        effects = Effects()
        async with monitor.database.write() as session:
            await queue_many(
                session,
                effects,
                [
                    NotificationRequest(phone, Message("health_report", f"Device report {index}"), Purpose.HEALTH)
                    for index, phone in enumerate(reports)
                ],
                now,
            )
        await monitor.after_commit(effects)
        await deployment.sandbox.wait_for_messages(1)  # the reports are under way
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(len(reports) + 2, timeout=30)
    sent = deployment.sandbox.messages()
    order = [message.to for message in sent]
    last_ask = max(order.index(phone) for phone in TIER1)
    assert last_ask < 6, f"the SOS asks went out at places {[order.index(phone) for phone in TIER1]} of {len(order)}"
    took_s = sent[-1].arrived_monotonic - sent[0].arrived_monotonic
    # 14 requests at 2 a second, after a burst of 2: no less than 6 s
    assert took_s >= 5.5, f"14 requests in {took_s:.1f} s: faster than the sender's rate"
