"""A resident who checks in by 10:00 raises nothing; one who does not is visited, by the
policy for missed check-ins: the area team and the leader at once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.runtime.service import Monitor
from tests.support.deployment import STAFF, TIER1, TIER2, Deployment
from tests.watch.kit import ShiftedClock, alerts, eventually, monitor_on, resident

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2026, 5, 4, 10, 0, tzinfo=SHANGHAI)
CHECKIN_RESIDENT = """
[[residents]]
id = "r-c"
name = "赵桂兰"
address = "5栋1单元101"
area = "a-1"
phone = "+8613800000003"
timezone = "Asia/Shanghai"
checkin_by = "10:00"

[[devices]]
id = "chk-c"
resident = "r-c"
kind = "checkin_button"
protocol = "zigbee2mqtt"
topic = "zigbee2mqtt/zhao_checkin"

[[policies]]
id = "knock-first"
kinds = ["missed_checkin"]
tiers = [{ notify = ["area", "role:leader"], ack_timeout_s = 600 }]
"""


async def watching(monitor: Monitor) -> None:
    """Supervision has seen the schedule: today's 10:00 is the next deadline."""

    async def due() -> datetime | None:
        return (await resident(monitor, "r-c")).checkin_due_at

    assert await eventually(due, what="the check-in schedule is picked up") == DEADLINE


async def press_checkin_button(deployment: Deployment, monitor: Monitor) -> datetime:
    """Any press of the check-in button (here a zigbee2mqtt one) is the day's check-in."""
    await deployment.publish("zigbee2mqtt/zhao_checkin", json.dumps({"action": "single", "battery": 90}))

    async def checked_in() -> datetime | None:
        return (await resident(monitor, "r-c")).last_checkin_at

    return await eventually(checked_in, what="the check-in is recorded")


async def test_a_check_in_before_the_deadline_raises_nothing(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=CHECKIN_RESIDENT)
    clock = ShiftedClock(DEADLINE - timedelta(minutes=2))
    async with monitor_on(deployment, clock) as monitor:
        await watching(monitor)
        assert await press_checkin_button(deployment, monitor) < DEADLINE
        clock.move_to(DEADLINE + timedelta(seconds=1))
        await monitor.supervision.run_once()
        assert (await resident(monitor, "r-c")).checkin_due_at == DEADLINE + timedelta(days=1)
        assert await alerts(monitor) == []
    assert deployment.sandbox.messages() == []


async def test_a_missed_check_in_sends_the_area_team_and_leader_to_the_door(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=CHECKIN_RESIDENT)
    clock = ShiftedClock(DEADLINE - timedelta(minutes=1))
    async with monitor_on(deployment, clock) as monitor:
        await watching(monitor)
        clock.move_to(DEADLINE + timedelta(seconds=1))
        await monitor.supervision.run_once()
        [missed] = await alerts(monitor)
        assert (missed.kind, missed.resident_id, missed.device_id) == ("missed_checkin", "r-c", None)
        assert (missed.policy_id, missed.state) == ("knock-first", "open")
        asked = await deployment.sandbox.wait_for_messages(3)
        assert {message.to for message in asked} == {*TIER1, TIER2}
        for message in asked:  # each in their own language: Zhang Wei reads English
            if message.to == TIER1[1]:
                assert message.body.startswith(
                    "MISSED CHECK-IN: 赵桂兰, 5栋1单元101, Tianxian 3, no check-in as of 10:00"
                )
                assert f"Reply ACK {missed.id} to take it" in message.body
            else:
                assert message.body.startswith("【未按时报平安】赵桂兰（Tianxian 3，5栋1单元101）截至10:00未报平安")
                assert f"回复“收到 {missed.id}”接手" in message.body

        await press_checkin_button(deployment, monitor)  # she checks in after all
        told = [
            *await deployment.sandbox.wait_for_messages(2, body_contains="已报平安"),
            *await deployment.sandbox.wait_for_messages(1, body_contains="has checked in after all"),
        ]
        assert {message.to for message in told} == {*TIER1, TIER2}
        [missed] = await alerts(monitor)
        assert missed.state == "cancelled"
    assert deployment.sandbox.messages(to=STAFF) == []
