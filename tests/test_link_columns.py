"""`partners link-columns` (SHEET.md, "Status beside the partner's own row"): formula columns
beside the user's Partners rows that show Health's action, next_due and last_touch. On Google
through real gspread against the emulator (which calculates XLOOKUP); in the workbook read
back with openpyxl, and with LibreOffice when it is installed."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials

from automations.adapters.sheet import google
from automations.adapters.sheet.google import GoogleBackend
from automations.cli import main
from automations.config import Tabs
from automations.core.tables import normalise_header
from automations.testing.sheets_emulator import SheetsEmulator
from tests.projects import SHEET_KEY, SheetProject

LINKED = ["action", "next_due", "last_touch"]


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[SheetsEmulator]:
    server = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", server.host)
    monkeypatch.setattr(google, "BACKOFF", 0.01)
    yield server
    server.stop()


def run(
    project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def google_tab(emulator: SheetsEmulator, title: str, render: str) -> list[list[Any]]:
    """A tab as a script of the user's reads it through gspread."""
    backend = GoogleBackend(SHEET_KEY, Tabs(), AnonymousCredentials, emulator_host=emulator.host)
    params: dict[str, Any] = {"valueRenderOption": render, "dateTimeRenderOption": "SERIAL_NUMBER"}
    got = backend.http.values_get(SHEET_KEY, title, params=params)
    return [list(r) for r in got.get("values", [])]


def by_email(rows: list[list[Any]]) -> dict[str, dict[str, Any]]:
    header = [normalise_header(h) for h in rows[0]]
    padded = ([*r, *[""] * (len(header) - len(r))] for r in rows[1:])
    return {
        str(r[header.index("email")]).lower(): dict(zip(header, r, strict=False)) for r in padded
    }


def test_link_columns_on_google_show_each_partners_health_values_and_a_second_call_changes_nothing(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    assert run(project, capsys, "health")[0] == 0
    code, out, _ = run(project, capsys, "link-columns")
    assert code == 0 and "added action, next_due, last_touch" in out
    partners = by_email(google_tab(emulator, "Partners", "UNFORMATTED_VALUE"))
    health = by_email(google_tab(emulator, "Health", "UNFORMATTED_VALUE"))
    assert len(partners) >= 10
    for email, row in partners.items():
        for column in LINKED:
            assert row[column] == health[email][column], (email, column)
    assert any(row["next_due"] for row in partners.values())  # dates too, not only blanks
    formulas = google_tab(emulator, "Partners", "FORMULA")
    header = [normalise_header(h) for h in formulas[0]]
    email = chr(ord("A") + header.index("email"))
    assert (
        formulas[1][header.index("action")]
        == f'=XLOOKUP(${email}2, Health!$B:$B, Health!$O:$O, "")'
    )
    before = dict(emulator.spreadsheets[SHEET_KEY].tab("Partners").cells)  # type: ignore[union-attr]
    code, out, _ = run(project, capsys, "link-columns")
    assert code == 0 and "already linked, nothing changed" in out
    assert emulator.spreadsheets[SHEET_KEY].tab("Partners").cells == before  # type: ignore[union-attr]


def test_a_run_after_link_columns_never_writes_the_linked_cells_and_reads_partners_as_before(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    assert run(project, capsys, "health")[0] == 0
    health_before = google_tab(emulator, "Health", "UNFORMATTED_VALUE")
    assert run(project, capsys, "link-columns")[0] == 0
    before = dict(emulator.spreadsheets[SHEET_KEY].tab("Partners").cells)  # type: ignore[union-attr]
    code, _, err = run(project, capsys, "health")
    assert code == 0, err
    assert emulator.spreadsheets[SHEET_KEY].tab("Partners").cells == before  # type: ignore[union-attr]
    assert google_tab(emulator, "Health", "UNFORMATTED_VALUE") == health_before


def test_link_columns_on_google_widens_a_partners_tab_whose_grid_ends_at_its_last_column(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    tab = emulator.spreadsheets[SHEET_KEY].tab("Partners")
    assert tab is not None
    tab.columns = 1 + max(c for _, c in tab.cells)
    width = tab.columns
    assert run(project, capsys, "health")[0] in (0, 1)
    code, _, err = run(project, capsys, "link-columns")
    assert code == 0, err
    assert tab.columns == width + 3
    header = [normalise_header(h) for h in google_tab(emulator, "Partners", "FORMULA")[0]]
    assert header[width:] == LINKED


def test_link_columns_on_google_without_a_health_tab_says_to_run_health_first(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    code, _, err = run(project, capsys, "link-columns")
    assert code == 2
    assert err.startswith("partners: ") and "run `partners health` once" in err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_link_columns_in_the_workbook_writes_index_match_on_the_toolkit_files_health(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    project = SheetProject(tmp_path)
    workbook = project / "data" / "partners.xlsx"
    assert run(project, capsys, "health")[0] == 0
    with zipfile.ZipFile(workbook) as package:
        parts_before = {i.filename: package.read(i) for i in package.infolist()}
    code, out, _ = run(project, capsys, "link-columns")
    assert code == 0 and "partners.before-link-columns.xlsx" in out
    kept = project / "data" / "partners.before-link-columns.xlsx"
    assert (
        zipfile.ZipFile(kept).read("xl/worksheets/sheet1.xml")
        == parts_before["xl/worksheets/sheet1.xml"]
    )
    book = load_workbook(workbook)
    sheet = book["Partners"]
    header = [normalise_header(c.value) for c in sheet[1]]
    first = header.index("action")
    assert header[first : first + 3] == LINKED and first == len(header) - 3
    email = chr(ord("A") + header.index("email"))
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]]
    assert len(rows) >= 10
    for n, row in enumerate(rows, start=2):
        action, next_due, last_touch = row[first : first + 3]
        assert action == (
            f'=IFERROR(IF(INDEX([1]Health!$O:$O,MATCH(${email}{n},[1]Health!$B:$B,0))="","",'
            f'INDEX([1]Health!$O:$O,MATCH(${email}{n},[1]Health!$B:$B,0))),"")'
        )
        assert "[1]Health!$Q:$Q" in next_due and "[1]Health!$L:$L" in last_touch
    assert sheet.cell(2, first + 2).number_format in ("mm-dd-yy", "m/d/yyyy", "14")
    link = book._external_links[0]
    assert link.file_link.Target == "partners.toolkit.xlsx"
    assert link.file_link.TargetMode == "External"
    # Every part but those the link needs is the workbook's own, byte for byte.
    with zipfile.ZipFile(workbook) as after:
        parts_after = {i.filename: after.read(i) for i in after.infolist()}
    changed = {n for n in parts_before if parts_after.get(n) != parts_before[n]}
    assert changed <= {
        "xl/worksheets/sheet1.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "[Content_Types].xml",
    }


def test_link_columns_in_the_workbook_a_second_call_and_later_runs_leave_it_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path)
    workbook = project / "data" / "partners.xlsx"
    assert run(project, capsys, "health")[0] == 0
    assert run(project, capsys, "link-columns")[0] == 0
    linked = digest(workbook)
    code, out, _ = run(project, capsys, "link-columns")
    assert code == 0 and "already linked, nothing changed" in out
    assert digest(workbook) == linked
    assert not (project / "data" / "partners.before-link-columns-2.xlsx").exists()
    health = project.health()
    code, _, err = run(project, capsys, "health")
    assert code == 0, err
    assert digest(workbook) == linked
    assert project.health().keys() == health.keys()


@pytest.mark.parametrize("lock", [".~lock.partners.xlsx#", "~$partners.xlsx", "~$rtners.xlsx"])
def test_link_columns_refuses_a_workbook_open_in_a_spreadsheet_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lock: str
) -> None:
    project = SheetProject(tmp_path)
    workbook = project / "data" / "partners.xlsx"
    before = digest(workbook)
    (project / "data" / lock).write_text("someone,host,,;")  # LibreOffice's, Excel's
    code, _, err = run(project, capsys, "link-columns")
    assert code == 2
    assert "partners.xlsx is open in a spreadsheet program" in err and "close it" in err
    assert digest(workbook) == before


def test_link_columns_without_an_email_column_names_the_tab_and_what_to_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    project = SheetProject(tmp_path)
    workbook = project / "data" / "partners.xlsx"
    book = load_workbook(workbook)
    book["Partners"]["B1"] = "mail"
    book.save(workbook)
    before = digest(workbook)
    code, _, err = run(project, capsys, "link-columns")
    assert code == 2
    assert "partners: Partners: no email column in row 1" in err and "`email`" in err
    assert "Traceback" not in err
    assert digest(workbook) == before


def soffice(tmp_path: Path, fmt: str, source: Path, out: Path) -> Path:
    """Convert `source` with LibreOffice (its own profile under tmp_path) into `out`."""
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / f"{source.stem}.{fmt.split(':')[0]}"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_linked_columns_of_a_workbook_it_saved_as_references_to_health(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path)
    workbook = project / "data" / "partners.xlsx"
    # A workbook LibreOffice wrote (its XML differs from xlsxwriter's and Excel's).
    saved = soffice(tmp_path, "xlsx:Calc MS Excel 2007 XML", workbook, tmp_path / "saved")
    shutil.copy(saved, workbook)
    assert run(project, capsys, "health")[0] in (0, 1)
    code, _, err = run(project, capsys, "link-columns")
    assert code == 0, err
    text = soffice(tmp_path, "fods", workbook, tmp_path / "converted").read_text(encoding="utf-8")
    toolkit = (project / "data" / "partners.toolkit.xlsx").resolve().as_uri()
    assert f"INDEX([&apos;{toolkit}&apos;#$Health.$O$1:.$O$1048576]" in text
    assert f"MATCH([.$B2];[&apos;{toolkit}&apos;#$Health.$B$1:.$B$1048576];0)" in text
    assert run(project, capsys, "health")[0] in (0, 1)  # and the toolkit still reads it


def test_link_columns_keeps_a_chart_and_the_other_tabs_of_the_workbook_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import xlsxwriter
    from openpyxl import load_workbook

    project = SheetProject(tmp_path)
    workbook = project / "data" / "partners.xlsx"
    tabs = {
        ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
        for ws in load_workbook(workbook)
    }
    book = xlsxwriter.Workbook(str(workbook))
    for title, rows in tabs.items():
        sheet = book.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Referrals!$F$2:$F$6"})
    book.get_worksheet_by_name("Partners").insert_chart("P2", chart)
    book.close()
    with zipfile.ZipFile(workbook) as package:
        before = {i.filename: package.read(i) for i in package.infolist()}
    assert any(n.startswith("xl/charts/") for n in before)
    code, out, _ = run(project, capsys, "link-columns")
    assert code == 0 and "not there yet: `partners health` makes it" in out
    with zipfile.ZipFile(workbook) as package:
        after = {i.filename: package.read(i) for i in package.infolist()}
    kept = [n for n in before if n.startswith(("xl/charts/", "xl/drawings/", "xl/theme/"))]
    assert kept and all(after[n] == before[n] for n in kept)
    assert run(project, capsys, "health")[0] in (0, 1)  # the workbook still reads
