"""Availability by SMS: PAUSE takes a volunteer out of escalations until it ends (the clock is
moved, not waited for) and every answer says until when; STOP ends every message to that
number, which the roster then shows as unreachable, until START."""

from __future__ import annotations

from functools import partial

import httpx

from tests.oncall.kit import (
    CHEN_JING,
    LI_MING,
    WEDNESDAY_1900,
    ZHANG_WEI,
    directory,
    sms_rows,
    use_directory,
)
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, alert_log, alerts, eventually, monitor_on

API_TOKEN = {"Authorization": "Bearer test-api-token-0123456789"}


def alert_requests(deployment: Deployment, phone: str) -> list[str]:
    return [m.body for m in deployment.sandbox.messages(to=phone) if "收到 " in m.body or "Reply ACK" in m.body]


async def test_pause_2h_keeps_a_volunteer_out_for_two_hours_and_says_until_when(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    clock = ShiftedClock(WEDNESDAY_1900)
    async with monitor_on(deployment, clock) as monitor:
        li_ming, zhang_wei = deployment.sandbox.phone(LI_MING), deployment.sandbox.phone(ZHANG_WEI)
        assert await li_ming.reply("PAUSE 2h") == 200
        [paused] = await deployment.sandbox.wait_for_messages(1, to=LI_MING)
        assert paused.body == "已暂停至21:00，此前不会收到求助短信。回复“上班”可提前恢复。"

        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="Reply ACK")
        [first] = await alerts(monitor, "sos")
        assert alert_requests(deployment, LI_MING) == []
        assert await zhang_wei.reply(f"DONE {first.id}") == 200

        clock.advance(hours=1)
        assert await li_ming.reply("状态") == 200
        [status] = await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains="您已暂停")
        assert "至21:00" in status.body

        clock.advance(hours=1, minutes=1)  # 21:01: the pause is over, his evening window is not
        await deployment.press("btn-2")
        [request] = await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains="Margaret Chen")
        assert await li_ming.reply("STATUS") == 200
        [on_call] = await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains="值班")
        second = (await alerts(monitor, "sos"))[-1]
        notified = [entry.detail for entry in await alert_log(monitor, second.id, "notified")]

    assert "回复“收到" in request.body  # in his own language, about an English-speaking resident
    assert on_call.body == "您目前在值班，至23:00。"
    # the escalation log states each volunteer's recent load beside the request
    assert f"SMS to Zhang Wei ({ZHANG_WEI}), tier 1, round 1; asked 1, took 1 in the last 30 days" in notified
    assert f"SMS to Li Ming ({LI_MING}), tier 1, round 1; asked 0, took 0 in the last 30 days" in notified


async def test_off_lasts_until_on_and_each_is_confirmed(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)):
        zhang_wei = deployment.sandbox.phone(ZHANG_WEI)
        assert await zhang_wei.reply("OFF") == 200
        [off] = await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI)
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains="收到 ")
        assert alert_requests(deployment, ZHANG_WEI) == []
        assert await zhang_wei.reply("on") == 200
        [back] = await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="Welcome back")

    assert off.body == "You are off duty: no alert SMS until you reply ON."
    assert back.body == "Welcome back. You are on call until 22:00."


async def test_stop_ends_every_message_to_that_number_until_start(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    clock = ShiftedClock(WEDNESDAY_1900)
    async with (
        monitor_on(deployment, clock) as monitor,
        httpx.AsyncClient(base_url=deployment.web_url, headers=API_TOKEN) as api,
    ):
        li_ming, zhang_wei = deployment.sandbox.phone(LI_MING), deployment.sandbox.phone(ZHANG_WEI)
        assert await li_ming.reply("STOP") == 200
        roster = (await api.get("/api/oncall")).json()
        [team] = [area for area in roster["areas"] if area["id"] == "a-1"]

        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="Reply ACK")
        [alert] = await alerts(monitor, "sos")
        assert await li_ming.reply(f"ACK {alert.id}") == 200  # he was not asked: it stays open, and no answer
        assert await li_ming.reply("STATUS") == 200  # no answer either
        assert await zhang_wei.reply("ACK") == 200
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="is yours")
        [taken] = await alerts(monitor, "sos")
        stopped_rows = await sms_rows(monitor, LI_MING)
        assert deployment.sandbox.messages(to=LI_MING) == []

        assert await li_ming.reply("START") == 200
        clock.advance(minutes=5)
        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(1, to=LI_MING, body_contains="Margaret Chen")

    people = {person["id"]: person for person in team["people"]}
    assert (people["v-1"]["reachable"], people["v-1"]["status"]) == (False, "opted_out")
    assert team["on_call_now"] == ["v-2", "v-9"]
    assert taken.acknowledged_by == "v-2"
    assert stopped_rows == []  # not even a row: nothing was queued for the number while it was opted out


async def test_an_alert_waiting_only_on_phones_that_replied_stop_moves_on_at_once(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        await deployment.press("btn-1")
        for phone in (LI_MING, ZHANG_WEI):
            await deployment.sandbox.wait_for_messages(1, to=phone, body_contains="王秀英")
        [alert] = await alerts(monitor, "sos")
        assert await deployment.sandbox.phone(LI_MING).reply("STOP") == 200
        # Zhang Wei was asked too and can still answer: the alert waits for him
        assert await deployment.sandbox.phone(ZHANG_WEI).reply("STATUS") == 200
        await deployment.sandbox.wait_for_messages(2, to=ZHANG_WEI)
        assert deployment.sandbox.messages(to=CHEN_JING) == []
        assert await deployment.sandbox.phone(ZHANG_WEI).reply("STOP") == 200
        # nobody left who can answer in tier 1: the leader is asked now, not at the timeout
        await deployment.sandbox.wait_for_messages(1, to=CHEN_JING, body_contains="王秀英")
        [escalated] = await alert_log(monitor, alert.id, "escalated")

    assert "everyone asked in tier 1 opted out of SMS (STOP)" in escalated.detail


async def test_a_stop_cancels_what_waits_to_go_and_the_queue_refuses_that_number(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        from monitor.core.effects import Effects
        from monitor.notify.requests import NotificationStatus, Purpose, queue_sms
        from monitor.notify.texts import Message
        from monitor.oncall.availability import opt_out

        now = monitor.clock.now()
        async with monitor.database.write() as session:
            # a row queued for later (as a digest or a notice would be), then the STOP arrives
            to_li_ming = partial(queue_sms, session, Effects(), phone=LI_MING, now=now)
            waiting = await to_li_ming(message=Message("health_report", "later"), purpose=Purpose.HEALTH, key="t:1")
            await opt_out(session, LI_MING, now, None)
            refused = await to_li_ming(message=Message("ask", "urgent"), purpose=Purpose.ALERT, key="t:2")

        async def status() -> str | None:
            [row] = await sms_rows(monitor, LI_MING)
            return row.status

        final = await eventually(status)
        rows = await sms_rows(monitor, LI_MING)

    assert waiting is not None and refused is None
    assert final == NotificationStatus.CANCELLED and rows[0].error_message == "the phone opted out (STOP)"
    assert deployment.sandbox.messages(to=LI_MING) == []


async def test_pause_beyond_its_limit_gets_the_help_text(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)):
        assert await deployment.sandbox.phone(ZHANG_WEI).reply("PAUSE 30d") == 200
        [help_text] = await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI)
    assert "PAUSE 2h" in help_text.body
