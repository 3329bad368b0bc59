"""What a device event does to alerts.

An SOS or fall opens an alert, unless the resident already has one that is not yet
closed: pressing again while help is on its way adds to that alert's log instead of
starting a second escalation. A cancel closes the resident's open alert if nobody has
taken it yet, and tells the person who took it otherwise. A check-in is recorded for the
resident's daily deadline (``monitor.watch.checkins``), and every other event's position is
compared with the resident's safe zone (``monitor.watch.geofence``). Device health (offline, battery) is left to
``monitor.watch``, which works from the device's state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from devices.base import DeviceEvent, EventType
from monitor.actions.alert_actions import AlertActions, NewAlert
from monitor.actions.arrival import arrive_by_position
from monitor.actions.feedback import queue_feedback
from monitor.alerts.in_hand import latest_in_hand
from monitor.alerts.lifecycle import URGENT_KINDS, AlertKind, AlertState
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.oncall.geo import Point
from monitor.store.models import Alert, Device, Resident, Volunteer, VolunteerPhone
from monitor.watch.checkins import CheckinRecorder, is_checkin
from monitor.watch.device_state import last_position
from monitor.watch.geofence import GeofenceWatch

RAISING: dict[EventType, AlertKind] = {EventType.SOS: AlertKind.SOS, EventType.FALL: AlertKind.FALL}
#: The resident's SOS or fall alert that is not closed yet, locked (built once: it runs on every press).
ONGOING_URGENT = latest_in_hand(frozenset(URGENT_KINDS))


def concerns_alerts(device: Device, event: DeviceEvent, *, has_safe_zone: bool) -> bool:
    """Whether ``event`` may raise, change or add to an alert (the handler needs to see it).

    Heartbeats, battery and availability only change the device's state (supervision acts on
    that). A position matters only against a safe zone: a phone without one reports where it
    is thousands of times a day, and each report is kept on the device, never in an alert.
    """
    if event.type in RAISING or event.type is EventType.CANCEL or is_checkin(device, event):
        return True
    return has_safe_zone and tells_a_place(event)


def tells_a_place(event: DeviceEvent) -> bool:
    """Whether ``event`` says where the device is (a position, or a region entered or left)."""
    return event.position is not None or event.type is EventType.GEOFENCE


class DeviceEventHandler:
    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions
        self.checkins = CheckinRecorder(actions)
        self.geofence = GeofenceWatch(actions)

    async def apply(
        self,
        session: AsyncSession,
        effects: Effects,
        device: Device,
        event: DeviceEvent,
        *,
        now: datetime,
        device_message_id: int,
    ) -> None:
        if is_checkin(device, event):
            # Locked after the device and before any alert, the order every writer keeps; a
            # key-share lock (FOR NO KEY UPDATE) still lets others insert alerts about her.
            resident = await session.get(Resident, device.resident_id, with_for_update={"key_share": True})
            if resident is not None:
                await self.checkins.record(session, effects, device, resident, now)
        # An SOS or fall already sends people to the position it carries: no geofence alert beside it.
        if event.type not in RAISING and (event.position is not None or event.type is EventType.GEOFENCE):
            resident = await session.get(Resident, device.resident_id)
            if resident is not None:
                await self.geofence.apply(
                    session, effects, device, resident, event, now=now, device_message_id=device_message_id
                )
        if event.type in RAISING:
            await self._raise(session, effects, device, event, RAISING[event.type], now, device_message_id)
        elif event.type is EventType.CANCEL:
            await self._cancel(session, effects, device, now)

    async def volunteer_located(
        self, session: AsyncSession, effects: Effects, volunteer: Volunteer, phone: VolunteerPhone, *, now: datetime
    ) -> None:
        """A volunteer's phone reported a newer position (kept with their consent): an alert they
        took may be on site now (``monitor.actions.arrival``)."""
        if phone.last_lat is None or phone.last_lon is None or phone.last_fix_at is None:
            return
        await arrive_by_position(
            self.actions,
            session,
            effects,
            volunteer,
            Point(phone.last_lat, phone.last_lon),
            accuracy_m=phone.last_accuracy_m,
            fixed_at=phone.last_fix_at,
            now=now,
        )

    async def _raise(
        self,
        session: AsyncSession,
        effects: Effects,
        device: Device,
        event: DeviceEvent,
        kind: AlertKind,
        now: datetime,
        device_message_id: int,
    ) -> None:
        ongoing = await self._ongoing_urgent(session, device.resident_id)
        if ongoing is not None:
            log_entry(
                session,
                ongoing.id,
                at=now,
                kind="pressed_again",
                detail=f"{kind.value} again while this alert is {ongoing.state}",
                actor=f"device:{device.id}",
                device_message_id=device_message_id,
            )
            effects.changed_alert_ids.add(ongoing.id)
            await queue_feedback(session, effects, ongoing, "received", event_id=event.event_id)
            return
        position = (
            (event.position.lat, event.position.lon, event.position.accuracy_m, event.position.fixed_at or now)
            if event.position is not None
            else last_position(device)
        )
        detail = f"{kind.value} from {device.id}" + (f" ({event.detail})" if event.detail else "")
        new = NewAlert(
            kind,
            detail,
            resident_id=device.resident_id,
            device_id=device.id,
            position=position,
            actor=f"device:{device.id}",
            event_id=event.event_id,
            device_message_id=device_message_id,
        )
        await self.actions.raise_alert(session, effects, new, now=now, answer_device=True)

    async def _cancel(self, session: AsyncSession, effects: Effects, device: Device, now: datetime) -> None:
        ongoing = await self._ongoing_urgent(session, device.resident_id)
        if ongoing is None:
            return
        if ongoing.state == AlertState.OPEN:
            await self.actions.cancel_by_resident(session, effects, ongoing, device=device, now=now)
        else:
            await self.actions.cancel_after_acknowledged(session, effects, ongoing, device=device, now=now)

    async def _ongoing_urgent(self, session: AsyncSession, resident_id: str) -> Alert | None:
        ongoing: Alert | None = await session.scalar(ONGOING_URGENT, {"resident_id": resident_id})
        return ongoing
