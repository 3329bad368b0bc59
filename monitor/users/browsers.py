"""Browsers a user signed in from before (the known-browser cookie).

The cookie carries a random secret; the database keeps its SHA-256 beside each user who
signed in with it, so a shared duty-room browser is known for everyone who uses it. A stranger's
failed guesses never hold such a browser back (``monitor.users.throttle``). A password change
or reset forgets a user's browsers.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import KnownBrowser
from monitor.store.statements import insert_unless_exists
from monitor.users.sessions import digest, secret_digest


async def remember_browser(session: AsyncSession, user_id: int, secret: str | None, now: datetime) -> str:
    """Note that the browser holding ``secret`` (a new one if None) signed in as the user; the secret."""
    if secret is None or secret_digest(secret) is None:
        secret = secrets.token_urlsafe(32)
    key = {"digest": digest(secret), "user_id": user_id}
    first_time = {**key, "first_signed_in_at": now, "last_signed_in_at": now}
    if await insert_unless_exists(session, KnownBrowser, first_time, list(key)) is None:
        known = await session.get(KnownBrowser, (key["digest"], user_id))
        if known is not None:
            known.last_signed_in_at = now
    return secret


async def forget_browsers(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(KnownBrowser).where(KnownBrowser.user_id == user_id))
