"""Which devices to simulate: read from a directory file, or named on the command line."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import devices
from monitor.directory.file import load_directory
from monitor.directory.model import Directory
from simulator.device import SimulatedDevice
from simulator.families import DeviceSpec, Fix

#: Where GPS devices start when nothing says otherwise (a square in Hangzhou).
DEFAULT_FIX = Fix(30.2741, 120.1551, 12.0)


def spec_for(
    device_id: str,
    protocol: str = "native",
    *,
    kind: str = "button",
    topic: str | None = None,
    serial: str | None = None,
    actions: Mapping[str, str] | None = None,
) -> DeviceSpec:
    """A device spec; the topic defaults to the one the monitor derives for the protocol."""
    adapter = devices.registry().get(protocol)
    if adapter is None:
        raise ValueError(f"unknown protocol {protocol!r}; one of {', '.join(sorted(devices.registry()))}")
    return DeviceSpec(device_id, protocol, kind, topic or adapter.default_topic(device_id), serial, dict(actions or {}))


def specs_from_directory(directory: Directory) -> dict[str, DeviceSpec]:
    return {
        entry.id: spec_for(
            entry.id, entry.protocol, kind=entry.kind, topic=entry.topic, serial=entry.serial, actions=entry.actions
        )
        for entry in directory.devices
    }


def home_fixes(directory: Directory) -> dict[str, Fix]:
    """Each GPS device starts at the centre of its resident's safe zone, when there is one."""
    zones = {resident.id: resident.safe_zone for resident in directory.residents}
    fixes: dict[str, Fix] = {}
    for entry in directory.devices:
        zone = zones.get(entry.resident) if entry.resident is not None else None  # a volunteer's phone has none
        if zone is not None and zone.lat is not None and zone.lon is not None:
            fixes[entry.id] = Fix(zone.lat, zone.lon, 10.0)
    return fixes


def load_roster(path: Path) -> list[SimulatedDevice]:
    """Every device of a directory file, ready to simulate."""
    directory = load_directory(path)
    fixes = home_fixes(directory)
    return [
        SimulatedDevice(spec, fix=fixes.get(device_id, DEFAULT_FIX if spec.kind == "gps_phone" else None))
        for device_id, spec in specs_from_directory(directory).items()
    ]
