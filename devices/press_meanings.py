"""Turning button presses into what they mean for one device.

Families report presses in their own words (``single``, ``long_push``, ``SINGLE``...). The
directory may map each to ``sos``, ``fall``, ``cancel``, ``checkin`` or ``none`` per device;
otherwise the device kind decides: any press of an emergency button is an SOS, any press
of a check-in button is a check-in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from devices.base import DeviceEvent, DeviceProfile, EventType

PRESS_MEANINGS: frozenset[str] = frozenset({"sos", "fall", "cancel", "checkin", "none"})

KIND_DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "button": {"*": "sos"},
    "checkin_button": {"*": "checkin"},
    "gps_phone": {},
}


def meaning_of(action: str, device: DeviceProfile) -> str:
    """What a press with this action means for this device (``none`` when nothing)."""
    normalized = action.strip().lower()
    explicit = {key.strip().lower(): value for key, value in device.action_map.items()}
    for table in (explicit, KIND_DEFAULTS.get(device.kind, {})):
        if normalized in table:
            return table[normalized]
        if "*" in table:
            return table["*"]
    return "none"


def resolve_presses(events: Iterable[DeviceEvent], device: DeviceProfile) -> tuple[DeviceEvent, ...]:
    """Replace each PRESS by the event it means for this device, dropping presses that mean nothing."""
    resolved: list[DeviceEvent] = []
    for event in events:
        if event.type is not EventType.PRESS:
            resolved.append(event)
            continue
        meaning = meaning_of(event.action or "", device)
        if meaning != "none":
            resolved.append(replace(event, type=EventType(meaning)))
    return tuple(resolved)
