"""Password tries (sign-in, and the current password asked for on the account page), limited
in the database so every monitor behind a load balancer agrees.

A try is taken (``reserve``) before the password is checked and counts as a failure until it
is settled as a success, in a transaction that holds the throttle's lock: parallel requests
cannot all get past the count before any of them is counted.

Limits, so that guessing is slow and nobody can lock a colleague out:

- One name from one place (a browser that signed in as that name before, else an address):
  ``FREE_TRIES`` failures, then a wait after each further one that doubles from
  ``FIRST_WAIT`` up to ``LONGEST_WAIT``; a success starts again from nothing.
- Strangers (browsers that never signed in as the name) are also limited per address
  (``PER_ADDRESS`` failures, any names) and per name (``PER_NAME``, from any address) within
  ``WINDOW``. Those limits never hold back a known browser, whatever strangers tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import ConsoleUser, KnownBrowser, SignInAttempt

WINDOW = timedelta(minutes=15)
PER_NAME = 20
PER_ADDRESS = 20
FREE_TRIES = 3
FIRST_WAIT = timedelta(seconds=5)
LONGEST_WAIT = timedelta(minutes=15)
#: failures of one name from one place are forgotten after this, success or not
PLACE_MEMORY = timedelta(days=1)
#: PostgreSQL advisory lock key taken while a try is reserved ("cwsignin")
LOCK_KEY = 0x6377_7369_676E_696E


@dataclass(frozen=True, slots=True)
class Attempt:
    name: str
    address: str
    #: SHA-256 of the browser's known-browser cookie, if it sent one
    browser: str | None = None


def delay_after(failures: int) -> timedelta:
    """The wait after ``failures`` failures in a row of one name from one place."""
    if failures < FREE_TRIES:
        return timedelta(0)
    return min(LONGEST_WAIT, FIRST_WAIT * (1 << min(failures - FREE_TRIES, 20)))


async def reserve(session: AsyncSession, attempt: Attempt, now: datetime) -> int | timedelta:
    """Take a try: its id (``settle`` it once the password is checked), or how long to wait first.

    Commit the transaction before checking the password, so that other requests count this try.
    """
    await _lock(session)
    browser = attempt.browser if await _knows(session, attempt) else None
    wait = await _wait(session, attempt, browser, now)
    if wait is not None:
        return wait
    row = SignInAttempt(at=now, name=attempt.name[:64], address=attempt.address[:64], browser=browser, succeeded=False)
    session.add(row)
    await session.flush()
    return row.id


async def settle(session: AsyncSession, attempt_id: int) -> None:
    """The try with ``attempt_id`` succeeded (left alone, it stays a failure)."""
    row = await session.get(SignInAttempt, attempt_id)
    if row is not None:
        row.succeeded = True


async def _lock(session: AsyncSession) -> None:
    """Serialise reservations. SQLite's writers already are (``BEGIN IMMEDIATE``); PostgreSQL's
    run concurrently, so take a transaction-scoped advisory lock there."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


async def _knows(session: AsyncSession, attempt: Attempt) -> bool:
    if attempt.browser is None:
        return False
    known = await session.scalar(
        select(KnownBrowser.user_id)
        .join(ConsoleUser, ConsoleUser.id == KnownBrowser.user_id)
        .where(KnownBrowser.digest == attempt.browser, ConsoleUser.name == attempt.name)
    )
    return known is not None


async def _wait(session: AsyncSession, attempt: Attempt, browser: str | None, now: datetime) -> timedelta | None:
    place = (
        SignInAttempt.browser == browser
        if browser
        else and_(SignInAttempt.address == attempt.address, SignInAttempt.browser.is_(None))
    )
    wait = await _place_wait(session, and_(SignInAttempt.name == attempt.name, place), now)
    if wait is None and browser is None:
        for where, limit in (
            (SignInAttempt.address == attempt.address, PER_ADDRESS),
            (SignInAttempt.name == attempt.name, PER_NAME),
        ):
            wait = await _window_wait(session, and_(where, SignInAttempt.browser.is_(None)), limit, now)
            if wait is not None:
                break
    return wait


async def _place_wait(session: AsyncSession, where: ColumnElement[bool], now: datetime) -> timedelta | None:
    last_success = await session.scalar(select(func.max(SignInAttempt.at)).where(where, SignInAttempt.succeeded))
    failures = [where, SignInAttempt.succeeded.is_(False), SignInAttempt.at > now - PLACE_MEMORY]
    if last_success is not None:
        failures.append(SignInAttempt.at > last_success)
    count, latest = (await session.execute(select(func.count(), func.max(SignInAttempt.at)).where(*failures))).one()
    if latest is None or count < FREE_TRIES:
        return None
    free_at = latest + delay_after(count)
    return free_at - now if free_at > now else None


async def _window_wait(
    session: AsyncSession, where: ColumnElement[bool], limit: int, now: datetime
) -> timedelta | None:
    """While ``limit`` failures matching ``where`` lie within ``WINDOW``: until the oldest of them leaves it."""
    oldest_counted = await session.scalar(
        select(SignInAttempt.at)
        .where(where, SignInAttempt.succeeded.is_(False), SignInAttempt.at > now - WINDOW)
        .order_by(SignInAttempt.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if oldest_counted is None:
        return None
    return max(timedelta(seconds=1), oldest_counted + WINDOW - now)
