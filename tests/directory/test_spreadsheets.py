"""Residents and volunteers imported from the workbooks people keep them in (``.xlsx``, written by
openpyxl here as Excel writes them: a title row, Chinese names, phone numbers Excel turned into
numbers, empty rows, true/false cells), by the CSV import's columns and rules: a dry run shows
what would be added, changed and retired and writes nothing; every rejected row is named with its
row, its column and the fix, and nothing of such a file is imported."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from monitor.core.errors import UserError
from monitor.directory.spreadsheets import read_sheet, spreadsheet_phone
from monitor.directory.sync import import_directory
from monitor.store.models import Resident, Volunteer, VolunteerArea
from monitor.web.forms.directory_forms import SECTIONS, sheet_entries, spreadsheet_directory
from tests.escalation.kit import world


def workbook(*rows: list[object], title: str = "Sheet1") -> bytes:
    """An .xlsx workbook with one sheet of ``rows`` (an empty list is an empty row), as saved by Excel."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


VOLUNTEERS = workbook(
    ["天仙社区志愿者名单"],  # a title row above the header, as people write them
    ["ID", "name", "phone", "areas", "language", "share_location", "active"],
    ["v-31", "李娜", 13800138000, "a-1", "zh", False],  # Excel made the mobile number a number
    [],
    ["v-32", "陈刚", 8613800138001.0, "a-1, a-2", "zh", True],  # ... and dropped the + of this one
    ["v-33", "周杰", "+86 139-0000-0033", "a-2", "en", None],
    ["v-4", "Sun Li", "+8613900000004", "a-2", "zh", None, "no"],  # leaves
)


async def test_an_xlsx_of_volunteers_imports_after_a_dry_run_that_writes_nothing(database_url: str) -> None:
    async with world(database_url) as w:
        directory = await spreadsheet_directory(w.database, SECTIONS["volunteers"], VOLUNTEERS, "志愿者.xlsx")
        dry = await import_directory(w.database, directory, dry_run=True)
        async with w.database.read() as session:
            after_dry_run = (await session.scalars(select(Volunteer.id).where(Volunteer.id.like("v-3%")))).all()
        real = await import_directory(w.database, directory)
        async with w.database.read() as session:
            added = {
                volunteer.id: (volunteer.name, volunteer.phone, volunteer.share_location, volunteer.active)
                for volunteer in await session.scalars(
                    select(Volunteer).where(Volunteer.id.in_(["v-31", "v-32", "v-33", "v-4"]))
                )
            }
            areas = (
                await session.scalars(select(VolunteerArea.area_id).where(VolunteerArea.volunteer_id == "v-32"))
            ).all()

    assert dry.lines() == real.lines()
    assert "volunteers: 3 added, 0 changed, 1 unchanged" in dry.lines()
    assert "volunteers retired: v-4 (Sun Li, volunteer)" in dry.lines()
    assert after_dry_run == []
    assert added == {
        "v-31": ("李娜", "+8613800138000", False, True),
        "v-32": ("陈刚", "+8613800138001", True, True),
        "v-33": ("周杰", "+8613900000033", False, True),
        "v-4": ("Sun Li", "+8613900000004", False, False),
    }
    assert sorted(areas) == ["a-1", "a-2"]


async def test_every_rejected_row_is_named_and_nothing_of_the_file_is_imported(database_url: str) -> None:
    residents = workbook(
        ["id", "name", "address", "area", "phone"],
        ["r-41", "刘芳", "5栋2单元301", "a-1", 13800138041],
        ["r-42", "陈静怡", "7栋1单元102", "a-1", datetime(2026, 10, 1)],  # a phone cell Excel took for a date
        [None, None, None, None, None],
        ["r-43", "赵敏", "9栋", "nowhere", "+8613800138043"],
        ["r-44", "", "9栋", "a-1"],
        title="residents",
    )
    async with world(database_url) as w:
        with pytest.raises(UserError) as refused:
            await spreadsheet_directory(w.database, SECTIONS["residents"], residents, "居民.xlsx")
        async with w.database.read() as session:
            imported = (await session.scalars(select(Resident.id).where(Resident.id.like("r-4%")))).all()

    assert str(refused.value).splitlines() == [
        '居民.xlsx: row 3 (id "r-42"), column phone: must be an international number like +8613900000001 '
        "(got '2026-10-01').",
        '居民.xlsx: row 5 (id "r-43"), column area: area "nowhere" does not exist; add it or fix the id.',
        '居民.xlsx: row 6 (id "r-44"), column name: is required; fill it in.',
    ]
    assert imported == []


def test_a_sheet_names_its_unknown_columns_and_an_old_workbook_is_refused_with_the_fix() -> None:
    sheet = read_sheet(
        workbook(["id", "name", "phone", "birthday"], ["v-1", "李明", "+8613900000001", "1950"]), "v.xlsx"
    )
    _, problems = sheet_entries(SECTIONS["volunteers"], sheet, "v.xlsx")
    with pytest.raises(UserError) as old:
        read_sheet(b"\xd0\xcf\x11\xe0" + bytes(100), "老名单.xls")
    with pytest.raises(UserError) as headless:
        read_sheet("名字,电话\n李明,13800138000\n".encode("gb18030"), "名单.csv")

    assert [sentence for _, sentence in problems] == [
        "v.xlsx: unknown column(s) birthday; name the columns id, name, phone, areas, language, role, timezone, "
        "on_call, exceptions, home, share_location, voice, voice_hours, organisation, active."
    ]
    assert (
        str(old.value) == "老名单.xls: an old Excel workbook (.xls); save it as .xlsx or as CSV UTF-8 and import that"
    )
    assert str(headless.value) == "名单.csv: no header row; the first row must name the columns, starting with id"


def test_a_mainland_mobile_gets_its_country_code_back_and_nothing_else_is_guessed() -> None:
    assert spreadsheet_phone("13800138000") == "+8613800138000"
    assert spreadsheet_phone("8613800138000") == "+8613800138000"
    assert spreadsheet_phone("138-0013-8000") == "+8613800138000"
    assert spreadsheet_phone("447700900001") == "447700900001"  # refused later: whose country code is it?
    assert spreadsheet_phone("+447700900001") == "+447700900001"
