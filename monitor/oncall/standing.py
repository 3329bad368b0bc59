"""A volunteer's standing: may they be asked to help right now, and if not, why and until when.

First match wins:

1. opted out: the phone replied STOP (or TD) and has not replied START since; never sent anything;
2. off: replied OFF, until they reply ON;
3. paused: replied PAUSE, until the pause ends;
4. on call or off duty by their schedule (``monitor.oncall.schedule``; no schedule: always on call).

Family contacts have no schedule: only an opt-out keeps them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.notify.texts import moment_text
from monitor.oncall.schedule import Schedule
from monitor.store.models import SmsOptOut, Volunteer, VolunteerAvailability


class Duty(StrEnum):
    ON_CALL = "on_call"
    OFF_SCHEDULE = "off_schedule"  # outside their on-call windows
    OFF = "off"  # replied OFF
    PAUSED = "paused"  # replied PAUSE
    OPTED_OUT = "opted_out"  # replied STOP


@dataclass(frozen=True, slots=True)
class Standing:
    duty: Duty
    #: when this next changes; None: when they reply (OFF, STOP), or not within the coming week
    until: datetime | None = None

    @property
    def askable(self) -> bool:
        return self.duty is Duty.ON_CALL


def zone_of(volunteer: Volunteer, default_zone: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(volunteer.timezone) if volunteer.timezone else default_zone
    except (ZoneInfoNotFoundError, ValueError):
        return default_zone  # the directory checks names; a zone later removed from tzdata falls back


def schedule_of(volunteer: Volunteer, default_zone: ZoneInfo) -> Schedule:
    return Schedule.from_json(volunteer.schedule, zone_of(volunteer, default_zone))


def standing_of(
    volunteer: Volunteer,
    availability: VolunteerAvailability | None,
    opted_out: bool,
    now: datetime,
    default_zone: ZoneInfo,
) -> Standing:
    """The volunteer's standing at ``now`` (the rule in the module docstring)."""
    if opted_out:
        return Standing(Duty.OPTED_OUT)
    if availability is not None and availability.off_since is not None:
        return Standing(Duty.OFF)
    if availability is not None and availability.paused_until is not None and availability.paused_until > now:
        return Standing(Duty.PAUSED, availability.paused_until)
    schedule = schedule_of(volunteer, default_zone)
    if schedule.always:
        return Standing(Duty.ON_CALL)
    on_call = schedule.on_call_at(now)
    return Standing(Duty.ON_CALL if on_call else Duty.OFF_SCHEDULE, schedule.next_change(now))


async def opted_out_phones(session: AsyncSession, phones: Iterable[str]) -> set[str]:
    wanted = set(phones)
    if not wanted:
        return set()
    return set((await session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(wanted)))).all())


async def standings(
    session: AsyncSession, volunteers: Sequence[Volunteer], now: datetime, default_zone: ZoneInfo
) -> dict[str, Standing]:
    """Each volunteer's standing at ``now``, by volunteer id, in two queries."""
    ids = [volunteer.id for volunteer in volunteers]
    said: dict[str, VolunteerAvailability] = {}
    if ids:
        rows = await session.scalars(select(VolunteerAvailability).where(VolunteerAvailability.volunteer_id.in_(ids)))
        said = {row.volunteer_id: row for row in rows}
    stopped = await opted_out_phones(session, (volunteer.phone for volunteer in volunteers))
    return {
        volunteer.id: standing_of(volunteer, said.get(volunteer.id), volunteer.phone in stopped, now, default_zone)
        for volunteer in volunteers
    }


def why_not_asked(standing: Standing, now: datetime, zone: ZoneInfo) -> str:
    """For the alert's log, of someone not on call: "off duty by schedule (on call from 18:00)"."""
    when = moment_text(standing.until, now, zone, "en") if standing.until is not None else None
    if standing.duty is Duty.OPTED_OUT:
        return "unreachable (replied STOP)"
    if standing.duty is Duty.OFF:
        return "off (replied OFF)"
    if standing.duty is Duty.PAUSED:
        return f"paused until {when}"
    return f"off duty by schedule ({f'on call from {when}' if when else 'not on call in the coming week'})"
