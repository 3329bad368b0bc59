"""Per-user API tokens (``Authorization: Bearer cw_...``). Shown once when made; stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import ApiToken, ConsoleUser

TOKEN_PREFIX = "cw_"  # noqa: S105 - the visible prefix, not a secret
#: Last-use times are written at most this often.
TOUCH_EVERY_S = 300


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(session: AsyncSession, user: ConsoleUser, label: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``user``: its row and the token itself (not kept anywhere)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(digest=_digest(token), prefix=token[:10], user_id=user.id, label=label.strip()[:100], created_at=now)
    session.add(row)
    await session.flush()
    return row, token


async def token_user(session: AsyncSession, token: str, now: datetime) -> tuple[ApiToken, ConsoleUser] | None:
    """The live token and its (active) user, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = await session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = await session.get(ConsoleUser, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def needs_touch(row: ApiToken, now: datetime) -> bool:
    return row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_EVERY_S


async def user_tokens(session: AsyncSession, user_id: int) -> Sequence[ApiToken]:
    return (
        await session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
    ).all()


async def revoke_token(session: AsyncSession, user_id: int, token_id: int, now: datetime) -> bool:
    row = await session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True
