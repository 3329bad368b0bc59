"""One-use, short-lived links to a resident's camera.

The camera's own address is never handed to a browser or a script for later use: a console
user (or their API token) gets a link to ``/camera/<secret>`` that works once, within
``LIFETIME``, and is recorded as a view when it is followed. The database keeps only the
secret's SHA-256.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import CameraLink
from monitor.users.sessions import digest, secret_digest

LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class UsedLink:
    alert_id: int
    actor: str
    display_name: str


async def issue_link(
    session: AsyncSession, alert_id: int, *, actor: str, display_name: str, now: datetime
) -> tuple[str, datetime]:
    """A new link's secret for ``alert_id``, made for the user ``actor``, and when it expires."""
    secret = secrets.token_urlsafe(32)
    expires_at = now + LIFETIME
    session.add(
        CameraLink(
            digest=digest(secret),
            alert_id=alert_id,
            actor=actor,
            display_name=display_name[:200],
            created_at=now,
            expires_at=expires_at,
        )
    )
    return secret, expires_at


async def use_link(session: AsyncSession, secret: str, now: datetime) -> UsedLink | None:
    """Spend the link: whom it was made for and which alert, or None if it is unknown, used or expired.

    One statement decides, so two requests racing with the same link cannot both use it."""
    key = secret_digest(secret)
    if key is None:
        return None
    spent = (
        await session.execute(
            update(CameraLink)
            .where(CameraLink.digest == key, CameraLink.used_at.is_(None), CameraLink.expires_at > now)
            .values(used_at=now)
            .returning(CameraLink.alert_id, CameraLink.actor, CameraLink.display_name)
        )
    ).one_or_none()
    if spent is None:
        return None
    return UsedLink(alert_id=spent.alert_id, actor=spent.actor, display_name=spent.display_name)
