"""Escalation asks only people on call: an SOS at 03:00, when the area team's evening windows
are over, goes straight to the leader and the log says who was off duty and until when; the
same SOS at 19:00 reaches the area team. Duty staff see the roster and its gaps."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from monitor.store.models import Alert
from tests.oncall.kit import (
    CHEN_JING,
    DUTY,
    LI_MING,
    WEDNESDAY_0300,
    WEDNESDAY_1900,
    ZHANG_WEI,
    directory,
    use_directory,
)
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, alert_log, alerts, monitor_on
from tests.web.support import ConsoleClient, add_user

API_TOKEN = {"Authorization": "Bearer test-api-token-0123456789"}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_an_sos_at_0300_with_the_area_team_off_duty_goes_straight_to_tier_2(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_0300)) as monitor:
        await deployment.press("btn-1")
        [leader_sms] = await deployment.sandbox.wait_for_messages(1, to=CHEN_JING)
        [alert] = await alerts(monitor, "sos")
        [skipped] = await alert_log(monitor, alert.id, "tier_skipped")
        notified = await alert_log(monitor, alert.id, "notified")

    assert deployment.sandbox.messages(to=LI_MING) == [] and deployment.sandbox.messages(to=ZHANG_WEI) == []
    assert f"收到 {alert.id}" in leader_sms.body
    assert (alert.tier, alert.round, alert.state) == (1, 0, "open")  # asked at once, not after tier 1's timeout
    assert skipped.at == notified[0].at
    assert skipped.detail == (
        "tier 1 (round 1) skipped: nobody on call: "
        "Li Ming off duty by schedule (on call from 18:00); Zhang Wei off duty by schedule (on call from 17:00)"
    )
    assert [entry.detail.split(";")[0] for entry in notified] == [f"SMS to Chen Jing ({CHEN_JING}), tier 2, round 1"]


async def test_the_same_sos_at_1900_reaches_the_area_team(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        await deployment.press("btn-1")
        first, second = await deployment.sandbox.wait_for_messages(2)
        [alert] = await alerts(monitor, "sos")
        skipped = await alert_log(monitor, alert.id, "tier_skipped")

    assert {first.to, second.to} == {LI_MING, ZHANG_WEI}
    assert deployment.sandbox.messages(to=CHEN_JING) == []
    assert (alert.tier, skipped) == (0, [])


async def test_duty_staff_see_who_is_on_call_per_area_and_the_gaps_in_the_coming_week(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_0300)) as monitor:
        await add_user(monitor, "duty")
        async with httpx.AsyncClient(base_url=deployment.web_url, headers=API_TOKEN) as api:
            roster = (await api.get("/api/oncall")).json()
            described = (await api.get("/api/openapi.json")).json()["paths"]
        async with ConsoleClient(deployment.web_url) as console:
            await console.sign_in("duty")
            page = await console.http.get("/oncall")

    tianxian, hexi = (next(area for area in roster["areas"] if area["id"] == key) for key in ("a-1", "a-2"))
    assert tianxian["on_call_now"] == ["v-9"]
    li_ming = next(person for person in tianxian["people"] if person["id"] == "v-1")
    assert (li_ming["status"], moment(li_ming["until"]), li_ming["reachable"]) == (
        "off_schedule",
        WEDNESDAY_1900.replace(hour=18),
        True,
    )
    assert tianxian["gaps"] == []  # the leader is always on call
    # Hexi's only volunteer works weekends: nobody until Saturday 00:00, and again from Monday 00:00.
    gaps = [(moment(gap["from"]), moment(gap["to"])) for gap in hexi["gaps"]]
    assert gaps[0][0] - WEDNESDAY_0300 < timedelta(seconds=5)
    assert gaps[0][1] == WEDNESDAY_0300.replace(day=9, hour=0)
    assert gaps[1][0] == WEDNESDAY_0300.replace(day=11, hour=0)
    assert [person["id"] for person in roster["staff"]] == ["duty-1"]
    assert "/api/oncall" in described
    assert page.status_code == 200
    assert "Li Ming" in page.text and "off duty (schedule)" in page.text and "Gaps in the coming week" in page.text


async def test_a_leader_paused_too_leaves_only_duty_staff_and_the_log_says_so(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_0300)) as monitor:
        assert await deployment.sandbox.phone(CHEN_JING).reply("PAUSE 30m") == 200
        await deployment.sandbox.wait_for_messages(1, to=CHEN_JING, body_contains="03:30")
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(1, to=DUTY)
        [alert] = await alerts(monitor, "sos")
        skipped = [entry.detail for entry in await alert_log(monitor, alert.id, "tier_skipped")]
        async with monitor.database.read() as session:
            stored = await session.get(Alert, alert.id)

    assert skipped[1] == "tier 2 (round 1) skipped: nobody on call: Chen Jing paused until 03:30"
    assert stored is not None and stored.unanswered
