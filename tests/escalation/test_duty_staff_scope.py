"""The UNANSWERED alarm goes to the duty staff of the alert's own organisation; an alert of an area
no organisation owns, or of an organisation without staff phones, to the service-wide ones."""

from __future__ import annotations

import tomllib

from monitor.directory.model import Directory
from monitor.directory.sync import import_directory
from simulator.directory_entries import directory_file, entry
from simulator.harness import neighbourhood as people
from tests.escalation.kit import World, phones, world
from tests.oncall.kit import HEXI

EAST_DESK = "+8613900000201"
WEST_DESK = "+8613900000202"


def offices(hexi_owner: str) -> Directory:
    """Three offices, two with a duty desk of their own (north has none); Hexi (a-2, Margaret
    Chen's area) belongs to ``hexi_owner``, Tianxian 3 (a-1) to nobody."""
    return Directory.model_validate(
        tomllib.loads(
            directory_file(
                entry("organisations", id="so-east", name="East Street Office"),
                entry("organisations", id="so-west", name="West Community Centre"),
                entry("organisations", id="so-north", name="North Office"),
                entry("areas", **HEXI, organisation=hexi_owner),
                entry(
                    "volunteers", id="desk-e", name="East Desk", phone=EAST_DESK, role="staff", organisation="so-east"
                ),
                entry(
                    "volunteers", id="desk-w", name="West Desk", phone=WEST_DESK, role="staff", organisation="so-west"
                ),
            )
        )
    )


async def _unanswered(w: World, resident_id: str, device_id: str) -> list[str]:
    """Raise an SOS and let every tier time out; the phones told it went UNANSWERED."""
    alert_id = await w.raise_sos(resident_id, device_id)
    for _ in range(4):
        if (await w.alert(alert_id)).unanswered:
            break
        await w.after(seconds=60)
    assert (await w.alert(alert_id)).unanswered
    return phones(await w.notifications(alert_id=alert_id, purpose="unanswered"))


async def test_unanswered_goes_to_the_alerts_own_organisations_duty_staff(database_url: str) -> None:
    async with world(database_url) as w:
        await import_directory(w.database, offices("so-east"))
        east = await _unanswered(w, people.RESIDENT_EN, "btn-2")
        nobodys = await _unanswered(w, people.RESIDENT_ZH, "btn-1")
    assert east == [EAST_DESK]
    assert nobodys == [people.STAFF]  # the service-wide desk (no organisation), not the offices'


async def test_an_organisation_without_staff_phones_falls_back_to_the_service_wide_ones(database_url: str) -> None:
    async with world(database_url) as w:
        await import_directory(w.database, offices("so-north"))
        told = await _unanswered(w, people.RESIDENT_EN, "btn-2")
    assert told == [people.STAFF]
