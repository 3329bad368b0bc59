"""Checking a password someone typed, throttled: at sign-in, and wherever the console asks a
signed-in user for their current password again (changing it, making an API token).

The try is reserved in the database before the (deliberately slow) argon2 check and settled
after it (``monitor.users.throttle``). The address is the connection's, or the client's as
told by a proxy listed in ``[web] trusted_proxies`` (uvicorn reads X-Forwarded-For from those
alone; ``monitor.web.server``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from starlette.requests import Request

from monitor.users.passwords import Verdict
from monitor.users.sessions import secret_digest
from monitor.users.throttle import Attempt, reserve, settle
from monitor.web.services import context_of, services_of


class TooManyTries(Exception):
    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait

    @property
    def seconds(self) -> int:
        return max(1, round(self.wait.total_seconds()))


def attempt_of(request: Request, name: str) -> Attempt:
    """Who is trying: the name, the client's address and the browser's known-browser cookie."""
    address = request.client.host if request.client else "unknown"
    cookie = request.cookies.get(services_of(request).cookies.known_browser)
    return Attempt(name=name, address=address, browser=secret_digest(cookie))


async def check_password(request: Request, attempt: Attempt, stored_hash: str | None, password: str) -> Verdict:
    """Whether ``password`` matches ``stored_hash`` (None: no such user; never matches); the try is
    counted. ``TooManyTries`` when this name may not be tried from here yet."""
    context = context_of(request)
    now = context.clock.now()
    async with context.database.write() as session:
        reserved = await reserve(session, attempt, now)
    if isinstance(reserved, timedelta):
        raise TooManyTries(reserved)
    verdict = await asyncio.to_thread(services_of(request).passwords.verify, stored_hash, password)
    if verdict.ok:
        async with context.database.write() as session:
            await settle(session, reserved)
    return verdict
