"""A directory file for the load devices, so that a monitor knows every one of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from simulator.load.plan import LoadPlan

AREAS = 10
RESPONDER_PHONE = "+8613900000001"
STAFF_PHONE = "+8613900000100"


def directory_lines(
    plan: LoadPlan, *, ack_timeout_s: int = 3600, second_tier_timeout_s: int | None = None
) -> Iterator[str]:
    """TOML lines: areas, one resident per device, a responder per area, a policy.

    With ``second_tier_timeout_s``, the policy has a second tier (the leader) and duty staff
    hear about what nobody took: what an escalation benchmark needs.
    """
    for area in range(AREAS):
        yield f'[[areas]]\nid = "load-area-{area}"\nname = "Load area {area}"\n'
    for index in range(plan.devices):
        device_id = plan.device_id(index)
        kind = "gps_phone" if index % 4 == 3 else "button"
        yield (
            f'[[residents]]\nid = "r-{device_id}"\nname = "Resident {device_id}"\naddress = "{index} Load Street"\n'
            f'area = "load-area-{index % AREAS}"\nlanguage = "en"\n'
            f'[[devices]]\nid = "{device_id}"\nresident = "r-{device_id}"\nkind = "{kind}"\nprotocol = "native"\n'
        )
    areas = ", ".join(f'"load-area-{area}"' for area in range(AREAS))
    yield (
        f'[[volunteers]]\nid = "v-load"\nname = "Load Responder"\nphone = "{RESPONDER_PHONE}"\n'
        f'areas = [{areas}]\nlanguage = "en"\n'
    )
    tiers = [f'{{ notify = ["area"], ack_timeout_s = {ack_timeout_s} }}']
    if second_tier_timeout_s is not None:
        yield '[[volunteers]]\nid = "v-leader"\nname = "Load Leader"\nphone = "+8613900000009"\nrole = "leader"\n'
        yield f'[[volunteers]]\nid = "duty"\nname = "Duty Desk"\nphone = "{STAFF_PHONE}"\nrole = "staff"\n'
        tiers.append(f'{{ notify = ["role:leader"], ack_timeout_s = {second_tier_timeout_s} }}')
    yield f'[[policies]]\nid = "default"\ntiers = [{", ".join(tiers)}]\n'


def write_directory(
    path: Path, plan: LoadPlan, *, ack_timeout_s: int = 3600, second_tier_timeout_s: int | None = None
) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for chunk in directory_lines(plan, ack_timeout_s=ack_timeout_s, second_tier_timeout_s=second_tier_timeout_s):
            handle.write(chunk + "\n")
    return path
