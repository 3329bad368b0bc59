"""Arrival seen from a volunteer's shared phone position.

A volunteer who took an alert and shares their phone's position (OwnTracks, with the
directory's ``share_location`` consent, as nearest-first asking uses it) is on site once a fix
comes within their policy's ``arrival_radius_m`` of where the resident is: the position the
alert carries (a GPS device's fix), else the resident's home. The log records the distance
and the fix; the volunteer is told, and their own HERE later only confirms it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Taker
from monitor.alerts.follow_up import stamp
from monitor.alerts.lifecycle import AlertState
from monitor.core.effects import Effects
from monitor.directory.model import DEFAULT_ARRIVAL_RADIUS_M
from monitor.notify import texts
from monitor.oncall.geo import Point, distance_m
from monitor.oncall.people import Recipient
from monitor.store.models import Alert, Resident, Volunteer

#: Phones stamp a fix in whole seconds: one from the second they took the alert still counts.
FIX_TIME_GRAIN = timedelta(seconds=1)
#: Taken and not there yet.
ON_THE_WAY = (AlertState.ACKNOWLEDGED.value, AlertState.EN_ROUTE.value)


async def arrive_by_position(
    actions: AlertActions,
    session: AsyncSession,
    effects: Effects,
    volunteer: Volunteer,
    fix: Point,
    *,
    accuracy_m: float | None,
    fixed_at: datetime,
    now: datetime,
) -> list[int]:
    """Mark on site every alert ``volunteer`` holds (not yet there) that ``fix`` is close enough
    to; the ids of those alerts."""
    held = (
        await session.scalars(
            select(Alert)
            .where(Alert.acknowledged_by == volunteer.id, Alert.state.in_(ON_THE_WAY))
            .order_by(Alert.id)
            .with_for_update()
        )
    ).all()
    arrived = []
    for alert in held:
        if alert.taken_at is not None and fixed_at + FIX_TIME_GRAIN < alert.taken_at:
            continue  # a position from before they took it (a retained fix) says nothing of arriving
        target = await _where_the_resident_is(session, alert)
        if target is None:
            continue
        place, point = target
        metres = distance_m(fix, point)
        reads = actions.escalation.reads(session, now)
        policy = await actions.escalation.policy_for(reads, alert)
        if metres > (policy.arrival_radius_m if policy is not None else DEFAULT_ARRIVAL_RADIUS_M):
            continue
        accuracy = f" ±{round(accuracy_m)} m" if accuracy_m is not None else ""
        via = (
            f"their phone's position {round(metres)} m from {place} "
            f"({fix.lat:.5f}, {fix.lon:.5f}{accuracy}, fixed {fixed_at.isoformat(timespec='seconds')})"
        )
        await actions.arrive(session, effects, alert, taker=Taker.volunteer_taker(volunteer), now=now, via=via)
        await actions.tell_holder(
            session,
            effects,
            alert,
            Recipient(volunteer.phone, volunteer.name, volunteer.language, volunteer=volunteer),
            texts.on_site,
            occasion=f"on_site_by_position:{stamp(alert.on_site_at)}",
            now=now,
        )
        arrived.append(alert.id)
    return arrived


async def _where_the_resident_is(session: AsyncSession, alert: Alert) -> tuple[str, Point] | None:
    """The alert's own fix (a GPS device's), else the resident's home; None when neither is known."""
    if alert.lat is not None and alert.lon is not None:
        return "the alert's position", Point(alert.lat, alert.lon)
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    if resident is not None and resident.home_lat is not None and resident.home_lon is not None:
        return "the resident's home", Point(resident.home_lat, resident.home_lon)
    return None
