"""Safe zones: is a resident's GPS device inside theirs, and what leaving or coming back does.

A zone is a circle (centre, radius), the device's own named region (an OwnTracks region, a
Traccar geofence), or both. A region the device reports leaving or entering is believed.
A position is outside the circle only when its whole accuracy disc is (a poor fix near the
edge is no alarm), and inside once it is back within the radius; a fix older than the
newest known is history and changes nothing. Leaving raises one
``geofence`` alert carrying the position, escalated by its policy; leaving again while that
alert is not yet resolved adds to it; coming back is written to the alert's log.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.base import DeviceEvent, EventType, Position
from monitor.actions.alert_actions import AlertActions, Fix, NewAlert
from monitor.alerts.in_hand import in_hand
from monitor.alerts.lifecycle import AlertKind
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.store.models import Device, Resident
from monitor.watch.device_state import last_position

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class SafeZone:
    lat: float | None
    lon: float | None
    radius_m: float | None
    region: str | None

    @classmethod
    def of(cls, resident: Resident) -> SafeZone | None:
        if resident.safe_region is None and resident.safe_radius_m is None:
            return None
        return cls(resident.safe_lat, resident.safe_lon, resident.safe_radius_m, resident.safe_region)

    def outside(self, event: DeviceEvent) -> bool | None:
        """Whether ``event`` shows the device outside (True), inside (False), or cannot tell (None)."""
        if event.type is EventType.GEOFENCE and self.names(event.region):
            return event.transition == "leave"
        if event.position is None or self.lat is None or self.lon is None or self.radius_m is None:
            return None
        distance = distance_m(self.lat, self.lon, event.position.lat, event.position.lon)
        if distance - (event.position.accuracy_m or 0.0) > self.radius_m:
            return True
        return False if distance <= self.radius_m else None

    def names(self, region: str | None) -> bool:
        return self.region is not None and region is not None and region.casefold() == self.region.casefold()


#: The residents among some that have a safe zone: the test of ``SafeZone.of``, in SQL.
WITH_SAFE_ZONE = select(Resident.id).where(
    Resident.id.in_(bindparam("resident_ids", expanding=True)),
    or_(Resident.safe_region.is_not(None), Resident.safe_radius_m.is_not(None)),
)


async def residents_with_safe_zone(session: AsyncSession, resident_ids: Collection[str]) -> set[str]:
    if not resident_ids:
        return set()
    return set((await session.scalars(WITH_SAFE_ZONE, {"resident_ids": list(resident_ids)})).all())


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_chord = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(half_chord)))


class GeofenceWatch:
    """Compares each position a device reports with its resident's safe zone."""

    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions

    async def apply(
        self,
        session: AsyncSession,
        effects: Effects,
        device: Device,
        resident: Resident,
        event: DeviceEvent,
        *,
        now: datetime,
        device_message_id: int,
    ) -> None:
        zone = SafeZone.of(resident)
        outside = zone.outside(event) if zone is not None and not _stale(event, device) else None
        if outside is None or outside == device.outside_zone:
            return
        was_outside, device.outside_zone = device.outside_zone, outside
        where = f" ({event.region})" if event.region else ""
        fix = _fix(event.position, now) or last_position(device)
        if outside:
            await self._left(session, effects, device, resident, where, fix, now, device_message_id)
        elif was_outside:
            note = f"back in the safe zone{where}"
            await self._note(session, effects, device, resident, "returned", note, fix, now, device_message_id)

    async def _left(
        self,
        session: AsyncSession,
        effects: Effects,
        device: Device,
        resident: Resident,
        where: str,
        fix: Fix | None,
        now: datetime,
        device_message_id: int,
    ) -> None:
        note = f"left the safe zone again{where}"
        if await self._note(session, effects, device, resident, "left_again", note, fix, now, device_message_id):
            return
        new = NewAlert(
            kind=AlertKind.GEOFENCE,
            area_id=resident.area_id,
            resident_id=resident.id,
            device_id=device.id,
            position=fix,
            detail=f"{device.id} left the safe zone{where}" + _fix_note(fix),
            actor=f"device:{device.id}",
            device_message_id=device_message_id,
        )
        await self.actions.raise_alert(session, effects, new, now=now)

    async def _note(
        self,
        session: AsyncSession,
        effects: Effects,
        device: Device,
        resident: Resident,
        kind: str,
        detail: str,
        fix: Fix | None,
        now: datetime,
        device_message_id: int,
    ) -> bool:
        """Write ``detail`` in the log of the resident's geofence alert still in hand; whether there was one."""
        ongoing = await in_hand(session, resident.id, [AlertKind.GEOFENCE])
        if ongoing is None:
            return False
        log_entry(
            session,
            ongoing.id,
            at=now,
            kind=kind,
            detail=detail + _fix_note(fix),
            actor=f"device:{device.id}",
            device_message_id=device_message_id,
        )
        effects.changed_alert_ids.add(ongoing.id)
        return True


def _stale(event: DeviceEvent, device: Device) -> bool:
    """A fix older than the newest one known (a phone sending its history after a time
    offline) tells where the resident was, not where they are."""
    fixed_at = event.position.fixed_at if event.position is not None else None
    return fixed_at is not None and device.last_fix_at is not None and fixed_at < device.last_fix_at


def _fix(position: Position | None, now: datetime) -> Fix | None:
    if position is None:
        return None
    return position.lat, position.lon, position.accuracy_m, position.fixed_at or now


def _fix_note(fix: Fix | None) -> str:
    if fix is None:
        return ""
    lat, lon, accuracy, _ = fix
    return f" at {lat:.5f},{lon:.5f}" + (f" ±{round(accuracy)} m" if accuracy is not None else "")
