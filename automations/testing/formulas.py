"""The few formulas the emulator calculates: `XLOOKUP(cell, range, range, "if not found")`,
as `partners link-columns` writes them (SHEET.md, "Status beside the partner's own row").
Any other formula reads as blank, as before."""

from __future__ import annotations

import re
from typing import Any

from automations.testing.a1 import RangeError, parse_range
from automations.testing.cells import Cell

_XLOOKUP = re.compile(
    r'^=\s*XLOOKUP\(\s*([^,]+?)\s*,\s*([^,]+?)\s*,\s*([^,]+?)\s*(?:,\s*"([^"]*)"\s*)?\)\s*$',
    re.IGNORECASE,
)


def evaluate(text: str, sheet: Any, tab: Any) -> Cell | None:
    """The value of the formula `text` in `tab` of `sheet`; None when not calculated."""
    match = _XLOOKUP.match(text)
    if match is None:
        return None
    try:
        key = _one(sheet, tab, match.group(1))
        looked = parse_range(_plain(match.group(2)), sheet)
        found = parse_range(_plain(match.group(3)), sheet)
    except RangeError:
        return Cell("string", "#REF!")
    wanted = _comparable(key)
    if wanted == "":
        return Cell("string", match.group(4) or "")
    for offset, row in enumerate(range(looked.r1, min(looked.r2, looked.tab.rows))):
        cell = looked.tab.cells.get((row, looked.c1))
        if cell is not None and _comparable(cell) == wanted:
            hit = found.tab.cells.get((found.r1 + offset, found.c1))
            return hit if hit is not None else Cell("string", "")
    if match.group(4) is None:
        return Cell("string", "#N/A")
    return Cell("string", match.group(4))


def _plain(reference: str) -> str:
    return reference.replace("$", "")


def _one(sheet: Any, tab: Any, reference: str) -> Cell | None:
    """The cell a reference like `$B2` (this tab) or `Health!B2` names."""
    plain = _plain(reference)
    if "!" not in plain:
        plain = "'" + tab.title.replace("'", "''") + "'!" + plain
    where = parse_range(plain, sheet)
    cell: Cell | None = where.tab.cells.get((where.r1, where.c1))
    return cell


def _comparable(cell: Cell | None) -> Any:
    """Google matches text without regard to case."""
    if cell is None or cell.empty:
        return ""
    return cell.value.strip().lower() if isinstance(cell.value, str) else cell.value
