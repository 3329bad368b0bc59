"""Residents and volunteers imported from the files people already have: CSV in UTF-8, UTF-8 with
the BOM Excel writes, and GB18030/GBK (Excel on a Chinese Windows), and .xlsx workbooks, after a
dry run if asked; a file with bad rows names each row and imports nothing."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import select

from monitor.store.models import Resident
from monitor.users.identity import Role
from tests.support.deployment import Deployment
from tests.web.support import ConsoleClient, add_user

ROWS = "id,name,address,area\nr-9,刘芳,5栋2单元301,a-1\nr-10,陈静怡,7栋1单元102,a-1\n"


async def test_gbk_and_bom_files_import_and_bad_rows_are_each_named(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as admin:
            await admin.sign_in("admin")

            async def upload(data: bytes) -> tuple[int, str]:
                answer = await admin.post(
                    "/directory/residents/import", files={"file": ("residents.csv", data, "text/csv")}
                )
                return answer.status_code, answer.text

            gbk = await upload(ROWS.encode("gbk"))
            bom = await upload(("\ufeff" + ROWS.replace("刘芳", "刘芳芳")).encode("utf-8"))
            bad = await upload("id,name,area\nr-11,赵敏,a-1\nr-12,,a-1\nr 13,孙丽,a-1\n".encode("gb18030"))
        async with monitor.database.read() as session:
            names = dict((await session.execute(select(Resident.id, Resident.name))).all())

    assert gbk[0] == 200 and "residents: 2 added" in gbk[1]
    assert bom[0] == 200 and "residents: 0 added, 1 changed" in bom[1]
    assert bad[0] == 400
    assert "residents.csv: row 3 (id &#34;r-12&#34;), column name: is required; fill it in." in bad[1]
    assert "residents.csv: row 4 (id &#34;r 13&#34;), column id: may only use letters" in bad[1]
    assert (names["r-9"], names["r-10"]) == ("刘芳芳", "陈静怡")
    assert "r-11" not in names and "r-13" not in names  # nothing of a file with bad rows


async def test_an_xlsx_workbook_is_checked_by_a_dry_run_then_imported(deployment: Deployment) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["居民名单"], ["id", "name", "address", "area", "phone"], ["r-20", "孙丽", "3栋", "a-1", 13800138020]):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    xlsx = ("居民.xlsx", data.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as admin:
            await admin.sign_in("admin")
            dry = await admin.post("/directory/residents/import", {"dry_run": "1", "prune": "on"}, files={"file": xlsx})
            async with monitor.database.read() as session:
                after_dry_run = await session.get(Resident, "r-20")
            imported = await admin.post("/directory/residents/import", files={"file": xlsx})
        async with monitor.database.read() as session:
            sun_li = await session.get(Resident, "r-20")

    assert dry.status_code == 200, dry.text
    assert "A dry run, nothing was written" in dry.text and "residents: 1 added" in dry.text
    assert "residents retired: r-1 (王秀英), r-2 (Margaret Chen)" in dry.text  # what the box would retire
    assert after_dry_run is None
    assert imported.status_code == 200 and "residents: 1 added" in imported.text
    assert sun_li is not None and (sun_li.name, sun_li.phone, sun_li.active) == ("孙丽", "+8613800138020", True)
