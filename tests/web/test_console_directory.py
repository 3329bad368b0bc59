"""Directory pages: validation messages beside the field, saving, CSV round trip, the audit log."""

from __future__ import annotations

import re

from sqlalchemy import select

from monitor.oncall.family import family_of
from monitor.store.models import ConsoleAudit, Resident, ResidentCard
from monitor.users.identity import Role
from tests.support.deployment import Deployment
from tests.web.support import ConsoleClient, add_user


def field_errors(html: str, field: str) -> list[str]:
    block = re.search(rf'<div id="e-{field}">(.*?)</div>', html, re.S)
    return re.findall(r'<p class="field-error">(.*?)</p>', block.group(1)) if block else []


async def test_residents_are_created_checked_exported_and_imported(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        await add_user(monitor, "duty")
        async with ConsoleClient(deployment.web_url) as admin, ConsoleClient(deployment.web_url) as duty:
            await admin.sign_in("admin")
            await duty.sign_in("duty")
            wrong = await admin.post(
                "/directory/residents/new",
                {"id": "r 9", "name": "", "area": "a-9", "phone": "12345", "emergency_contacts": "Son | son | nope"},
            )
            assert wrong.status_code == 400
            assert field_errors(wrong.text, "id") == ["may only use letters, digits and _ . : - (at most 64)"]
            assert field_errors(wrong.text, "name")
            assert "must be an international number" in field_errors(wrong.text, "phone")[0]
            assert field_errors(wrong.text, "emergency_contacts")[0].startswith("line 1: phone must be")

            saved = await admin.post(
                "/directory/residents/new",
                {
                    "id": "r-9",
                    "name": "Liu Fang",
                    "area": "a-1",
                    "phone": "+86 138 0000 0009",
                    "language": "zh",
                    "emergency_contacts": "Liu Qiang | son | +8613700000009",
                    "camera_url": "https://camera.example/r-9",
                    "camera_consent": "on",
                },
            )
            assert saved.status_code == 303, saved.text
            refused = await duty.post("/directory/residents/new", {"id": "r-10", "name": "X", "area": "a-1"})
            assert refused.status_code == 403
            found = await duty.http.get("/directory/residents?q=liu")
            assert "Liu Fang" in found.text and "王秀英" not in found.text

            exported = (await admin.http.get("/directory/residents/export.csv")).text
            assert exported.startswith("\ufeffid,name,address,area,phone,language,notes")
            changed = exported.replace("Liu Fang", "Liu Fang-Wei")
            imported = await admin.post(
                "/directory/residents/import", files={"file": ("residents.csv", changed.encode(), "text/csv")}
            )
            assert imported.status_code == 200, imported.text
            assert "residents: 0 added, 1 changed" in imported.text
            broken = await admin.post(
                "/directory/residents/import",
                files={"file": ("bad.csv", b"id,name,area\nr-20,Someone,nowhere\n", "text/csv")},
            )
            assert broken.status_code == 400 and "does not exist; add it or fix the id" in broken.text
        async with monitor.database.read() as session:
            resident = await session.get(Resident, "r-9")
            card = await session.get(ResidentCard, "r-9")
            contacts = await family_of(session, "r-9")
            # (the test's own account, created before, is on record as made by "test")
            by_console = select(ConsoleAudit.action).where(ConsoleAudit.actor != "test").order_by(ConsoleAudit.id)
            actions = (await session.scalars(by_console)).all()
    assert resident is not None and resident.name == "Liu Fang-Wei" and resident.phone == "+8613800000009"
    assert card is not None and card.camera_consent
    # emergency contacts are the resident's family contacts (rows since migration 0004_oncall)
    assert [(c.name, c.relationship, c.phone, c.language) for c in contacts] == [
        ("Liu Qiang", "son", "+8613700000009", "zh")
    ]
    assert actions == ["directory_create", "directory_export", "directory_import"]
