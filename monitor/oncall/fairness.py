"""How many alerts each volunteer was asked to take, and took: so duty staff can spread the load.

"Asked" counts alerts (not SMS: a reminder round asks again about the same alert) for
which the volunteer got a request to help; "took" counts alerts they acknowledged. The
escalation log states both for the last ``WINDOW`` beside every request it sends; the
report (``monitor.reports.figures``) states them for its period.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, CompoundSelect, bindparam, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.notify.requests import Purpose
from monitor.store.models import Alert, Notification

WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Load:
    asked: int = 0
    took: int = 0

    def text(self) -> str:
        return f"asked {self.asked}, took {self.took} in the last {WINDOW.days} days"


def _recent_load_statement() -> CompoundSelect[Any]:
    volunteer_ids: BindParameter[Any] = bindparam("volunteer_ids", expanding=True)
    since: BindParameter[datetime] = bindparam("since")
    asked = (
        select(
            literal("asked").label("what"), Notification.volunteer_id, func.count(func.distinct(Notification.alert_id))
        )
        .where(
            Notification.volunteer_id.in_(volunteer_ids),
            Notification.purpose == Purpose.ALERT.value,
            Notification.created_at >= since,
        )
        .group_by(Notification.volunteer_id)
    )
    took = (
        select(literal("took").label("what"), Alert.acknowledged_by, func.count())
        .where(Alert.acknowledged_by.in_(volunteer_ids), Alert.acknowledged_at >= since)
        .group_by(Alert.acknowledged_by)
    )
    return union_all(asked, took)


#: Both counts in one statement, built once: on a press's path, every statement counts.
RECENT_LOAD = _recent_load_statement()


async def recent_load(session: AsyncSession, volunteer_ids: Collection[str], now: datetime) -> dict[str, Load]:
    """Each volunteer's load over the ``WINDOW`` before ``now`` (volunteers with none are left out)."""
    if not volunteer_ids:
        return {}
    counts: dict[str, dict[str, int]] = {"asked": {}, "took": {}}
    rows = await session.execute(RECENT_LOAD, {"volunteer_ids": list(volunteer_ids), "since": now - WINDOW})
    for what, volunteer_id, count in rows.all():
        counts[what][str(volunteer_id)] = int(count)
    asked_by, took_by = counts["asked"], counts["took"]
    return {
        volunteer_id: Load(asked_by.get(volunteer_id, 0), took_by.get(volunteer_id, 0))
        for volunteer_id in volunteer_ids
        if volunteer_id in asked_by or volunteer_id in took_by
    }
