"""What callwatch remembers about each device: last seen, online, battery, signal, position."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import NO_VALUE

from devices.base import DeviceEvent, EventType
from monitor.store.models import Device
from monitor.supervision.rules import SupervisionRules


def record_sign_of_life(
    device: Device, events: Iterable[DeviceEvent], now: datetime, *, retained: bool, rules: SupervisionRules
) -> None:
    """Update ``device`` from a message it sent: any readable message means it is alive,
    unless the message itself says it went offline (a Last Will, an availability topic).

    A retained message is the broker replaying old state when we subscribe, not a sign of
    life: only what it says about availability (always retained) and a position newer than
    the one we know are taken from it.

    Supervision (``monitor.supervision``) raises and ends the alerts these changes imply;
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
    device: Device, events: Iterable[DeviceEvent], now: datetime, rules: SupervisionRules
) -> None:
    for event in events:
        if event.type in (EventType.ONLINE, EventType.OFFLINE):
            _record_availability(device, event.type is EventType.ONLINE, now, rules)
        if event.position is not None and event.position.fixed_at is not None:
            _record_position(device, event, now)


def _record_position(device: Device, event: DeviceEvent, now: datetime) -> None:
    if event.position is None:
        return
    fixed_at = event.position.fixed_at or now
    if device.last_fix_at is None or fixed_at >= device.last_fix_at:
        device.last_lat = event.position.lat
        device.last_lon = event.position.lon
        device.last_accuracy_m = event.position.accuracy_m
        device.last_fix_at = fixed_at


def _record_availability(device: Device, online: bool, now: datetime, rules: SupervisionRules) -> None:
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


async def write_device_states(session: AsyncSession, changed: Iterable[Device]) -> None:
    """Write what a batch of messages changed on its devices: one UPDATE per shape of change.

    The ORM would write each device by itself; a burst of heartbeats from thousands of
    devices is one statement this way. The devices are left clean in the session, so later
    changes (an alert's handling) are flushed as usual.
    """
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    unique = {id(device): device for device in changed}.values()
    for device in unique:
        state = inspect(device)
        # The attributes set since the device was loaded (cheaper than asking each one's history),
        # leaving out those set to what they were: a heartbeat sets "online" every time.
        assigned = {key: state.dict[key] for key in state.committed_state if key not in _KEYS}
        for key, value in list(assigned.items()):
            old = state.committed_state[key]
            set_committed_value(device, key, value)
            if old is not NO_VALUE and old == value:
                del assigned[key]
        if assigned:
            by_columns.setdefault(tuple(sorted(assigned)), []).append({"key_id": device.id, **assigned})
    for columns, rows in by_columns.items():
        await session.execute(_state_update(columns), rows)


@lru_cache(maxsize=256)
def _state_update(columns: tuple[str, ...]) -> Update:
    """The UPDATE of these device columns, built once per shape (the shapes are few)."""
    table = cast(Table, Device.__table__)
    values: dict[str, Any] = {column: bindparam(column) for column in columns}
    return update(table).where(table.c.id == bindparam("key_id")).values(values)


_KEYS = frozenset({"id"})
