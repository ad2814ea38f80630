"""The local workbook backend: reads the user's workbook (python-calamine), never writes it.

Health, Review and the newest Log rows go to the sibling `<name>.toolkit.xlsx`, written
whole (xlsxwriter, constant memory) to a temporary file and renamed over the old one, so
a crash never leaves half a file. Older Log rows move, LOG_CHUNK at a time, to archive
workbooks beside it that are written once and only read after that, so a Log that grows
without bound does not make every run slower to write (SHEET.md, Log; FIELD-NOTES.md,
"Reading and writing workbooks fast").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import tempfile
import traceback
import zipfile
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineError, CalamineWorkbook

from automations.adapters.sheet import ReviewTable
from automations.adapters.sheet.xlsx_look import dress_health, dress_review
from automations.adapters.sheet.xlsx_panic import (
    is_panic,
    panic_row_error,
    panic_unprinted,
)
from automations.config import Tabs
from automations.core.review import REVIEW_COLUMNS
from automations.core.schema import LOG_COLUMNS
from automations.core.tables import RawSheet, normalise_header
from automations.errors import SheetError

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .xlsx, and old .xls
ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
# A workbook cannot hold C0 control characters (a server's reply may carry one).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_ARCHIVE = re.compile(r".*\.log-(\d{4,})\.xlsx")
LOG_CHUNK = 5_000  # Log rows per archive file; the toolkit file keeps under 2x this many
# A hidden tab of the toolkit file: how many archives its Log follows on. The toolkit file
# is renamed into place after its archives, so an archive numbered above it was left by a
# run stopped in between: its rows are still in the toolkit file (or were never written).
META_TAB = "Toolkit"
ARCHIVES_KEY = "log_archives"
WRITE_OPTIONS = {
    "constant_memory": True,
    # Text stays text: a cell "=HYPERLINK(...)" or "+1 555" is never a formula or number.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": "yyyy-mm-dd",
}


def toolkit_path(path: Path) -> Path:
    """`data/partners.xlsx` (or `.xlsm`) -> `data/partners.toolkit.xlsx`: always a plain
    workbook, whatever the user's is (a macro workbook's content type would be wrong)."""
    return path.with_name(path.stem + ".toolkit.xlsx")


def _not_a_workbook(path: Path, exc: Exception) -> SheetError:
    """Say what the file is when it is not an .xlsx (encrypted, an old .xls, something else)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError:
        head = b""
    if head.startswith(OLE_SIGNATURE) and ENCRYPTION_STREAM in head:
        return SheetError(
            f"workbook {path} is password-protected (encrypted), so it cannot be read; save an "
            "unprotected copy (File > Info > Protect Workbook > Encrypt with Password: clear it)"
        )
    if head.startswith(OLE_SIGNATURE):
        return SheetError(
            f"workbook {path} is an old-style .xls file; open it and save it as .xlsx"
        )
    return SheetError(f"{path} is not a readable .xlsx workbook ({exc})")


def _open(path: Path) -> CalamineWorkbook:
    try:
        path.open("rb").close()  # calamine reports a missing file as an unreadable one
        return CalamineWorkbook.from_path(str(path))
    except FileNotFoundError as exc:
        raise SheetError(f"workbook {path} not found (run `partners init` for a sample)") from exc
    except PermissionError as exc:
        raise SheetError(f"workbook {path} cannot be read: permission denied") from exc
    except (CalamineError, OSError, ValueError) as exc:
        raise _not_a_workbook(path, exc) from exc


def _rows(workbook: CalamineWorkbook, title: str) -> list[list[Any]] | None:
    """A tab's cells as calamine gives them (blank is "", numbers float, dates date or
    datetime), rows from row 1 so row numbers stay those the user sees; None if absent."""
    names = {n.lower(): n for n in workbook.sheet_names}
    name = title if title in workbook.sheet_names else names.get(title.lower())
    if name is None:
        return None
    try:
        sheet = workbook.get_sheet_by_name(name)
        with panic_unprinted():
            rows: list[list[Any]] = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as exc:
        raise SheetError(f"tab {name!r} of {workbook.path} cannot be read ({exc})") from exc
    except BaseException as exc:  # a Rust panic: see xlsx_panic
        if not is_panic(exc):
            raise
        raise panic_row_error(sheet, name) from None
    return rows


def _log_records(rows: list[list[Any]] | None) -> list[list[Any]]:
    """Log rows reordered to the toolkit's columns (a hand-made Log may order them otherwise)."""
    if not rows:
        return []
    header = [normalise_header(h) for h in rows[0]]
    if tuple(header) == LOG_COLUMNS and all(len(r) == len(LOG_COLUMNS) for r in rows):
        return rows[1:]  # the toolkit's own Log (and its archives): already in order
    where = [header.index(c) if c in header else None for c in LOG_COLUMNS]
    return [[r[i] if i is not None and i < len(r) else None for i in where] for r in rows[1:]]


def archive_path(toolkit: Path, number: int) -> Path:
    """`partners.toolkit.xlsx`, 3 -> `partners.toolkit.log-0003.xlsx`: older Log rows."""
    return toolkit.with_name(f"{toolkit.stem}.log-{number:04d}.xlsx")


class XlsxBackend:
    """Reads `path`; writes Health, Review and the newest Log rows to its `.toolkit.xlsx`
    sibling, older Log rows to archive workbooks beside it."""

    def __init__(
        self, path: Path, tabs: Tabs, log_chunk: int = LOG_CHUNK, project: Path | None = None
    ) -> None:
        self.path = path
        self.project = project  # the project folder: a workbook inside it is known relative
        self.tabs = tabs
        self.toolkit = toolkit_path(path)
        self.log_chunk = log_chunk
        # Earlier versions named it after the user's suffix (`.toolkit.xlsm`): read that
        # one until the first write makes the `.toolkit.xlsx`, so no history is lost.
        legacy = path.with_name(path.stem + ".toolkit" + path.suffix)
        self._kept = legacy if not self.toolkit.exists() and legacy.exists() else self.toolkit
        self._kept_log: list[list[Any]] | None = None  # the toolkit file's Log as last read
        self._moved = 0  # archives the toolkit file's Log follows on, as last read

    @property
    def identity(self) -> str:
        """`xlsx:` and the workbook's path relative to the project folder (so moving the
        folder keeps the journal's history, proposals and pending keys its own), or its
        absolute path when it lies outside the folder."""
        where = self.path.resolve()
        if self.project is not None and where.is_relative_to(self.project.resolve()):
            return f"xlsx:{where.relative_to(self.project.resolve()).as_posix()}"
        return f"xlsx:{where}"

    @property
    def former_identities(self) -> tuple[str, ...]:
        """What earlier versions called this workbook: its absolute path."""
        legacy = f"xlsx:{self.path.resolve()}"
        return () if legacy == self.identity else (legacy,)

    def read(self) -> RawSheet:
        """Every user tab, plus the Log rows of the user's workbook, the archives and the
        toolkit file, oldest first."""
        workbook = _open(self.path)
        try:
            found = {
                title: _rows(workbook, title)
                for title in (
                    self.tabs.partners,
                    self.tabs.referrals,
                    self.tabs.touches,
                    self.tabs.survey,
                    self.tabs.unsubscribes,
                )
            }
            user_log = _rows(workbook, self.tabs.log)
        finally:
            workbook.close()
        archived, kept = self._read_log()
        log = _log_records(user_log) + [r for rows in archived for r in rows] + kept
        found[self.tabs.log] = [list(LOG_COLUMNS), *log]
        # Read so a decision typed into the toolkit's own file is reported, not lost unseen.
        found[self.tabs.review] = self._toolkit_tab(self.tabs.review)
        return RawSheet(found)

    def _archives(self) -> list[tuple[int, Path]]:
        """(number, path) of each archive on disk, oldest first."""
        found = self.toolkit.parent.glob(f"{self.toolkit.stem}.log-*.xlsx")
        numbered = (_ARCHIVE.fullmatch(p.name) for p in found)
        return sorted((int(m[1]), self.toolkit.with_name(m[0])) for m in numbered if m)

    def _moved_count(self, archives: list[tuple[int, Path]]) -> int:
        """How many archives the toolkit file's Log follows on; a file from before it said
        so follows on every archive there is."""
        for row in self._toolkit_tab(META_TAB):
            if len(row) > 1 and row[0] == ARCHIVES_KEY and isinstance(row[1], float | int):
                return int(row[1])
        return max((n for n, _ in archives), default=0)

    def _read_log(self) -> tuple[list[list[list[Any]]], list[list[Any]]]:
        """Each archive's Log rows, oldest first (only those the toolkit file follows on),
        and the toolkit file's own rows (kept in `_kept_log`)."""
        archives = self._archives()
        self._moved = self._moved_count(archives)
        archived = self._archived_log([a for a in archives if a[0] <= self._moved])
        self._kept_log = self._toolkit_log(archived[-1] if archived else [])
        return archived, self._kept_log

    def _archived_log(self, archives: list[tuple[int, Path]]) -> list[list[list[Any]]]:
        """Each archive's Log rows, oldest archive first."""
        out = []
        for _, path in archives:
            workbook = _open(path)
            try:
                out.append(_log_records(_rows(workbook, self.tabs.log)))
            finally:
                workbook.close()
        return out

    def _toolkit_tab(self, title: str) -> list[list[Any]]:
        if not self._kept.exists():
            return []
        workbook = _open(self._kept)
        try:
            return _rows(workbook, title) or []
        finally:
            workbook.close()

    def _toolkit_log(self, newest_archive: list[list[Any]]) -> list[list[Any]]:
        """The toolkit file's Log rows, less those a run stopped between writing an archive
        and rewriting the toolkit file had already archived."""
        rows = _log_records(self._toolkit_tab(self.tabs.log))
        n = len(newest_archive)
        if (
            n
            and len(rows) >= n
            and rows[0] == newest_archive[0]
            and rows[n - 1] == newest_archive[-1]
        ):
            return rows[n:]
        return rows

    def write(
        self,
        health: list[list[Any]] | None,
        log_rows: list[list[Any]],
        review: ReviewTable | None = None,
        status: list[list[Any]] | None = None,
    ) -> None:
        """Rewrite the toolkit file: Health replaced (None keeps it), Log appended, Review
        replaced (None keeps it; the tab appears once there is a proposal). When the Log
        reaches twice `log_chunk` rows, its oldest `log_chunk` go to a new archive first."""
        # A run reads before it writes: reuse that read instead of opening the file again.
        kept = self._kept_log if self._kept_log is not None else self._read_log()[1]
        if health is None:
            health = self._toolkit_tab(self.tabs.health)
        reviewing = (
            [list(REVIEW_COLUMNS), *review.rows]
            if review is not None
            else self._toolkit_tab(self.tabs.review)
        )
        live, moved = self._archive([*kept, *log_rows])
        tabs = [(self.tabs.health, health), (self.tabs.log, [list(LOG_COLUMNS), *live])]
        if len(reviewing) > 1:
            tabs.append((self.tabs.review, reviewing))
        status = status if status is not None else self._toolkit_tab(self.tabs.status)
        if status:
            tabs.append((self.tabs.status, status))
        tabs.append((META_TAB, [[ARCHIVES_KEY, moved]]))
        _write_book(self.toolkit, tabs, self.tabs)
        self._kept_log, self._moved = live, moved
        self._kept = self.toolkit

    def _archive(self, live: list[list[Any]]) -> tuple[list[list[Any]], int]:
        """Move the oldest Log rows to new archives while `live` holds twice `log_chunk`;
        the rows left and the archives moved in all. Archives a stopped run left beyond
        those the toolkit file follows on go first (their rows are in `live`)."""
        for number, path in self._archives():
            if number > self._moved:
                with contextlib.suppress(OSError):  # if it stays, it is still not read
                    path.unlink(missing_ok=True)
        moved = self._moved
        while len(live) >= 2 * self.log_chunk:
            moved += 1
            chunk = [list(LOG_COLUMNS), *live[: self.log_chunk]]
            _write_book(archive_path(self.toolkit, moved), [(self.tabs.log, chunk)])
            live = live[self.log_chunk :]
        return live, moved


def _fill(sheet: Any, rows: list[list[Any]], dates: Any, moments: Any) -> None:
    """Write each cell by its type: text always as text (never a formula), dates with a
    date format, blanks not at all (xlsxwriter's constant-memory mode, row by row)."""
    text, number, boolean, when = (
        sheet.write_string,
        sheet.write_number,
        sheet.write_boolean,
        sheet.write_datetime,
    )
    illegal = ILLEGAL_CHARACTERS.search
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value:
                    text(r, c, ILLEGAL_CHARACTERS.sub("\ufffd", value) if illegal(value) else value)
            elif value is None:
                continue
            elif kind is float or kind is int:
                if value == value and abs(value) != float("inf"):  # NaN and infinity: blank
                    number(r, c, value)
            elif kind is bool:
                boolean(r, c, value)
            elif kind is dt.datetime:
                when(r, c, value.replace(tzinfo=None), moments)
            elif kind is dt.date:
                when(r, c, value, dates)
            else:
                text(r, c, str(value))


def _write_book(
    target: Path, tabs: list[tuple[str, list[list[Any]]]], names: Tabs | None = None
) -> None:
    """Write a workbook of `tabs` to a temporary file, then rename it over `target`."""
    tmp = ""
    book: xlsxwriter.Workbook | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + target.name, suffix=".tmp", dir=target.parent)
        os.close(fd)
        book = xlsxwriter.Workbook(tmp, WRITE_OPTIONS)
        dates = book.add_format({"num_format": "yyyy-mm-dd"})
        moments = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for title, rows in tabs:
            sheet = book.add_worksheet(title)
            # Dressed first: in constant-memory mode a note must precede its row's cells.
            if names is not None and title == names.health:
                dress_health(book, sheet, rows)
            elif names is not None and title == names.review:
                dress_review(sheet, rows)
            _fill(sheet, rows, dates, moments)
            if title == META_TAB:
                sheet.hide()
        book.close()
        os.replace(tmp, target)
    except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
        _abandon(book, exc)
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise SheetError(f"cannot write {target}: {_why(exc)}") from exc


def _why(exc: Exception) -> str:
    """What the user can do about a failed write, from the OSError under xlsxwriter's own."""
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
    if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        return "the disk is full (no space left on the device); free some space and run again"
    reason = getattr(cause, "strerror", None) or cause
    return f"{reason} (is the folder writable, is the disk full?)"


def _abandon(book: xlsxwriter.Workbook | None, exc: BaseException) -> None:
    """Release what a failed xlsxwriter close leaves behind: its zip file is still open and
    would try to finish itself when Python frees it (failing again on a full disk, which
    Python prints as a traceback), and its temporary parts stay on disk."""
    failure: BaseException | None = exc
    while failure is not None:
        for frame, _ in traceback.walk_tb(failure.__traceback__):
            for name, value in frame.f_locals.items():
                if isinstance(value, zipfile.ZipFile):
                    with contextlib.suppress(OSError, ValueError):
                        value.close()
                elif name == "xml_files" and isinstance(value, list):
                    for part in value:
                        if isinstance(part[0], str):
                            Path(part[0]).unlink(missing_ok=True)
        failure = failure.__context__
    for sheet in book.worksheets() if book is not None else []:
        handle, name = sheet.row_data_fh, sheet.row_data_filename
        with contextlib.suppress(OSError, ValueError):
            if handle is not None:
                handle.close()
            if name:
                Path(name).unlink(missing_ok=True)


def write_workbook(path: Path, tabs: dict[str, list[list[Any]]]) -> None:
    """Write a whole workbook (the sample, or test data), atomically."""
    _write_book(path, list(tabs.items()))
