"""Sign-in rate limits, counted in the database so every monitor behind a load balancer agrees.

A name with ``PER_NAME`` failures, or an address with ``PER_ADDRESS`` failures, within
``WINDOW`` is refused until the oldest of them leaves the window, right password or not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import SignInAttempt

WINDOW = timedelta(minutes=15)
PER_NAME = 5
PER_ADDRESS = 20


async def wait_before_trying(session: AsyncSession, name: str, address: str, now: datetime) -> timedelta | None:
    """How long ``name`` from ``address`` must wait before another try, or None to go ahead."""
    since = now - WINDOW
    for column, value, limit in ((SignInAttempt.name, name, PER_NAME), (SignInAttempt.address, address, PER_ADDRESS)):
        failures = select(SignInAttempt.at).where(
            column == value, SignInAttempt.at > since, SignInAttempt.succeeded.is_(False)
        )
        count = await session.scalar(select(func.count()).select_from(failures.subquery()))
        if count is not None and count >= limit:
            oldest = await session.scalar(
                select(SignInAttempt.at)
                .where(column == value, SignInAttempt.at > since, SignInAttempt.succeeded.is_(False))
                .order_by(SignInAttempt.at.desc())
                .offset(limit - 1)
                .limit(1)
            )
            if oldest is not None:
                return max(timedelta(seconds=1), oldest + WINDOW - now)
    return None


def record_attempt(session: AsyncSession, name: str, address: str, now: datetime, *, succeeded: bool) -> None:
    session.add(SignInAttempt(at=now, name=name[:64], address=address[:64], succeeded=succeeded))
