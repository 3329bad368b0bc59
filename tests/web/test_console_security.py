"""The console refuses what it must: no session, a wrong CSRF token, too many wrong passwords,
markup in names; and it sends its cookies and headers as a browser needs them."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import func, select

from monitor.store.models import AlertEvent, ConsoleAudit
from monitor.users.identity import Role
from monitor.users.throttle import FREE_TRIES
from monitor.web.app import routes
from tests.support.deployment import Deployment
from tests.web.support import PASSWORD, ConsoleClient, add_user

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Protected otherwise: Twilio's signature, Alibaba Cloud's pushes' secret path token, the sign-in
#: form's own token, and the responder page's unguessable link with its own CSRF token
#: (tests/system/browser/test_responder_browser.py).
EXEMPT = {
    "/twilio/sms",
    "/twilio/status",
    "/aliyun/sms-up/{token}",
    "/aliyun/sms-report/{token}",
    "/login",
    "/r/{token}",
}
PATH_VALUES = {"alert_id": "1", "section": "residents", "entry_id": "r-1", "name": "alice", "token_id": "1"}


def state_changing_requests() -> list[tuple[str, str]]:
    """Every (method, path) of the app that can change something, read from its route table."""
    found = []
    for route in routes():
        methods = getattr(route, "methods", None) or set()
        path = getattr(route, "path", "")
        for method in sorted(methods & UNSAFE):
            if path not in EXEMPT:
                found.append((method, re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PATH_VALUES[m.group(1)], path)))
    return found


async def test_every_state_changing_request_needs_a_session_and_its_csrf_token(deployment: Deployment) -> None:
    requests = state_changing_requests()
    assert len(requests) >= 20, requests
    async with deployment.monitor() as monitor:
        await add_user(monitor, "alice", role=Role.ADMIN)
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        async with (
            httpx.AsyncClient(base_url=deployment.web_url) as anonymous,
            ConsoleClient(deployment.web_url) as signed_in,
        ):
            assert (await signed_in.sign_in("alice")).status_code == 303
            for method, path in requests:
                form = {"csrf_token": "wrong", "outcome": "other", "note": "x", "password": "p" * 12, "role": "duty"}
                nobody = await anonymous.request(method, path, data=form)
                assert nobody.status_code in (401, 403), (method, path, nobody.status_code)
                forged = await signed_in.http.request(method, path, data=form)
                assert forged.status_code == 403, (method, path, forged.status_code)
                no_token = await signed_in.http.request(method, path, data={"note": "x"})
                assert no_token.status_code == 403, (method, path, no_token.status_code)
                header = await signed_in.http.request(method, path, json={}, headers={"X-CSRF-Token": "wrong"})
                assert header.status_code == 403, (method, path, header.status_code)
        async with monitor.database.read() as session:
            by_users = select(func.count()).select_from(AlertEvent).where(AlertEvent.actor.like("user:%"))
            assert await session.scalar(by_users) == 0
            refused = select(func.count()).select_from(ConsoleAudit).where(ConsoleAudit.actor != "test")
            assert await session.scalar(refused) == 0  # only the test's own account creation is on record
        [alert] = await asyncio.to_thread(deployment.alerts)
        assert alert["state"] == "open"


async def test_the_csrf_token_in_a_header_works_for_fetch(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "alice")
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2)
        async with ConsoleClient(deployment.web_url) as client:
            await client.sign_in("alice")
            answer = await client.http.post(
                "/api/alerts/1/notes", json={"text": "called the son"}, headers={"X-CSRF-Token": client.csrf}
            )
            assert answer.status_code == 200, answer.text
            detail = (await client.http.get("/api/alerts/1")).json()
    [note] = [entry for entry in detail["timeline"] if entry["kind"] == "note"]
    assert note["text"] == "called the son" and note["who"] == "Alice"


async def test_sign_in_is_rate_limited_and_recorded(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "alice")
        async with ConsoleClient(deployment.web_url) as client:
            for _ in range(FREE_TRIES):
                assert (await client.sign_in("alice", "not the password")).status_code == 401
            limited = await client.sign_in("alice", PASSWORD)
            assert limited.status_code == 429
            assert re.search(r"Too many failed sign-ins. Try again in [1-5] s", limited.text)
            assert "callwatch_session" not in client.http.cookies
            assert (await client.http.get("/")).status_code == 303


async def test_cookies_headers_and_markup_in_names(deployment: Deployment) -> None:
    deployment.write_files(
        directory_extra="""
[[residents]]
id = "r-x"
name = "<script>alert(1)</script>"
area = "a-1"

[[devices]]
id = "btn-x"
resident = "r-x"
"""
    )
    async with deployment.monitor() as monitor:
        await add_user(monitor, "alice")
        await deployment.press("btn-x")
        await deployment.sandbox.wait_for_messages(2)
        async with ConsoleClient(deployment.web_url) as client:
            signed = await client.sign_in("alice")
            board = await client.http.get("/")
            detail = await client.http.get("/alerts/1")
            anonymous_board = await httpx.AsyncClient(base_url=deployment.web_url).get("/")
    cookie = signed.headers["set-cookie"]
    assert "callwatch_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # public_url is http here; https adds Secure and the __Host- prefix
    for page in (board, detail):
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
    assert anonymous_board.status_code == 303 and anonymous_board.headers["location"] == "/login?next=/"
