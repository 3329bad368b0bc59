"""Inside or outside a safe zone."""

from __future__ import annotations

from devices.base import DeviceEvent, EventType, Position
from monitor.watch.geofence import SafeZone, distance_m

HOME = SafeZone(30.2741, 120.1551, 300.0, "home")


def at(lat: float, lon: float, accuracy_m: float | None = None) -> DeviceEvent:
    return DeviceEvent(EventType.LOCATION, position=Position(lat, lon, accuracy_m))


def test_distance_is_great_circle_metres() -> None:
    assert round(distance_m(30.2741, 120.1551, 30.2741 + 0.01, 120.1551)) == 1112
    assert round(distance_m(48.8566, 2.3522, 47.3769, 8.5417) / 1000) == 488  # Paris to Zurich


def test_positions_inside_outside_and_too_vague_to_tell() -> None:
    assert HOME.outside(at(30.2741, 120.1551)) is False
    assert HOME.outside(at(30.2941, 120.1551, 20)) is True  # 2.2 km away
    assert HOME.outside(at(30.2741 + 0.0036, 120.1551, 200)) is None  # 400 m away, ±200 m
    assert HOME.outside(at(30.2741 + 0.0036, 120.1551, 50)) is True


def test_the_devices_own_region_is_believed() -> None:
    leave = DeviceEvent(EventType.GEOFENCE, region="Home", transition="leave", position=Position(30.2741, 120.1551))
    enter = DeviceEvent(EventType.GEOFENCE, region="home", transition="enter")
    assert HOME.outside(leave) is True  # whatever the fix says
    assert HOME.outside(enter) is False
    other = DeviceEvent(EventType.GEOFENCE, region="market", transition="leave")
    assert HOME.outside(other) is None


def test_a_zone_known_only_by_region_ignores_positions() -> None:
    region_only = SafeZone(None, None, None, "home")
    assert region_only.outside(at(0.0, 0.0)) is None
