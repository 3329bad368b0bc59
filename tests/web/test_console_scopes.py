"""Scopes: staff of one organisation see and act on their own organisation's alerts, people,
reports, audit entries and accounts, and nothing of another's, whichever way they ask (pages,
the API with their token, the live stream, a guessed URL: 404); service-wide staff see both."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time

import httpx
import pytest

from monitor.runtime.service import Monitor
from monitor.users.accounts import find_user, set_scope
from monitor.users.identity import Role
from monitor.users.tokens import issue_token
from monitor.web.pages import board_stream
from tests.support.deployment import Deployment
from tests.web.support import EAST_RESIDENT, OFFICES, PASSWORD, WEST_RESIDENT, ConsoleClient, add_user, cli_user


async def _in_process_user(monitor: Monitor, name: str, role: Role, organisation: str | None) -> dict[str, str]:
    """Add an account (in the monitor's database, faster than the command) and make it an API token."""
    await add_user(monitor, name, role=role, organisation=organisation)
    async with monitor.database.write() as session:
        user = await find_user(session, name)
        assert user is not None
        _, token = await issue_token(session, user, "test", monitor.clock.now())
    return {"Authorization": f"Bearer {token}"}


async def _alert_of(api: httpx.AsyncClient, bearer: dict[str, str], resident: str) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        board = (await api.get("/api/board", headers=bearer)).json()
        found = [row["id"] for row in board["active"] if row["resident"]["name"] == resident]
        if found:
            return int(found[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no alert of {resident} on the board")


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def test_staff_of_one_organisation_see_and_act_on_nothing_of_another(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=OFFICES)
    async with (
        deployment.monitor() as monitor,
        httpx.AsyncClient(base_url=deployment.web_url, timeout=10) as api,
        ConsoleClient(deployment.web_url) as east_browser,
    ):
        # by the command, as an office's first account is made (the monitor imported the offices as it started)
        east_duty = await asyncio.to_thread(cli_user, deployment, "east-duty", "duty", "--organisation", "so-east")
        west_admin = await _in_process_user(monitor, "west-admin", Role.ADMIN, "so-west")
        root = await _in_process_user(monitor, "root", Role.ADMIN, None)
        await _in_process_user(monitor, "east-viewer", Role.VIEWER, "so-east")
        await deployment.press("btn-east")
        await deployment.press("btn-west")
        east_id = await _alert_of(api, root, EAST_RESIDENT)
        west_id = await _alert_of(api, root, WEST_RESIDENT)
        assert (await east_browser.sign_in("east-duty")).status_code == 303

        east_board = (await api.get("/api/board", headers=east_duty)).json()
        west_board = (await api.get("/api/board", headers=west_admin)).json()
        root_board = (await api.get("/api/board", headers=root)).json()
        east_rows = (await east_browser.http.get("/board/rows")).text
        east_list = (await api.get("/api/alerts", headers=east_duty)).json()["alerts"]
        guessed = {
            "page": (await east_browser.http.get(f"/alerts/{west_id}")).status_code,
            "api": (await api.get(f"/api/alerts/{west_id}", headers=east_duty)).status_code,
            "ack form": (await east_browser.post(f"/alerts/{west_id}/ack")).status_code,
            "ack api": (await api.post(f"/api/alerts/{west_id}/ack", headers=east_duty, json={})).status_code,
            "resolve api": (
                await api.post(f"/api/alerts/{west_id}/resolve", headers=east_duty, json={"outcome": "other"})
            ).status_code,
            "camera api": (await api.post(f"/api/alerts/{west_id}/camera", headers=east_duty)).status_code,
            "resident": (await api.get("/api/directory/residents/r-west", headers=east_duty)).status_code,
            "device": (await api.get("/api/directory/devices/btn-west", headers=east_duty)).status_code,
            "area report": (await api.get("/api/reports?area=west", headers=east_duty)).status_code,
            "organisation report": (await api.get("/api/reports?organisation=so-west", headers=east_duty)).status_code,
            "west edits east": (
                await api.put("/api/directory/residents/r-east", headers=west_admin, json={"name": "X", "area": "east"})
            ).status_code,
            "west retires east": (await api.delete("/api/directory/volunteers/v-east", headers=west_admin)).status_code,
            "west account page": (await api.get("/api/users", headers=west_admin)).status_code,
        }
        to_west = await api.post(f"/api/alerts/{east_id}/reassign", headers=east_duty, json={"volunteer_id": "v-west"})
        own_page = await east_browser.http.get(f"/alerts/{east_id}")
        taken = await api.post(f"/api/alerts/{east_id}/ack", headers=east_duty, json={})

        east_residents = (await api.get("/api/directory/residents", headers=east_duty)).json()["residents"]
        east_volunteers = (await api.get("/api/directory/volunteers", headers=east_duty)).json()["volunteers"]
        east_export = _csv_rows((await east_browser.http.get("/directory/residents/export.csv")).text)
        east_report = (await api.get("/api/reports", headers=east_duty)).json()
        east_csv = _csv_rows((await east_browser.http.get("/reports/report.csv")).text)
        whole = (await api.get("/api/reports", headers=root)).json()
        west_only = (await api.get("/api/reports?organisation=so-west", headers=root)).json()
        moved = await api.put(
            "/api/directory/residents/r-west-2",
            headers=west_admin,
            json={"name": "Sneaky", "area": "east", "language": "en"},
        )
        west_saves_own = await api.put(
            "/api/directory/residents/r-west",
            headers=west_admin,
            json={"name": WEST_RESIDENT, "area": "west", "address": "10 West Garden", "language": "en"},
        )
        # Bo Both serves a west area too, so the west office sees him; the east office manages him.
        west_sees_bo = await api.get("/api/directory/volunteers/v-both", headers=west_admin)
        west_retires_bo = await api.delete("/api/directory/volunteers/v-both", headers=west_admin)
        west_edits_bo = await api.put(
            "/api/directory/volunteers/v-both",
            headers=west_admin,
            json={"name": "Bo Both", "phone": "+8613900000303", "areas": ["west"]},
        )
        west_takes_policy = await api.put(
            "/api/directory/policies/default",
            headers=west_admin,
            json={"tiers": [{"notify": ["area"], "ack_timeout_s": 30}], "organisation": "so-west"},
        )
        west_users = (await api.get("/api/users", headers=west_admin)).json()["users"]
        wider = await api.post(
            "/api/users",
            headers=west_admin,
            json={"name": "sneak", "display_name": "Sneak", "role": "admin", "password": PASSWORD},
        )
        grab = await api.post(
            "/api/users",
            headers=west_admin,
            json={
                "name": "grab",
                "display_name": "Grab",
                "role": "duty",
                "password": PASSWORD,
                "organisation": "so-east",
            },
        )
        west_audit = await _audit_page(deployment, "west-admin")
        root_audit = await _audit_page(deployment, "root")
        east_audit = await _audit_page(deployment, "east-viewer")

    assert [row["resident"]["name"] for row in east_board["active"]] == [EAST_RESIDENT]
    assert [row["resident"]["name"] for row in west_board["active"]] == [WEST_RESIDENT]
    assert {row["resident"]["name"] for row in root_board["active"]} == {EAST_RESIDENT, WEST_RESIDENT}
    assert EAST_RESIDENT in east_rows and WEST_RESIDENT not in east_rows
    assert [alert["id"] for alert in east_list] == [east_id]
    assert {name: code for name, code in guessed.items() if code != 404} == {"west account page": 200}
    assert to_west.status_code == 409 and to_west.json()["error"] == "there is no volunteer 'v-west'"
    assert own_page.status_code == 200 and taken.status_code == 200
    assert [resident["id"] for resident in east_residents] == ["r-east"]
    assert {volunteer["id"] for volunteer in east_volunteers} == {"v-east", "v-both", "desk-e"}
    assert [row[0] for row in east_export[1:]] == ["r-east"]
    assert east_report["alerts"] == 1 and east_report["organisation"] == "so-east"
    assert ["alerts", "total", "1"] in east_csv and ["period", "organisation", "so-east"] in east_csv
    assert whole["alerts"] == 2 and whole["organisation"] is None
    assert west_only["alerts"] == 1 and west_only["organisation"] == "so-west"
    assert moved.status_code == 400 and "you manage only" in json.dumps(moved.json())
    assert west_saves_own.status_code == 200
    assert west_sees_bo.status_code == 200 and west_retires_bo.status_code == 403
    assert west_edits_bo.status_code == 400 and "you manage only" in json.dumps(west_edits_bo.json())
    assert west_takes_policy.status_code == 400 and "you manage only" in json.dumps(west_takes_policy.json())
    assert [user["name"] for user in west_users] == ["west-admin"]
    assert wider.status_code == 201  # an empty scope is the creator's own: the west office
    assert grab.status_code == 400 and grab.json()["field"] == "scope"
    assert "residents:r-west" in west_audit and "residents:r-west" in root_audit
    assert "residents:r-west" not in east_audit and "user:west-admin" not in east_audit
    assert [alert["state"] for alert in deployment.alerts() if alert["id"] == west_id] == ["open"]


async def _audit_page(deployment: Deployment, name: str) -> str:
    async with ConsoleClient(deployment.web_url) as browser:
        assert (await browser.sign_in(name)).status_code == 303
        page = await browser.http.get("/audit")
    assert page.status_code == 200, name
    return page.text


async def test_the_live_stream_tells_a_console_only_of_its_own_organisations_alerts(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=OFFICES)
    async with deployment.monitor() as monitor:
        await add_user(monitor, "east-duty", organisation="so-east")
        async with ConsoleClient(deployment.web_url) as east:
            assert (await east.sign_in("east-duty")).status_code == 303
            async with east.http.stream("GET", "/events", timeout=20) as stream:
                lines = stream.aiter_lines()
                assert "event: hello" in [await anext(lines) for _ in range(2)]
                await deployment.press("btn-west")
                await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
                await deployment.press("btn-east")
                changed = await _next_changed(lines)
        alerts = {alert["id"]: alert["resident_id"] for alert in deployment.alerts()}
    assert [alerts[alert_id] for alert_id in changed] == ["r-east"]


async def _next_changed(lines: object) -> list[int]:
    """The alert ids of the stream's next "changed" event."""
    assert hasattr(lines, "__anext__")
    async with asyncio.timeout(15):
        while True:
            line = await anext(lines)  # type: ignore[call-overload]
            if line == "event: changed":
                data = await anext(lines)  # type: ignore[call-overload]
                return [int(alert_id) for alert_id in json.loads(data.removeprefix("data: "))]


async def test_staff_of_a_list_of_areas_see_those_areas_and_give_no_wider_scope(deployment: Deployment) -> None:
    deployment.write_files(directory_extra=OFFICES)
    async with deployment.monitor() as monitor, httpx.AsyncClient(base_url=deployment.web_url, timeout=10) as api:
        patch = await _in_process_user(monitor, "patch-admin", Role.ADMIN, None)
        async with monitor.database.write() as session:
            user = await find_user(session, "patch-admin")
            assert user is not None
            await set_scope(session, user, None, ["west", "a-1"])
        root = await _in_process_user(monitor, "root", Role.ADMIN, None)
        await deployment.press("btn-west")
        await deployment.press("btn-east")
        await deployment.press("btn-1")
        await _alert_of(api, root, EAST_RESIDENT)
        await _alert_of(api, root, "王秀英")
        board = (await api.get("/api/board", headers=patch)).json()
        report = (await api.get("/api/reports", headers=patch)).json()
        areas = (await api.get("/api/directory/areas", headers=patch)).json()["areas"]
        me = (await api.get("/api/me", headers=patch)).json()
        narrower = await api.post(
            "/api/users",
            headers=patch,
            json={"name": "one-area", "display_name": "One", "role": "duty", "password": PASSWORD, "areas": ["west"]},
        )
        wider = await api.post(
            "/api/users",
            headers=patch,
            json={"name": "two-area", "display_name": "Two", "role": "duty", "password": PASSWORD, "areas": ["east"]},
        )
        new_area = await api.put("/api/directory/areas/south", headers=patch, json={"name": "South"})
        users = [user["name"] for user in (await api.get("/api/users", headers=patch)).json()["users"]]
    assert {row["resident"]["name"] for row in board["active"]} == {WEST_RESIDENT, "王秀英"}
    assert report["alerts"] == 2 and report["area"] is None and report["organisation"] is None
    assert sorted(area["id"] for area in areas) == ["a-1", "west"]
    assert me["scope"] == {"organisation": None, "areas": ["a-1", "west"]}
    assert narrower.status_code == 201
    assert wider.status_code == 400 and wider.json()["field"] == "scope"
    assert new_area.status_code == 400
    assert sorted(users) == ["one-area", "patch-admin"]


async def test_a_changed_scope_ends_the_live_stream(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_stream, "HEARTBEAT_S", 0.2)
    deployment.write_files(directory_extra=OFFICES)
    async with deployment.monitor() as monitor, ConsoleClient(deployment.web_url) as east:
        await add_user(monitor, "east-duty", organisation="so-east")
        assert (await east.sign_in("east-duty")).status_code == 303
        async with east.http.stream("GET", "/events", timeout=20) as stream:
            lines = stream.aiter_lines()
            assert "event: hello" in [await anext(lines) for _ in range(2)]
            async with monitor.database.write() as session:
                user = await find_user(session, "east-duty")
                assert user is not None
                await set_scope(session, user, "so-west", None)
            async with asyncio.timeout(10):
                while (line := await anext(lines)) != "event: signed-out":
                    assert line.startswith((":", "data:", "retry:")) or not line, line
