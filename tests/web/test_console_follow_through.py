"""Duty staff act on taken alerts through the JSON API (the console's forms call the same
actions): take it back and ask the next tier now, reassign to a named volunteer (asked by SMS),
mark arrived on someone's behalf; each with its reason in the alert's timeline."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from monitor.store.models import Alert
from tests.support.deployment import TIER1, TIER2, Deployment
from tests.web.support import ConsoleClient, add_user

LEGACY = {"Authorization": "Bearer test-api-token-0123456789"}
LI_MING, ZHANG_WEI = TIER1


async def test_escalate_reassign_and_mark_arrived_on_a_taken_alert_are_each_on_record(deployment: Deployment) -> None:
    async with deployment.monitor(), httpx.AsyncClient(base_url=deployment.web_url, headers=LEGACY) as client:
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        path = f"/api/alerts/{alert['id']}"
        await deployment.sandbox.phone(ZHANG_WEI).reply("ACK")
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "acknowledged")

        escalated = await client.post(f"{path}/escalate", json={"reason": "Zhang's phone is off"})
        [asked] = await deployment.sandbox.wait_for_messages(1, to=TIER2)
        await deployment.sandbox.wait_for_messages(1, to=ZHANG_WEI, body_contains="others are asked too")
        reassigned = await client.post(f"{path}/reassign", json={"volunteer_id": "v-1", "reason": "lives next door"})
        await deployment.sandbox.wait_for_messages(2, to=LI_MING, body_contains="收到")
        await deployment.sandbox.phone(LI_MING).reply("ACK")
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["acknowledged_by"] == "v-1")
        arrived = await client.post(f"{path}/arrived", json={"reason": "Li phoned from the door"})
        refused = await client.post(f"{path}/arrived", json={})
        timeline = (await client.get(path)).json()["timeline"]

    assert escalated.status_code == 200 and escalated.json()["alert"]["state"] == "open"
    assert escalated.json()["alert"]["tier"] == 2 and "王秀英" in asked.body
    assert reassigned.status_code == 200
    assert arrived.status_code == 200 and arrived.json()["alert"]["state"] == "on_site"
    assert arrived.json()["alert"]["on_site_by"] == "v-1"
    assert refused.status_code == 409
    texts = {entry["kind"]: entry["text"] for entry in timeline}
    assert "took it back at the console: Zhang's phone is off" in texts["reopened"]
    assert "asked Li Ming to take it: lives next door" in texts["reassigned"]
    assert "Li Ming on site (recorded at the console by" in texts["on_site"]
    assert "Li phoned from the door" in texts["on_site"]


async def test_the_board_shows_a_taken_alerts_stage_clock_and_eta_and_flags_it_overdue_in_red(
    deployment: Deployment,
) -> None:
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as console:
        await add_user(monitor, "duty")
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        await deployment.sandbox.phone(ZHANG_WEI).reply("OMW 10")
        [alert] = await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "en_route")
        assert (await console.sign_in("duty")).status_code == 303
        on_time = (await console.http.get("/board/rows")).text
        async with monitor.database.write() as session:
            await session.execute(update(Alert).where(Alert.id == alert["id"]).values(overdue=True))
        late = (await console.http.get("/board/rows")).text
        marked = await console.post(f"/alerts/{alert['id']}/arrived", {"reason": "Zhang phoned"})
        without_csrf = await console.http.post(f"/alerts/{alert['id']}/reassign", data={"volunteer_id": "v-1"})
        page = (await console.http.get(f"/alerts/{alert['id']}")).text

    assert "state-en_route" in on_time and 'class="countdown"' in on_time and "ETA " in on_time
    assert 'class="ticking"' in on_time.split("state-en_route")[1]  # the stage's clock
    assert "OVERDUE" not in on_time
    assert " overdue" in late and '<span class="flag">OVERDUE</span>' in late
    assert marked.status_code == 303 and marked.headers["location"].endswith("?done=arrived")
    assert without_csrf.status_code == 403
    assert "Zhang Wei on site (recorded at the console by Duty: Zhang phoned)" in page
