"""The toolkit file's tabs dressed for people through xlsxwriter (SHEET.md, Health and
Review): frozen header, a filter, colours by action, widths, the legend as a note, the
`decision` dropdown that still takes a typed date."""

from __future__ import annotations

from typing import Any

from automations.adapters.sheet.layout import (
    ACTION_COLOURS,
    DECISION_HELP,
    DECISIONS,
    DEFAULT_WIDTH,
    LEGEND,
    WIDTHS,
    action_formula,
)


def dress_health(book: Any, sheet: Any, rows: list[list[Any]]) -> None:
    """Health: header frozen and filtered, rows coloured by action, widths, the legend."""
    header = [str(h) for h in rows[0]] if rows else []
    if not header:
        return
    last_row, last_col = max(len(rows) - 1, 1), len(header) - 1
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, last_row, last_col)
    for column, name in enumerate(header):
        sheet.set_column_pixels(column, column, WIDTHS.get(name, DEFAULT_WIDTH))
    if "action" not in header:
        return
    at = header.index("action")
    for action, colour in ACTION_COLOURS:
        fill = book.add_format({"bg_color": colour})
        rule = {"type": "formula", "criteria": action_formula(at, action), "format": fill}
        sheet.conditional_format(1, 0, last_row, last_col, rule)
    sheet.write_comment(0, at, LEGEND, {"x_scale": 3})


def dress_review(sheet: Any, rows: list[list[Any]]) -> None:
    """Review: header frozen, `decision` a dropdown of send and skip that accepts a date
    too (a list validation that warns instead of refusing)."""
    header = [str(h) for h in rows[0]] if rows else []
    sheet.freeze_panes(1, 0)
    if "decision" not in header:
        return
    at = header.index("decision")
    sheet.data_validation(
        1,
        at,
        max(len(rows) + 1000, 1),
        at,
        {
            "validate": "list",
            "source": list(DECISIONS),
            "error_type": "information",  # a typed date (decide later) still goes in
            "error_title": "send, skip or a date",
            "error_message": DECISION_HELP,
            "input_message": DECISION_HELP[:255],
        },
    )
