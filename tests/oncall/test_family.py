"""Family contacts: informed ones hear that an alert was raised, who took it, and that it ended, nothing else;
as a tier target they are asked like volunteers and can take the alert."""

from __future__ import annotations

from monitor.notify.requests import Purpose
from monitor.runtime.service import Monitor
from monitor.store.models import Alert
from simulator.directory_entries import policy
from tests.oncall.kit import (
    AMY_WANG,
    CHEN_JING,
    LI_MING,
    WANG_LEI,
    WEDNESDAY_0300,
    WEDNESDAY_1900,
    ZHANG_WEI,
    directory,
    sms_rows,
    use_directory,
)
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, alert_log, alerts, monitor_on

INFORM_FAMILY = policy(("area", 60), ("role:leader", 60), inform=["family"])
FAMILY_TIER = policy(("area", 60), ("family", 300))


async def press_and_hear_from_family(deployment: Deployment, monitor: Monitor) -> tuple[Alert, str, str]:
    """r-1 presses her button: the alert, and the first SMS her son and her granddaughter get."""
    await deployment.press("btn-1")
    [son] = await deployment.sandbox.wait_for_messages(1, to=WANG_LEI)
    [granddaughter] = await deployment.sandbox.wait_for_messages(1, to=AMY_WANG)
    [alert] = await alerts(monitor, "sos")
    return alert, son.body, granddaughter.body


async def test_informed_family_hear_of_the_alert_and_its_end_and_nothing_else(deployment: Deployment) -> None:
    use_directory(deployment, directory(family=True, policies=INFORM_FAMILY))
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        alert, son_raised, granddaughter_raised = await press_and_hear_from_family(deployment, monitor)
        assert await deployment.sandbox.phone(LI_MING).reply("收到") == 200
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="Li Ming has taken")
        son_taken = (await deployment.sandbox.wait_for_messages(2, to=WANG_LEI))[1]
        assert await deployment.sandbox.phone(LI_MING).reply("完成") == 200
        son_ended = (await deployment.sandbox.wait_for_messages(3, to=WANG_LEI))[2]
        granddaughter_ended = (await deployment.sandbox.wait_for_messages(3, to=AMY_WANG))[2]
        rows = [row for phone in (WANG_LEI, AMY_WANG) for row in await sms_rows(monitor, phone)]
        informed = [entry.detail for entry in await alert_log(monitor, alert.id, "informed")]

    assert son_raised.startswith("【紧急求助】您的家人王秀英（12栋3单元201）")
    assert "无需回复" in son_raised and "收到" not in son_raised  # never asked to act
    assert granddaughter_raised.startswith("SOS: 王秀英 (12栋3单元201) raised an alert at 19:00")
    assert son_taken.body == f"王秀英的求助（{alert.id}）已由Li接手，正在前往。无需回复。"
    assert son_ended.body == f"王秀英的求助（{alert.id}）已结束：志愿者已上门处理。无需回复。"
    assert (
        granddaughter_ended.body == f"The alert ({alert.id}) for 王秀英 is over: a volunteer visited. No need to reply."
    )
    # exactly three SMS each, all "inform": no request, no "taken" notice, no reminder
    assert [row.purpose for row in rows] == [Purpose.INFORM] * 6
    assert informed == [
        f"SMS to Wang Lei (son, {WANG_LEI}), family, told it was raised",
        f"SMS to Amy Wang (granddaughter, {AMY_WANG}), family, told it was raised",
        f"SMS to Wang Lei (son, {WANG_LEI}), family, told Li took it",
        f"SMS to Amy Wang (granddaughter, {AMY_WANG}), family, told Li took it",
        f"SMS to Wang Lei (son, {WANG_LEI}), family, told it ended (volunteer visited)",
        f"SMS to Amy Wang (granddaughter, {AMY_WANG}), family, told it ended (volunteer visited)",
    ]


async def test_a_cancelled_alert_is_told_as_over_too(deployment: Deployment) -> None:
    use_directory(deployment, directory(family=True, policies=INFORM_FAMILY))
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)):
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=WANG_LEI)
        await deployment.press("btn-1", "cancel")
        [_, ended] = await deployment.sandbox.wait_for_messages(2, to=WANG_LEI)
    assert "已由王秀英本人取消" in ended.body


async def test_a_family_tier_is_asked_and_a_family_member_can_take_the_alert(deployment: Deployment) -> None:
    use_directory(deployment, directory(family=True, policies=FAMILY_TIER))
    # 03:00: the area team is off duty, so the family tier is asked at once
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_0300)) as monitor:
        alert, asked, asked_en = await press_and_hear_from_family(deployment, monitor)
        assert await deployment.sandbox.phone(AMY_WANG).reply(f"ACK {alert.id}") == 200
        [confirmed] = await deployment.sandbox.wait_for_messages(1, to=AMY_WANG, body_contains="is yours")
        [told] = await deployment.sandbox.wait_for_messages(1, to=WANG_LEI, body_contains="Amy Wang")
        assert await deployment.sandbox.phone(AMY_WANG).reply("DONE") == 200
        await deployment.sandbox.wait_for_messages(1, to=AMY_WANG, body_contains="recorded as resolved")
        [taken] = await alerts(monitor, "sos")
        replies = [entry.actor for entry in await alert_log(monitor, alert.id, "reply")]

    assert f"回复“收到 {alert.id}”接手" in asked  # in each contact's own language
    assert f"Reply ACK {alert.id} to take it" in asked_en
    assert "王秀英" in confirmed.body and "已由Amy Wang接手" in told.body
    assert taken.state == "resolved" and taken.acknowledged_by is not None
    assert taken.acknowledged_by.startswith("family:") and replies[0] == taken.acknowledged_by
    assert deployment.sandbox.messages(to=LI_MING) == [] and deployment.sandbox.messages(to=CHEN_JING) == []
