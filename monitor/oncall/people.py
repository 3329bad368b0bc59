"""Who the directory's names mean: a tier target's members, duty staff, who took an alert.

A tier's ``notify`` list holds ``area`` (the alert's area team: its active volunteers of
role ``volunteer``; leaders and staff are reached by ``role:``), ``role:<role>`` (the
active volunteers of that role serving the alert's area, or every one of that role when
none serves it, as duty staff usually serve no single area), ``family`` (the resident's
family contacts, ``monitor.oncall.family``) and volunteer ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.oncall.standing import opted_out_phones
from monitor.store.models import FamilyContact, Volunteer, VolunteerArea


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


def names_volunteer(by: str) -> bool:
    """Whether an alert's ``acknowledged_by`` is a volunteer id (not a family contact or a console user)."""
    return not by.startswith(("user:", "family:"))


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


def duty_staff(everyone: Sequence[Volunteer], organisation_id: str | None) -> list[Volunteer]:
    """Of ``everyone`` on duty staff (role staff), those of an alert's own organisation (the one
    owning its area); when it has none, or its area belongs to no organisation, the service-wide
    ones (of no organisation); when there are none of those either, all of them rather than nobody."""
    for wanted in ([organisation_id] if organisation_id is not None else []) + [None]:
        own = [volunteer for volunteer in everyone if volunteer.organisation_id == wanted]
        if own:
            return own
    return list(everyone)


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
