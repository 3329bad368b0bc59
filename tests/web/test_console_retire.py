"""Retiring from the console (a confirmation page, administrators only) and the API (DELETE on a
directory entry): the directory file's rules, an alert standing in the way refused in one sentence,
a volunteer's alerts handed back to escalation on request, and the audit log."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import ConsoleAudit, ConsoleUser, Device, Resident
from monitor.users.identity import Role
from monitor.users.tokens import issue_token
from simulator.harness import neighbourhood as people
from tests.support.deployment import Deployment
from tests.web.support import ConsoleClient, add_user


async def bearer(monitor: Monitor, name: str) -> dict[str, str]:
    """An API token of the console user ``name``, as an Authorization header."""
    async with monitor.database.write() as session:
        user = await session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
        assert user is not None
        _, secret = await issue_token(session, user, "test", monitor.clock.now())
    return {"Authorization": f"Bearer {secret}"}


async def zhang_wei_took_an_sos(deployment: Deployment, monitor: Monitor) -> tuple[dict[str, str], dict[str, str]]:
    """An SOS of r-1 that Zhang Wei (v-2) took; the API tokens of an administrator and a duty user."""
    await add_user(monitor, "admin", role=Role.ADMIN)
    await add_user(monitor, "duty")
    await deployment.press("btn-1")
    await deployment.sandbox.wait_for_messages(2)  # tier 1: Li Ming and Zhang Wei
    assert await deployment.sandbox.phone(people.TIER1[1]).reply("ACK") == 200
    return await bearer(monitor, "admin"), await bearer(monitor, "duty")


async def test_an_administrator_retires_a_resident_with_her_devices_after_confirming(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        await add_user(monitor, "duty")
        async with ConsoleClient(deployment.web_url) as admin, ConsoleClient(deployment.web_url) as duty:
            await admin.sign_in("admin")
            await duty.sign_in("duty")
            edit = await admin.http.get("/directory/residents/r-2/edit")
            confirm = await admin.http.get("/directory/residents/r-2/retire")
            not_allowed = await duty.post("/directory/residents/r-2/retire")
            retired = await admin.post("/directory/residents/r-2/retire")
            listed = await admin.http.get(retired.headers["location"])
            again = await admin.http.get("/directory/residents/r-2/retire")

            await deployment.press("btn-1")
            await deployment.sandbox.wait_for_messages(2)
            refused = await admin.post("/directory/devices/btn-1/retire")
            area_page = await admin.http.get("/directory/areas/a-1/retire")
            area_refused = await admin.post("/directory/areas/a-1/retire")
        async with monitor.database.read() as session:
            margaret, wang = await session.get(Resident, "r-2"), await session.get(Resident, "r-1")
            buttons = {device.id: device.active for device in (await session.scalars(select(Device))).all()}
            audit = (await session.scalars(select(ConsoleAudit).where(ConsoleAudit.action == "directory_retire"))).all()

    assert 'href="/directory/residents/r-2/retire"' in edit.text
    assert "r-2 (Margaret Chen)" in confirm.text and "btn-2 (button of r-2)" in confirm.text
    assert "data-confirm=" in confirm.text
    assert not_allowed.status_code == 403
    assert retired.status_code == 303 and "Retired r-2." in listed.text
    assert "Retired already." in again.text
    assert refused.status_code == 409
    assert "device &#34;btn-1&#34; has alert 1 (sos, open), and there is nobody to hand it to" in refused.text
    assert "areas: a-1 (Tianxian 3)" in area_page.text
    assert (
        area_refused.status_code == 409
        and (
            "area &#34;a-1&#34; (Tianxian 3) is still used by resident r-1 (王秀英); volunteers v-1 (Li Ming), "
            "v-2 (Zhang Wei), v-9 (Chen Jing); alert 1 (sos, open); move them to another area or retire them and "
            "end those alerts (resolve or cancel them at the console)"
        )
        in area_refused.text
    )
    assert margaret is not None and not margaret.active and wang is not None and wang.active
    assert buttons == {"btn-1": True, "btn-2": False}
    assert [(entry.actor, entry.target, entry.detail) for entry in audit] == [
        (
            "user:admin",
            "residents:r-2",
            "residents retired: r-2 (Margaret Chen); devices retired: btn-2 (button of r-2)",
        )
    ]


async def test_the_api_retires_a_volunteer_and_hands_their_alert_back_when_asked(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, httpx.AsyncClient(base_url=deployment.web_url) as client:
        admin, duty = await zhang_wei_took_an_sos(deployment, monitor)
        await deployment.sandbox.wait_for_messages(1, to=people.TIER1[0], body_contains="Zhang Wei")

        not_allowed = await client.delete("/api/directory/volunteers/v-2", headers=duty)
        refused = await client.delete("/api/directory/volunteers/v-2", headers=admin)
        handed = await client.delete("/api/directory/volunteers/v-2?reassign=true", headers=admin)
        [asked] = await deployment.sandbox.wait_for_messages(1, to=people.TIER2, timeout=10)
        missing = await client.delete("/api/directory/volunteers/v-404", headers=admin)
        areas = await client.delete("/api/directory/areas/a-1", headers=admin)
        entry = (await client.get("/api/directory/volunteers/v-2", headers=admin)).json()

    assert not_allowed.status_code == 403
    assert refused.status_code == 409 and refused.json()["error"].startswith(
        'volunteer "v-2" (Zhang Wei) still holds alert 1 (acknowledged); '
    )
    assert handed.status_code == 200, handed.text
    assert handed.json() == {"retired": {"volunteers": ["v-2 (Zhang Wei, volunteer)"]}, "handed_back": [1]}
    assert "王秀英" in asked.body  # the area leader is asked at once
    assert missing.status_code == 404
    assert areas.status_code == 409 and areas.json()["error"].startswith('area "a-1" (Tianxian 3) is still used by ')
    assert entry["active"] is False


async def test_an_administrator_erases_a_resident_after_typing_her_id(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        await add_user(monitor, "duty")
        async with ConsoleClient(deployment.web_url) as admin, ConsoleClient(deployment.web_url) as duty:
            await admin.sign_in("admin")
            await duty.sign_in("duty")
            edit = await admin.http.get("/directory/residents/r-2/edit")
            page = await admin.http.get("/directory/residents/r-2/erase")
            not_allowed = await duty.post("/directory/residents/r-2/erase", {"typed_id": "r-2"})
            mistyped = await admin.post("/directory/residents/r-2/erase", {"typed_id": "r-1"})
            erased = await admin.post("/directory/residents/r-2/erase", {"typed_id": "r-2"})
            listed = await admin.http.get(erased.headers["location"])
            devices = await admin.http.get("/directory/devices/btn-2/erase")
        async with monitor.database.read() as session:
            margaret = await session.get(Resident, "r-2")
            audit = (
                await session.execute(
                    select(ConsoleAudit.actor, ConsoleAudit.target, ConsoleAudit.detail).where(
                        ConsoleAudit.action == "erase"
                    )
                )
            ).all()

    assert 'href="/directory/residents/r-2/erase"' in edit.text and 'name="typed_id"' in page.text
    assert not_allowed.status_code == 403
    assert mistyped.status_code == 400 and "type r-2 to confirm; nothing was erased" in mistyped.text
    assert erased.status_code == 303 and "Erased r-2." in listed.text and "Margaret Chen" not in listed.text
    assert margaret is not None and (margaret.name, margaret.address, margaret.active) == ("[erased]", "", False)
    assert devices.status_code == 404  # a device is retired, not erased
    [(actor, target, detail)] = audit
    assert (actor, target) == ("user:admin", "resident:r-2")
    assert "Margaret" not in detail


async def test_the_api_erases_a_volunteer_only_when_the_request_repeats_their_id(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor, httpx.AsyncClient(base_url=deployment.web_url) as client:
        admin, duty = await zhang_wei_took_an_sos(deployment, monitor)

        not_allowed = await client.post("/api/directory/volunteers/v-1/erase", headers=duty, json={"confirm": "v-1"})
        unconfirmed = await client.post("/api/directory/volunteers/v-1/erase", headers=admin, json={})
        mistyped = await client.post("/api/directory/volunteers/v-1/erase", headers=admin, json={"confirm": "v-2"})
        missing = await client.post("/api/directory/volunteers/v-404/erase", headers=admin, json={"confirm": "v-404"})
        device = await client.post("/api/directory/devices/btn-1/erase", headers=admin, json={"confirm": "btn-1"})
        holding = await client.post("/api/directory/volunteers/v-2/erase", headers=admin, json={"confirm": "v-2"})
        erased = await client.post("/api/directory/volunteers/v-1/erase", headers=admin, json={"confirm": "v-1"})
        entry = (await client.get("/api/directory/volunteers/v-1", headers=admin)).json()
        async with monitor.database.read() as session:
            audit = (
                await session.execute(
                    select(ConsoleAudit.actor, ConsoleAudit.target, ConsoleAudit.detail).where(
                        ConsoleAudit.action == "erase"
                    )
                )
            ).all()

    assert not_allowed.status_code == 403
    assert unconfirmed.status_code == mistyped.status_code == 400
    assert mistyped.json()["error"] == 'repeat the id to confirm ({"confirm": "v-1"}); nothing was erased'
    assert missing.status_code == 404 and device.status_code == 404
    assert holding.status_code == 409 and holding.json()["error"].startswith('erase: volunteer "v-2" holds alert 1')
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"] == "volunteer:v-1" and erased.json()["cells_overwritten"] >= 1
    assert (entry["name"], entry["active"]) == ("[erased]", False) and people.TIER1[0] not in str(entry)
    [(actor, target, detail)] = audit
    assert (actor, target) == ("user:admin", "volunteer:v-1") and "Li Ming" not in detail
