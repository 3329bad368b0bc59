"""An alert's log: the audit trail of everything that happened to it and because of it (state
changes, asks and what became of them, replies, notes), each entry with who did it and when.

Entries are written in the transaction of what they record, so the log never tells of
something that was rolled back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import AlertEvent


def log_entry(
    session: AsyncSession,
    alert_id: int,
    *,
    at: datetime,
    kind: str,
    detail: str,
    actor: str = "system",
    notification_id: int | None = None,
    device_message_id: int | None = None,
) -> None:
    """Add an entry to the log of alert ``alert_id``; ``actor``: "system", "device:<id>",
    "volunteer:<id>", "family:<id>" or "user:<name>"."""
    session.add(
        AlertEvent(
            alert_id=alert_id,
            at=at,
            kind=kind,
            actor=actor,
            detail=detail,
            notification_id=notification_id,
            device_message_id=device_message_id,
        )
    )
