"""Residents and volunteers imported from the CSV files people already have: UTF-8, UTF-8 with the
BOM Excel writes, and GB18030/GBK (Excel on a Chinese Windows); a file with bad rows names each
row and imports nothing."""

from __future__ import annotations

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
    assert bad[0] == 400 and "row 3 (r-12): name:" in bad[1] and "row 4 (r 13): id:" in bad[1]
    assert (names["r-9"], names["r-10"]) == ("刘芳芳", "陈静怡")
    assert "r-11" not in names and "r-13" not in names  # nothing of a file with bad rows
