"""The JSON API with per-user tokens (and the shared token kept for old scripts), and the
`callwatch user` and `callwatch report` commands."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.support.deployment import Deployment
from tests.web.support import callwatch

LEGACY = {"Authorization": "Bearer test-api-token-0123456789"}


async def test_tokens_from_the_command_line_act_as_their_user(deployment: Deployment) -> None:
    config = str(deployment.config_path)
    added = callwatch(
        "user",
        "add",
        "bob",
        "--role",
        "admin",
        "--display-name",
        "Bob Li",
        "--password-stdin",
        "--config",
        config,
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    short = callwatch("user", "add", "eve", "--password-stdin", "--config", config, stdin="short\n")
    assert short.returncode == 1 and "password: must be at least 10 characters long" in short.stderr
    issued = callwatch("user", "token", "bob", "--label", "wallboard", "--config", config)
    assert issued.returncode == 0, issued.stderr
    bob = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    async with deployment.monitor(), httpx.AsyncClient(base_url=deployment.web_url) as client:
        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(2)
        assert (await client.get("/api/me", headers=bob)).json()["actor"] == "user:bob"
        assert (await client.get("/api/me", headers={"Authorization": "Bearer cw_forged"})).status_code == 401
        board = (await client.get("/api/board", headers=bob)).json()
        assert [row["resident"]["name"] for row in board["active"]] == ["Margaret Chen"]
        garbled = await client.post("/api/alerts/1/ack", headers=bob, content=b"{volunteer_id: v-2")
        assert garbled.status_code == 400 and garbled.json() == {"error": "body must be a JSON object"}
        listed = await client.put("/api/directory/volunteers/v-9", headers=bob, json=["not", "an", "object"])
        assert listed.status_code == 400 and listed.json() == {"error": "body must be a JSON object"}
        taken = await client.post("/api/alerts/1/ack", headers=bob, json={"volunteer_id": "v-2"})
        assert taken.status_code == 200 and taken.json()["alert"]["acknowledged_by"] == "v-2"
        again = await client.post("/api/alerts/1/ack", headers=bob, json={})
        assert again.status_code == 409
        resolved = await client.post("/api/alerts/1/resolve", headers=LEGACY, json={"outcome": "false_alarm"})
        assert resolved.json()["alert"]["state"] == "resolved"
        detail = (await client.get("/api/alerts/1", headers=bob)).json()
        legacy_list = (await client.get("/api/alerts", headers=LEGACY)).json()
        put = await client.put(
            "/api/directory/volunteers/v-new",
            headers=bob,
            json={"name": "New Helper", "phone": "+8613900000055", "areas": ["a-1", "nowhere"]},
        )
        users = (await client.get("/api/users", headers=bob)).json()["users"]
        spec = (await client.get("/api/openapi.json")).json()
    taken_entry = next(entry for entry in detail["timeline"] if entry["kind"] == "acknowledged")
    assert (
        taken_entry["who"] == "Bob Li"
        and "Zhang Wei took it (recorded at the console by Bob Li)" in taken_entry["text"]
    )
    resolved_entry = next(entry for entry in detail["timeline"] if entry["kind"] == "resolved")
    assert resolved_entry["who"] == "api"
    assert [alert["state"] for alert in legacy_list["alerts"]] == ["resolved"]
    assert put.status_code == 400 and put.json()["problems"] == {
        "areas": ['area "nowhere" does not exist; add it or fix the id']
    }
    assert [user["name"] for user in users] == ["bob"]
    assert {"/api/alerts/{alert_id}/ack", "/api/board", "/api/reports", "/api/directory/{section}"} <= set(
        spec["paths"]
    )


async def test_report_from_the_command_line(deployment: Deployment) -> None:
    async with deployment.monitor():
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        assert await deployment.sandbox.phone("+8613900000001").reply("ACK") == 200
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "acknowledged")
    today = deployment.today()
    base = ["report", "--config", str(deployment.config_path), "--from", today, "--to", today]
    as_json = await asyncio.to_thread(callwatch, *base, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["alerts"] == 1 and report["by_kind"] == {"sos": 1}
    assert report["acknowledged_within_60s"]["within"] == 1 and report["acknowledged_within_60s"]["of"] == 1
    assert report["volunteers"][0]["id"] in ("v-1", "v-2")
    as_csv = await asyncio.to_thread(callwatch, *base, "--format", "csv", "--area", "a-1")
    assert "by_kind,sos,1" in as_csv.stdout
    png = deployment.folder / "report.png"
    as_png = await asyncio.to_thread(callwatch, *base, "--format", "png", "--output", str(png))
    assert as_png.returncode == 0 and png.read_bytes().startswith(b"\x89PNG")
    wrong = await asyncio.to_thread(callwatch, *base[:-2], "--from", "yesterday", "--to", today)
    assert wrong.returncode == 1 and "is not a date" in wrong.stderr
