"""Cell values in the emulator: RAW and USER_ENTERED input, formatted and unformatted output."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automations.testing.cells import Cell, from_input, render


@pytest.mark.parametrize(
    ("typed", "formatted", "unformatted"),
    [
        ("12", "12", 12),
        ("3.5", "3.5", 3.5),
        ("= 1 / 1024", "0.0009765625", 0.0009765625),
        ("2,000,000.01", "2,000,000.01", 2000000.01),
        ("10%", "10%", 0.1),
        ("TRUE", "TRUE", True),
        ("'0123", "0123", "0123"),
        ("11/24/2026", "11/24/2026", 46350),
        ("2026-11-24", "11/24/2026", 46350),
        ("hello", "hello", "hello"),
    ],
)
def test_user_entered_values_read_back_as_google_shows_them(
    typed: str, formatted: str, unformatted: object
) -> None:
    cell = from_input(typed, "USER_ENTERED")
    assert render(cell, "FORMATTED_VALUE", "SERIAL_NUMBER") == formatted
    assert render(cell, "UNFORMATTED_VALUE", "SERIAL_NUMBER") == unformatted


@given(st.text())
def test_raw_text_is_kept_exactly(text: str) -> None:
    cell = from_input(text, "RAW")
    assert render(cell, "FORMATTED_VALUE", "SERIAL_NUMBER") == text
    assert render(cell, "UNFORMATTED_VALUE", "SERIAL_NUMBER") == text


def test_a_date_cell_from_a_workbook_is_a_serial_number_or_formatted_text() -> None:
    cell = Cell.native(dt.date(2026, 11, 24))
    assert render(cell, "UNFORMATTED_VALUE", "SERIAL_NUMBER") == 46350
    assert render(cell, "UNFORMATTED_VALUE", "FORMATTED_STRING") == "11/24/2026"
    assert render(None, "FORMATTED_VALUE", "SERIAL_NUMBER") == ""
