"""Importing the directory's on-call parts: schedules, places, consent, volunteers' phones (subscribed
to like any device) and family contacts (replaced when the file lists them, kept when it does not)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from monitor.directory.file import load_directory
from monitor.directory.sync import import_directory
from monitor.ingest.routes import load_routes
from monitor.oncall.family import family_of
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from monitor.store.models import EscalationPolicy, Resident, Volunteer, VolunteerPhone
from tests.oncall.kit import directory

PHONE = """
[[devices]]
id = "phone-v-1"
volunteer = "v-1"
protocol = "owntracks"
topic = "owntracks/liming/phone"
"""


def with_consent(text: str) -> str:
    return text.replace('id = "v-1"\n', 'id = "v-1"\nshare_location = true\nhome = { lat = 30.28, lon = 120.16 }\n', 1)


async def test_on_call_parts_import_idempotently_and_family_is_kept_unless_listed(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(with_consent(directory(family=True, extra=PHONE)), encoding="utf-8")
    async with Database(database_url) as database:
        await upgrade(database)
        first = await import_directory(database, load_directory(path))
        again = await import_directory(database, load_directory(path))
        routes, _ = await load_routes(database)
        # the same file without family: the contacts stay as they are
        path.write_text(with_consent(directory(family=False, extra=PHONE)), encoding="utf-8")
        kept = await import_directory(database, load_directory(path))
        async with database.read() as session:
            li_ming = await session.get(Volunteer, "v-1")
            phone = await session.get(VolunteerPhone, "phone-v-1")
            contacts = [(c.name, c.relationship, c.language) for c in await family_of(session, "r-1")]
            policy = await session.get(EscalationPolicy, "default")
            residents = (await session.scalars(select(Resident.id))).all()

    assert "family contacts: 1 residents' contacts changed" in first.lines()
    assert "volunteer phones: 1 added, 0 changed, 0 unchanged" in first.lines()
    assert not again.changed_anything and not kept.changed_anything
    assert [adapter.protocol for adapter in routes.adapters_for("owntracks/liming/phone")] == ["owntracks"]
    assert li_ming is not None and li_ming.share_location and (li_ming.home_lat, li_ming.home_lon) == (30.28, 120.16)
    assert li_ming.schedule == {
        "on_call": [{"days": [0, 1, 2, 3, 4, 5, 6], "from": "18:00", "to": "23:00"}],
        "exceptions": [],
    }
    assert phone is not None and (phone.volunteer_id, phone.protocol) == ("v-1", "owntracks")
    assert contacts == [("Wang Lei", "son", "zh"), ("Amy Wang", "granddaughter", "en")]  # the son: r-1's language
    assert policy is not None and policy.inform == [] and policy.tiers[0]["order"] == "together"
    assert sorted(residents) == ["r-1", "r-2"]
