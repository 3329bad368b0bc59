"""Server-side console sessions.

The cookie carries a random secret; the database keeps only its SHA-256, the user and the
session's CSRF token. A session ends after ``IDLE`` without use, after ``LONGEST`` in any
case, at sign-out, on a password change and when the account is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import ConsoleSession, ConsoleUser

#: A shift and its handover: a console left alone longer than this signs in again.
IDLE = timedelta(hours=13)
#: However busy, a session is renewed by signing in again after a week.
LONGEST = timedelta(days=7)
#: Last-use times are written at most this often (a busy board must not write on every request).
TOUCH_EVERY = timedelta(minutes=5)


#: A cookie or link secret longer than this was not made here.
LONGEST_SECRET = 128


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_digest(secret: str | None) -> str | None:
    """The digest a secret from a cookie or a link is stored by, or None for none or a malformed one."""
    if not secret or len(secret) > LONGEST_SECRET:
        return None
    return digest(secret)


@dataclass(frozen=True, slots=True)
class StartedSession:
    secret: str  # goes into the cookie, nowhere else
    csrf_token: str


async def start_session(session: AsyncSession, user: ConsoleUser, now: datetime) -> StartedSession:
    secret = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            id=digest(secret),
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + IDLE,
        )
    )
    user.last_sign_in_at = now
    # Sessions long expired are of no use to anyone: clear them out while we are here.
    await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now - LONGEST))
    return StartedSession(secret=secret, csrf_token=csrf_token)


async def load_session(session: AsyncSession, secret: str, now: datetime) -> tuple[ConsoleSession, ConsoleUser] | None:
    """The live session for a cookie secret and its (active) user, or None."""
    key = secret_digest(secret)
    if key is None:
        return None
    row = await session.get(ConsoleSession, key)
    if row is None or row.expires_at <= now:
        return None
    user = await session.get(ConsoleUser, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def needs_touch(row: ConsoleSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY


async def touch_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    row = await session.get(ConsoleSession, session_id)
    if row is not None and row.expires_at > now:
        row.last_seen_at = now
        row.expires_at = min(now + IDLE, row.created_at + LONGEST)


async def end_session(session: AsyncSession, secret: str) -> None:
    await session.execute(delete(ConsoleSession).where(ConsoleSession.id == digest(secret)))
