"""Links to the responder page: one per person asked about an alert, made when they are first asked.

A token is 16 random URL-safe characters (96 bits): unguessable, and short enough that
``https://host/r/<token>`` keeps an ask SMS within its segments. It opens one alert for one
person and nothing else, and dies an hour after the alert ended (``LIVES_AFTER_END``). The
link is made in the transaction that queues the ask, with "insert unless it exists" on
(alert, phone), so a step run twice (or by two monitors) gives the person one link.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import Alert, ResponderLink
from monitor.store.statements import insert_many_unless_exist

#: A link still opens this long after its alert was resolved or cancelled (then: a plain 404).
LIVES_AFTER_END = timedelta(hours=1)
TOKEN_BYTES = 12


async def links_for(
    session: AsyncSession, alert_id: int, people: Sequence[tuple[str, str | None]], now: datetime
) -> dict[str, str]:
    """The token of each of ``people`` ((phone, volunteer id or None)) for ``alert_id``, made if new: phone -> token."""
    if not people:
        return {}
    rows = [
        {
            "token": secrets.token_urlsafe(TOKEN_BYTES),
            "alert_id": alert_id,
            "phone": phone,
            "volunteer_id": volunteer_id,
            "csrf": secrets.token_urlsafe(24),
            "created_at": now,
        }
        for phone, volunteer_id in people
    ]
    inserted = await insert_many_unless_exist(
        session, ResponderLink, rows, ["alert_id", "phone"], (ResponderLink.phone, ResponderLink.token)
    )
    tokens = {str(phone): str(token) for phone, token in inserted}
    made_before = [phone for phone, _ in people if phone not in tokens]
    if made_before:  # asked before (a later round): the link they already have
        found = await session.execute(
            select(ResponderLink.phone, ResponderLink.token).where(
                ResponderLink.alert_id == alert_id, ResponderLink.phone.in_(made_before)
            )
        )
        tokens |= {str(phone): str(token) for phone, token in found.all()}
    return tokens


async def open_link(session: AsyncSession, token: str, now: datetime) -> tuple[ResponderLink, Alert] | None:
    """The link and its alert (locked) while the link lives; None for a token that is unknown or dead."""
    if not 8 <= len(token) <= 32:
        return None
    link = await session.scalar(select(ResponderLink).where(ResponderLink.token == token))
    if link is None:
        return None
    alert = await session.get(Alert, link.alert_id, with_for_update=True)
    if alert is None:
        return None
    ended = alert.resolved_at or alert.cancelled_at
    if ended is not None and now > ended + LIVES_AFTER_END:
        return None
    return link, alert
