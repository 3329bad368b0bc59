"""The on-call roster duty staff look at: who is on call now in each area, and the gaps ahead.

A gap is a time in the coming week when nobody serving the area (its volunteers and
leaders) is on call, reckoned from their schedules and what they said by SMS: someone who
replied OFF or STOP covers nothing until they reply again, a pause covers nothing until it
ends. Duty staff serve no single area and are listed on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.oncall.people import members_by_area
from monitor.oncall.standing import Duty, Standing, schedule_of, standings
from monitor.store.models import Area, Volunteer

AHEAD = timedelta(days=7)
#: Roles that serve an area in the roster (duty staff are listed apart).
AREA_ROLES = frozenset({"volunteer", "leader"})

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Person:
    volunteer: Volunteer
    standing: Standing

    @property
    def reachable(self) -> bool:
        """False once the phone opted out (STOP): shown as unreachable, never messaged."""
        return self.standing.duty is not Duty.OPTED_OUT


@dataclass(frozen=True, slots=True)
class AreaRoster:
    area_id: str
    area_name: str
    people: list[Person]
    #: when nobody serving the area is on call, within the roster's week
    gaps: list[Span] = field(default_factory=list)

    @property
    def on_call(self) -> list[Person]:
        return [person for person in self.people if person.standing.askable]


@dataclass(frozen=True, slots=True)
class Roster:
    now: datetime
    until: datetime
    areas: list[AreaRoster]
    staff: list[Person]


async def load_roster(
    session: AsyncSession,
    now: datetime,
    default_zone: ZoneInfo,
    *,
    areas_within: ColumnElement[bool] | None = None,
    staff_within: ColumnElement[bool] | None = None,
) -> Roster:
    """Who is on call, per area and among duty staff; ``areas_within`` and ``staff_within``: only
    the areas and staff a console account's scope sees."""
    until = now + AHEAD
    by_area = await members_by_area(session)
    areas = (
        await session.execute(
            select(Area.id, Area.name)
            .where(Area.active.is_(True), areas_within if areas_within is not None else true())
            .order_by(Area.name, Area.id)
        )
    ).all()  # a retired area has nobody to have on call
    staff = list(
        (
            await session.scalars(
                select(Volunteer)
                .where(
                    Volunteer.active.is_(True),
                    Volunteer.role == "staff",
                    staff_within if staff_within is not None else true(),
                )
                .order_by(Volunteer.id)
            )
        ).all()
    )
    everyone = {volunteer.id: volunteer for members in by_area.values() for volunteer in members}
    everyone |= {volunteer.id: volunteer for volunteer in staff}
    standing = await standings(session, list(everyone.values()), now, default_zone)
    spans = {
        volunteer_id: covered_spans(volunteer, standing[volunteer_id], now, until, default_zone)
        for volunteer_id, volunteer in everyone.items()
    }
    rosters = []
    for area_id, area_name in areas:
        members = [volunteer for volunteer in by_area.get(area_id, []) if volunteer.role in AREA_ROLES]
        rosters.append(
            AreaRoster(
                area_id,
                area_name,
                [Person(volunteer, standing[volunteer.id]) for volunteer in members],
                gaps(union(span for volunteer in members for span in spans[volunteer.id]), now, until),
            )
        )
    return Roster(now, until, rosters, [Person(volunteer, standing[volunteer.id]) for volunteer in staff])


def covered_spans(
    volunteer: Volunteer, standing: Standing, start: datetime, end: datetime, default_zone: ZoneInfo
) -> list[Span]:
    """When within [start, end) the volunteer will be on call, as things stand now."""
    if standing.duty in (Duty.OPTED_OUT, Duty.OFF):
        return []  # until they reply ON / START, which nobody can foresee
    if standing.duty is Duty.PAUSED and standing.until is not None:
        start = max(start, standing.until)
    if start >= end:
        return []
    return schedule_of(volunteer, default_zone).on_call_spans(start, end)


def union(spans: Iterable[Span]) -> list[Span]:
    """Spans merged where they touch or overlap, in order."""
    merged: list[Span] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def gaps(covered: Sequence[Span], start: datetime, end: datetime) -> list[Span]:
    """The parts of [start, end) that ``covered`` (merged, in order) leaves open."""
    open_spans: list[Span] = []
    cursor = start
    for begin, finish in covered:
        if begin > cursor:
            open_spans.append((cursor, min(begin, end)))
        cursor = max(cursor, finish)
    if cursor < end:
        open_spans.append((cursor, end))
    return [(begin, finish) for begin, finish in open_spans if begin < finish]
