"""A project made by `partners init`, on the local workbook or on the Sheets emulator.

Behaviour tests take one and run the same assertions against both backends: the
helpers read the Health and Log tabs, edit a Partners cell, and save or restore
the toolkit's tabs, wherever they live.
"""

from __future__ import annotations

import atexit
import copy
import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from automations.core.tables import normalise_header
from automations.jobs.init import run_init
from automations.testing.sheets_emulator import SheetsEmulator

SHEET_KEY = "1PartnerSheetKeyForTests"
OPENED: list[SheetProject] = []  # this test's projects: their Logs are checked after it


_SAMPLES: dict[dt.date, Path] = {}  # today -> a folder `partners init` made in this run


def _init(path: Path, today: dt.date) -> None:
    """`partners init` into `path`; into an empty folder, a copy of the folder it made earlier
    in this test run for the same day (it writes the same files: templates, config, sample)."""
    if path.exists() and any(path.iterdir()):
        run_init(path, today)
        return
    if today not in _SAMPLES:
        sample = Path(tempfile.mkdtemp(prefix="partners-sample-"))
        atexit.register(shutil.rmtree, sample, ignore_errors=True)
        run_init(sample, today)
        _SAMPLES[today] = sample
    shutil.copytree(_SAMPLES[today], path, copy_function=shutil.copy, dirs_exist_ok=True)


class SheetProject:
    """A folder set up by `partners init`; with `emulator`, its sheet lives there instead."""

    def __init__(
        self, path: Path, emulator: SheetsEmulator | None = None, review: bool = False
    ) -> None:
        self.path = path
        self.emulator = emulator
        self._saved: Any = None
        OPENED.append(self)
        _init(path, dt.date.today())
        if not review:  # most tests are about sending: the review's own tests turn it on
            review_off(path)
        if emulator is not None:
            emulator.load_workbook(path / "data" / "partners.xlsx", SHEET_KEY)
            config = path / "config" / "partners.toml"
            text = config.read_text(encoding="utf-8")
            text = text.replace('backend = "xlsx"', 'backend = "google"', 1)
            text = text.replace(
                'spreadsheet = ""',
                f'spreadsheet = "https://docs.google.com/spreadsheets/d/{SHEET_KEY}/edit"',
                1,
            )
            config.write_text(text, encoding="utf-8")

    @property
    def backend(self) -> str:
        """xlsx or google."""
        return "google" if self.emulator else "xlsx"

    def __truediv__(self, other: str) -> Path:
        return self.path / other

    def __fspath__(self) -> str:
        return str(self.path)

    def _tab(self, title: str) -> list[list[Any]]:
        if self.emulator is not None:
            sheet = self.emulator.spreadsheets[SHEET_KEY]
            return self.emulator.values(SHEET_KEY, title) if sheet.tab(title) else []
        toolkit = self.path / "data" / "partners.toolkit.xlsx"
        if not toolkit.exists():
            return []
        book = load_workbook(toolkit, read_only=True)
        try:
            return [list(r) for r in book[title].iter_rows(values_only=True)]
        finally:
            book.close()

    def _log_tab(self) -> list[list[Any]]:
        """The Log tab's cells. Read after every test (tests/conftest.py), so the local
        workbook is read with calamine, ten times faster than openpyxl: the Log holds text
        only, which both read alike."""
        toolkit = self.path / "data" / "partners.toolkit.xlsx"
        if self.emulator is not None or not toolkit.exists():
            return self._tab("Log")
        book = CalamineWorkbook.from_path(str(toolkit))
        try:
            return book.get_sheet_by_name("Log").to_python(skip_empty_area=False)
        finally:
            book.close()

    def log_rows(self) -> list[dict[str, Any]]:
        """The Log rows the toolkit reads (history from the workbook included)."""
        rows = self._log_tab()
        if not rows:
            return []
        header = [str(h) for h in rows[0]]
        return [
            {
                h: ("" if v is None else str(v))
                for h, v in zip(header, r + [None] * len(header), strict=False)
            }
            for r in rows[1:]
        ]

    def health(self) -> dict[str, dict[str, Any]]:
        """Health rows by email."""
        rows = self._tab("Health")
        return {str(r[1]): dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r and r[1]}

    def wrote(self) -> bool:
        """Whether anything was written to the sheet."""
        if self.emulator is not None:
            return any(m in ("POST", "PUT") for m, _ in self.emulator.requests)
        return (self.path / "data" / "partners.toolkit.xlsx").exists()

    def set_partner(self, email: str, column: str, value: Any) -> int:
        """Change one cell of a partner's row; return the row number (as the user sees it)."""
        if self.emulator is not None:
            from automations.testing.cells import Cell

            tab = self.emulator.spreadsheets[SHEET_KEY].tab("Partners")
            assert tab is not None
            header = [
                normalise_header(tab.cells[(0, c)].value)
                for c in range(tab.columns)
                if (0, c) in tab.cells
            ]
            row = next(r for (r, c), cell in tab.cells.items() if c == 1 and cell.value == email)
            tab.cells[(row, header.index(column))] = Cell.native(value)
            return row + 1
        path = self.path / "data" / "partners.xlsx"
        book = load_workbook(path)
        sheet = book["Partners"]
        header = [normalise_header(c.value) for c in sheet[1]]
        cells = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == email)
        cells[header.index(column)].value = value
        book.save(path)
        return int(cells[0].row)

    def rename_partner(self, email: str, new: str) -> None:
        """Give a partner another address in every tab of the workbook (the local one)."""
        assert self.emulator is None, "the emulator's sheet is loaded from the workbook once"
        path = self.path / "data" / "partners.xlsx"
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and email in cell.value:
                        cell.value = cell.value.replace(email, new)
        book.save(path)

    def add_tab(self, title: str, rows: list[list[Any]]) -> None:
        """A new tab in the user's sheet (before any run wrote to it)."""
        path = self.path / "data" / "partners.xlsx"
        book = load_workbook(path)
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        book.save(path)
        if self.emulator is not None:
            self.emulator.load_workbook(path, SHEET_KEY)

    def save_toolkit_tabs(self) -> None:
        """Remember the Health and Log tabs as they are now."""
        if self.emulator is not None:
            self._saved = copy.deepcopy(self.emulator.spreadsheets[SHEET_KEY].tabs)
        else:
            toolkit = self.path / "data" / "partners.toolkit.xlsx"
            self._saved = toolkit.read_bytes()

    def restore_toolkit_tabs(self) -> None:
        """Put them back (as if a run's write had been lost)."""
        if self.emulator is not None:
            self.emulator.spreadsheets[SHEET_KEY].tabs = self._saved
        else:
            (self.path / "data" / "partners.toolkit.xlsx").write_bytes(self._saved)


# The tests run on both backends: those whose sheet writes happen under a fault or a kill, or
# whose cells Google reads its own way. What every backend does alike is a contract
# (tests/contracts/test_sheet_backends.py), so the rest run on the local workbook only.
on_both_sheets = pytest.mark.parametrize("project", ["xlsx", "google"], indirect=True)


def sample_project(request: Any, tmp_path: Path, monkeypatch: Any) -> Iterator[SheetProject]:
    """The sample project on the local workbook, or on the Sheets emulator when the test is
    marked `on_both_sheets` and this is its `google` run."""
    if getattr(request, "param", "xlsx") == "xlsx":
        yield SheetProject(tmp_path)
        return
    emulator = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", emulator.host)
    yield SheetProject(tmp_path, emulator)
    emulator.stop()


def env_for(project: SheetProject) -> dict[str, str]:
    """The environment a `partners` process needs to reach this project's sheet."""
    env = dict(os.environ)
    if project.emulator is not None:
        env["SHEETS_EMULATOR_HOST"] = project.emulator.host
    return env


def email_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Log rows of this project's runs about emails and inbound mail (no `run` rows)."""
    return [r for r in rows if r["run_id"] != "history" and r["action"] != "run"]


def run_rows(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each `run` row as (status, detail)."""
    return [(r["status"], r["detail"]) for r in rows if r["action"] == "run"]


def runs_without_one_run_row(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Each run of this project whose Log rows lack exactly one `run` row (SHEET.md, Log):
    run id -> how many it has."""
    runs: dict[str, int] = {}
    for row in rows:
        r = {k.lower(): v for k, v in row.items()}
        if re.match(r"\d{8}T\d{6}Z-\d+", r.get("run_id", "")):  # ours, not typed by a user
            runs.setdefault(r["run_id"], 0)
            runs[r["run_id"]] += r.get("action") == "run"
    return {run: n for run, n in runs.items() if n != 1}


def review_off(folder: Path) -> None:
    """`[mail] review = "none"` in a config `partners init` wrote (which reviews partner mail)."""
    config = folder / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8")
    if "\nreview = [" not in text:  # set already (the folder was made before)
        return
    start = text.index("\nreview = [")
    end = text.index("\n", start + 1)
    config.write_text(text[:start] + '\nreview = "none"' + text[end:], encoding="utf-8")
