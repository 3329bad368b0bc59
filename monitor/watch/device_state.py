"""What callwatch remembers about each device: last seen, online, battery, signal, position.

Ingest works on a ``DeviceState``, a plain copy of the columns a message can change, and
writes what changed back in one UPDATE per batch: setting the ORM's instrumented attributes
(and flushing them) cost a third of ingest's time per heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from devices.base import DeviceEvent, EventType
from monitor.store.models import Device
from monitor.watch.rules import SupervisionRules


@dataclass(slots=True)
class DeviceState:
    """The columns of one device that its messages change, as plain values."""

    #: read only: what supervision's rules need beside the state
    heartbeat_s: int
    offline_noticed: bool
    battery_noticed: bool
    #: written back when changed
    adapter_state: dict[str, Any]
    online: bool | None
    last_seen_at: datetime | None
    offline_at: datetime | None
    battery: int | None
    battery_low: bool
    signal: int | None
    last_lat: float | None
    last_lon: float | None
    last_accuracy_m: float | None
    last_fix_at: datetime | None
    review_at: datetime | None
    #: the written columns' values when copied, to tell what changed
    loaded: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(cls, device: Device) -> DeviceState:
        values = _copied_columns(device)
        state = cls(*values)
        state.loaded = values[len(READ_ONLY) :]
        return state

    def changed(self) -> dict[str, Any]:
        """The written columns whose value differs from the one copied."""
        return {
            name: value
            for name, before in zip(WRITTEN, self.loaded, strict=True)
            if (value := getattr(self, name)) != before
        }


#: the columns of ``DeviceState`` that supervision's rules read and ingest never changes
READ_ONLY = ("heartbeat_s", "offline_noticed", "battery_noticed")
#: the columns of ``DeviceState`` that are written back, in declaration order
WRITTEN: tuple[str, ...] = tuple(
    column.name for column in fields(DeviceState) if column.name not in {*READ_ONLY, "loaded"}
)
#: the device's values of both, in ``DeviceState``'s field order (one C call per device)
_copied_columns = attrgetter(*READ_ONLY, *WRITTEN)


def record_sign_of_life(
    device: DeviceState, events: Iterable[DeviceEvent], now: datetime, *, retained: bool, rules: SupervisionRules
) -> None:
    """Update ``device`` from a message it sent: any readable message means it is alive,
    unless the message itself says it went offline (a Last Will, an availability topic).

    A retained message is the broker replaying old state when we subscribe, not a sign of
    life: only what it says about availability (always retained) and a position newer than
    the one we know are taken from it.

    Supervision (``monitor.watch``) raises and ends the alerts these changes imply;
    ``review_at`` tells it when to look.
    """
    if retained:
        _record_replayed_state(device, events, now, rules)
        return
    device.last_seen_at = now
    online = True
    for event in events:
        if event.type is EventType.OFFLINE:
            online = False
        elif event.type is EventType.ONLINE:
            online = True
        if event.battery is not None or event.type is EventType.LOW_BATTERY:
            device.battery_low = rules.battery_now_low(
                device.battery_low, event.battery, device_says_low=event.type is EventType.LOW_BATTERY
            )
        if event.battery is not None:
            device.battery = event.battery
        if event.signal is not None:
            device.signal = event.signal
        _record_position(device, event, now)
    _record_availability(device, online, now, rules)


def _record_replayed_state(
    device: DeviceState, events: Iterable[DeviceEvent], now: datetime, rules: SupervisionRules
) -> None:
    for event in events:
        if event.type in (EventType.ONLINE, EventType.OFFLINE):
            _record_availability(device, event.type is EventType.ONLINE, now, rules)
        if event.position is not None and event.position.fixed_at is not None:
            _record_position(device, event, now)


def _record_position(device: DeviceState, event: DeviceEvent, now: datetime) -> None:
    if event.position is None:
        return
    fixed_at = event.position.fixed_at or now
    if device.last_fix_at is None or fixed_at >= device.last_fix_at:
        device.last_lat = event.position.lat
        device.last_lon = event.position.lon
        device.last_accuracy_m = event.position.accuracy_m
        device.last_fix_at = fixed_at


def _record_availability(device: DeviceState, online: bool, now: datetime, rules: SupervisionRules) -> None:
    if online:
        device.offline_at = None
    elif device.online is not False or device.offline_at is None:
        device.offline_at = now  # a repeated Last Will keeps the time it first went offline
    device.online = online
    device.review_at = rules.next_review(device, now)


def last_position(device: Device) -> tuple[float, float, float | None, datetime | None] | None:
    if device.last_lat is None or device.last_lon is None:
        return None
    return device.last_lat, device.last_lon, device.last_accuracy_m, device.last_fix_at


async def write_device_states(session: AsyncSession, states: Iterable[tuple[Device, DeviceState]]) -> None:
    """Write what a batch of messages changed on its devices: one UPDATE per shape of change.

    Each device in the session takes its new values as committed ones, so whatever reads it
    later in the transaction (an alert's handling) sees them, and the ORM has nothing to flush.
    """
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for device, state in states:
        changed = state.changed()
        if not changed:
            continue
        for name, value in changed.items():
            set_committed_value(device, name, value)
        by_columns.setdefault(tuple(sorted(changed)), []).append({"key_id": device.id, **changed})
    for columns, rows in by_columns.items():
        await session.execute(_state_update(columns), rows)


@lru_cache(maxsize=256)
def _state_update(columns: tuple[str, ...]) -> Update:
    """The UPDATE of these device columns, built once per shape (the shapes are few)."""
    table = cast(Table, Device.__table__)
    values: dict[str, Any] = {column: bindparam(column) for column in columns}
    return update(table).where(table.c.id == bindparam("key_id")).values(values)
