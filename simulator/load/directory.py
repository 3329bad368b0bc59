"""A directory file for the load devices, so that a monitor knows every one of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from simulator.directory_entries import TomlValue, entry
from simulator.load.plan import LoadPlan

AREAS = 10
RESPONDER_PHONE = "+8613900000001"
STAFF_PHONE = "+8613900000100"


def area_id(number: int) -> str:
    return f"load-area-{number}"


def directory_lines(
    plan: LoadPlan,
    *,
    ack_timeout_s: int = 3600,
    second_tier_timeout_s: int | None = None,
    pressers: Iterable[str] = (),
) -> Iterator[str]:
    """TOML entries: areas, one resident per device, a responder per area, a policy; and
    ``pressing_residents`` for ``pressers``.

    With ``second_tier_timeout_s``, the policy has a second tier (the leader) and duty staff
    hear about what nobody took: what an escalation benchmark needs.
    """
    for area in range(AREAS):
        yield entry("areas", id=area_id(area), name=f"Load area {area}")
    for index in range(plan.devices):
        device_id = plan.device_id(index)
        kind = "gps_phone" if index % 4 == 3 else "button"
        resident = entry(
            "residents",
            id=f"r-{device_id}",
            name=f"Resident {device_id}",
            address=f"{index} Load Street",
            area=area_id(index % AREAS),
            language="en",
        )
        yield resident + entry("devices", id=device_id, resident=f"r-{device_id}", kind=kind, protocol="native")
    areas = [area_id(area) for area in range(AREAS)]
    yield entry("volunteers", id="v-load", name="Load Responder", phone=RESPONDER_PHONE, areas=areas, language="en")
    tiers: list[TomlValue] = [{"notify": ["area"], "ack_timeout_s": ack_timeout_s}]
    if second_tier_timeout_s is not None:
        # English, as everyone here: each person reads their own language, and benchmarks read the codes
        yield entry(
            "volunteers", id="v-leader", name="Load Leader", phone="+8613900000009", role="leader", language="en"
        )
        yield entry("volunteers", id="duty", name="Duty Desk", phone=STAFF_PHONE, role="staff", language="en")
        tiers.append({"notify": ["role:leader"], "ack_timeout_s": second_tier_timeout_s})
    yield entry("policies", id="default", tiers=tiers)
    yield from pressing_residents(pressers, area_id(0))


def pressing_residents(devices: Iterable[str], area: str) -> Iterator[str]:
    """A resident for each device, named after it: the SMS names the device that was pressed, so
    latency benchmarks can tell which press an SMS answers."""
    for device in devices:
        resident = f"r-{device}"
        yield entry("residents", id=resident, name=device, address="1 Bench Road", area=area, language="en") + entry(
            "devices", id=device, resident=resident, protocol="native"
        )


def write_directory(
    path: Path,
    plan: LoadPlan,
    *,
    ack_timeout_s: int = 3600,
    second_tier_timeout_s: int | None = None,
    pressers: Iterable[str] = (),
) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        lines = directory_lines(
            plan, ack_timeout_s=ack_timeout_s, second_tier_timeout_s=second_tier_timeout_s, pressers=pressers
        )
        for chunk in lines:
            handle.write(chunk + "\n")
    return path
