"""The spreadsheets people already have, as rows of text cells: CSV files in UTF-8 (with or
without the BOM Excel writes) or GB18030/GBK (what Excel writes on a Chinese Windows), and
Excel workbooks (``.xlsx``, read with openpyxl).

A sheet's header row is the first row with an ``id`` cell (a title row above it is skipped);
column names are read without case or surrounding spaces. Empty rows are skipped, and every row
keeps the number the spreadsheet shows beside it, for the problems found in it.

Excel changes what people type: ``+8613800138000`` becomes the number 8613800138000 and
``13800138000`` the number 13800138000, dates become dates. Cells are read back as the text
they stood for (a whole number without ``.0``, a date as ``2026-10-01``), and
``spreadsheet_phone`` gives a mainland mobile number written without its ``+86`` (or with
``86`` but without the ``+``) its country code back: 11 digits starting with 13 to 19.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath

from monitor.core import csv_cells
from monitor.core.errors import UserError

#: The file names ``callwatch import`` reads as spreadsheets
SPREADSHEET_SUFFIXES = (".csv", ".xlsx")
#: The zip header every .xlsx workbook starts with, and the OLE header of the older binary .xls
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
#: A mainland China mobile number, with the country code or without it
MAINLAND_MOBILE = re.compile(r"(?:86)?(1[3-9][0-9]{9})")


@dataclass(frozen=True)
class SheetRow:
    #: the row's number as the spreadsheet shows it (1 is the first row)
    number: int
    #: text cells by column name (empty cells left out)
    cells: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    #: the header row's column names, lower case, in order
    columns: list[str] = field(default_factory=list)
    rows: list[SheetRow] = field(default_factory=list)


def read_sheet(data: bytes, source: str, *, prefer_sheet: str | None = None) -> Sheet:
    """The rows of a CSV file or .xlsx workbook (``source``: its name, for the errors); of a
    workbook, the sheet titled ``prefer_sheet`` if there is one, else the first. A UserError
    naming the file and the fix when it is neither, or has no header row."""
    if data.startswith(XLSX_MAGIC):
        return _sheet(_workbook_lines(data, source, prefer_sheet), source)
    if data.startswith(XLS_MAGIC):
        raise UserError(f"{source}: an old Excel workbook (.xls); save it as .xlsx or as CSV UTF-8 and import that")
    text = decoded_text(data)
    if text is None:
        raise UserError(f"{source}: neither UTF-8 nor GB18030/GBK text nor an .xlsx workbook; save it as CSV UTF-8")
    return csv_sheet(text, source)


def csv_sheet(text: str, source: str) -> Sheet:
    """The rows of a CSV document's text (cells as ``monitor.core.csv_cells`` wrote them)."""
    return _sheet([[csv_cells.from_cell(cell) for cell in row] for row in csv_cells.read_csv_lines(text)], source)


def decoded_text(data: bytes) -> str | None:
    """A CSV file's text: UTF-8 (with or without the BOM Excel writes), else GB18030 (a superset
    of GBK: what Excel writes on a Chinese Windows); None when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def spreadsheet_phone(text: str) -> str:
    """A phone cell as the directory reads it: a mainland mobile number that lost its ``+86``
    (or its ``+``) to a spreadsheet gets it back; anything else is left for the directory's own
    check (``monitor.directory.model.normalize_phone``) to take or refuse."""
    mobile = MAINLAND_MOBILE.fullmatch(re.sub(r"[\s\-]", "", text))
    return f"+86{mobile[1]}" if mobile else text


def _sheet(lines: list[list[str]], source: str) -> Sheet:
    header_at = next((index for index, line in enumerate(lines) if "id" in _names(line)), None)
    if header_at is None:
        raise UserError(f"{source}: no header row; the first row must name the columns, starting with id")
    columns = _names(lines[header_at])
    rows = []
    for index in range(header_at + 1, len(lines)):
        cells = {name: value for name, value in zip(columns, lines[index], strict=False) if name and value.strip()}
        if cells:
            rows.append(SheetRow(index + 1, cells))
    return Sheet([name for name in columns if name], rows)


def _names(line: list[str]) -> list[str]:
    return [cell.strip().lower() for cell in line]


def _workbook_lines(data: bytes, source: str, prefer_sheet: str | None) -> list[list[str]]:
    from openpyxl import load_workbook  # the console and CLI import only: not paid for by every start

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UserError(f"{source}: not a workbook Excel can open ({exc}); save it again as .xlsx") from None
    try:
        by_title = {sheet.title.strip().lower(): sheet for sheet in workbook.worksheets}
        sheet = by_title.get((prefer_sheet or "").lower(), workbook.worksheets[0])
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """The text a workbook cell stands for, as a CSV file would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 13800138000.0 is 13800138000, never 1.38e10
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return csv_cells.from_cell(str(value))


def sheet_section(path: PurePath, sections: Sequence[str]) -> str | None:
    """The section a spreadsheet's name says it holds (``callwatch-residents.csv``: residents)."""
    named = [section for section in sections if section in path.stem.lower()]
    return named[0] if len(named) == 1 else None
