"""What a load run sends: how many devices, how fast, how many presses, over how many connections."""

from __future__ import annotations

from dataclasses import dataclass

#: Load devices are native buttons and phones named <prefix><number>, spread over a few areas.
DEFAULT_PREFIX = "load-"


@dataclass(frozen=True, slots=True)
class LoadPlan:
    devices: int = 1000
    #: heartbeats and locations per second, all devices together
    rate: float = 100.0
    #: SOS presses per second mixed in (each from another device, each a new event id)
    sos_rate: float = 0.0
    duration_s: float = 30.0
    #: MQTT connections shared by all devices (a few gateways, not one connection per device)
    connections: int = 4
    #: share of background messages that are locations (the rest are heartbeats)
    location_share: float = 0.3
    prefix: str = DEFAULT_PREFIX
    #: the generator pauses when this many messages wait for the broker's confirmation
    window: int = 20_000

    def __post_init__(self) -> None:
        if not 1 <= self.devices <= 1_000_000:
            raise ValueError("devices must be between 1 and 1,000,000")
        if self.rate < 0 or self.sos_rate < 0:
            raise ValueError("rates cannot be negative")
        if self.duration_s <= 0:
            raise ValueError("duration must be positive")
        if not 1 <= self.connections <= 64:
            raise ValueError("connections must be between 1 and 64")
        if not 0 <= self.location_share <= 1:
            raise ValueError("location share is between 0 and 1")

    def device_id(self, index: int) -> str:
        return f"{self.prefix}{index % self.devices:06d}"
