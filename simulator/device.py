"""A simulated device: what the directory says about it, its own state, and its family's messages."""

from __future__ import annotations

import time
from collections.abc import Callable

from simulator.families import MEANINGS, DeviceSpec, DeviceState, Fix, Publication, Unsupported, family


class SimulatedDevice:
    """Builds the messages a device of its family publishes; sending is the fleet's job."""

    def __init__(
        self,
        spec: DeviceSpec,
        *,
        battery: int = 100,
        fix: Fix | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.family = family(spec.protocol)
        self.spec = spec
        self.state = DeviceState(spec, battery=battery, fix=fix, clock=clock)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def has_last_will(self) -> bool:
        return self.family.has_last_will

    def press(self, meaning: str = "sos") -> list[Publication]:
        if meaning not in MEANINGS:
            raise Unsupported(f"a press means one of {', '.join(MEANINGS)}, not {meaning!r}")
        return self.family.press(self.state, meaning)

    def heartbeat(self) -> list[Publication]:
        return self.family.heartbeat(self.state)

    def battery_report(self, percent: int | None = None) -> list[Publication]:
        if percent is not None:
            self.state.battery = max(0, min(100, percent))
        return self.family.battery_report(self.state)

    def location(self, fix: Fix | None = None) -> list[Publication]:
        if fix is not None:
            self.state.fix = fix
        return self.family.location(self.state)

    def region(self, name: str, transition: str) -> list[Publication]:
        if transition not in ("enter", "leave"):
            raise Unsupported(f"a region transition is enter or leave, not {transition!r}")
        return self.family.region(self.state, name, transition)

    def availability(self, online: bool) -> Publication:
        return self.family.availability(self.state, online)
