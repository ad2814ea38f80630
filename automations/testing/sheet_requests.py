"""spreadsheets.batchUpdate requests that format a tab, checked and kept as Google does:
updateCells, repeatCell, updateSheetProperties (grid size, frozen rows, title),
updateDimensionProperties, setBasicFilter, clearBasicFilter, addConditionalFormatRule,
deleteConditionalFormatRule, setDataValidation and addProtectedRange. What is kept comes
back in the metadata (`spreadsheets.get`) and, for notes and validation, in grid data."""

from __future__ import annotations

import copy
from typing import Any

from automations.testing.cells import Cell
from automations.testing.grid import ApiError, Spreadsheet, Tab

_GRID_KEYS = ("sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")


def apply(sheet: Spreadsheet, index: int, request: dict[str, Any]) -> dict[str, Any]:
    """Apply one request (not addSheet); its reply. Raises ApiError as Google words it."""
    name = next(iter(request), "?")
    handler = _HANDLERS.get(name)
    if handler is None:
        raise ApiError(400, f"Invalid requests[{index}]: the emulator does not implement {name}")
    where = f"Invalid requests[{index}].{name}"
    return handler(sheet, where, request[name])


def _tab(sheet: Spreadsheet, where: str, sheet_id: Any) -> Tab:
    found = next((t for t in sheet.tabs if t.sheet_id == (sheet_id or 0)), None)
    if found is None:
        raise ApiError(400, f"{where}: No grid with id: {sheet_id}")
    return found


def _range(sheet: Spreadsheet, where: str, grid: dict[str, Any]) -> tuple[Tab, int, int, int, int]:
    """(tab, r1, r2, c1, c2) of a GridRange; an open side reaches the grid's edge."""
    unknown = set(grid) - set(_GRID_KEYS)
    if unknown:
        raise ApiError(400, f'{where}: Unknown name "{sorted(unknown)[0]}": Cannot find field.')
    tab = _tab(sheet, where, grid.get("sheetId", 0))
    r1, r2 = grid.get("startRowIndex", 0), grid.get("endRowIndex", tab.rows)
    c1, c2 = grid.get("startColumnIndex", 0), grid.get("endColumnIndex", tab.columns)
    if r2 > tab.rows or c2 > tab.columns:
        raise ApiError(
            400,
            f"{where}: Range ({tab.title}) exceeds grid limits. Max rows: {tab.rows}, "
            f"max columns: {tab.columns}",
        )
    if r1 > r2 or c1 > c2 or r1 < 0 or c1 < 0:
        raise ApiError(400, f"{where}: Invalid range: start index after end index")
    return tab, r1, r2, c1, c2


def _fields(where: str, body: dict[str, Any]) -> list[str]:
    fields = str(body.get("fields") or "").strip()
    if not fields:
        raise ApiError(400, f"{where}: At least one field must be updated, but none were set.")
    return [f.strip().replace("/", ".") for f in fields.split(",")]


def _copied(value: Any) -> Any:
    """A copy of JSON data, as copy.deepcopy makes it but without its bookkeeping: a
    Health of 5000 rows has a format in each date cell."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def _cell(value: dict[str, Any], fmt: dict[str, Any] | None) -> Cell:
    if "stringValue" in value:
        return Cell("string", str(value["stringValue"]))
    if "boolValue" in value:
        return Cell("bool", bool(value["boolValue"]))
    if "formulaValue" in value:
        return Cell("formula", str(value["formulaValue"]))
    if "numberValue" in value:
        kind = ((fmt or {}).get("numberFormat") or {}).get("type", "")
        pattern = ((fmt or {}).get("numberFormat") or {}).get("pattern", "")
        shown = {"DATE": "date", "DATE_TIME": "datetime"}.get(kind, "")
        if shown and pattern.lower().startswith("yyyy-mm-dd"):
            shown += ":iso"
        return Cell("number", float(value["numberValue"]), shown)
    return Cell("string", "")


def _update_cells(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    fields = _fields(where, body)
    start = body.get("start")
    if start is None and "range" not in body:
        raise ApiError(400, f"{where}: Must specify either start or range.")
    if start is not None:
        tab = _tab(sheet, where, start.get("sheetId", 0))
        r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
    else:
        tab, r0, _, c0, _ = _range(sheet, where, body["range"])
    rows = body.get("rows", [])
    height = len(rows)
    width = max((len(r.get("values", [])) for r in rows), default=0)
    if r0 + height > tab.rows or c0 + width > tab.columns:
        raise ApiError(
            400,
            f"{where}: GridCoordinate.rowIndex[{r0 + height - 1}] or columnIndex"
            f"[{c0 + width - 1}] is after the last row or column in grid[{tab.sheet_id}]",
        )
    values_too = any(f in ("*", "userEnteredValue") for f in fields)
    format_too = any(
        f in ("*", "userEnteredFormat") or f.startswith("userEnteredFormat.") for f in fields
    )
    notes_too = any(f in ("*", "note") for f in fields)
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values", [])):
            key = (r0 + i, c0 + j)
            if values_too:
                cell = _cell(data.get("userEnteredValue", {}), data.get("userEnteredFormat"))
                if cell.empty:
                    tab.cells.pop(key, None)
                else:
                    tab.cells[key] = cell
            if format_too and data.get("userEnteredFormat"):
                tab.formats[key] = _copied(data["userEnteredFormat"])
            elif format_too:
                tab.formats.pop(key, None)
            if notes_too:
                if data.get("note"):
                    tab.notes[key] = str(data["note"])
                else:
                    tab.notes.pop(key, None)
    return {}


def _repeat_cell(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    _fields(where, body)
    if "cell" not in body:
        raise ApiError(400, f"{where}: cell is required")
    tab, r1, r2, c1, c2 = _range(sheet, where, body.get("range", {}))
    fmt = body["cell"].get("userEnteredFormat")
    tab.repeats.append(((r1, r2, c1, c2), copy.deepcopy(fmt or {})))
    return {}


def _update_sheet_properties(
    sheet: Spreadsheet, where: str, body: dict[str, Any]
) -> dict[str, Any]:
    props = body.get("properties", {})
    tab = _tab(sheet, where, props.get("sheetId", 0))
    grid = props.get("gridProperties", {})
    for field in _fields(where, body):
        if field == "title":
            tab.title = props.get("title", tab.title)
        elif field in ("gridProperties.rowCount", "gridProperties.columnCount"):
            key = field.split(".")[1]
            value = grid.get(key, 0)
            if value < 1:
                raise ApiError(400, f"{where}: Invalid {key}: {value}")
            setattr(tab, "rows" if key == "rowCount" else "columns", value)
        elif field == "gridProperties.frozenRowCount":
            frozen = grid.get("frozenRowCount", 0)
            if frozen >= tab.rows:
                raise ApiError(400, f"{where}: You can't freeze all visible rows on the sheet.")
            tab.frozen_rows = frozen
        elif field == "gridProperties.frozenColumnCount":
            tab.frozen_columns = grid.get("frozenColumnCount", 0)
        else:
            raise ApiError(400, f"{where}: the emulator does not implement the field {field}")
    return {}


def _update_dimension(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    fields = _fields(where, body)
    grid = body.get("range", {})
    dimension = grid.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise ApiError(400, f"{where}: range.dimension must be ROWS or COLUMNS")
    tab = _tab(sheet, where, grid.get("sheetId", 0))
    limit = tab.columns if dimension == "COLUMNS" else tab.rows
    start, end = grid.get("startIndex", 0), grid.get("endIndex", limit)
    if end > limit or start >= end:
        raise ApiError(400, f"{where}: Invalid dimension range [{start}, {end})")
    size = body.get("properties", {}).get("pixelSize")
    if "pixelSize" in fields and dimension == "COLUMNS":
        for column in range(start, end):
            tab.widths[column] = int(size or 0)
    return {}


def _grid(tab: Tab, r1: int, r2: int, c1: int, c2: int) -> dict[str, Any]:
    """A GridRange as Google answers it: a sheetId of 0, proto3's default, is left out
    (the recorded cassettes show it so; a tab's properties do carry it)."""
    return {
        **({"sheetId": tab.sheet_id} if tab.sheet_id else {}),
        "startRowIndex": r1,
        "endRowIndex": r2,
        "startColumnIndex": c1,
        "endColumnIndex": c2,
    }


def _set_basic_filter(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    wanted = body.get("filter", {})
    if "range" not in wanted:
        raise ApiError(400, f"{where}: filter.range is required")
    tab, r1, r2, c1, c2 = _range(sheet, where, wanted["range"])
    tab.basic_filter = {**copy.deepcopy(wanted), "range": _grid(tab, r1, r2, c1, c2)}
    return {}


def _clear_basic_filter(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    _tab(sheet, where, body.get("sheetId", 0)).basic_filter = None
    return {}


def _add_rule(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    rule = copy.deepcopy(body.get("rule", {}))
    ranges = rule.get("ranges") or []
    if not ranges:
        raise ApiError(400, f"{where}: rule.ranges must not be empty")
    tabs = {_range(sheet, where, r)[0].sheet_id for r in ranges}
    if len(tabs) != 1:
        raise ApiError(400, f"{where}: All ranges must be on the same sheet.")
    boolean = rule.get("booleanRule")
    if boolean is None and "gradientRule" not in rule:
        raise ApiError(400, f"{where}: rule must have a booleanRule or a gradientRule")
    if boolean is not None:
        condition = boolean.get("condition", {})
        values = condition.get("values", [])
        if condition.get("type") == "CUSTOM_FORMULA" and (
            len(values) != 1 or not str(values[0].get("userEnteredValue", "")).startswith("=")
        ):
            raise ApiError(
                400,
                f"{where}: Invalid ConditionValue.userEnteredValue: CUSTOM_FORMULA takes one "
                "formula starting with =",
            )
    tab = _tab(sheet, where, tabs.pop())
    index = body.get("index", 0)
    if not 0 <= index <= len(tab.rules):
        raise ApiError(400, f"{where}: Invalid index: {index}")
    for given in ranges:
        if not given.get("sheetId"):
            given.pop("sheetId", None)
    tab.rules.insert(index, rule)
    return {}


def _delete_rule(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    tab = _tab(sheet, where, body.get("sheetId", 0))
    index = body.get("index", 0)
    if not 0 <= index < len(tab.rules):
        raise ApiError(
            400, f"{where}: No conditional format on sheet: {tab.sheet_id} at index: {index}"
        )
    rule = tab.rules.pop(index)
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _set_validation(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    tab, r1, r2, c1, c2 = _range(sheet, where, body.get("range", {}))
    rule = body.get("rule")
    if rule is not None:
        condition = rule.get("condition", {})
        if condition.get("type") == "ONE_OF_LIST" and not condition.get("values"):
            raise ApiError(
                400,
                f"{where}: Invalid DataValidation: ONE_OF_LIST conditions must have at least "
                "one value",
            )
    # A later validation replaces an earlier one wherever they overlap, as in a sheet.
    tab.validations = [v for v in tab.validations if v[0] != (r1, r2, c1, c2)]
    if rule is not None:
        tab.validations.append(((r1, r2, c1, c2), copy.deepcopy(rule)))
    return {}


def _add_protected(sheet: Spreadsheet, where: str, body: dict[str, Any]) -> dict[str, Any]:
    wanted = copy.deepcopy(body.get("protectedRange", {}))
    if "range" not in wanted:
        raise ApiError(400, f"{where}: protectedRange.range is required")
    tab, r1, r2, c1, c2 = _range(sheet, where, wanted["range"])
    sheet.next_protection += 1
    kept = {
        **{k: v for k, v in wanted.items() if v is not None},
        "protectedRangeId": sheet.next_protection,
        "range": _grid(tab, r1, r2, c1, c2),
        "requestingUserCanEdit": True,
    }
    tab.protected.append(kept)
    return {"addProtectedRange": {"protectedRange": kept}}


_HANDLERS = {
    "updateCells": _update_cells,
    "repeatCell": _repeat_cell,
    "updateSheetProperties": _update_sheet_properties,
    "updateDimensionProperties": _update_dimension,
    "setBasicFilter": _set_basic_filter,
    "clearBasicFilter": _clear_basic_filter,
    "addConditionalFormatRule": _add_rule,
    "deleteConditionalFormatRule": _delete_rule,
    "setDataValidation": _set_validation,
    "addProtectedRange": _add_protected,
}


def snapshot(sheet: Spreadsheet) -> tuple[list[Tab], list[dict[str, Any]], int]:
    """What a failed batchUpdate puts back: the tabs, each one's state, the id counter."""
    states = [copy.copy(t.__dict__) for t in sheet.tabs]
    for state in states:
        for key, value in state.items():
            if isinstance(value, dict | list):
                state[key] = copy.copy(value)
    return list(sheet.tabs), states, sheet.next_protection


def restore(sheet: Spreadsheet, saved: tuple[list[Tab], list[dict[str, Any]], int]) -> None:
    """Undo every request of a batchUpdate that failed part way."""
    tabs, states, counter = saved
    for tab, state in zip(tabs, states, strict=True):
        tab.__dict__.update(state)
    sheet.tabs[:] = tabs
    sheet.next_protection = counter


def spreadsheet_metadata(sheet: Spreadsheet) -> dict[str, Any]:
    """spreadsheets.get without grid data."""
    return {
        "spreadsheetId": sheet.spreadsheet_id,
        "properties": {
            "title": sheet.title,
            "locale": sheet.locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": sheet.time_zone,
        },
        "sheets": [sheet_metadata(t, i) for i, t in enumerate(sheet.tabs)],
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{sheet.spreadsheet_id}/edit",
    }


def sheet_metadata(tab: Tab, index: int) -> dict[str, Any]:
    """One `sheets[]` entry of spreadsheets.get: properties, then what formats the tab."""
    out: dict[str, Any] = {"properties": tab.properties(index)}
    if tab.basic_filter is not None:
        out["basicFilter"] = copy.deepcopy(tab.basic_filter)
    if tab.rules:
        out["conditionalFormats"] = copy.deepcopy(tab.rules)
    if tab.protected:
        out["protectedRanges"] = copy.deepcopy(tab.protected)
    return out


def grid_data(tab: Tab, r1: int, r2: int, c1: int, c2: int) -> dict[str, Any]:
    """`data` of a tab for includeGridData: values, notes, formats and validations."""
    rows = []
    for r in range(r1, min(r2, tab.rows)):
        values = []
        for c in range(c1, min(c2, tab.columns)):
            data: dict[str, Any] = {}
            cell = tab.cells.get((r, c))
            if cell is not None and not cell.empty:
                data["userEnteredValue"] = _entered(cell)
            if (r, c) in tab.formats:
                data["userEnteredFormat"] = _copied(tab.formats[(r, c)])
            if (r, c) in tab.notes:
                data["note"] = tab.notes[(r, c)]
            rule = next(
                (v for (a, b, x, y), v in reversed(tab.validations) if a <= r < b and x <= c < y),
                None,
            )
            if rule is not None:
                data["dataValidation"] = copy.deepcopy(rule)
            values.append(data)
        rows.append({"values": values})
    return {"startRow": r1, "startColumn": c1, "rowData": rows}


def _entered(cell: Cell) -> dict[str, Any]:
    if cell.kind == "bool":
        return {"boolValue": cell.value}
    if cell.kind == "number":
        return {"numberValue": cell.value}
    if cell.kind == "formula":
        return {"formulaValue": cell.value}
    return {"stringValue": cell.value}
