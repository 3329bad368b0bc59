"""What callwatch remembers about each device: last seen, online, battery, signal, position.

The rules here work on a ``DeviceState``: ingest's plain copy of the columns a message can
change, written back once per batch (tuning, with its figure: ``monitor.watch.state_copies``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from devices.base import DeviceEvent, EventType
from monitor.store.models import Device
from monitor.watch.rules import SupervisionRules
from monitor.watch.state_copies import DeviceState

__all__ = ["DeviceState", "last_position", "record_sign_of_life"]


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
