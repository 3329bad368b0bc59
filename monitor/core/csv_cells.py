"""CSV files that spreadsheets open as text: every CSV callwatch writes or reads goes through here.

A spreadsheet takes a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return for a formula, so a resident's name such as ``=HYPERLINK(...)`` would run in the duty
office's spreadsheet. Such a text is written with a leading ``'`` (which spreadsheets read
as "this is text"), and so is a text that begins with ``'`` itself, so reading strips exactly
one and gives back what was written. Phone numbers in E.164 form (``+8613900000001``) are
left alone in phone columns: a spreadsheet reads them as a number, never runs anything, and
people must be able to copy them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def to_cell(value: object, *, phone: bool = False) -> str:
    """``value`` as a cell no spreadsheet runs (numbers and E.164 phones in phone columns as they are)."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if phone and E164.fullmatch(text):
        return text
    if text.startswith((*FORMULA_STARTS, NEUTRALISER)):
        return NEUTRALISER + text
    return text


def from_cell(cell: str) -> str:
    """The text a cell written by ``to_cell`` (or typed so in a spreadsheet) stands for."""
    return cell.removeprefix(NEUTRALISER)


def write_csv(header: Iterable[str], rows: Iterable[Iterable[object]], *, phone_columns: Collection[str] = ()) -> str:
    """A CSV document: the header row, then ``rows``, every cell through ``to_cell``."""
    names = list(header)
    phones = [name in phone_columns for name in names]
    out = io.StringIO()
    # RFC 4180's CRLF: the csv module then quotes a cell holding a lone CR, which it would not with "\n"
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(to_cell(name) for name in names)
    for row in rows:
        writer.writerow(to_cell(value, phone=phone) for value, phone in zip(row, phones, strict=True))
    return out.getvalue()


def read_csv(text: str) -> tuple[list[str], Iterator[Mapping[str, str]]]:
    """The column names of a CSV document with a header row, and its rows by column (``from_cell`` applied)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    names = [from_cell(name) for name in reader.fieldnames or []]

    def rows() -> Iterator[Mapping[str, str]]:
        for row in reader:
            yield {from_cell(key): from_cell(value or "") for key, value in row.items() if key}

    return names, rows()


def read_csv_lines(text: str) -> list[list[str]]:
    """Every row of a CSV document as its cells (as written: ``from_cell`` not applied), an empty
    line as an empty row, so that a row's place is the number a spreadsheet shows beside it."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
