"""What every simulated device family has in common: publications, the device's own state,
and the ``Family`` interface each module in this package implements.

A family turns "this device did X" into the exact MQTT messages that family's real
hardware (or gateway) publishes: its own topics, its own payload shapes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from devices.base import DeviceProfile
from devices.press_meanings import meaning_of

#: What a press can mean to the monitor (the directory's action vocabulary, less "none").
MEANINGS: tuple[str, ...] = ("sos", "fall", "cancel", "checkin")


class Unsupported(ValueError):
    """The family cannot say this (a Tasmota relay has no battery, Traccar has no cancel...)."""


@dataclass(frozen=True, slots=True)
class Publication:
    """One MQTT message exactly as the device (or its gateway) publishes it."""

    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 1

    @classmethod
    def json(cls, topic: str, body: Mapping[str, object], *, retain: bool = False) -> Publication:
        return cls(topic, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), retain)

    @classmethod
    def text(cls, topic: str, body: str, *, retain: bool = False) -> Publication:
        return cls(topic, body.encode(), retain)


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """What the directory says about a device: enough to speak for it."""

    id: str
    protocol: str = "native"
    kind: str = "button"
    topic: str = ""
    serial: str | None = None
    actions: Mapping[str, str] = field(default_factory=dict)

    def profile(self) -> DeviceProfile:
        return DeviceProfile(self.id, self.kind, self.topic, self.serial, dict(self.actions))


@dataclass(frozen=True, slots=True)
class Fix:
    lat: float
    lon: float
    accuracy_m: float = 10.0
    speed_kmh: float = 0.0


@dataclass
class DeviceState:
    """A simulated device's own state: battery, last fix, counters its family keeps."""

    spec: DeviceSpec
    battery: int = 100
    fix: Fix | None = None
    #: per-family counters (Shelly's event_cnt, Traccar's event ids, zigbee's sos state...)
    counters: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    #: makes event ids unique across runs of the simulator (the monitor drops repeated ids)
    run_tag: str = field(default_factory=lambda: format(time.time_ns() // 1_000_000, "x"))

    def next_number(self, name: str, start: int = 1) -> int:
        value = self.counters.get(name, start - 1) + 1
        self.counters[name] = value
        return value

    def event_id(self) -> str:
        """Unique per device and run: a counter after the run's start time."""
        return f"{self.run_tag}-{self.next_number('event')}"

    def action_for(self, meaning: str, actions: tuple[str, ...]) -> str:
        """The first of the family's ``actions`` that this device's directory entry makes mean ``meaning``."""
        profile = self.spec.profile()
        for action in actions:
            if meaning_of(action, profile) == meaning:
                return action
        raise Unsupported(
            f"{self.spec.id} ({self.spec.protocol} {self.spec.kind}): no press means {meaning!r}; map one of "
            f'{", ".join(actions)} to it in the directory, e.g. actions = {{ {actions[-1]} = "{meaning}" }}'
        )


class PositionlessFamily:
    """What the families of plain buttons and relays answer when asked where a device is: they
    report no position and know no regions. ``devices`` names them in that answer."""

    #: the family's devices as the answer names them ("Shelly buttons", "Tasmota devices")
    devices: str

    def location(self, device: DeviceState) -> list[Publication]:
        raise Unsupported(f"{device.spec.id}: {self.devices} report no position")

    def region(self, device: DeviceState, name: str, transition: str) -> list[Publication]:
        raise Unsupported(f"{device.spec.id}: {self.devices} know no regions")


class Family(Protocol):
    """One device family's messages. Methods raise ``Unsupported`` for what it cannot say."""

    protocol: str
    #: press actions this family's buttons report, most common first
    press_actions: tuple[str, ...]
    #: whether the device holds its own MQTT connection with a Last Will (else a gateway speaks for it)
    has_last_will: bool

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        """A press that the monitor will read as ``meaning`` (sos, fall, cancel, checkin)."""
        ...

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        """The family's periodic sign of life."""
        ...

    def battery_report(self, device: DeviceState) -> list[Publication]:
        """A report carrying ``device.battery``."""
        ...

    def location(self, device: DeviceState) -> list[Publication]:
        """A position report from ``device.fix``."""
        ...

    def region(self, device: DeviceState, name: str, transition: str) -> list[Publication]:
        """The device's own geofence report: ``transition`` is enter or leave."""
        ...

    def availability(self, device: DeviceState, online: bool) -> Publication:
        """The retained online/offline message; offline is the Last Will where the family has one."""
        ...
