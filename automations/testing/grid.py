"""The emulator's spreadsheets and the values endpoints' behaviour, as Google has it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from automations.testing.a1 import GridRange, column_letters, format_range
from automations.testing.cells import Cell, from_input, render
from automations.testing.formulas import evaluate
from automations.testing.sheet_table import last_filled, table_bounds

DEFAULT_ROWS, DEFAULT_COLUMNS = 1000, 26
STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """Google's error body."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "status": STATUS.get(self.code, "UNKNOWN"),
            }
        }


@dataclass
class Tab:
    """One sheet (tab): its properties and its cells."""

    sheet_id: int
    title: str
    rows: int = DEFAULT_ROWS
    columns: int = DEFAULT_COLUMNS
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    # What formats the tab (sheet_requests.py keeps them, the metadata shows them).
    frozen_rows: int = 0
    frozen_columns: int = 0
    basic_filter: dict[str, Any] | None = None
    rules: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    validations: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = field(
        default_factory=list
    )
    repeats: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = field(default_factory=list)
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    widths: dict[int, int] = field(default_factory=dict)

    def properties(self, index: int) -> dict[str, Any]:
        """The sheet's `properties` as Google describes them."""
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {
                "rowCount": self.rows,
                "columnCount": self.columns,
                **({"frozenRowCount": self.frozen_rows} if self.frozen_rows else {}),
                **({"frozenColumnCount": self.frozen_columns} if self.frozen_columns else {}),
            },
        }

    def last_row(self, c1: int = 0, c2: int | None = None) -> int:
        """1 + the last row index holding a value in columns [c1, c2), or 0."""
        used = [
            r
            for (r, c), cell in self.cells.items()
            if c >= c1 and (c2 is None or c < c2) and not cell.empty
        ]
        return max(used) + 1 if used else 0

    def insert_rows(self, at: int, count: int) -> None:
        """Insert `count` empty rows before row index `at`."""
        # else nothing moves: an append at the bottom (`at <= r` for each row, without a
        # Python call per cell: a Log is big)
        if any(map(at.__le__, map(itemgetter(0), self.cells))):
            self.cells = {((r + count if r >= at else r), c): v for (r, c), v in self.cells.items()}
        self.rows += count


@dataclass
class Spreadsheet:
    """A spreadsheet: id, title, locale and its tabs in order."""

    spreadsheet_id: str
    title: str
    tabs: list[Tab]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    next_protection: int = 1_120_923_000  # protectedRangeId, as Google numbers them

    def tab(self, title: str) -> Tab | None:
        """The tab with this title (Google matches titles exactly, then without case)."""
        for t in self.tabs:
            if t.title == title:
                return t
        return next((t for t in self.tabs if t.title.lower() == title.lower()), None)


def input_option(option: str | None) -> str:
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
    return option


def read(
    bounds: GridRange, render_option: str, date_option: str, book: Any = None
) -> list[list[Any]]:
    """The cells of `bounds`, rendered; formulas calculated when `book` (the spreadsheet)
    is given and the formula is one formulas.py knows."""
    tab = bounds.tab
    rows: list[list[Any]] = []
    cells, r2, c2 = tab.cells, min(bounds.r2, tab.rows), min(bounds.c2, tab.columns)
    if cells and (r2 - bounds.r1) * (c2 - bounds.c1) > len(cells):
        # Rows and columns past the last cell would be dropped as empty: not looked at.
        r2 = min(r2, max(map(itemgetter(0), cells)) + 1)
        c2 = min(c2, max(map(itemgetter(1), cells)) + 1)
    get, columns = cells.get, range(bounds.c1, c2)
    # A text cell is answered inline (render's answer: its text, formatted or not) and an
    # empty one as "": a big tab's Log is a million of them, two calls each otherwise.
    unformatted = render_option != "FORMATTED_VALUE"
    for r in range(bounds.r1, r2):
        row = [
            ""
            if (cell := get((r, c))) is None
            else cell.value
            if cell.kind == "string" and (unformatted or cell.value.__class__ is str)
            else render(_calculated(cell, render_option, book, tab), render_option, date_option)
            for c in columns
        ]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _calculated(cell: Cell | None, option: str, book: Any, tab: Tab) -> Cell | None:
    if cell is None or cell.kind != "formula" or option == "FORMULA" or book is None:
        return cell
    return evaluate(str(cell.value), book, tab) or cell


def value_range(target: GridRange, query: dict[str, str], book: Any = None) -> dict[str, Any]:
    bounds = target.clamped()
    out: dict[str, Any] = {
        "range": format_range(bounds),
        "majorDimension": query.get("majorDimension", "ROWS"),
    }
    values = read(
        bounds,
        query.get("valueRenderOption", "FORMATTED_VALUE"),
        query.get("dateTimeRenderOption", "SERIAL_NUMBER"),
        book,
    )
    if out["majorDimension"] == "COLUMNS" and values:
        width = max(len(r) for r in values)
        columns = [[r[i] if i < len(r) else "" for r in values] for i in range(width)]
        values = [c[: max((k + 1 for k, v in enumerate(c) if v != ""), default=0)] for c in columns]
    if values:
        out["values"] = values
    return out


def write(
    target: GridRange,
    values: list[list[Any]],
    option: str,
    query: dict[str, str],
    body: dict[str, Any],
) -> dict[str, Any]:
    """values.update: `values` into the range from its top left, as Google answers it."""
    values = _rows_of(values, body.get("majorDimension", query.get("majorDimension", "ROWS")))
    tab = target.tab
    height, width = len(values), max((len(r) for r in values), default=0)
    if not height or not width:
        return {}
    if target.single:  # one cell is where the block starts, not its size
        target = GridRange(tab, target.r1, target.c1, target.r1 + height, target.c1 + width)
    _check_fits(target, height, width)
    cells = _put(target, values, option)
    written = GridRange(tab, target.r1, target.c1, target.r1 + height, target.c1 + width)
    out: dict[str, Any] = {
        "updatedRange": format_range(written),
        "updatedRows": sum(1 for r in values if any(v is not None for v in r)),
        "updatedColumns": len({j for r in values for j, v in enumerate(r) if v is not None}),
        "updatedCells": cells,
    }
    if query.get("includeValuesInResponse") == "true":
        out["updatedData"] = value_range(written, query)
    return out


def _rows_of(values: list[list[Any]], major: str) -> list[list[Any]]:
    """The values as rows (a list of lists, else Google's 400); columns turned into rows."""
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        shown = json.dumps(values if not isinstance(values, list) else values[0])
        raise ApiError(
            400,
            "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "
            + shown,
        )
    if major == "COLUMNS":
        width = max((len(c) for c in values), default=0)
        values = [[c[i] if i < len(c) else None for c in values] for i in range(width)]
    return values


def _check_fits(target: GridRange, height: int, width: int) -> None:
    """Google's 400 for a block larger than its bounded range or reaching past the grid."""
    tab = target.tab
    too_tall = target.bounded_rows and height > target.r2 - target.r1
    if too_tall or (target.bounded_columns and width > target.c2 - target.c1):
        past = (
            f"to row [{target.r1 + height}]"
            if height > target.r2 - target.r1
            else f"to column [{column_letters(target.c1 + width)}]"
        )
        raise ApiError(
            400,
            f"Requested writing within range [{format_range(target)}], but tried writing {past}",
        )
    if target.r1 + height > tab.rows or target.c1 + width > tab.columns:
        raise ApiError(
            400,
            f"Range ({_quoted(tab.title)}!{column_letters(target.c1 + 1)}{target.r1 + height}) exceeds grid limits. "
            f"Max rows: {tab.rows}, max columns: {tab.columns}",
        )


def _put(target: GridRange, values: list[list[Any]], option: str) -> int:
    """Each value into its cell (None leaves the cell, an empty value clears it); the count."""
    count, cells, raw = 0, target.tab.cells, option == "RAW"
    texts: dict[str, Cell] = {}  # RAW text -> its cell, made once (a Cell never changes)
    for r, row in enumerate(values, target.r1):
        for c, value in enumerate(row, target.c1):
            if value is None:
                continue
            count += 1
            if raw and type(value) is str:  # from_input's answer, without its checks: a Log
                if value:  # append is big
                    cell = texts.get(value)
                    if cell is None:
                        cell = texts[value] = Cell("string", value)
                    cells[(r, c)] = cell
                else:
                    cells.pop((r, c), None)
                continue
            cell = from_input(value, option)
            if cell.empty:
                cells.pop((r, c), None)
            else:
                cells[(r, c)] = cell
    return count


def clear(target: GridRange) -> str:
    bounds = target.clamped()
    for key in [k for k in bounds.tab.cells if bounds.contains(*k)]:
        del bounds.tab.cells[key]
    return format_range(bounds)


def append(
    sheet: Spreadsheet, target: GridRange, query: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    option = input_option(query.get("valueInputOption"))
    tab = target.tab
    values = body.get("values", [])
    bounds = target.clamped()
    # Google's "table": the filled cells connected (side by side or one above the other) to
    # the last filled cell of the range, reaching past the range (`Referrals!A1` finds the
    # whole table that starts there); the new rows go below it, from its first column.
    # The filled cells' keys gathered without a call per cell (a Log is big): not Cell.empty,
    # the value asked first as it is rarely ""
    filled = {k for k, cell in tab.cells.items() if cell.value != "" or cell.kind != "string"}
    last = last_filled(filled, bounds)
    out: dict[str, Any] = {"spreadsheetId": sheet.spreadsheet_id}
    if last is not None:
        top, left, bottom, right = table_bounds(filled, last)
        out["tableRange"] = format_range(GridRange(tab, top, left, bottom, right))
        start_row, start_col = bottom, left
    else:
        start_row, start_col = bounds.r1, bounds.c1
    height = len(values)
    width = max((len(r) for r in values), default=0)
    if query.get("insertDataOption") == "INSERT_ROWS":
        tab.insert_rows(start_row, height)
    elif start_row + height > tab.rows:
        tab.rows = start_row + height
    if start_col + width > tab.columns:
        tab.columns = start_col + width
    where = GridRange(tab, start_row, start_col, start_row + height, start_col + width, True, True)
    result = write(where, values, option, query, {})
    out["updates"] = {"spreadsheetId": sheet.spreadsheet_id, **result}
    return out


def _quoted(title: str) -> str:
    return format_range(None, title)
