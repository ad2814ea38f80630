"""The Review tab of a Google Sheet (SHEET.md, Review): the user's tab, of which the toolkit
owns every column but `decision`. Rows are found by their `proposal` cell, so sorting,
filtering or deleting rows is safe; a `decision` cell is never written."""

from __future__ import annotations

from typing import Any

from automations.adapters.sheet import ReviewTable
from automations.adapters.sheet.layout import column_letter
from automations.core.review import OPEN, REVIEW_COLUMNS, repaired_header, row_pid
from automations.core.tables import normalise_header


def review_changes(
    existing: list[list[Any]] | None, table: ReviewTable, quoted_title: str
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """(cell updates for a values batchUpdate, rows to append) that bring the tab in line
    with `table`. A new tab gets its header and every open row; an existing one gets the
    toolkit's cells that changed (`status`, and `proposal` on a row an earlier version
    wrote) and this run's new proposals, in the tab's column order, with None (left as it
    is) under `decision` and under any column of the user's."""
    ours = [dict(zip(REVIEW_COLUMNS, row, strict=True)) for row in table.rows]
    if not existing:
        rows = [
            [*row[:-1], None]
            for row, named in zip(table.rows, ours, strict=True)
            if named["proposal"] in table.new or str(named["status"]).startswith(OPEN)
        ]
        return [{"range": f"{quoted_title}!A1", "values": [list(REVIEW_COLUMNS)]}], rows
    header = repaired_header([normalise_header(h) for h in existing[0]])
    typed = [*(normalise_header(h) for h in existing[0]), *[""] * len(header)][: len(header)]
    updates: list[dict[str, Any]] = [
        {"range": f"{quoted_title}!{column_letter(i)}1", "values": [[h]]}
        for i, (h, was) in enumerate(zip(header, typed, strict=True))
        if h != was
    ]
    missing = [c for c in REVIEW_COLUMNS if c not in header]
    if missing:
        first = column_letter(len(header))
        updates.append({"range": f"{quoted_title}!{first}1", "values": [missing]})
        header += missing
    earlier = {(str(r["keys"]), str(r["proposed_on"])): str(r["proposal"]) for r in ours}
    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, row in enumerate(existing[1:], start=2):
        cells = dict(zip(header, row, strict=False))
        pid = row_pid(cells, earlier, "YMD")
        if pid:
            found.setdefault(pid, []).append((n, cells))
    appended = []
    for named in ours:
        pid = str(named["proposal"])
        for n, cells in found.get(pid, []):
            for column in ("proposal", "status"):
                if str(cells.get(column) or "") != str(named[column]):
                    letter = column_letter(header.index(column))
                    cell = {"range": f"{quoted_title}!{letter}{n}", "values": [[named[column]]]}
                    updates.append(cell)
        if pid not in found and pid in table.new:
            appended.append([None if h == "decision" else named.get(h) for h in header])
    return updates, appended


def review_grid(props: dict[str, Any], existing: list[list[Any]] | None) -> list[dict[str, Any]]:
    """The request growing the Review tab's grid when the toolkit's columns it lacks do not
    fit (a tab an earlier version made with fewer): Google refuses a write past the grid,
    and that refusal must never cost the run its Health and Log (SHEET.md, Review)."""
    if not existing:
        return []
    header = repaired_header([normalise_header(h) for h in existing[0]])
    width = len(header) + sum(1 for c in REVIEW_COLUMNS if c not in header)
    columns = props.get("gridProperties", {}).get("columnCount", 0)
    if width <= columns:
        return []
    grid = {"sheetId": props["sheetId"], "gridProperties": {"columnCount": width}}
    fields = "gridProperties.columnCount"
    return [{"updateSheetProperties": {"properties": grid, "fields": fields}}]
