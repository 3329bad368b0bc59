"""Fairness: the escalation log and the report show how many alerts each volunteer was asked to
take and took (alerts, not SMS: a reminder round about the same alert is not a second ask)."""

from __future__ import annotations

import httpx

from tests.oncall.kit import CHEN_JING, LI_MING, WEDNESDAY_1900, ZHANG_WEI, directory, use_directory
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, alert_log, alerts, monitor_on

API_TOKEN = {"Authorization": "Bearer test-api-token-0123456789"}
REMINDING = """
[[policies]]
id = "default"
tiers = [{ notify = ["area"], ack_timeout_s = 60 }]
repeat = 1
"""


async def test_the_log_and_the_report_count_alerts_asked_and_taken_per_volunteer(deployment: Deployment) -> None:
    use_directory(deployment, directory(policies=REMINDING))
    clock = ShiftedClock(WEDNESDAY_1900)
    async with monitor_on(deployment, clock) as monitor:
        li_ming, zhang_wei = deployment.sandbox.phone(LI_MING), deployment.sandbox.phone(ZHANG_WEI)
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2, body_contains="王秀英")
        clock.advance(seconds=61)  # nobody answered: the reminder round asks both again
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains="再次提醒")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="(reminder)")
        assert await zhang_wei.reply("ACK") == 200

        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(2, body_contains="Margaret Chen")
        assert await li_ming.reply("ACK") == 200
        second = (await alerts(monitor, "sos"))[-1]
        notified = [entry.detail for entry in await alert_log(monitor, second.id, "notified")]
        async with httpx.AsyncClient(base_url=deployment.web_url, headers=API_TOKEN) as api:
            report = (await api.get("/api/reports", params={"from": "2026-05-06", "to": "2026-05-06"})).json()

    assert f"SMS to Li Ming ({LI_MING}), tier 1, round 1; asked 1, took 0 in the last 30 days" in notified
    assert f"SMS to Zhang Wei ({ZHANG_WEI}), tier 1, round 1; asked 1, took 1 in the last 30 days" in notified
    load = {volunteer["id"]: (volunteer["asked"], volunteer["took"]) for volunteer in report["volunteers"]}
    assert load == {"v-1": (2, 1), "v-2": (2, 1)}


async def test_steps_taken_together_count_the_requests_queued_before_them(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    clock = ShiftedClock(WEDNESDAY_1900)
    async with monitor_on(deployment, clock) as monitor:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2, body_contains="王秀英")
        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(2, body_contains="Margaret Chen")
        clock.advance(seconds=61)  # both alerts' tier 2 (the leader) fall due at once: one batch of steps
        await deployment.sandbox.phone(CHEN_JING).wait_for_messages(2)
        first, second = sorted(alert.id for alert in await alerts(monitor, "sos"))
        asked_first = [entry.detail for entry in await alert_log(monitor, first, "notified")]
        asked_second = [entry.detail for entry in await alert_log(monitor, second, "notified")]

    # the second step's figure counts the request the first one queued in the same transaction
    assert f"SMS to Chen Jing ({CHEN_JING}), tier 2, round 1; asked 0, took 0 in the last 30 days" in asked_first
    assert f"SMS to Chen Jing ({CHEN_JING}), tier 2, round 1; asked 1, took 0 in the last 30 days" in asked_second
