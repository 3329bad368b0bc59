"""API tokens end with the password that made them (issue #20, finding 4): a change on the
account page, an admin's reset and `callwatch user passwd` each revoke every token of the
person; and a token is made only for someone who types the current password."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select

from monitor.store.models import ApiToken
from monitor.users.identity import Role
from tests.support.deployment import Deployment
from tests.web.support import PASSWORD, ConsoleClient, add_user, callwatch

NEW_PASSWORD = "a brand new password"


async def make_token(client: ConsoleClient, current: str) -> httpx.Response:
    return await client.post("/account/tokens", {"label": "wallboard", "token_current": current})


def token_of(page: httpx.Response) -> str:
    found = re.search(r'id="new-token">(cw_[^<]+)<', page.text)
    assert found, "no new token on the page"
    return found.group(1)


async def me(base_url: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=base_url) as script:
        return (await script.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_a_token_needs_the_current_password(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        async with ConsoleClient(deployment.web_url) as duty2:
            await duty2.sign_in("duty2")
            missing = await make_token(duty2, "")
            wrong = await make_token(duty2, "not the password")
            made = await make_token(duty2, PASSWORD)
        async with monitor.database.read() as session:
            tokens = (await session.scalars(select(ApiToken))).all()
        assert await me(deployment.web_url, token_of(made)) == 200
    assert missing.status_code == wrong.status_code == 400
    assert "this is not your current password" in wrong.text and "new-token" not in wrong.text
    assert made.status_code == 200 and len(tokens) == 1


async def test_a_password_change_or_reset_revokes_the_persons_tokens(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        await add_user(monitor, "boss", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as duty2, ConsoleClient(deployment.web_url) as boss:
            await duty2.sign_in("duty2")
            await boss.sign_in("boss")
            first = token_of(await make_token(duty2, PASSWORD))
            boss_token = token_of(await make_token(boss, PASSWORD))
            changed = await duty2.post("/account/password", {"current": PASSWORD, "password": NEW_PASSWORD})
            assert changed.status_code == 303
            assert await me(deployment.web_url, first) == 401  # "signed out everywhere" holds for scripts too

            await duty2.sign_in("duty2", NEW_PASSWORD)
            second = token_of(await make_token(duty2, NEW_PASSWORD))
            assert await me(deployment.web_url, second) == 200
            reset = await boss.post("/users/duty2/password", {"password": "set by the admin 1"})
            assert reset.status_code == 303
            assert await me(deployment.web_url, second) == 401
            assert await me(deployment.web_url, boss_token) == 200  # nobody else's


async def test_a_password_set_from_the_command_line_revokes_the_tokens_too(deployment: Deployment) -> None:
    config = ["--config", str(deployment.config_path)]
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        issued = await asyncio.to_thread(callwatch, "user", "token", "duty2", *config)
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()
        assert await me(deployment.web_url, token) == 200
        reset = await asyncio.to_thread(
            callwatch, "user", "passwd", "duty2", "--password-stdin", *config, stdin=NEW_PASSWORD + "\n"
        )
        assert reset.returncode == 0, reset.stderr
        assert await me(deployment.web_url, token) == 401
    assert "API tokens were revoked" in reset.stdout
