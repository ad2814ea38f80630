"""The Review tab of a Google Sheet (SHEET.md, Review): the user's tab, of which the toolkit
owns every column but `decision`. Rows are found by their `keys` cell, so sorting,
filtering or deleting rows is safe; a `decision` cell is never written."""

from __future__ import annotations

from typing import Any

from automations.adapters.sheet import ReviewTable
from automations.core.review import REVIEW_COLUMNS
from automations.core.tables import normalise_header


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def review_changes(
    existing: list[list[Any]] | None, table: ReviewTable, quoted_title: str
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """(cell updates for a values batchUpdate, rows to append) that bring the tab in line
    with `table`. A new tab gets its header and every row; an existing one gets the
    `status` cells that changed and this run's new proposals, in the tab's column order,
    with None (left as it is) under `decision` and under any column of the user's."""
    if not existing:
        header = list(REVIEW_COLUMNS)
        still_open = ("waiting", "approved", "later")
        rows = [
            [*row[:-1], None]
            for row in table.rows
            if row[6] in table.new or str(row[7]).startswith(still_open)
        ]
        return [{"range": f"{quoted_title}!A1", "values": [header]}], rows
    header = [normalise_header(h) for h in existing[0]]
    missing = [c for c in REVIEW_COLUMNS if c not in header]
    updates: list[dict[str, Any]] = []
    if missing:
        first = column_letters(len(header))
        updates.append({"range": f"{quoted_title}!{first}1", "values": [missing]})
        header += missing
    keys_at, status_at = header.index("keys"), header.index("status")
    found = {
        str(row[keys_at]).strip(): n
        for n, row in enumerate(existing[1:], start=2)
        if len(row) > keys_at and str(row[keys_at]).strip()
    }
    status_letter = column_letters(status_at)
    appended = []
    for row in table.rows:
        keys, status = row[6], row[7]
        if keys in found:
            n = found[keys]
            old = existing[n - 1]
            if (old[status_at] if len(old) > status_at else "") != status:
                updates.append(
                    {"range": f"{quoted_title}!{status_letter}{n}", "values": [[status]]}
                )
        elif keys in table.new:
            by_name = dict(zip(REVIEW_COLUMNS, row, strict=True))
            appended.append([None if h == "decision" else by_name.get(h) for h in header])
    return updates, appended
