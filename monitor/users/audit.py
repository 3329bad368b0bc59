"""The console's audit log for actions outside any one alert (those go to the alert's own log)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import ConsoleAudit


def record(session: AsyncSession, *, actor: str, action: str, target: str, now: datetime, detail: str = "") -> None:
    session.add(ConsoleAudit(at=now, actor=actor, action=action, target=target[:200], detail=detail[:4000]))


async def recent(session: AsyncSession, within: ColumnElement[bool], limit: int = 500) -> Sequence[ConsoleAudit]:
    """The latest entries matching ``within`` (a console account's scope, ``Scope.audit``)."""
    return (
        await session.scalars(select(ConsoleAudit).where(within).order_by(ConsoleAudit.id.desc()).limit(limit))
    ).all()
