"""Nearest first: a GPS SOS asks the volunteer nearest to the resident, then after the
per-person timeout the next nearest, and so on; each SMS says how far away she is. A
volunteer's position is their phone's recent fix when they agreed to share it (OwnTracks),
else their home."""

from __future__ import annotations

import json

from sqlalchemy import select

from monitor.runtime.service import Monitor
from monitor.store.models import VolunteerPhone
from simulator.directory_entries import directory_file, entry
from simulator.harness import neighbourhood as people
from tests.oncall.kit import (
    CENTRE,
    FAR,
    FAR_FRIEND,
    NEAR,
    NEAR_NEIGHBOUR,
    RITAS_PHONE,
    ROAMING,
    ROAMING_RITA,
    WEDNESDAY_1900,
    use_directory,
)
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, alert_log, alerts, eventually, monitor_on

DIRECTORY = directory_file(
    entry("areas", **people.TIANXIAN),
    entry("residents", **people.MARGARET_CHEN),
    entry("devices", id="gps-1", resident=people.RESIDENT_EN, kind="gps_phone", heartbeat_s=0),
    RITAS_PHONE,
    *(
        entry("volunteers", **volunteer, areas=["a-1"], language="en")
        for volunteer in (NEAR_NEIGHBOUR, FAR_FRIEND, ROAMING_RITA)
    ),
    entry(
        "policies",
        id="default",
        tiers=[{"notify": ["area"], "order": "nearest", "per_person_timeout_s": 60, "ack_timeout_s": 120}],
    ),
)


async def rita_is_located(deployment: Deployment, monitor: Monitor) -> None:
    """Rita's OwnTracks app reports a fix 100 m from the resident."""
    fix = {"_type": "location", "lat": 30.2750, "lon": 120.1551, "acc": 10, "tst": int(monitor.clock.now().timestamp())}
    await deployment.publish("owntracks/n3/phone", json.dumps(fix))

    async def located() -> float | None:
        async with monitor.database.read() as session:
            phone = await session.scalar(select(VolunteerPhone).where(VolunteerPhone.id == "phone-n-3"))
        return phone.last_lat if phone is not None else None

    assert await eventually(located, what="Rita's position is kept") == 30.2750


async def test_a_gps_sos_asks_the_nearest_first_then_the_next_after_the_per_person_timeout(
    deployment: Deployment,
) -> None:
    use_directory(deployment, DIRECTORY)
    clock = ShiftedClock(WEDNESDAY_1900)
    async with monitor_on(deployment, clock) as monitor:
        await rita_is_located(deployment, monitor)
        await deployment.press("gps-1", lat=CENTRE[0], lon=CENTRE[1], acc=8)
        [first] = await deployment.sandbox.wait_for_messages(1, to=ROAMING)
        assert deployment.sandbox.messages(to=NEAR) == [] and deployment.sandbox.messages(to=FAR) == []

        clock.advance(seconds=61)
        [second] = await deployment.sandbox.wait_for_messages(1, to=NEAR)
        assert deployment.sandbox.messages(to=FAR) == []

        clock.advance(seconds=61)
        [third] = await deployment.sandbox.wait_for_messages(1, to=FAR)
        [alert] = await alerts(monitor, "sos")
        notified = [entry.detail for entry in await alert_log(monitor, alert.id, "notified")]
        stepped = await alert_log(monitor, alert.id, "next_nearest")

    assert "About 100 m from you." in first.body
    assert "About 300 m from you." in second.body
    assert "About 1.2 km from you." in third.body
    assert [detail.split(",")[0] for detail in notified] == [
        f"SMS to Roaming Rita ({ROAMING})",
        f"SMS to Near Neighbour ({NEAR})",
        f"SMS to Far Friend ({FAR})",
    ]
    assert len(stepped) == 2 and "asking the next nearest of tier 1" in stepped[0].detail
    # the last one asked has the tier's whole timeout
    assert alert.next_escalation_at is not None
    assert (alert.next_escalation_at - stepped[1].at).total_seconds() == 120


async def test_a_decline_asks_the_next_nearest_at_once(deployment: Deployment) -> None:
    use_directory(deployment, DIRECTORY)
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)):
        await deployment.press("gps-1", lat=CENTRE[0], lon=CENTRE[1])
        await deployment.sandbox.wait_for_messages(1, to=NEAR)  # Rita's phone has not reported: her home is far
        assert await deployment.sandbox.phone(NEAR).reply("NO") == 200
        [asked] = await deployment.sandbox.wait_for_messages(1, to=FAR)
    assert "About 1.2 km from you." in asked.body
    assert deployment.sandbox.messages(to=ROAMING) == []
