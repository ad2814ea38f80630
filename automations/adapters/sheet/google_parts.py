"""The Google Sheets backend's pure parts (SHEET.md; ARCHITECTURE.md, the sheet adapter):
keys, locales and ranges; cells as a RAW write sends them, tabs to add, and rows cut in
pieces whose bodies stay under a size, measured as gspread sends them (requests' `json=`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TypeVar

from automations.config import Tabs
from automations.core.review import REVIEW_COLUMNS
from automations.core.schema import LOG_COLUMNS

R = TypeVar("R")
HEADROOM = 500  # rows added when Health outgrows its grid, so that is rare
# Spreadsheet locales that write dates day first / year first; the rest (en_US...) month first.
_YMD = ("zh", "ja", "ko", "hu", "lt", "sv", "mn", "fa")
_MDY = ("en_US", "en_PH", "en_CA", "es_US", "en")


def spreadsheet_key(value: str) -> str:
    """The key from a key or a sheet URL (`https://docs.google.com/spreadsheets/d/KEY/edit`)."""
    value = value.strip()
    if "/d/" in value:
        return value.split("/d/", 1)[1].split("/", 1)[0]
    return value


def date_order_of(locale: str) -> str:
    """MDY, DMY or YMD: how people using this spreadsheet locale type dates."""
    language = locale.split("_")[0]
    if language in _YMD:
        return "YMD"
    if locale in _MDY:
        return "MDY"
    return "DMY"


# json.dumps(value, allow_nan=False) makes an encoder each call: a Log backlog is 60,000 rows.
_JSON = json.JSONEncoder(allow_nan=False)
_AS_IS = frozenset({str, int, bool})


def quoted(title: str) -> str:
    """A tab title as a range: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


def body_bytes(value: Any) -> int:
    """The size of `value` as a request body: what requests' `json=` sends (ASCII escapes,
    so a non-ASCII character costs six bytes or twelve, not its UTF-8 two to four)."""
    return len(_JSON.encode(value))  # ASCII: as many bytes as characters


def pieces(rows: list[R], limit: int) -> list[tuple[int, list[R]]]:
    """(first row index, rows) pieces of at most `limit` bytes of JSON each; a row larger
    than `limit` goes alone (Google then names what it refuses)."""
    found: list[tuple[int, list[R]]] = []
    start, size = 0, 0
    for i, row in enumerate(rows):
        row_size = body_bytes(row) + 2  # and the ", " that separates it from the next
        if size and size + row_size > limit:
            found.append((start, rows[start:i]))
            start, size = i, 0
        size += row_size
    found.append((start, rows[start:]))
    return found


def find_title(sheets: dict[str, dict[str, Any]], wanted: str) -> str | None:
    """The tab's title as the spreadsheet spells it (titles match whatever the case)."""
    if wanted in sheets:
        return wanted
    return next((t for t in sheets if t.lower() == wanted.lower()), None)


def tab_requests(
    sheets: dict[str, dict[str, Any]],
    tabs: Tabs,
    health: list[list[Any]] | None,
    log: bool,
    review: bool,
) -> list[dict[str, Any]]:
    """The batchUpdate requests adding the toolkit's missing tabs and growing Health's grid
    (`sheets`: title -> properties, as the metadata read gave them)."""
    requests: list[dict[str, Any]] = []
    health_title = find_title(sheets, tabs.health)
    height = len(health) if health is not None else 0
    width = max((len(r) for r in health), default=0) if health else 0
    if health is not None and health_title is None:
        requests.append(add_sheet(tabs.health, height + HEADROOM, max(26, width)))
    elif health is not None and health_title is not None:
        grid = sheets[health_title].get("gridProperties", {})
        rows, columns = grid.get("rowCount", 0), grid.get("columnCount", 0)
        if height > rows or width > columns:
            props = {
                "sheetId": sheets[health_title]["sheetId"],
                "gridProperties": {
                    "rowCount": max(height + HEADROOM, rows),
                    "columnCount": max(width, columns),
                },
            }
            fields = "gridProperties.rowCount,gridProperties.columnCount"
            requests.append({"updateSheetProperties": {"properties": props, "fields": fields}})
    if log and find_title(sheets, tabs.log) is None:
        requests.append(add_sheet(tabs.log, 1000, len(LOG_COLUMNS)))
    if review:
        requests.append(add_sheet(tabs.review, 1000, len(REVIEW_COLUMNS)))
    return requests


def add_sheet(title: str, rows: int, columns: int) -> dict[str, Any]:
    """The batchUpdate request adding tab `title` with a grid of this size."""
    return {
        "addSheet": {
            "properties": {
                "title": title,
                "gridProperties": {"rowCount": rows, "columnCount": columns},
            }
        }
    }


def json_value(value: Any) -> Any:
    """A cell for a RAW write: text stays text, dates are ISO text, blanks are empty."""
    if value.__class__ in _AS_IS:  # most cells: what the checks below would leave
        return value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return ""
    if hasattr(value, "item"):
        return json_value(value.item())
    return value
