"""The password-try throttle's rules, on SQLite and PostgreSQL (issue #20, findings 2 and 3):
a try counts from the moment it is reserved, waits grow with each failure of one name from one
place, a success starts again, and strangers' failures never hold back a browser that signed
in as the name before. (Over HTTP with parallel requests: tests/web/test_sign_in_throttle.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.store.database import Database
from monitor.users.accounts import NewUser, create_user
from monitor.users.browsers import remember_browser
from monitor.users.identity import Role
from monitor.users.passwords import Passwords
from monitor.users.sessions import secret_digest
from monitor.users.throttle import (
    FIRST_WAIT,
    FREE_TRIES,
    LONGEST_WAIT,
    PER_ADDRESS,
    PER_NAME,
    WINDOW,
    Attempt,
    delay_after,
    reserve,
    settle,
)

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
STRANGER = Attempt(name="duty2", address="203.0.113.9")


async def take(database: Database, attempt: Attempt, now: datetime) -> int | timedelta:
    async with database.write() as session:
        return await reserve(session, attempt, now)


async def fail(database: Database, attempt: Attempt, now: datetime) -> None:
    taken = await take(database, attempt, now)
    assert isinstance(taken, int), f"refused at {now}: wait {taken}"


def test_waits_double_after_the_free_tries_up_to_the_longest() -> None:
    assert [delay_after(n) for n in range(FREE_TRIES)] == [timedelta(0)] * FREE_TRIES
    assert [delay_after(FREE_TRIES + n) for n in range(4)] == [FIRST_WAIT * 2**n for n in range(4)]
    assert delay_after(FREE_TRIES + 40) == LONGEST_WAIT


async def test_waits_grow_after_each_failure_and_a_success_starts_again(database_url: str) -> None:
    async with Database(database_url) as database:
        now = T0
        for _ in range(FREE_TRIES):
            await fail(database, STRANGER, now)
        for failures in range(FREE_TRIES, FREE_TRIES + 3):
            assert await take(database, STRANGER, now) == delay_after(failures)
            now += delay_after(failures) - timedelta(seconds=1)
            assert await take(database, STRANGER, now) == timedelta(seconds=1)  # a refusal is not a try
            now += timedelta(seconds=1)
            await fail(database, STRANGER, now)
        assert await take(database, STRANGER, now) == delay_after(FREE_TRIES + 3)
        now += delay_after(FREE_TRIES + 3)
        succeeded = await take(database, STRANGER, now)
        assert isinstance(succeeded, int)
        async with database.write() as session:
            await settle(session, succeeded)
        for _ in range(FREE_TRIES):
            await fail(database, STRANGER, now)


async def test_strangers_cannot_hold_back_a_browser_that_signed_in_before(database_url: str) -> None:
    async with Database(database_url) as database:
        async with database.write() as session:
            user = await create_user(
                session,
                Passwords(),
                NewUser(name="duty2", display_name="Duty 2", role=Role.DUTY, language="en", password="p" * 12),
                T0,
                actor="test",
            )
            secret = await remember_browser(session, user.id, None, T0)
        known = Attempt(name="duty2", address="203.0.113.9", browser=secret_digest(secret))
        forged = Attempt(name="duty2", address="203.0.113.9", browser=secret_digest("made-up"))
        # Strangers from many addresses fill the per-name limit; one address fills its own.
        for number in range(PER_NAME):
            await fail(database, Attempt(name="duty2", address=f"198.51.100.{number}"), T0)
        for number in range(PER_ADDRESS):
            await fail(database, Attempt(name=f"someone{number}", address="192.0.2.1"), T0)
        assert await take(database, Attempt(name="duty2", address="192.0.2.77"), T0) == WINDOW
        assert await take(database, Attempt(name="anyone", address="192.0.2.1"), T0) == WINDOW
        assert await take(database, forged, T0) == WINDOW  # a cookie nobody signed in with is a stranger's
        # The known browser is held back by its own failures alone.
        for _ in range(FREE_TRIES):
            await fail(database, known, T0)
        assert await take(database, known, T0) == FIRST_WAIT
        assert isinstance(await take(database, known, T0 + FIRST_WAIT), int)
        assert await take(
            database, Attempt(name="duty2", address="192.0.2.77"), T0 + WINDOW - timedelta(seconds=1)
        ) == (timedelta(seconds=1))
