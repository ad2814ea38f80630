"""A1 ranges as Google reads and writes them: `'My tab'!A1:C`, `Sheet1!2:5`, `A1`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RangeError(ValueError):
    """A range Google would refuse to parse."""


@dataclass(frozen=True)
class GridRange:
    """Rows [r1, r2) and columns [c1, c2) of a tab, 0-based; unbounded sides reach the grid."""

    tab: Any
    r1: int
    c1: int
    r2: int
    c2: int
    bounded_rows: bool = True
    bounded_columns: bool = True
    single: bool = False

    def clamped(self) -> GridRange:
        """The range cut to the tab's grid."""
        return replace(self, r2=min(self.r2, self.tab.rows), c2=min(self.c2, self.tab.columns))

    def contains(self, row: int, column: int) -> bool:
        """Whether the cell (row, column) is inside."""
        return self.r1 <= row < self.r2 and self.c1 <= column < self.c2


def column_letters(number: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


def column_number(letters: str) -> int:
    """A -> 1, AA -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def quote_title(title: str) -> str:
    """A tab title as it appears in a range: quoted unless plain."""
    if _PLAIN_TITLE.match(title) and not re.match(r"^[A-Za-z]{1,3}\d+$", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(grid: GridRange | None, title: str | None = None) -> str:
    """`Sheet1!A1:C2` (or just the quoted title when `grid` is None)."""
    if grid is None:
        return quote_title(title or "")
    name = quote_title(grid.tab.title)
    if grid.r2 <= grid.r1 or grid.c2 <= grid.c1:
        return f"{name}!{column_letters(grid.c1 + 1)}{grid.r1 + 1}"
    start = f"{column_letters(grid.c1 + 1)}{grid.r1 + 1}"
    end = f"{column_letters(grid.c2)}{grid.r2}"
    if grid.single or start == end:
        return f"{name}!{start}"
    return f"{name}!{start}:{end}"


def _split(text: str) -> tuple[str | None, str]:
    if text.startswith("'"):
        i, title = 1, ""
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    title += "'"
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest and not rest.startswith("!"):
                    raise RangeError(f"Unable to parse range: {text}")
                return title, rest[1:]
            title += text[i]
            i += 1
        raise RangeError(f"Unable to parse range: {text}")
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def parse_range(text: str, sheet: Any) -> GridRange:
    """Read an A1 range against `sheet` (an emulator Spreadsheet)."""
    title, cells = _split(text.strip())
    if title is None:
        whole = sheet.tab(cells)
        if whole is not None and cells:
            return GridRange(whole, 0, 0, whole.rows, whole.columns, False, False)
        tab = sheet.tabs[0]
    else:
        tab = sheet.tab(title)
        if tab is None:
            raise RangeError(f"Unable to parse range: {text}")
    if not cells:
        return GridRange(tab, 0, 0, tab.rows, tab.columns, False, False)
    first, _, second = cells.partition(":")
    m1, m2 = _CELL.match(first), _CELL.match(second) if second else None
    if m1 is None or (second and m2 is None) or not (m1.group(1) or m1.group(2)):
        raise RangeError(f"Unable to parse range: {text}")
    c1 = column_number(m1.group(1)) - 1 if m1.group(1) else 0
    r1 = int(m1.group(2)) - 1 if m1.group(2) else 0
    if r1 < 0 or c1 < 0:
        raise RangeError(f"Unable to parse range: {text}")
    if not second:
        if not (m1.group(1) and m1.group(2)):
            raise RangeError(f"Unable to parse range: {text}")
        return GridRange(tab, r1, c1, r1 + 1, c1 + 1, single=True)
    assert m2 is not None
    rows_open = not m2.group(2) or not m1.group(2)
    columns_open = not m2.group(1) or not m1.group(1)
    c2 = column_number(m2.group(1)) if m2.group(1) else tab.columns
    r2 = int(m2.group(2)) if m2.group(2) else tab.rows
    if not m1.group(2):
        r2 = tab.rows if not m2.group(2) else r2
    if not m1.group(1):
        c2 = tab.columns if not m2.group(1) else c2
    # Google accepts reversed corners (B2:A1) and reads them as the same rectangle.
    r1, r2 = min(r1, r2 - 1), max(r1 + 1, r2)
    c1, c2 = min(c1, c2 - 1), max(c1 + 1, c2)
    return GridRange(tab, r1, c1, r2, c2, not rows_open, not columns_open)
