"""The simulated devices a scenario needs: its directory's, plus its own [[devices]]."""

from __future__ import annotations

from pathlib import Path

from simulator.device import SimulatedDevice
from simulator.families import Fix
from simulator.roster import DEFAULT_FIX, load_roster, spec_for
from simulator.scenario.model import Scenario


def scenario_devices(scenario: Scenario, directory_path: Path | None) -> list[SimulatedDevice]:
    found = {device.id: device for device in (load_roster(directory_path) if directory_path else [])}
    for entry in scenario.devices:
        spec = spec_for(
            entry.id, entry.protocol, kind=entry.kind, topic=entry.topic, serial=entry.serial, actions=entry.actions
        )
        fix = Fix(entry.lat, entry.lon) if entry.lat is not None and entry.lon is not None else None
        if fix is None and entry.kind == "gps_phone":
            fix = DEFAULT_FIX
        found[entry.id] = SimulatedDevice(spec, battery=entry.battery, fix=fix)
    return list(found.values())
