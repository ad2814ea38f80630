"""The Google backend's formatting requests (SHEET.md, Health and Review; FIELD-NOTES.md,
"The sheet as a user sees it"): Health's values as updateCells (dates as real dates),
its frozen header, filter, colours and widths, and the Review tab's dropdown, frozen
header and warning-only protection, all for the one batchUpdate that writes Health."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from automations.adapters.sheet.google_parts import json_value
from automations.adapters.sheet.layout import (
    ACTION_COLOURS,
    DATE_PATTERN,
    DECISION_HELP,
    DECISIONS,
    DEFAULT_WIDTH,
    LEGEND,
    PROTECTION,
    WIDTHS,
    action_formula,
    rgb,
    toolkit_blocks,
)

EPOCH = dt.date(1899, 12, 30)
_A1_CELL = re.compile(r"^'((?:[^']|'')*)'!([A-Z]+)(\d+)$")
CELL_FIELDS = "userEnteredValue,userEnteredFormat.numberFormat,note"
_NUMBER = (int, float)  # made once: `int | float` in isinstance makes a union each call


def cell(value: Any) -> dict[str, Any]:
    """One CellData: text stays text (never a formula), a date is a serial number shown as
    a date, blanks are empty."""
    # Text, blanks and numbers, most of Health, as the checks below would make them
    kind = value.__class__
    if kind is str:
        return {"userEnteredValue": {"stringValue": value}} if value else {}
    if value is None:
        return {}
    if kind is int or (kind is float and value == value):  # NaN is a blank
        return {"userEnteredValue": {"numberValue": value}}
    if isinstance(value, dt.datetime):
        days = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        pattern = {"type": "DATE_TIME", "pattern": DATE_PATTERN + " hh:mm"}
        return {
            "userEnteredValue": {"numberValue": days},
            "userEnteredFormat": {"numberFormat": pattern},
        }
    if isinstance(value, dt.date):
        pattern = {"type": "DATE", "pattern": DATE_PATTERN}
        days = float((value - EPOCH).days)
        return {
            "userEnteredValue": {"numberValue": days},
            "userEnteredFormat": {"numberFormat": pattern},
        }
    plain = json_value(value)
    if plain == "" or plain is None:
        return {}
    if isinstance(plain, bool):
        return {"userEnteredValue": {"boolValue": plain}}
    if isinstance(plain, _NUMBER):
        return {"userEnteredValue": {"numberValue": plain}}
    return {"userEnteredValue": {"stringValue": str(plain)}}


def row_data(values: list[Any], width: int) -> dict[str, Any]:
    """A RowData of `width` cells (blanks clear what an earlier, wider row left)."""
    cells = [cell(v) for v in values] + [{} for _ in range(width - len(values))]
    return {"values": cells}


def update_cells(
    sheet_id: int, row: int, column: int, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """The updateCells request writing `rows` from (row, column)."""
    start = {"sheetId": sheet_id, "rowIndex": row, "columnIndex": column}
    return {"updateCells": {"start": start, "rows": rows, "fields": CELL_FIELDS}}


def cell_updates(data: list[dict[str, Any]], sheet_ids: dict[str, int]) -> list[dict[str, Any]]:
    """values-style updates (`'Tab'!K1` and rows) as updateCells; a None cell is left as it
    is (a Review `decision`), so each run of values between Nones is its own request."""
    requests: list[dict[str, Any]] = []
    for update in data:
        match = _A1_CELL.match(update["range"])
        if match is None:
            raise ValueError(f"not a single-cell range: {update['range']}")
        sheet_id = sheet_ids[match.group(1).replace("''", "'")]
        row0 = int(match.group(3)) - 1
        col0 = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(match.group(2)))) - 1
        for i, values in enumerate(update["values"]):
            run: list[Any] = []
            for j, value in enumerate([*values, None]):
                if value is not None:
                    run.append(value)
                    continue
                if run:
                    start = col0 + j - len(run)
                    rows = [{"values": [cell(v) for v in run]}]
                    requests.append(update_cells(sheet_id, row0 + i, start, rows))
                run = []
    return requests


def _grid(sheet_id: int, r1: int, c1: int, c2: int, r2: int | None = None) -> dict[str, Any]:
    grid = {"sheetId": sheet_id, "startRowIndex": r1, "startColumnIndex": c1, "endColumnIndex": c2}
    return grid if r2 is None else {**grid, "endRowIndex": r2}


def freeze_header(sheet_id: int) -> dict[str, Any]:
    """Row 1 stays in view while scrolling."""
    props = {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}}
    return {
        "updateSheetProperties": {"properties": props, "fields": "gridProperties.frozenRowCount"}
    }


def health_format(
    sheet_id: int, header: list[str], meta: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Health's look: old conditional rules deleted and ours added (one set, however many
    runs), header frozen and bold; the filter and widths only where the tab has no filter
    yet, so a user's filter criteria and column widths survive the next run."""
    meta = meta or {}
    width = len(header)
    requests: list[dict[str, Any]] = [
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}}
        for _ in meta.get("conditionalFormats", [])
    ]
    if "action" in header:
        at = header.index("action")
        for index, (action, colour) in enumerate(ACTION_COLOURS):
            condition = {
                "type": "CUSTOM_FORMULA",
                "values": [{"userEnteredValue": action_formula(at, action)}],
            }
            rule = {
                "ranges": [_grid(sheet_id, 1, 0, width)],
                "booleanRule": {"condition": condition, "format": {"backgroundColor": rgb(colour)}},
            }
            requests.append({"addConditionalFormatRule": {"rule": rule, "index": index}})
    requests.append(freeze_header(sheet_id))
    bold = {"userEnteredFormat": {"textFormat": {"bold": True}}}
    requests.append(
        {
            "repeatCell": {
                "range": _grid(sheet_id, 0, 0, width, 1),
                "cell": bold,
                "fields": "userEnteredFormat.textFormat.bold",
            }
        }
    )
    if "basicFilter" not in meta:
        requests.append({"setBasicFilter": {"filter": {"range": _grid(sheet_id, 0, 0, width)}}})
        requests.extend(_widths(sheet_id, header))
    return requests


def rules_of(header: list[str]) -> list[dict[str, Any]]:
    """Placeholders for the rules health_format adds (what a later write deletes)."""
    return [{} for _ in ACTION_COLOURS] if "action" in header else []


def _widths(sheet_id: int, header: list[str]) -> list[dict[str, Any]]:
    requests = []
    for index, name in enumerate(header):
        size = WIDTHS.get(name, DEFAULT_WIDTH)
        span = {
            "sheetId": sheet_id,
            "dimension": "COLUMNS",
            "startIndex": index,
            "endIndex": index + 1,
        }
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": span,
                    "properties": {"pixelSize": size},
                    "fields": "pixelSize",
                }
            }
        )
    return requests


def legend_note(rows: list[dict[str, Any]], header: list[str]) -> None:
    """The legend as the note of the `action` header cell (rows[0] is the header)."""
    if rows and "action" in header:
        rows[0]["values"][header.index("action")]["note"] = LEGEND


def review_format(
    sheet_id: int, header: list[str], meta: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The Review tab's `decision` a dropdown that still takes a typed date (strict false),
    the header frozen, the toolkit's columns under a warning-only protection (added once)."""
    requests: list[dict[str, Any]] = [freeze_header(sheet_id)]
    if "decision" in header:
        at = header.index("decision")
        condition = {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": choice} for choice in DECISIONS],
        }
        rule = {
            "condition": condition,
            "strict": False,
            "showCustomUi": True,
            "inputMessage": DECISION_HELP,
        }
        requests.append(
            {"setDataValidation": {"range": _grid(sheet_id, 1, at, at + 1), "rule": rule}}
        )
    already = any(
        p.get("description") == PROTECTION for p in (meta or {}).get("protectedRanges", [])
    )
    if not already:
        for start, end in toolkit_blocks(header):
            protected = {
                "range": _grid(sheet_id, 0, start, end),
                "description": PROTECTION,
                "warningOnly": True,
            }
            requests.append({"addProtectedRange": {"protectedRange": protected}})
    return requests
