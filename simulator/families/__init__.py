"""Simulated device families, one module per family (the same families as ``devices/``),
each exposing ``FAMILY``: the exact topics and payloads that family publishes."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from simulator.families import native, owntracks, shelly, shelly_gen2, tasmota, traccar, zigbee2mqtt
from simulator.families.base import (
    MEANINGS,
    DeviceSpec,
    DeviceState,
    Family,
    Fix,
    Publication,
    Unsupported,
)

FAMILIES: Mapping[str, Family] = MappingProxyType(
    {
        module.FAMILY.protocol: module.FAMILY
        for module in (native, owntracks, zigbee2mqtt, tasmota, shelly, shelly_gen2, traccar)
    }
)


def family(protocol: str) -> Family:
    try:
        return FAMILIES[protocol]
    except KeyError:
        raise Unsupported(f"unknown protocol {protocol!r}; one of {', '.join(sorted(FAMILIES))}") from None


__all__ = ["FAMILIES", "MEANINGS", "DeviceSpec", "DeviceState", "Family", "Fix", "Publication", "Unsupported", "family"]
