"""What a simulated device can be told to do, shared by the one-off subcommands
(``callwatch-sim press btn-0001``) and the interactive mode (``press btn-0001``).

Each action takes its values as words (``battery btn-1 12``, ``locate ph-1 30.27 120.15``)
and reports what went over MQTT, line by line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from simulator.device import SimulatedDevice
from simulator.families import Fix, Publication, Unsupported
from simulator.fleet import Fleet
from simulator.route import Route

Report = Callable[[str], None]
Run = Callable[[Fleet, SimulatedDevice, Sequence[str], Report], Awaitable[None]]
Number = TypeVar("Number", int, float)


class ActionError(ValueError):
    """Wrong values for an action; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class DeviceAction:
    name: str
    usage: str
    help: str
    run: Run


def shown(publication: Publication) -> str:
    flag = " (retained)" if publication.retain else ""
    return f"→ {publication.topic}{flag} {publication.payload.decode(errors='replace')}"


async def _send(fleet: Fleet, device: SimulatedDevice, publications: list[Publication], report: Report) -> None:
    await fleet.publish(device.id, publications)
    for publication in publications:
        report(shown(publication))


def _press_as(meaning: str) -> Run:
    async def press(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
        await _send(fleet, device, device.press(values[0] if values else meaning), report)

    return press


async def _heartbeat(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    await _send(fleet, device, device.heartbeat(), report)


async def _battery(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    level = _number(values, 0, "PERCENT", int)
    await _send(fleet, device, device.battery_report(level), report)


async def _locate(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    lat, lon = _number(values, 0, "LAT", float), _number(values, 1, "LON", float)
    accuracy = _number(values, 2, "ACC", float) if len(values) > 2 else 10.0
    await _send(fleet, device, device.location(Fix(lat, lon, accuracy)), report)


async def _region(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    if len(values) != 2:
        raise ActionError("give the region's name and enter or leave")
    await _send(fleet, device, device.region(values[0], values[1]), report)


async def _walk(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    """``walk ph-1 30.2741,120.1551 30.2790,120.1610 [every=5] [speed=4.5]``."""
    points, options = [], {"every": 5.0, "speed": 4.5}
    for word in values:
        if "=" in word:
            key, _, value = word.partition("=")
            if key not in options:
                raise ActionError(f"unknown option {key!r}; use every=SECONDS or speed=KMH")
            options[key] = _parse(value, float, key)
        else:
            lat, _, lon = word.partition(",")
            points.append((_parse(lat, float, "LAT"), _parse(lon, float, "LON")))
    try:
        route = Route(points, options["speed"])
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    report(f"walking {route.length_m:.0f} m at {route.speed_kmh:g} km/h, a fix every {options['every']:g} s")
    for index, fix in enumerate(route.fixes(options["every"])):
        if index:
            await asyncio.sleep(options["every"])
        await _send(fleet, device, device.location(fix), report)


async def _offline(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    will = device.availability(False)
    await fleet.drop(device.id)
    if device.has_last_will:
        report(f"connection cut without DISCONNECT: the broker publishes the Last Will {shown(will)}")
    else:
        report(f"the gateway reports the device gone: {shown(will)}")


async def _online(fleet: Fleet, device: SimulatedDevice, values: Sequence[str], report: Report) -> None:
    await fleet.come_online(device.id)
    report(shown(device.availability(True)))


def _number(values: Sequence[str], index: int, name: str, kind: type[Number]) -> Number:
    if len(values) <= index:
        raise ActionError(f"{name} is missing")
    return _parse(values[index], kind, name)


def _parse(text: str, kind: type[Number], name: str) -> Number:
    try:
        return kind(text)
    except ValueError:
        raise ActionError(f"{name} must be a number, not {text!r}") from None


ACTIONS = MappingProxyType(
    {
        action.name: action
        for action in (
            DeviceAction("press", "[MEANING]", "press: sos, or MEANING (fall, cancel, checkin)", _press_as("sos")),
            DeviceAction("cancel", "", "the resident cancels (a press meaning cancel)", _press_as("cancel")),
            DeviceAction("fall", "", "fall detected (GPS watches, native devices)", _press_as("fall")),
            DeviceAction("checkin", "", "the daily check-in", _press_as("checkin")),
            DeviceAction("heartbeat", "", "the family's periodic sign of life", _heartbeat),
            DeviceAction("battery", "PERCENT", "report the battery at PERCENT", _battery),
            DeviceAction("locate", "LAT LON [ACC]", "report a position", _locate),
            DeviceAction("walk", "LAT,LON LAT,LON... [every=S] [speed=KMH]", "walk a route, reporting fixes", _walk),
            DeviceAction("region", "NAME enter|leave", "the device's own geofence transition", _region),
            DeviceAction("offline", "", "go away abruptly (a real Last Will at the broker)", _offline),
            DeviceAction("online", "", "connect (with a Last Will) and say online", _online),
        )
    }
)


async def perform(fleet: Fleet, device_id: str, name: str, values: Sequence[str], report: Report) -> None:
    """Run one action; ``ActionError``/``Unsupported``/``KeyError`` carry a readable message."""
    action = ACTIONS.get(name)
    if action is None:
        raise ActionError(f"unknown action {name!r}; one of {', '.join(ACTIONS)}")
    await action.run(fleet, fleet.device(device_id), values, report)


__all__ = ["ACTIONS", "ActionError", "DeviceAction", "Unsupported", "perform", "shown"]
