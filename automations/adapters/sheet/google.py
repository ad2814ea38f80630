"""The Google Sheets backend (gspread's HTTP client, google-auth credentials).

A run costs the same few requests whatever the row count: one metadata read, one
`values:batchGet` for every tab, one `values:batchUpdate` for Health (blanking
rows left from a longer Health) and one `values:append` (INSERT_ROWS) for the
Log, one more per 2 MB of a Log backlog; a missing tab costs one `batchUpdate` the
first time, a Review status to write one read of that tab. Values are read
UNFORMATTED with SERIAL_NUMBER dates and written RAW, so `=IMPORTXML(...)` or
`+1 555` in a value stays text.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import RefreshError, TransportError
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from automations.adapters.sheet import ReviewTable, google_format
from automations.adapters.sheet.google_parts import (
    add_sheet,
    body_bytes,
    find_title,
    json_value,
    pieces,
    quoted,
    tab_requests,
)
from automations.adapters.sheet.google_parts import (
    date_order_of as date_order_of,
)
from automations.adapters.sheet.google_parts import (
    spreadsheet_key as spreadsheet_key,
)
from automations.adapters.sheet.google_session import ATTEMPTS, api_error, refused_sign_in
from automations.adapters.sheet.google_session import SCOPES as SCOPES
from automations.adapters.sheet.google_session import Session as _Session
from automations.adapters.sheet.google_session import cause as _cause
from automations.adapters.sheet.google_session import load_credentials as load_credentials
from automations.adapters.sheet.layout import PROTECTION, column_letter
from automations.adapters.sheet.review_tab import review_changes, review_grid
from automations.config import Tabs
from automations.core.review import REVIEW_COLUMNS
from automations.core.schema import LOG_COLUMNS
from automations.core.tables import RawSheet, normalise_header
from automations.errors import ConfigError, SheetError

BACKOFF = 1.0  # seconds before the second try; doubles, with jitter (about 15 s in all)
TIMEOUT = 30.0
# Google sets no hard limit but advises 2 MB, and refuses bodies over 10 MiB ("Request
# payload size exceeds the limit: 10485760 bytes"). 8 MB keeps a run at four requests up to
# a Health of about 30,000 rows (a 1M-cell sheet); a larger Health is split in pieces.
MAX_REQUEST_BYTES = 8_000_000
# A Log append follows the advice: a backlog of any length goes in pieces under 2 MB (issue
# 22, item 8), a margin left for the envelope around the rows.
MAX_APPEND_BYTES = 1_990_000

T = TypeVar("T")


class _MayHaveLanded(SheetError):
    """A request that is not idempotent failed in a way that may have applied it."""


class GoogleBackend:
    """Reads every tab in one request; writes Health and appends the Log in one each
    (a Log backlog in pieces under 2 MB)."""

    def __init__(
        self,
        spreadsheet: str,
        tabs: Tabs,
        credentials: Callable[[], Credentials],
        emulator_host: str = "",
        date_order: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not spreadsheet:
            raise ConfigError('[sheet] backend is "google" but [sheet] spreadsheet is empty')
        self.key = spreadsheet_key(spreadsheet)
        self.tabs = tabs
        self._credentials = credentials
        self.emulator_host = emulator_host
        self.date_order = date_order
        self.sleep = sleep
        self._http: HTTPClient | None = None
        self._sheets: dict[str, dict[str, Any]] = {}  # title -> properties, from the read
        self._meta: dict[str, dict[str, Any]] = {}  # title -> its sheets[] entry (formats)
        self._health_size = (0, 0)
        self._log_header: list[str] | None = None
        self._review: list[list[Any]] | None = None  # the Review tab as read

    @property
    def identity(self) -> str:
        """`google:` and the spreadsheet key."""
        return f"google:{self.key}"

    @property
    def former_identities(self) -> tuple[str, ...]:
        """None: its identity never changed."""
        return ()

    @property
    def http(self) -> HTTPClient:
        """gspread's HTTP client over our session (made on first use)."""
        if self._http is None:
            creds = AnonymousCredentials() if self.emulator_host else self._credentials()
            self._http = HTTPClient(creds, session=_Session(creds, self.emulator_host))
            self._http.set_timeout(TIMEOUT)
        return self._http

    def _account_email(self) -> str:
        creds = self._http.session.credentials if self._http else None  # type: ignore[attr-defined]
        return str(getattr(creds, "service_account_email", ""))

    def call(self, what: str, request: Callable[[], T], may_land: bool = False) -> T:
        """Run one API request with bounded retries; turn failures into SheetError.

        `may_land`: the request is not idempotent (an append, an addSheet), so only a
        refusal that cannot have landed (429) is retried; after a 5xx or a timeout it may
        have been applied: _MayHaveLanded, and the caller finds out what is missing."""
        retried = (429,) if may_land else (429, 500, 502, 503, 504)
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            try:
                return request()
            except APIError as exc:
                code = exc.code if exc.code != -1 else exc.response.status_code
                if code in retried and not last:
                    self._wait(attempt)
                    continue
                error = api_error(what, code, exc, self.key, self._account_email())
                if may_land and code >= 500:
                    raise _MayHaveLanded(str(error)) from None
                raise error from None
            except RefreshError as exc:  # before any request: the sign-in, not the sheet
                raise refused_sign_in(exc, self._account_email()) from None
            except TransportError as exc:
                raise SheetError(
                    f"cannot reach Google's sign-in server to {what} ({_cause(exc)}); nothing "
                    "was read or sent: check this computer's network connection and try again"
                ) from None
            except (requests.Timeout, requests.ConnectionError) as exc:
                if not may_land and not last:
                    self._wait(attempt)
                    continue
                message = (
                    f"cannot reach Google Sheets to {what} ({type(exc).__name__}); "
                    "check the network and try again"
                )
                raise (_MayHaveLanded if may_land else SheetError)(message) from None
        raise AssertionError("unreachable")

    def _wait(self, attempt: int) -> None:
        self.sleep(BACKOFF * 2**attempt * (0.5 + random.random()))

    def _title(self, wanted: str) -> str | None:
        return find_title(self._sheets, wanted)

    def read_metadata(self) -> dict[str, Any]:
        """spreadsheets.get: every tab's properties and formatting, kept for the writes."""
        meta: dict[str, Any] = self.call(
            "read the spreadsheet", lambda: dict(self.http.fetch_sheet_metadata(self.key))
        )
        self._sheets = {s["properties"]["title"]: s["properties"] for s in meta.get("sheets", [])}
        self._meta = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
        return meta

    def read(self) -> RawSheet:
        """Metadata, then every tab the toolkit reads (and Health's size) in one batchGet."""
        meta = self.read_metadata()
        locale = meta.get("properties", {}).get("locale", "en_US")
        t = self.tabs
        wanted = [
            t.partners,
            t.referrals,
            t.touches,
            t.survey,
            t.unsubscribes,
            t.log,
            t.review,
            t.health,
        ]
        present = {w: self._title(w) for w in wanted}
        ranges = [quoted(title) for title in present.values() if title is not None]
        params = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
        got = self.call(
            "read the tabs", lambda: self.http.values_batch_get(self.key, ranges, dict(params))
        )
        values = iter(v.get("values", []) for v in got.get("valueRanges", []))
        rows = {w: (next(values) if title is not None else None) for w, title in present.items()}
        health = rows.pop(t.health) or []
        self._health_size = (len(health), max((len(r) for r in health), default=0))
        self._review = rows.get(t.review)
        log = rows.get(t.log)
        self._log_header = [normalise_header(h) for h in log[0]] if log else None
        return RawSheet(rows, self.date_order or date_order_of(locale))

    def write(
        self,
        health: list[list[Any]] | None,
        log_rows: list[list[Any]],
        review: ReviewTable | None = None,
        status: list[list[Any]] | None = None,
    ) -> None:
        """Health replaced (None keeps it), Log rows appended, the Review tab's status cells
        updated and new proposals appended (SHEET.md): the Review cells go with the Health
        request, new proposals cost one append, a Log backlog over 2 MB a few appends."""
        if not self._sheets:
            self.read()
        t = self.tabs
        new_review = review is not None and review.new and self._title(t.review) is None
        structure = tab_requests(self._sheets, t, health, bool(log_rows), bool(new_review))
        if status is not None and self._title(t.status) is None:
            structure.append(add_sheet(t.status, 50, 2))
        self._add_tabs(structure)
        health_title, log_title = self._title(t.health), self._title(t.log)
        review_title = self._title(t.review)
        # Header cells the user's Log lacks go with the Health write (no extra request).
        header_cells = self._log_layout(log_title)[1] if log_rows and log_title else []
        review_rows: list[list[Any]] = []
        if review is not None and review_title is not None:
            self._add_tabs(review_grid(self._sheets[review_title], self._review))
            review_cells, review_rows = self._review_changes(review_title, review)
            header_cells = [*header_cells, *review_cells]
        status_title = self._title(t.status)
        if status is not None and status_title is not None:
            # Replaced whole: blanks below clear what a longer Status left.
            cells = [[*r, *[""] * (2 - len(r))] for r in status] + [["", ""]] * 8
            header_cells = [*header_cells, {"range": f"{quoted(status_title)}!A1", "values": cells}]
        if health is not None and health_title is not None:
            self._write_health(health_title, health, header_cells)
            header_cells = []
        if header_cells:
            self._write_values("update the Log header and the Review tab", header_cells)
        if log_rows and log_title is not None:
            self._append_log(log_title, log_rows)
        if review_rows and review_title is not None:
            rows = [[json_value(v) if v is not None else None for v in r] for r in review_rows]
            self._append("append to the Review tab", review_title, rows)

    def _add_tabs(self, structure: list[dict[str, Any]]) -> None:
        """Send `structure`. An addSheet is not idempotent (a second one of a title is
        refused), so after a 5xx or a timeout the tabs are read again and only what is
        still missing is asked for (issue 22, item 9)."""
        for attempt in range(ATTEMPTS):
            if not structure:
                return
            body = {"requests": structure}
            try:
                answer = self.call(
                    "add the toolkit's tabs",
                    lambda: self.http.batch_update(self.key, body),  # noqa: B023 (called here)
                    may_land=True,
                )
            except _MayHaveLanded:
                if attempt == ATTEMPTS - 1:
                    raise
                self._wait(attempt)
                self.read_metadata()
                structure = [
                    r
                    for r in structure
                    if "addSheet" not in r
                    or self._title(r["addSheet"]["properties"]["title"]) is None
                ]
                continue
            for reply in answer.get("replies", []):
                if "addSheet" in reply:  # with the sheetId Google chose
                    props = reply["addSheet"]["properties"]
                    self._sheets[props["title"]] = props
            return

    def _review_changes(
        self, title: str, review: ReviewTable
    ) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        """review_changes against the tab as it is now: a paced run takes long and the user
        may sort the tab meanwhile, so when a status cell is to be written the rows are
        found again right before (one read, only then; issue 22, item 9)."""
        cells, rows = review_changes(self._review, review, quoted(title))
        if not cells or not self._review:
            return cells, rows  # nothing to place, or a new tab: only this run wrote it
        params = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
        got = self.call(
            "read the Review tab",
            lambda: self.http.values_get(self.key, quoted(title), dict(params)),
        )
        self._review = got.get("values", [])
        return review_changes(self._review, review, quoted(title))

    def _write_health(
        self, title: str, health: list[list[Any]], extra: list[dict[str, Any]]
    ) -> None:
        """Health from A1 as updateCells (dates as dates), blanking what a longer Health left
        below, with its formatting and the Review tab's, and the `extra` cells, in the first
        piece's batchUpdate: one request however it looks (SHEET.md, Health)."""
        height = len(health)
        width = max((len(r) for r in health), default=0)
        old_height, old_width = self._health_size
        blank_width = max(width, old_width)
        rows = [google_format.row_data(row, blank_width) for row in health]
        rows += [google_format.row_data([], blank_width) for _ in range(old_height - height)]
        header = [str(h) for h in health[0]] if health else []
        google_format.legend_note(rows, header)
        sheet_id = self._sheets[title]["sheetId"]
        ids = {t: p["sheetId"] for t, p in self._sheets.items() if "sheetId" in p}
        after = [
            *google_format.cell_updates(extra, ids),
            *google_format.health_format(sheet_id, header, self._meta.get(title)),
            *self._review_format(),
        ]
        # The formatting rides with the first piece: leave it room in every piece.
        for start, chunk in pieces(rows, MAX_REQUEST_BYTES - body_bytes(after)):
            first = google_format.update_cells(sheet_id, start, 0, chunk)
            self._batch("write the Health tab", [first, *after])
            after = []
        self._health_size = (height, width)
        # What this run set is what the next write replaces (one set of rules, one filter).
        self._meta[title] = {
            "conditionalFormats": google_format.rules_of(header),
            "basicFilter": {},
        }

    def _review_format(self) -> list[dict[str, Any]]:
        """The Review tab's formatting, when the tab is there."""
        title = self._title(self.tabs.review)
        if title is None or "sheetId" not in self._sheets[title]:
            return []
        header = [normalise_header(h) for h in self._review[0]] if self._review else []
        meta = self._meta.get(title)
        if not header:
            header = list(REVIEW_COLUMNS)
        self._meta[title] = {"protectedRanges": [{"description": PROTECTION}]}
        return google_format.review_format(self._sheets[title]["sheetId"], header, meta)

    def _batch(self, what: str, requests: list[dict[str, Any]]) -> None:
        body = {"requests": requests}
        self.call(what, lambda: self.http.batch_update(self.key, body))

    def _append(self, what: str, title: str, rows: list[list[Any]]) -> None:
        """One values:append below the table starting in column A (never retried once it
        may have landed)."""
        params = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}
        self.call(
            what,
            lambda: self.http.values_append(
                self.key, f"{quoted(title)}!A:A", dict(params), {"values": rows}
            ),
            may_land=True,
        )

    def _write_values(self, what: str, data: list[dict[str, Any]]) -> None:
        body = {"valueInputOption": "RAW", "data": data}
        self.call(what, lambda: self.http.values_batch_update(self.key, body))

    def _log_layout(self, title: str) -> tuple[list[str], list[dict[str, Any]]]:
        """The Log's columns as the tab has them (the user's order), with the toolkit's
        missing ones added after the last header cell; and the update writing those cells."""
        header = list(self._log_header or [])
        missing = [c for c in LOG_COLUMNS if c not in header]
        if not header:
            return list(LOG_COLUMNS), []
        if not missing:
            return header, []
        first = column_letter(len(header))
        cells = {"range": f"{quoted(title)}!{first}1", "values": [missing]}
        return header + missing, [cells]

    def _append_log(self, title: str, log_rows: list[list[Any]]) -> None:
        """Append in order, in pieces under 2 MB of body (Google refuses 10 MiB), stopping at
        the first piece that fails: the next run reads the Log, and the journal's rows it
        lacks (key and status) are all that is appended, so no row lands twice."""
        header, _ = self._log_layout(title)
        where = [LOG_COLUMNS.index(h) if h in LOG_COLUMNS else None for h in header]
        rows = [[json_value(row[i]) if i is not None else "" for i in where] for row in log_rows]
        header_row = 0 if self._log_header else 1
        if header_row:
            rows = [list(LOG_COLUMNS), *rows]
        for start, piece in pieces(rows, MAX_APPEND_BYTES):
            # Column A always holds the timestamp: the append lands below the last Log row,
            # after any row added by hand meanwhile. Never retried when it may have landed.
            try:
                self._append("append to the Log tab", title, piece)
            except SheetError as exc:
                if start == 0:
                    raise
                went = f"{start - header_row:,} of {len(log_rows):,} Log rows went in"
                raise SheetError(f"{exc} ({went})") from None
            self._log_header = header
