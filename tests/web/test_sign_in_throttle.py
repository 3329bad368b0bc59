"""Password tries over HTTP, against the real server and database (issue #20, findings 2, 3, 7):
parallel requests cannot outrun the limits, a stranger cannot lock a colleague out, and
X-Forwarded-For counts only from `[web] trusted_proxies`."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from sqlalchemy import func, select

from monitor.store.models import SignInAttempt
from monitor.users.throttle import FREE_TRIES, PER_ADDRESS, PER_NAME
from simulator.harness.deployment import set_setting
from tests.support.deployment import Deployment
from tests.web.support import PASSWORD, ConsoleClient, add_user, hidden_value

WRONG = "not the password at all"


async def try_sign_in(client: httpx.AsyncClient, name: str, password: str, *, forwarded_for: str | None = None) -> int:
    """Fill in and send the sign-in form as a browser would (each answer brings a new form)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = hidden_value((await client.get("/login", headers=headers)).text, "sign_in_token")
    answer = await client.post(
        "/login", data={"name": name, "password": password, "sign_in_token": token}, headers=headers
    )
    return answer.status_code


async def all_at_once(base_url: str, tries: list[tuple[str, str]]) -> list[int]:
    """Each (name, password) from its own client with its own form, all sent at the same moment."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=60)) for _ in tries]
        tokens = [hidden_value((await client.get("/login")).text, "sign_in_token") for client in clients]
        answers = await asyncio.gather(
            *(
                client.post("/login", data={"name": name, "password": password, "sign_in_token": token})
                for client, token, (name, password) in zip(clients, tokens, tries, strict=True)
            )
        )
    return [answer.status_code for answer in answers]


async def test_parallel_wrong_passwords_cannot_outrun_the_limit(deployment: Deployment) -> None:
    """30 wrong tries at once for one name, then the right password: before the fix, all 30 were
    checked (the limit counted them after the slow check) and the right one signed in. (The right
    password inside the burst would be a lottery: whichever tries the server takes first are free.)"""
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        answers = await all_at_once(deployment.web_url, [("duty2", WRONG)] * 30)
        [right_after] = await all_at_once(deployment.web_url, [("duty2", PASSWORD)])
        async with monitor.database.read() as session:
            counted = await session.scalar(select(func.count()).select_from(SignInAttempt))
    assert sorted(set(answers)) == [401, 429], answers
    assert answers.count(401) <= FREE_TRIES and counted == answers.count(401), (answers, counted)
    assert right_after == 429


async def test_parallel_tries_from_one_address_stop_at_its_limit(deployment: Deployment) -> None:
    async with deployment.monitor():
        answers = await all_at_once(deployment.web_url, [(f"guess{n}", WRONG) for n in range(PER_ADDRESS + 10)])
    assert answers.count(401) == PER_ADDRESS and answers.count(429) == 10, answers


async def test_a_stranger_cannot_lock_a_colleague_out(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        async with ConsoleClient(deployment.web_url) as duty2, ConsoleClient(deployment.web_url) as stranger:
            assert (await duty2.sign_in("duty2")).status_code == 303
            assert (await duty2.post("/logout")).status_code == 303
            tries = [(await stranger.sign_in("duty2", WRONG)).status_code for _ in range(FREE_TRIES + 5)]
            assert tries == [401] * FREE_TRIES + [429] * 5
            right_but_held = await stranger.sign_in("duty2", PASSWORD)
            assert right_but_held.status_code == 429 and right_but_held.headers["retry-after"].isdigit()
            # The browser duty2 signed in from before gets through at once, from the same address.
            assert (await duty2.sign_in("duty2")).status_code == 303
            assert (await duty2.http.get("/")).status_code == 200


async def test_x_forwarded_for_is_believed_only_from_trusted_proxies(deployment: Deployment) -> None:
    """Untrusted: the header cannot spread one client's tries over made-up addresses."""
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        async with httpx.AsyncClient(base_url=deployment.web_url) as client:
            answers = [
                await try_sign_in(client, "duty2", WRONG, forwarded_for=f"198.51.100.{number}")
                for number in range(FREE_TRIES + 1)
            ]
            held = await try_sign_in(client, "duty2", PASSWORD, forwarded_for="192.0.2.200")
        async with monitor.database.read() as session:
            addresses = set((await session.scalars(select(SignInAttempt.address))).all())
    assert answers == [401] * FREE_TRIES + [429] and held == 429
    assert addresses == {"127.0.0.1"}


async def test_behind_a_trusted_proxy_a_distributed_guess_holds_back_strangers_only(deployment: Deployment) -> None:
    set_setting(deployment, "web", "trusted_proxies", '["127.0.0.1"]')
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        async with ConsoleClient(deployment.web_url) as duty2, httpx.AsyncClient(base_url=deployment.web_url) as bots:
            assert (await duty2.sign_in("duty2")).status_code == 303
            assert (await duty2.post("/logout")).status_code == 303
            spread = [
                await try_sign_in(bots, "duty2", WRONG, forwarded_for=f"198.51.100.{number}, 127.0.0.1")
                for number in range(PER_NAME)
            ]
            assert spread == [401] * PER_NAME  # each address its own, as the proxy said
            new_browser = await try_sign_in(bots, "duty2", PASSWORD, forwarded_for="192.0.2.7")
            assert new_browser == 429  # a name under a spread attack: strangers wait
            assert (await duty2.sign_in("duty2")).status_code == 303  # its known browser does not
        async with monitor.database.read() as session:
            addresses = set((await session.scalars(select(SignInAttempt.address))).all())
    assert addresses >= {f"198.51.100.{number}" for number in range(PER_NAME)} and "127.0.0.1" in addresses


async def test_the_current_password_on_the_account_page_cannot_be_guessed(deployment: Deployment) -> None:
    """A stolen session guessing the current password (finding 7), in parallel too."""
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty2")
        async with ConsoleClient(deployment.web_url) as thief:
            await thief.sign_in("duty2")
            answers = await asyncio.gather(
                *(
                    thief.post("/account/password", {"current": WRONG, "password": "a brand new password"})
                    for _ in range(12)
                )
            )
            codes = [answer.status_code for answer in answers]
            right_after = await thief.post(
                "/account/password", {"current": PASSWORD, "password": "a brand new password"}
            )
            still_signed_in = (await thief.http.get("/account")).status_code
    assert codes.count(400) <= FREE_TRIES and set(codes) == {400, 429}, codes
    assert right_after.status_code == 429
    assert still_signed_in == 200  # the password did not change (a change signs everyone out)
