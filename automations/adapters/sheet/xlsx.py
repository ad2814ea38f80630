"""The local workbook backend (openpyxl): reads the user's workbook, never writes it.

Health and Log go to the sibling `<name>.toolkit.xlsx`, written whole to a
temporary file and renamed over the old one, so a crash never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from automations.adapters.sheet import ReviewTable
from automations.config import Tabs
from automations.core.review import REVIEW_COLUMNS
from automations.core.schema import LOG_COLUMNS
from automations.core.tables import RawSheet, normalise_header
from automations.errors import SheetError

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .xlsx, and old .xls
ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


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


def _open(path: Path) -> Any:
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as exc:
        raise SheetError(f"workbook {path} not found (run `partners init` for a sample)") from exc
    except PermissionError as exc:
        raise SheetError(f"workbook {path} cannot be read: permission denied") from exc
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise _not_a_workbook(path, exc) from exc


def _rows(workbook: Any, title: str) -> list[list[Any]] | None:
    names = {n.lower(): n for n in workbook.sheetnames}
    name = title if title in workbook.sheetnames else names.get(title.lower())
    if name is None:
        return None
    return [list(r) for r in workbook[name].iter_rows(values_only=True)]


def _log_records(rows: list[list[Any]] | None) -> list[list[Any]]:
    """Log rows reordered to the toolkit's columns (a hand-made Log may order them otherwise)."""
    if not rows:
        return []
    header = [normalise_header(h) for h in rows[0]]
    where = [header.index(c) if c in header else None for c in LOG_COLUMNS]
    return [[r[i] if i is not None and i < len(r) else None for i in where] for r in rows[1:]]


class XlsxBackend:
    """Reads `path`; writes Health and Log to its `.toolkit.xlsx` sibling."""

    def __init__(self, path: Path, tabs: Tabs) -> None:
        self.path = path
        self.tabs = tabs
        self.toolkit = toolkit_path(path)
        # Earlier versions named it after the user's suffix (`.toolkit.xlsm`): read that
        # one until the first write makes the `.toolkit.xlsx`, so no history is lost.
        legacy = path.with_name(path.stem + ".toolkit" + path.suffix)
        self._kept = legacy if not self.toolkit.exists() and legacy.exists() else self.toolkit
        self._kept_log: list[list[Any]] | None = None  # the toolkit's Log as last read

    @property
    def identity(self) -> str:
        """`xlsx:` and the workbook's absolute path."""
        return f"xlsx:{self.path.resolve()}"

    def read(self) -> RawSheet:
        """Every user tab, plus the Log rows of both files."""
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
        self._kept_log = self._toolkit_log()
        log = _log_records(user_log) + self._kept_log
        found[self.tabs.log] = [list(LOG_COLUMNS), *log]
        return RawSheet(found)

    def _toolkit_tab(self, title: str) -> list[list[Any]]:
        if not self._kept.exists():
            return []
        workbook = _open(self._kept)
        try:
            return _rows(workbook, title) or []
        finally:
            workbook.close()

    def _toolkit_log(self) -> list[list[Any]]:
        if not self._kept.exists():
            return []
        workbook = _open(self._kept)
        try:
            return _log_records(_rows(workbook, self.tabs.log))
        finally:
            workbook.close()

    def write(
        self,
        health: list[list[Any]] | None,
        log_rows: list[list[Any]],
        review: ReviewTable | None = None,
    ) -> None:
        """Rewrite the toolkit file: Health replaced (None keeps it), Log appended, Review
        replaced (None keeps it; the tab appears once there is a proposal)."""
        # A run reads before it writes: reuse that read instead of opening the file again.
        old_log = self._kept_log if self._kept_log is not None else self._toolkit_log()
        if health is None:
            health = self._toolkit_tab(self.tabs.health)
        reviewing = (
            [list(REVIEW_COLUMNS), *review.rows]
            if review is not None
            else self._toolkit_tab(self.tabs.review)
        )
        self._kept_log = [*old_log, *log_rows]
        workbook = Workbook(write_only=True)
        _fill(workbook.create_sheet(self.tabs.health), health)
        _fill(workbook.create_sheet(self.tabs.log), [list(LOG_COLUMNS), *old_log, *log_rows])
        if len(reviewing) > 1:
            _fill(workbook.create_sheet(self.tabs.review), reviewing)
        _save_atomically(workbook, self.toolkit)
        self._kept = self.toolkit


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        # A workbook cannot hold C0 control characters (a server's reply may carry one).
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a value like "=HYPERLINK(...)" stays text, never a formula
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _fill(sheet: WriteOnlyWorksheet, rows: list[list[Any]]) -> None:
    # Plain values are written as they are; only text (which could read as a formula) and
    # dates (which need a format) are wrapped in cells, the slow part of writing.
    for row in rows:
        sheet.append([_cell(sheet, v) if isinstance(v, str | dt.date) else v for v in row])


def _save_atomically(workbook: Workbook, target: Path) -> None:
    tmp = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + target.name, suffix=".tmp", dir=target.parent)
        os.close(fd)
        workbook.save(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise SheetError(
            f"cannot write {target}: {exc.strerror or exc} (is the folder writable, is the "
            "disk full?)"
        ) from exc


def write_workbook(path: Path, tabs: dict[str, list[list[Any]]]) -> None:
    """Write a whole workbook (the sample, or test data), atomically."""
    workbook = Workbook(write_only=True)
    for title, rows in tabs.items():
        _fill(workbook.create_sheet(title), rows)
    _save_atomically(workbook, path)
