"""`partners link-columns` on Google Sheets: XLOOKUP formulas beside the Partners rows
(SHEET.md, "Status beside the partner's own row"). One read of the Partners tab as formulas,
then one values write (USER_ENTERED, so the formulas are formulas), one more request only
when the tab's grid must grow to the right."""

from __future__ import annotations

from typing import Any

from automations.adapters.sheet.google import GoogleBackend
from automations.adapters.sheet.google_parts import find_title, quoted
from automations.core.linked import google_formula, plan_link
from automations.core.schema import LINKED_COLUMNS, column_letter
from automations.errors import LinkRefused, SheetError

ALREADY = "already linked, nothing changed"


def link_columns(backend: GoogleBackend) -> str:
    """Add the linked columns once; what was done, in a sentence (CLI.md, link-columns)."""
    found = {
        s["properties"]["title"]: s["properties"] for s in backend.read_metadata().get("sheets", [])
    }
    tabs = backend.tabs
    title = find_title(found, tabs.partners)
    health = find_title(found, tabs.health)
    if title is None:
        raise SheetError(f"spreadsheet {backend.key} has no {tabs.partners} tab")
    if health is None:
        raise SheetError(
            f"spreadsheet {backend.key} has no {tabs.health} tab yet, so the columns would "
            "find nothing: run `partners health` once, then `partners link-columns`"
        )
    params = {"valueRenderOption": "FORMULA"}
    got = backend.call(
        "read the Partners tab",
        lambda: backend.http.values_get(backend.key, quoted(title), dict(params)),
    )
    rows: list[list[Any]] = got.get("values", [])
    try:
        plan = plan_link(rows, title)
    except LinkRefused as exc:
        raise SheetError(str(exc)) from None
    if plan is None:
        return f"{title}: {', '.join(LINKED_COLUMNS)} are there: {ALREADY}."
    props = found[title]
    needed = plan.first_column + len(LINKED_COLUMNS)
    if props.get("gridProperties", {}).get("columnCount", 26) < needed:
        grow = {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": props["sheetId"],
                    "gridProperties": {"columnCount": needed},
                },
                "fields": "gridProperties.columnCount",
            }
        }
        backend.call(
            "widen the Partners tab",
            lambda: backend.http.batch_update(backend.key, {"requests": [grow]}),
        )
    first = column_letter(plan.first_column)
    cells = [{"range": f"{quoted(title)}!{first}1", "values": [plan.header]}]
    for row in plan.rows:
        formulas = [google_formula(plan, row, c, health) for c in LINKED_COLUMNS]
        cells.append({"range": f"{quoted(title)}!{first}{row}", "values": [formulas]})
    body = {"valueInputOption": "USER_ENTERED", "data": cells}
    backend.call(
        "write the linked columns", lambda: backend.http.values_batch_update(backend.key, body)
    )
    last = column_letter(plan.first_column + len(LINKED_COLUMNS) - 1)
    return (
        f"{title}: added {', '.join(LINKED_COLUMNS)} in columns {first} to {last} for "
        f"{len(plan.rows)} partner row(s); they look each partner up in {health} by email. "
        "They are your cells now: the toolkit never writes them again (a partner added later: "
        "copy the formulas down)."
    )
