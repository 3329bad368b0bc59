"""Alerts as plain JSON-ready dicts, for the CLI and the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import Alert


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def alert_summary(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "state": alert.state,
        "device_id": alert.device_id,
        "resident_id": alert.resident_id,
        "area_id": alert.area_id,
        "raised_at": iso(alert.raised_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "taken_at": iso(alert.taken_at),
        "en_route_at": iso(alert.en_route_at),
        "eta": iso(alert.eta),
        "on_site_at": iso(alert.on_site_at),
        "on_site_by": alert.on_site_by,
        "overdue": alert.overdue,
        "follow_up": alert.follow_up,
        "follow_up_at": iso(alert.follow_up_at),
        "resolved_at": iso(alert.resolved_at),
        "resolved_by": alert.resolved_by,
        "outcome": alert.outcome,
        "cancelled_at": iso(alert.cancelled_at),
        "tier": alert.tier + 1,
        "round": alert.round + 1,
        "unanswered": alert.unanswered,
        "next_escalation_at": iso(alert.next_escalation_at),
        "position": (
            {"lat": alert.lat, "lon": alert.lon, "accuracy_m": alert.accuracy_m, "at": iso(alert.position_at)}
            if alert.lat is not None and alert.lon is not None
            else None
        ),
    }


async def list_alerts(
    session: AsyncSession, state: str | None = None, limit: int = 1000, *, within: ColumnElement[bool] | None = None
) -> Sequence[Alert]:
    """The latest alerts, of ``state`` if given; ``within``: only those a console account's scope sees."""
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if within is not None:
        query = query.where(within)
    if state:
        query = query.where(Alert.state == state)
    return (await session.scalars(query)).all()
