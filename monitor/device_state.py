"""What callwatch remembers about each device: last seen, online, battery, signal, position."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from devices.base import DeviceEvent, EventType
from monitor.store.models import Device


def record_sign_of_life(device: Device, events: Iterable[DeviceEvent], now: datetime) -> None:
    """Update ``device`` from a message it sent: any readable message means it is alive,
    unless the message itself says it went offline (a Last Will, an availability topic)."""
    device.last_seen_at = now
    online = True
    for event in events:
        if event.type is EventType.OFFLINE:
            online = False
        elif event.type is EventType.ONLINE:
            online = True
        if event.battery is not None:
            device.battery = event.battery
        if event.signal is not None:
            device.signal = event.signal
        if event.position is not None:
            fixed_at = event.position.fixed_at or now
            if device.last_fix_at is None or fixed_at >= device.last_fix_at:
                device.last_lat = event.position.lat
                device.last_lon = event.position.lon
                device.last_accuracy_m = event.position.accuracy_m
                device.last_fix_at = fixed_at
    device.online = online


def last_position(device: Device) -> tuple[float, float, float | None, datetime | None] | None:
    if device.last_lat is None or device.last_lon is None:
        return None
    return device.last_lat, device.last_lon, device.last_accuracy_m, device.last_fix_at
