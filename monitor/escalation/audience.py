"""The audience of an escalation step: whom a tier asks about one alert, right now.

The tier's targets (``monitor.oncall.people``) name people; of those, only people who can be
asked right now are asked (their standing, ``monitor.oncall.standing``), each person once
however many targets name them, and nobody already asked in this round. A tier that orders
by distance ("nearest") puts people whose position is known first, nearest to the alert's
position (the device's fix, else the resident's home); a volunteer's position is their
phone's recent fix when they consented to share it, else their home. What a step reads to
decide is read once per transaction (``monitor.escalation.step_reads``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.escalation.step_reads import StepReads
from monitor.oncall.family import FAMILY_TARGET
from monitor.oncall.geo import Point, distance_m
from monitor.oncall.people import Recipient
from monitor.oncall.positions import FRESH_FOR
from monitor.oncall.standing import Duty, Standing, why_not_asked
from monitor.store.models import Alert, FamilyContact, Resident, Volunteer, VolunteerPhone


@dataclass(slots=True)
class Audience:
    """Whom a tier means for one alert, and what became of each of them."""

    to_ask: list[Recipient] = field(default_factory=list)
    unavailable: list[tuple[Recipient, Standing]] = field(default_factory=list)
    already_asked: list[Recipient] = field(default_factory=list)
    #: where help is needed, when the tier orders by distance and it is known
    point: Point | None = None


async def tier_audience(
    reads: StepReads,
    targets: Sequence[str],
    alert: Alert,
    *,
    already_asked: Collection[str] = (),
    nearest_first: bool = False,
) -> Audience:
    """Whom a tier's ``targets`` mean for ``alert`` at the moment of ``reads``: those to ask (in order),
    those who are not available and why, and those ``already_asked`` (phones) this round."""
    session, now = reads.session, reads.now
    volunteers: dict[str, Volunteer] = {}
    family: list[FamilyContact] = []
    for target in targets:
        if target == FAMILY_TARGET:
            family += await reads.family(alert.resident_id) if alert.resident_id else []
            continue
        for volunteer in await reads.members(target, alert.area_id):
            volunteers.setdefault(volunteer.id, volunteer)
    standing = await reads.standings(list(volunteers.values()))
    stopped = await reads.opted_out(contact.phone for contact in family)
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
