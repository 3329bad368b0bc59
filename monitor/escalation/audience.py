"""Who an alert's SMS go to: the one place that decides, from the directory and the database.

A tier's ``notify`` list holds ``area`` (the alert's area team: its active volunteers of
role ``volunteer``; leaders and staff are reached by ``role:``), ``role:<role>`` (the
active volunteers of that role serving the alert's area, or every one of that role when
none serves it, as duty staff usually serve no single area), ``family`` (the resident's
family contacts) and volunteer ids. The result keeps the policy's order and names each
person once.

Of those, only people who can be asked right now are asked. A volunteer's standing is,
first match wins:

1. opted out: the phone replied STOP (or TD) and has not replied START since; never sent anything;
2. off: replied OFF, until they reply ON;
3. paused: replied PAUSE, until the pause ends;
4. on call or off duty by their schedule (``monitor.oncall.schedule``; no schedule: always on call).

Family contacts have no schedule: only an opt-out keeps them out. A tier that orders by
distance ("nearest") puts people whose position is known first, nearest to the alert's
position (the device's fix, else the resident's home); a volunteer's position is their
phone's recent fix when they consented to share it, else their home.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.directory.model import FAMILY_TARGET
from monitor.notify.texts import moment_text
from monitor.oncall.geo import Point, distance_m
from monitor.oncall.positions import FRESH_FOR
from monitor.oncall.schedule import Schedule
from monitor.store.models import (
    Alert,
    FamilyContact,
    Resident,
    SmsOptOut,
    Volunteer,
    VolunteerArea,
    VolunteerAvailability,
    VolunteerPhone,
)

if TYPE_CHECKING:
    from monitor.escalation.step_reads import StepRoster


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


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone an alert's SMS can go to: a volunteer, or one of the resident's family."""

    phone: str
    name: str
    language: str
    volunteer: Volunteer | None = None
    family: FamilyContact | None = None
    #: from the alert's position, when both are known
    distance_m: float | None = None

    @property
    def volunteer_id(self) -> str | None:
        return self.volunteer.id if self.volunteer is not None else None


@dataclass(slots=True)
class Audience:
    """Whom a tier means for one alert, and what became of each of them."""

    to_ask: list[Recipient] = field(default_factory=list)
    unavailable: list[tuple[Recipient, Standing]] = field(default_factory=list)
    already_asked: list[Recipient] = field(default_factory=list)
    #: where help is needed, when the tier orders by distance and it is known
    point: Point | None = None


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


async def tier_audience(
    roster: StepRoster,
    targets: Sequence[str],
    alert: Alert,
    *,
    already_asked: Collection[str] = (),
    nearest_first: bool = False,
) -> Audience:
    """Whom a tier's ``targets`` mean for ``alert`` at the roster's moment: those to ask (in order),
    those who are not available and why, and those ``already_asked`` (phones) this round."""
    session, now = roster.session, roster.now
    volunteers: dict[str, Volunteer] = {}
    family: list[FamilyContact] = []
    for target in targets:
        if target == FAMILY_TARGET:
            family += await roster.family(alert.resident_id) if alert.resident_id else []
            continue
        for volunteer in await roster.members(target, alert.area_id):
            volunteers.setdefault(volunteer.id, volunteer)
    standing = await roster.standings(list(volunteers.values()))
    stopped = await roster.opted_out(contact.phone for contact in family)
    point = await alert_point(session, alert) if nearest_first else None
    places = await _volunteer_places(session, list(volunteers.values()), now) if point is not None else {}

    audience = Audience(point=point)
    seen_phones: set[str] = set()
    people: list[tuple[Recipient, Standing]] = [
        (
            Recipient(
                volunteer.phone,
                volunteer.name,
                volunteer.language,
                volunteer=volunteer,
                distance_m=_distance(point, places.get(volunteer.id)),
            ),
            standing[volunteer.id],
        )
        for volunteer in volunteers.values()
    ]
    people += [
        (
            Recipient(contact.phone, contact.name, contact.language, family=contact),
            Standing(Duty.OPTED_OUT) if contact.phone in stopped else Standing(Duty.ON_CALL),
        )
        for contact in family
    ]
    for recipient, state in people:
        if recipient.phone in seen_phones:
            continue  # one person (one phone) once, however many targets name them
        seen_phones.add(recipient.phone)
        if recipient.phone in already_asked:
            audience.already_asked.append(recipient)
        elif state.askable:
            audience.to_ask.append(recipient)
        else:
            audience.unavailable.append((recipient, state))
    if nearest_first:
        audience.to_ask.sort(key=lambda recipient: (recipient.distance_m is None, recipient.distance_m or 0.0))
    return audience


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


def explain_skip(tier_index: int, round_number: int, audience: Audience, now: datetime, zone: ZoneInfo) -> str:
    """The log's sentence for a tier skipped because nobody in it can be asked."""
    where = f"tier {tier_index + 1} (round {round_number + 1}) skipped"
    if not audience.unavailable and not audience.already_asked:
        return f"{where}: its targets name nobody in the directory"
    reasons = [f"{recipient.name} {why_not_asked(standing, now, zone)}" for recipient, standing in audience.unavailable]
    if audience.already_asked:
        reasons.append("already asked this round: " + ", ".join(recipient.name for recipient in audience.already_asked))
    lead = "nobody on call" if audience.unavailable else "nobody left to ask"
    return f"{where}: {lead}: {'; '.join(reasons)}"


async def alert_point(session: AsyncSession, alert: Alert) -> Point | None:
    """Where help is needed: the device's position, else the resident's home."""
    if alert.lat is not None and alert.lon is not None:
        return Point(alert.lat, alert.lon)
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    if resident is not None and resident.home_lat is not None and resident.home_lon is not None:
        return Point(resident.home_lat, resident.home_lon)
    return None


async def _volunteer_places(session: AsyncSession, volunteers: Sequence[Volunteer], now: datetime) -> dict[str, Point]:
    """Where each volunteer is: a recent fix from their phone if they consented, else their home."""
    places = {
        volunteer.id: Point(volunteer.home_lat, volunteer.home_lon)
        for volunteer in volunteers
        if volunteer.home_lat is not None and volunteer.home_lon is not None
    }
    sharing = [volunteer.id for volunteer in volunteers if volunteer.share_location]
    if sharing:
        fixes = await session.scalars(
            select(VolunteerPhone)
            .where(
                VolunteerPhone.volunteer_id.in_(sharing),
                VolunteerPhone.last_fix_at.is_not(None),
                VolunteerPhone.last_fix_at >= now - FRESH_FOR,
            )
            .order_by(VolunteerPhone.last_fix_at)
        )
        for phone in fixes:  # the newest fix of a volunteer with several phones wins
            if phone.last_lat is not None and phone.last_lon is not None:
                places[phone.volunteer_id] = Point(phone.last_lat, phone.last_lon)
    return places


def _distance(point: Point | None, place: Point | None) -> float | None:
    return distance_m(point, place) if point is not None and place is not None else None


async def holder_of(session: AsyncSession, by: str | None) -> Recipient | None:
    """The person an alert's ``acknowledged_by`` names, when it is someone with a phone: a volunteer
    id, or "family:<id>" (console users, "user:<name>", have none)."""
    if not by or by.startswith("user:"):
        return None
    if by.startswith("family:"):
        contact_id = by.removeprefix("family:")
        contact = await session.get(FamilyContact, int(contact_id)) if contact_id.isdigit() else None
        return Recipient(contact.phone, contact.name, contact.language, family=contact) if contact else None
    volunteer = await session.get(Volunteer, by)
    return Recipient(volunteer.phone, volunteer.name, volunteer.language, volunteer=volunteer) if volunteer else None


async def staff(session: AsyncSession) -> list[Volunteer]:
    """Duty staff's own phones (every active volunteer of role staff that has not opted out)."""
    duty = await members(session, "role:staff", None)
    stopped = await opted_out_phones(session, (volunteer.phone for volunteer in duty))
    return [volunteer for volunteer in duty if volunteer.phone not in stopped]


_ACTIVE = select(Volunteer).where(Volunteer.active.is_(True)).order_by(Volunteer.id)
_OF_ROLE = _ACTIVE.where(Volunteer.role == bindparam("role"))
#: a role's members in one area (the area team is role "volunteer")
_OF_ROLE_IN_AREA = _OF_ROLE.join(VolunteerArea, VolunteerArea.volunteer_id == Volunteer.id).where(
    VolunteerArea.area_id == bindparam("area_id")
)


async def members(session: AsyncSession, target: str, area_id: str | None) -> list[Volunteer]:
    """The active volunteers a (non-family) target names, in id order."""
    if target == "area":
        if area_id is None:
            return []
        return list((await session.scalars(_OF_ROLE_IN_AREA, {"role": "volunteer", "area_id": area_id})).all())
    if target.startswith("role:"):
        role = target.removeprefix("role:")
        if area_id is not None:
            local = list((await session.scalars(_OF_ROLE_IN_AREA, {"role": role, "area_id": area_id})).all())
            if local:
                return local
        return list((await session.scalars(_OF_ROLE, {"role": role})).all())
    volunteer = await session.get(Volunteer, target)
    return [volunteer] if volunteer is not None and volunteer.active else []


async def members_by_area(session: AsyncSession) -> dict[str, list[Volunteer]]:
    """Every area's active volunteers (any role), by area id, in id order: for the on-call roster."""
    rows = await session.execute(
        select(VolunteerArea.area_id, Volunteer)
        .join(Volunteer, Volunteer.id == VolunteerArea.volunteer_id)
        .where(Volunteer.active.is_(True))
        .order_by(VolunteerArea.area_id, Volunteer.id)
    )
    by_area: dict[str, list[Volunteer]] = {}
    for area_id, volunteer in rows.all():
        by_area.setdefault(area_id, []).append(volunteer)
    return by_area
