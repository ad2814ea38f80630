"""A1 ranges in the emulator: parsing and writing them back the way Google does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.testing.a1 import (
    RangeError,
    column_letters,
    column_number,
    format_range,
    parse_range,
    quote_title,
)
from automations.testing.sheets_emulator import SheetsEmulator


@given(st.integers(min_value=1, max_value=18278))
def test_column_letters_and_numbers_are_inverse(n: int) -> None:
    assert column_number(column_letters(n)) == n


@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip() == t and "\n" not in t))
def test_any_title_survives_quoting(title: str) -> None:
    emulator = SheetsEmulator()
    try:
        sheet = emulator.create("s", tabs={title: [["x"]]})
        grid = parse_range(f"{quote_title(title)}!B2:C3", sheet)
        assert (grid.tab.title, grid.r1, grid.c1, grid.r2, grid.c2) == (title, 1, 1, 3, 3)
        assert parse_range(format_range(grid), sheet) == grid
    finally:
        emulator.server.server_close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sheet1", "Sheet1!A1:Z1000"),
        ("Sheet1!A1", "Sheet1!A1"),
        ("Sheet1!A1:1", "Sheet1!A1:Z1"),
        ("Sheet1!B:C", "Sheet1!B1:C1000"),
        ("Sheet1!2:3", "Sheet1!A2:Z3"),
        ("Sheet1!D4:A1", "Sheet1!A1:D4"),
        ("A1:B2", "Sheet1!A1:B2"),
        ("'My tab'!A1:B2", "'My tab'!A1:B2"),
    ],
)
def test_ranges_read_back_as_google_writes_them(text: str, expected: str) -> None:
    emulator = SheetsEmulator()
    try:
        sheet = emulator.create("s", tabs={"Sheet1": [], "My tab": []})
        assert format_range(parse_range(text, sheet).clamped()) == expected
    finally:
        emulator.server.server_close()


@pytest.mark.parametrize(
    "text", ["Nope!A1", "Sheet1!A1:B2:C3", "Sheet1!1A", "'Sheet1", "Sheet1!A0"]
)
def test_bad_ranges_are_refused_as_google_does(text: str) -> None:
    emulator = SheetsEmulator()
    try:
        sheet = emulator.create("s", tabs={"Sheet1": []})
        with pytest.raises(RangeError, match="Unable to parse range"):
            parse_range(text, sheet)
    finally:
        emulator.server.server_close()
