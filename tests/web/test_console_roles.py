"""Roles: a viewer sees what duty staff see and changes nothing, through the console and the API."""

from __future__ import annotations

import httpx

from monitor.users.identity import Role
from tests.support.deployment import Deployment
from tests.web.support import PASSWORD, ConsoleClient, add_user, cli_user
from tests.web.test_console_security import state_changing_requests

#: what a viewer may still do: sign out, and look after their own password and tokens
OWN_ACCOUNT = ("/logout", "/account")


async def test_a_viewer_sees_everything_and_changes_nothing(deployment: Deployment) -> None:
    bearer = cli_user(deployment, "vera", "viewer")
    requests = [(method, path) for method, path in state_changing_requests() if not path.startswith(OWN_ACCOUNT)]
    async with deployment.monitor() as monitor:
        await add_user(monitor, "alice", role=Role.ADMIN)
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        async with ConsoleClient(deployment.web_url) as vera, httpx.AsyncClient(base_url=deployment.web_url) as api:
            assert (await vera.sign_in("vera", PASSWORD)).status_code == 303
            board = await vera.http.get("/board/rows")
            page = await vera.http.get("/alerts/1")
            audit = await vera.http.get("/audit")
            residents = await vera.http.get("/directory/residents")
            refused = {}
            for method, path in requests:
                form = {"outcome": "other", "note": "x", "password": "p" * 12, "role": "duty", "name": "x"}
                answer = await vera.http.request(method, path, data={"csrf_token": vera.csrf, **form})
                refused[(method, path)] = answer.status_code
            api_refused = {
                path: (await api.post(f"/api/alerts/1/{path}", headers=bearer, json={"outcome": "other"})).status_code
                for path in ("ack", "escalate", "notes", "resolve")
            }
            api_put = await api.put(
                "/api/directory/volunteers/v-x", headers=bearer, json={"name": "X", "phone": "+8613900000077"}
            )
            api_board = await api.get("/api/board", headers=bearer)
            own_token = await vera.post("/account/tokens", {"label": "wallboard", "token_current": PASSWORD})
            signed_out = await vera.post("/logout")
    assert board.status_code == 200 and "王秀英" in board.text
    assert page.status_code == 200 and "王秀英" in page.text
    assert 'id="acknowledge"' not in page.text and 'id="resolve"' not in page.text
    assert "can look but not change anything" in page.text
    assert audit.status_code == 200 and residents.status_code == 200
    assert 'href="/directory/residents/r-1/edit"' not in residents.text
    assert set(refused.values()) == {403}, {request: code for request, code in refused.items() if code != 403}
    assert set(api_refused.values()) == {403} and api_put.status_code == 403
    assert api_board.status_code == 200 and len(api_board.json()["active"]) == 1
    assert api_board.json()["active"][0]["state"] == "open"
    assert own_token.status_code in (200, 303) and signed_out.status_code == 303
    assert [alert["state"] for alert in deployment.alerts()] == ["open"]
