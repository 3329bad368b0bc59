"""Device health: offline, back online, battery low and well again, turned into alerts.

Ingest keeps each device's state (``monitor.watch.device_state``) and sets ``review_at``; this
pass looks at the devices whose time has come. A device silent for two heartbeat intervals
(``[supervision]`` sets the numbers) plus grace is marked offline here. An offline device is
judged once it has stayed offline for the settle time, together with every other device of
its area offline and not yet covered by an alert: joined to the area's ongoing outage, or
``outage_min_devices`` or more of them become one ``area_outage`` alert, or else each gets
its own ``device_offline``.
A device back online ends its own alert and, once all its devices are back, the outage.
Devices are locked with SKIP LOCKED: a device whose message ingest is handling right now is
alive anyway, and is looked at again on the next pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, NewAlert
from monitor.alerts.lifecycle import TAKEN, AlertKind, AlertState, Outcome, transition
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.store.models import Alert, AlertDevice, Device, Resident
from monitor.watch.device_state import last_position
from monitor.watch.rules import SupervisionRules

REVIEW_BATCH = 500
ONGOING = (AlertState.OPEN.value, *(state.value for state in TAKEN))


class DeviceHealth:
    def __init__(self, actions: AlertActions, rules: SupervisionRules) -> None:
        self.actions = actions
        self.rules = rules

    async def review_due(self, session: AsyncSession, effects: Effects, now: datetime) -> int:
        """Review every device whose ``review_at`` has come; how many were reviewed."""
        due = (
            await session.scalars(
                select(Device)
                .where(*devices_due(now))
                .order_by(Device.id)
                .limit(REVIEW_BATCH)
                .with_for_update(skip_locked=True, key_share=True)
            )
        ).all()
        settled: list[Device] = []
        for device in due:
            if device.online is not False and (silent := self.rules.silent_after(device)) is not None and silent <= now:
                device.online, device.offline_at = False, silent
            if device.online is False:
                if (
                    not device.offline_noticed
                    and device.offline_at
                    and device.offline_at + self.rules.offline_settle <= now
                ):
                    settled.append(device)
            elif device.offline_noticed:
                await self._back_online(session, effects, device, now)
            await self._battery(session, effects, device, now)
        await self._judge_offline(session, effects, settled, now)
        for device in due:
            device.review_at = self.rules.next_review(device, now)
        return len(due)

    # -- offline ------------------------------------------------------------------------------

    async def _judge_offline(
        self, session: AsyncSession, effects: Effects, settled: Sequence[Device], now: datetime
    ) -> None:
        by_area: dict[str, list[Device]] = defaultdict(list)
        for device in settled:
            resident = await session.get(Resident, device.resident_id)
            if resident is not None:
                by_area[resident.area_id].append(device)
        for area_id, devices in by_area.items():
            # every device of the area offline and not yet covered: they dropped within the settle window
            pending = (
                await session.scalars(
                    select(Device)
                    .join(Resident, Resident.id == Device.resident_id)
                    .where(
                        Resident.area_id == area_id,
                        Device.active.is_(True),
                        Device.online.is_(False),
                        Device.offline_noticed.is_(False),
                    )
                    .order_by(Device.id)
                    .with_for_update(skip_locked=True, of=Device, key_share=True)
                )
            ).all()
            outage = await session.scalar(
                select(Alert)
                .where(Alert.area_id == area_id, Alert.kind == AlertKind.AREA_OUTAGE.value, Alert.state.in_(ONGOING))
                .order_by(Alert.id.desc())
                .limit(1)
                .with_for_update()
            )
            if outage is not None:
                await self._join_outage(session, effects, outage, pending, now)
            elif len(pending) >= self.rules.outage_min_devices:
                await self._raise_outage(session, effects, area_id, pending, now)
            else:
                for device in devices:
                    await self._raise_device_offline(session, effects, area_id, device, now)

    async def _raise_device_offline(
        self, session: AsyncSession, effects: Effects, area_id: str, device: Device, now: datetime
    ) -> None:
        last_seen = device.last_seen_at.isoformat(timespec="seconds") if device.last_seen_at else "never"
        new = NewAlert(
            kind=AlertKind.DEVICE_OFFLINE,
            area_id=area_id,
            resident_id=device.resident_id,
            device_id=device.id,
            position=last_position(device),
            detail=f"{device.id} offline since {_at(device.offline_at)}; last message {last_seen}",
        )
        await self.actions.raise_alert(session, effects, new, now=now)
        device.offline_noticed = True

    async def _raise_outage(
        self, session: AsyncSession, effects: Effects, area_id: str, devices: Sequence[Device], now: datetime
    ) -> None:
        new = NewAlert(
            kind=AlertKind.AREA_OUTAGE,
            area_id=area_id,
            detail=f"{len(devices)} devices offline together: {_names(devices)}",
        )
        alert = await self.actions.raise_alert(session, effects, new, now=now)
        session.add_all(AlertDevice(alert_id=alert.id, device_id=device.id) for device in devices)
        for device in devices:
            device.offline_noticed = True

    async def _join_outage(
        self, session: AsyncSession, effects: Effects, outage: Alert, devices: Sequence[Device], now: datetime
    ) -> None:
        listed = set(
            (await session.scalars(select(AlertDevice.device_id).where(AlertDevice.alert_id == outage.id))).all()
        )
        # a device back and gone again while the outage lasts is listed already
        session.add_all(
            AlertDevice(alert_id=outage.id, device_id=device.id) for device in devices if device.id not in listed
        )
        log_entry(session, outage.id, at=now, kind="also_offline", detail=_names(devices))
        effects.changed_alert_ids.add(outage.id)
        for device in devices:
            device.offline_noticed = True

    async def _back_online(self, session: AsyncSession, effects: Effects, device: Device, now: datetime) -> None:
        """End what covered the device's offline episode: its own alert, or its share of an outage."""
        device.offline_noticed = False
        own = await session.scalars(
            select(Alert)
            .where(Alert.device_id == device.id, Alert.kind == AlertKind.DEVICE_OFFLINE.value, Alert.state.in_(ONGOING))
            .with_for_update()
        )
        for alert in own:
            self._clear(session, effects, alert, now, f"{device.id} is back online")
        outages = await session.scalars(
            select(Alert)
            .join(AlertDevice, AlertDevice.alert_id == Alert.id)
            .where(AlertDevice.device_id == device.id, Alert.state.in_(ONGOING))
            .with_for_update(of=Alert)
        )
        for outage in outages:
            still_offline = await session.scalar(
                select(func.count())
                .select_from(AlertDevice)
                .join(Device, Device.id == AlertDevice.device_id)
                .where(AlertDevice.alert_id == outage.id, Device.online.is_(False))
            )
            if still_offline:
                log_entry(
                    session,
                    outage.id,
                    at=now,
                    kind="back_online",
                    detail=f"{device.id} is back online; {still_offline} still offline",
                )
                effects.changed_alert_ids.add(outage.id)
            else:
                self._clear(session, effects, outage, now, f"every device is back online, {device.id} last")

    # -- battery --------------------------------------------------------------------------------

    async def _battery(self, session: AsyncSession, effects: Effects, device: Device, now: datetime) -> None:
        if device.battery_low and not device.battery_noticed:
            resident = await session.get(Resident, device.resident_id)
            level = f"{device.battery}%" if device.battery is not None else "low by the device's own report"
            new = NewAlert(
                kind=AlertKind.LOW_BATTERY,
                area_id=resident.area_id if resident else None,
                resident_id=device.resident_id,
                device_id=device.id,
                position=last_position(device),
                detail=(
                    f"{device.id} battery {level} (low at {self.rules.battery_low_at}%, "
                    f"well again at {self.rules.battery_cleared_at}%)"
                ),
            )
            await self.actions.raise_alert(session, effects, new, now=now)
            device.battery_noticed = True
        elif device.battery_noticed and not device.battery_low:
            device.battery_noticed = False
            alerts = await session.scalars(
                select(Alert)
                .where(
                    Alert.device_id == device.id, Alert.kind == AlertKind.LOW_BATTERY.value, Alert.state.in_(ONGOING)
                )
                .with_for_update()
            )
            for alert in alerts:
                self._clear(session, effects, alert, now, f"{device.id} battery at {device.battery}%")

    def _clear(self, session: AsyncSession, effects: Effects, alert: Alert, now: datetime, detail: str) -> None:
        """The condition ended by itself: resolve the alert as cleared."""
        session.add(
            transition(alert, AlertState.RESOLVED, at=now, actor="system", detail=detail, outcome=Outcome.CLEARED)
        )
        effects.changed_alert_ids.add(alert.id)


def devices_due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Devices whose review has come; never a retired one (handed back: nobody supervises it)."""
    return (Device.active.is_(True), Device.review_at <= now)


def _at(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "?"


def _names(devices: Sequence[Device]) -> str:
    return ", ".join(device.id for device in devices)
