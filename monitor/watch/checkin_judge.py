"""Judging daily check-ins: at each resident's deadline, either they checked in that day or a
``missed_checkin`` alert goes out, escalated by its policy (typically the area team first,
to knock on the door).

``checkin_due_at`` is the next deadline to judge. A resident is first looked at when their
schedule appears (or changes): that only sets the next deadline, so nobody is judged for a
deadline that passed before callwatch expected anything of them. After an outage of the
monitor, only the latest deadline that passed is judged: one alert, not one per day missed.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Fix, NewAlert
from monitor.alerts.lifecycle import AlertKind
from monitor.core.effects import Effects
from monitor.store.models import Device, Resident
from monitor.watch.checkins import day_start, latest_deadline, next_deadline
from monitor.watch.device_state import last_position

JUDGE_BATCH = 500


class CheckinJudge:
    def __init__(self, actions: AlertActions, service_zone: ZoneInfo) -> None:
        self.actions = actions
        self.service_zone = service_zone

    async def judge_due(self, session: AsyncSession, effects: Effects, now: datetime) -> int:
        """Judge every deadline that has come, start watching new schedules; how many residents."""
        residents = (
            await session.scalars(
                select(Resident)
                .where(*checkins_due(now))
                .order_by(Resident.id)
                .limit(JUDGE_BATCH)
                .with_for_update(skip_locked=True, key_share=True)
            )
        ).all()
        for resident in residents:
            assert resident.checkin_by is not None  # the query's condition
            zone = ZoneInfo(resident.timezone) if resident.timezone else self.service_zone
            if resident.checkin_due_at is not None:
                deadline = latest_deadline(now, resident.checkin_by, zone)
                if resident.last_checkin_at is None or resident.last_checkin_at < day_start(deadline):
                    await self._missed(session, effects, resident, deadline, now)
            resident.checkin_due_at = next_deadline(now, resident.checkin_by, zone)
        return len(residents)

    async def _missed(
        self, session: AsyncSession, effects: Effects, resident: Resident, deadline: datetime, now: datetime
    ) -> None:
        last = resident.last_checkin_at.isoformat(timespec="minutes") if resident.last_checkin_at else "never"
        new = NewAlert(
            kind=AlertKind.MISSED_CHECKIN,
            area_id=resident.area_id,
            resident_id=resident.id,
            position=await _where_last_seen(session, resident.id),
            detail=f"no check-in by {deadline.isoformat(timespec='minutes')}; last check-in {last}",
        )
        await self.actions.raise_alert(session, effects, new, now=now)


def checkins_due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Residents whose check-in is to be judged now or first worked out; not the retired."""
    return (
        Resident.active.is_(True),
        Resident.checkin_by.is_not(None),
        or_(Resident.checkin_due_at.is_(None), Resident.checkin_due_at <= now),
    )


async def _where_last_seen(session: AsyncSession, resident_id: str) -> Fix | None:
    """The freshest position of the resident's GPS devices, read without locking them."""
    device = await session.scalar(
        select(Device)
        .where(Device.resident_id == resident_id, Device.last_fix_at.is_not(None))
        .order_by(Device.last_fix_at.desc())
        .limit(1)
    )
    return last_position(device) if device is not None else None
