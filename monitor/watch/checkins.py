"""Daily check-ins: a resident with a deadline (``checkin_by = "10:00"`` in their time zone)
shows each day that they are well by checking in before it.

A check-in is a ``checkin`` event from any of the resident's devices, or any press on a
``checkin_button`` (whatever its action map makes of it). It counts for the local day it
happens on, from midnight: one at 09:58 meets today's 10:00 deadline, one at 22:00 does not
meet tomorrow's. A check-in after the deadline still counts until supervision has judged
that deadline, and once a ``missed_checkin`` alert is out, a late check-in ends it: cancelled
while nobody has taken it yet, and the volunteer who took it is told otherwise.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from devices.base import DeviceEvent, EventType
from monitor.actions.alert_actions import AlertActions
from monitor.alerts.in_hand import in_hand
from monitor.alerts.lifecycle import AlertKind, AlertState
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.directory.model import parse_local_time
from monitor.store.models import Device, Resident

#: What a press on a check-in button can have become through its action map.
PRESS_TYPES: frozenset[EventType] = frozenset({EventType.SOS, EventType.CANCEL, EventType.CHECKIN})


def is_checkin(device: Device, event: DeviceEvent) -> bool:
    return event.type is EventType.CHECKIN or (device.kind == "checkin_button" and event.type in PRESS_TYPES)


def deadline_on(day: date, checkin_by: str, zone: ZoneInfo) -> datetime:
    """The deadline of the local ``day``, as an aware time (converted to UTC when stored)."""
    return datetime.combine(day, parse_local_time(checkin_by), tzinfo=zone)


def latest_deadline(now: datetime, checkin_by: str, zone: ZoneInfo) -> datetime:
    """The most recent deadline at or before ``now``."""
    today = now.astimezone(zone).date()
    deadline = deadline_on(today, checkin_by, zone)
    return deadline if deadline <= now else deadline_on(today - timedelta(days=1), checkin_by, zone)


def next_deadline(now: datetime, checkin_by: str, zone: ZoneInfo) -> datetime:
    """The first deadline after ``now``."""
    return deadline_on(latest_deadline(now, checkin_by, zone).date() + timedelta(days=1), checkin_by, zone)


def day_start(deadline: datetime) -> datetime:
    """Local midnight of the deadline's day: check-ins from then on count for it."""
    return datetime.combine(deadline.date(), datetime.min.time(), tzinfo=deadline.tzinfo)


class CheckinRecorder:
    """Records check-ins as they arrive; a late one ends the resident's missed-check-in alert."""

    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions

    async def record(
        self, session: AsyncSession, effects: Effects, device: Device, resident: Resident, now: datetime
    ) -> None:
        resident.last_checkin_at = now
        missed = await in_hand(session, resident.id, [AlertKind.MISSED_CHECKIN])
        if missed is None:
            return
        log_entry(
            session,
            missed.id,
            at=now,
            kind="checked_in",
            detail="checked in after the deadline",
            actor=f"device:{device.id}",
        )
        if missed.state == AlertState.OPEN:
            await self.actions.cancel_by_resident(session, effects, missed, device=device, now=now)
        else:
            await self.actions.cancel_after_acknowledged(session, effects, missed, device=device, now=now)
