"""`partners link-columns`: the formula columns beside the user's Partners rows that show
Health's action, next_due and last_touch (SHEET.md, "Status beside the partner's own row")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from automations.core.engine.decisions import HEALTH_COLUMNS
from automations.core.schema import LINKED_COLUMNS, column_letter
from automations.core.tables import normalise_header
from automations.errors import LinkRefused


@dataclass(frozen=True)
class LinkPlan:
    """Where the block goes (0-based first column) and what each cell holds: the header
    in row 1, one formula for each partner row (1-based sheet row numbers)."""

    first_column: int
    email_column: int
    rows: tuple[int, ...]

    @property
    def header(self) -> list[str]:
        """The three header cells."""
        return list(LINKED_COLUMNS)


def plan_link(rows: Sequence[Sequence[Any]], title: str) -> LinkPlan | None:
    """Where the linked columns go in the Partners tab `rows` (row 1 first); None when
    they are there already (a second call changes nothing). SHEET.md, opt-in status."""
    header = [normalise_header(h) for h in (rows[0] if rows else [])]
    if "email" not in header:
        raise LinkRefused(
            f"{title}: no email column in row 1, so the linked columns cannot look a partner "
            "up in Health; add a column headed `email` (SHEET.md, Partners) and run again"
        )
    present = [c for c in LINKED_COLUMNS if c in header]
    if len(present) == len(LINKED_COLUMNS):
        return None
    if present:
        where = ", ".join(f"{c} (column {column_letter(header.index(c))})" for c in present)
        raise LinkRefused(
            f"{title}: row 1 already has {where} but not all of {', '.join(LINKED_COLUMNS)}; "
            "rename or delete those columns and run again (nothing was changed)"
        )
    used = max((len(_trimmed(r)) for r in rows), default=0)
    partners = tuple(n for n, r in enumerate(rows[1:], start=2) if _trimmed(r))
    return LinkPlan(used, header.index("email"), partners)


def _trimmed(row: Sequence[Any]) -> list[Any]:
    cells = list(row)
    while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
        cells.pop()
    return cells


def _health_range(health: str, column: str, book: str = "") -> str:
    """`Health!$B:$B`; `[1]Health!$B:$B` in another workbook (`book` "[1]")."""
    name = book + health
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", health)
    where = name if plain else "'" + name.replace("'", "''") + "'"
    index = column_letter(HEALTH_COLUMNS.index(column))
    return f"{where}!${index}:${index}"


def google_formula(plan: LinkPlan, row: int, column: str, health: str) -> str:
    """XLOOKUP of this row's email in Health's email column (Google Sheets)."""
    email = f"${column_letter(plan.email_column)}{row}"
    found = _health_range(health, column)
    return f'=XLOOKUP({email}, {_health_range(health, "email")}, {found}, "")'


def excel_formula(plan: LinkPlan, row: int, column: str, health: str, book: str = "") -> str:
    """INDEX/MATCH of this row's email in Health's email column (Excel, LibreOffice): blank
    when the partner is not in Health or Health's cell is blank (INDEX alone shows 0)."""
    email = f"${column_letter(plan.email_column)}{row}"
    emails = _health_range(health, "email", book)
    found = f"INDEX({_health_range(health, column, book)},MATCH({email},{emails},0))"
    return f'=IFERROR(IF({found}="","",{found}),"")'
