"""A local Google Sheets API (v4) for tests and for trying the google backend offline.

A real HTTP server on 127.0.0.1 answering the endpoints gspread uses for reading
metadata, reading values (get, batchGet), writing values (update, batchUpdate,
append, clear), adding or resizing tabs (spreadsheets.batchUpdate addSheet,
updateSheetProperties) and formatting them (updateCells, repeatCell, frozen rows, basic
filters, conditional formats, data validation, protected ranges: sheet_requests.py), the
way Google does: formatted strings by default,
trailing empty cells and rows dropped, no `values` key for an empty range,
normalised and quoted ranges, grid limits, Google's error bodies. It counts
requests and their body sizes, and can inject faults (429s, 500s, delays, an edit between
requests, a request applied whose answer is lost).

    python -m automations.testing.sheets_emulator --port 8089 --workbook data/partners.xlsx

then `SHEETS_EMULATOR_HOST=127.0.0.1:8089` and `[sheet] spreadsheet = "<the id it prints>"`.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from automations.testing import sheet_requests
from automations.testing.a1 import (
    GridRange,
    RangeError,
    parse_range,
)
from automations.testing.cells import Cell
from automations.testing.grid import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    ApiError,
    Spreadsheet,
    Tab,
    append,
    clear,
    input_option,
    read,
    value_range,
    write,
)
from automations.testing.sheet_view import page


@dataclass
class Fault:
    """A planned misbehaviour for the next matching requests."""

    status: int
    times: int
    method: str | None = None  # only requests of this HTTP method
    message: str = ""
    landed: bool = False  # the request is applied first, then the fault answered


PAYLOAD_LIMIT = 10_485_760  # Google refuses a larger request body with a 400


class SheetsEmulator:
    """The emulator: spreadsheets in memory behind a real HTTP server on 127.0.0.1."""

    def __init__(self, port: int = 0) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.requests: list[tuple[str, str]] = []
        self.sizes: list[tuple[str, str, int]] = []  # (method, path, request body bytes)
        self.faults: list[Fault] = []
        self.delay = 0.0
        self.before: Callable[[str, str], None] | None = None  # called before each request
        self.lock = threading.RLock()
        self._next_sheet_id = 1
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """host:port, the value for SHEETS_EMULATOR_HOST."""
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> SheetsEmulator:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    # --- test helpers ----------------------------------------------------------------------

    def create(
        self,
        spreadsheet_id: str,
        title: str = "Untitled spreadsheet",
        tabs: dict[str, list[list[Any]]] | None = None,
        locale: str = "en_US",
    ) -> Spreadsheet:
        """A spreadsheet as Google creates it (one empty `Sheet1`), or with these tabs."""
        with self.lock:
            made = []
            for index, (name, rows) in enumerate((tabs or {"Sheet1": []}).items()):
                tab = Tab(0 if index == 0 and not tabs else self._sheet_id(), name)
                tab.rows = max(DEFAULT_ROWS, len(rows) + 1) if tabs else DEFAULT_ROWS
                tab.columns = max([DEFAULT_COLUMNS, *(len(r) for r in rows)])
                for r, row in enumerate(rows):
                    for c, value in enumerate(row):
                        cell = Cell.native(value)
                        if not cell.empty:
                            tab.cells[(r, c)] = cell
                made.append(tab)
            sheet = Spreadsheet(spreadsheet_id, title, made, locale)
            self.spreadsheets[spreadsheet_id] = sheet
            return sheet

    def load_workbook(self, path: Path, spreadsheet_id: str = "local-workbook") -> Spreadsheet:
        """A spreadsheet holding every tab of an .xlsx workbook (values, not formulas)."""
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            tabs = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}
        finally:
            book.close()
        return self.create(spreadsheet_id, path.stem, tabs)

    def values(self, spreadsheet_id: str, title: str) -> list[list[Any]]:
        """A tab's values as FORMATTED_VALUE rows (for assertions)."""
        with self.lock:
            tab = self.spreadsheets[spreadsheet_id].tab(title)
            assert tab is not None, title
            whole = GridRange(tab, 0, 0, tab.rows, tab.columns)
            return read(
                whole, "FORMATTED_VALUE", "FORMATTED_STRING", self.spreadsheets[spreadsheet_id]
            )

    def fail(
        self, status: int, times: int = 1, method: str | None = None, landed: bool = False
    ) -> None:
        """Answer the next `times` requests (of `method`, if given) with `status`; with
        `landed`, each is applied first (Google did the work, its answer was lost)."""
        self.faults.append(Fault(status, times, method, landed=landed))

    def count(self, method: str | None = None) -> int:
        """How many requests arrived (of `method`, if given)."""
        return sum(1 for m, _ in self.requests if method is None or m == method)

    def _sheet_id(self) -> int:
        self._next_sheet_id += 1
        return self._next_sheet_id * 1000 + 7

    # --- the API ---------------------------------------------------------------------------

    def handle(self, method: str, url: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one request: (HTTP status, JSON body)."""
        parts = urlsplit(url)
        query = {k: v for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self.lock:
            self.requests.append((method, parts.path))
            self.sizes.append((method, parts.path, len(body)))
        if self.before is not None:
            self.before(method, parts.path)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            fault = next(
                (f for f in self.faults if f.times > 0 and f.method in (None, method)), None
            )
            if fault is not None:
                fault.times -= 1
                if fault.landed:
                    self._answer(method, parts.path, query, body)
                message = fault.message or {
                    429: "Quota exceeded for quota metric 'Read requests' and limit "
                    "'Read requests per minute per user' of service 'sheets.googleapis.com'.",
                    500: "Internal error encountered.",
                    503: "The service is currently unavailable.",
                }.get(fault.status, "Fault injected by the emulator.")
                return fault.status, ApiError(fault.status, message).body()
            return self._answer(method, parts.path, query, body)

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if len(body) > PAYLOAD_LIMIT:  # as Google answers (seen in the field)
            message = f"Request payload size exceeds the limit: {PAYLOAD_LIMIT} bytes."
            return 400, ApiError(400, message).body()
        try:
            return 200, self._route(method, path, query, json.loads(body) if body else {})
        except ApiError as exc:
            return exc.code, exc.body()
        except RangeError as exc:
            return 400, ApiError(400, str(exc)).body()
        except (ValueError, KeyError, TypeError) as exc:
            return 400, ApiError(400, f"Invalid JSON payload received. {exc}").body()

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(.*)", path)
        if not match:
            raise ApiError(404, "Requested entity was not found.")
        sheet = self.spreadsheets.get(unquote(match.group(1)))
        if sheet is None:
            raise ApiError(404, "Requested entity was not found.")
        rest = match.group(2)
        one = {k: v[0] for k, v in query.items()}
        if rest == "" and method == "GET":
            return self._metadata(sheet, query)
        if rest == ":batchUpdate" and method == "POST":
            return self._batch_update(sheet, body)
        if rest == "/values:batchGet" and method == "GET":
            ranges = [parse_range(r, sheet) for r in query.get("ranges", [])]
            return {
                "spreadsheetId": sheet.spreadsheet_id,
                "valueRanges": [value_range(g, one, sheet) for g in ranges],
            }
        if rest == "/values:batchUpdate" and method == "POST":
            return self._values_batch_update(sheet, body)
        if rest == "/values:batchClear" and method == "POST":
            cleared = [clear(parse_range(r, sheet)) for r in body.get("ranges", [])]
            return {"spreadsheetId": sheet.spreadsheet_id, "clearedRanges": cleared}
        values = re.fullmatch(r"/values/(.+?)(:append|:clear)?", rest)
        if values is None:
            raise ApiError(404, "Requested entity was not found.")
        target = parse_range(unquote(values.group(1)), sheet)
        action = values.group(2)
        if action == ":clear" and method == "POST":
            return {"spreadsheetId": sheet.spreadsheet_id, "clearedRange": clear(target)}
        if action == ":append" and method == "POST":
            return append(sheet, target, one, body)
        if action is None and method == "GET":
            return value_range(target, one, sheet)
        if action is None and method == "PUT":
            option = input_option(one.get("valueInputOption"))
            return {
                "spreadsheetId": sheet.spreadsheet_id,
                **write(target, body.get("values", []), option, one, body),
            }
        raise ApiError(404, "Requested entity was not found.")

    def _metadata(self, sheet: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        """spreadsheets.get; with includeGridData and ranges, each range's cells (values,
        notes, formats, validations) under its tab's `data`."""
        meta = sheet_requests.spreadsheet_metadata(sheet)
        if query.get("includeGridData", ["false"])[0].lower() != "true":
            return meta
        for text in query.get("ranges", []):
            target = parse_range(text, sheet).clamped()
            index = sheet.tabs.index(target.tab)
            data = sheet_requests.grid_data(target.tab, target.r1, target.r2, target.c1, target.c2)
            meta["sheets"][index].setdefault("data", []).append(data)
        return meta

    def _batch_update(self, sheet: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        """All the requests or none (Google applies a batchUpdate atomically)."""
        saved = sheet_requests.snapshot(sheet)
        try:
            return self._batch_requests(sheet, body)
        except (ApiError, RangeError, ValueError, KeyError, TypeError):
            sheet_requests.restore(sheet, saved)
            raise

    def _batch_requests(self, sheet: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        replies: list[dict[str, Any]] = []
        for request in body.get("requests", []):
            if "addSheet" in request:
                props = request["addSheet"].get("properties", {})
                title = props.get("title") or f"Sheet{len(sheet.tabs) + 1}"
                if sheet.tab(title) is not None and sheet.tab(title).title.lower() == title.lower():  # type: ignore[union-attr]
                    raise ApiError(
                        400,
                        f'Invalid requests[{len(replies)}].addSheet: A sheet with the name "{title}" '
                        "already exists. Please enter another name.",
                    )
                grid = props.get("gridProperties", {})
                tab = Tab(
                    props.get("sheetId", self._sheet_id()),
                    title,
                    grid.get("rowCount", DEFAULT_ROWS),
                    grid.get("columnCount", DEFAULT_COLUMNS),
                )
                sheet.tabs.insert(props.get("index", len(sheet.tabs)), tab)
                replies.append({"addSheet": {"properties": tab.properties(sheet.tabs.index(tab))}})
            else:
                replies.append(sheet_requests.apply(sheet, len(replies), request))
        return {"spreadsheetId": sheet.spreadsheet_id, "replies": replies}

    def _values_batch_update(self, sheet: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        option = input_option(body.get("valueInputOption"))
        responses = [
            write(parse_range(d["range"], sheet), d.get("values", []), option, {}, d)
            for d in body.get("data", [])
        ]
        out: dict[str, Any] = {"spreadsheetId": sheet.spreadsheet_id}
        if responses:
            out.update(
                totalUpdatedRows=sum(r.get("updatedRows", 0) for r in responses),
                totalUpdatedColumns=max(r.get("updatedColumns", 0) for r in responses),
                totalUpdatedCells=sum(r.get("updatedCells", 0) for r in responses),
                totalUpdatedSheets=len(
                    {r["updatedRange"].split("!")[0] for r in responses if "updatedRange" in r}
                ),
                responses=[{"spreadsheetId": sheet.spreadsheet_id, **r} for r in responses],
            )
        return out


def _handler(emulator: SheetsEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without this, Nagle's algorithm and
            # delayed acknowledgements add 40 ms to every answer.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _answer(self) -> None:
            if self.command == "GET" and urlsplit(self.path).path in ("/", "/view"):
                return self._view()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = emulator.handle(self.command, self.path, body)
            data = json.dumps(payload, indent=2).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _view(self) -> None:
            with emulator.lock:
                data = page(list(emulator.spreadsheets.values())).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read counts
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Run the emulator until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m automations.testing.sheets_emulator")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--workbook", type=Path, help="an .xlsx whose tabs seed one spreadsheet")
    parser.add_argument("--id", default="local-workbook", help="the seeded spreadsheet's id")
    args = parser.parse_args(argv)
    emulator = SheetsEmulator(args.port)
    if args.workbook:
        emulator.load_workbook(args.workbook, args.id)
    else:
        emulator.create(args.id)
    emulator.start()
    print(
        f"Sheets emulator on http://{emulator.host} (spreadsheet id {args.id!r}); Ctrl-C stops it."
    )
    print(f"export SHEETS_EMULATOR_HOST={emulator.host}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
