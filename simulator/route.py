"""A walk along waypoints at a walking pace: the positions a GPS phone reports on its way."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from simulator.families import Fix

EARTH_RADIUS_M = 6_371_008.8


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def offset(origin: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north and ``east_m`` east of ``origin`` (fine for a neighbourhood)."""
    lat, lon = origin
    d_lat = math.degrees(north_m / EARTH_RADIUS_M)
    d_lon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + d_lat, lon + d_lon


@dataclass(frozen=True, slots=True)
class Route:
    waypoints: Sequence[tuple[float, float]]
    speed_kmh: float = 4.5
    accuracy_m: float = 8.0

    def __post_init__(self) -> None:
        if len(self.waypoints) < 2:
            raise ValueError("a route needs at least two waypoints")
        if self.speed_kmh <= 0:
            raise ValueError("a walking speed is positive")

    @property
    def length_m(self) -> float:
        return sum(distance_m(a, b) for a, b in zip(self.waypoints, self.waypoints[1:], strict=False))

    def fixes(self, every_s: float) -> Iterator[Fix]:
        """A fix every ``every_s`` seconds of walking, from the first waypoint to the last."""
        step_m = self.speed_kmh / 3.6 * every_s
        yield self._fix(self.waypoints[0])
        for start, end in zip(self.waypoints, self.waypoints[1:], strict=False):
            leg = distance_m(start, end)
            steps = max(1, math.ceil(leg / step_m))
            for index in range(1, steps + 1):
                share = index / steps
                yield self._fix((start[0] + (end[0] - start[0]) * share, start[1] + (end[1] - start[1]) * share))

    def _fix(self, point: tuple[float, float]) -> Fix:
        return Fix(point[0], point[1], self.accuracy_m, self.speed_kmh)
