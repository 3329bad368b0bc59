"""Who a policy tier means for one alert.

A tier's ``notify`` list holds ``area`` (the alert's area team: its active volunteers of
role ``volunteer``; leaders and staff are reached by ``role:``),
``role:<role>`` (the active volunteers of that role serving the alert's area, or every
one of that role when none serves it, as duty staff usually serve no single area) and
volunteer ids. The result keeps the policy's order and names each person once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import Volunteer, VolunteerArea


async def resolve_targets(session: AsyncSession, targets: Sequence[str], area_id: str | None) -> list[Volunteer]:
    chosen: dict[str, Volunteer] = {}
    for target in targets:
        for volunteer in await _resolve_one(session, target, area_id):
            chosen.setdefault(volunteer.id, volunteer)
    return list(chosen.values())


async def staff(session: AsyncSession) -> list[Volunteer]:
    """Duty staff's own phones, for alerts nobody else took."""
    return await _resolve_one(session, "role:staff", None)


async def _resolve_one(session: AsyncSession, target: str, area_id: str | None) -> list[Volunteer]:
    active = select(Volunteer).where(Volunteer.active.is_(True)).order_by(Volunteer.id)
    if target == "area":
        if area_id is None:
            return []
        team = (
            active.join(VolunteerArea, VolunteerArea.volunteer_id == Volunteer.id)
            .where(VolunteerArea.area_id == area_id)
            .where(Volunteer.role == "volunteer")
        )
        return list((await session.scalars(team)).all())
    if target.startswith("role:"):
        of_role = active.where(Volunteer.role == target.removeprefix("role:"))
        if area_id is not None:
            in_area = of_role.join(VolunteerArea, VolunteerArea.volunteer_id == Volunteer.id).where(
                VolunteerArea.area_id == area_id
            )
            local = list((await session.scalars(in_area)).all())
            if local:
                return local
        return list((await session.scalars(of_role)).all())
    volunteer = await session.get(Volunteer, target)
    return [volunteer] if volunteer is not None and volunteer.active else []
