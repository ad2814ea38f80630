"""The xlsx backend: the user's workbook is never written; Health and Log go to the sibling file."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.image import Image
from PIL import Image as PILImage

from automations.adapters.sheet.xlsx import LOG_CHUNK, XlsxBackend, toolkit_path
from automations.config import Tabs
from automations.core.schema import LOG_COLUMNS
from automations.errors import SheetError
from tests.projects import SheetProject, env_for

TODAY = dt.date(2026, 6, 15)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rich_workbook(path: Path, tmp: Path) -> None:
    """A workbook as a person keeps it: formulas, a chart, an image, a formula-looking text."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Partners"
    ws.append(["Name", "Email", "Company", "Status", "First contact", "Notes"])
    ws.append(["Dana", "dana@p.example", "=cmd|' /C calc'!A0", "active", dt.date(2025, 1, 5), "ok"])
    ws.append(
        [
            "Lee",
            "lee@p.example",
            "Lee Ltd",
            "active",
            dt.date(2025, 3, 1),
            '=HYPERLINK("http://x.example","site")',
        ]
    )
    ws["C2"].data_type = "s"  # typed as text by the user
    ref = wb.create_sheet("Referrals")
    ref.append(["Date", "Direction", "Partner email", "Value"])
    ref.append([dt.date(2026, 6, 1), "received", "dana@p.example", 1200])
    ref.append([dt.date(2026, 5, 1), "given", "lee@p.example", "=D2*2"])
    chart = BarChart()
    chart.add_data(Reference(ref, min_col=4, min_row=1, max_row=3), titles_from_data=True)
    ref.add_chart(chart, "F2")
    picture = tmp / "logo.png"
    PILImage.new("RGB", (8, 8), "red").save(picture)
    ws.add_image(Image(str(picture)), "H2")
    wb.save(path)


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    path = tmp_path / "partners.xlsx"
    rich_workbook(path, tmp_path)
    return path


def test_reading_and_writing_never_changes_the_users_workbook(workbook: Path) -> None:
    before = digest(workbook)
    backend = XlsxBackend(workbook, Tabs())
    raw = backend.read()
    backend.write(
        [["name"], ["Dana"]],
        [
            [
                "2026-06-15T09:00:00+00:00",
                "r1",
                "thank",
                "dana@p.example",
                "k",
                "",
                "",
                "",
                "sent",
                "",
            ]
        ],
    )
    backend.write([["name"], ["Dana"]], [])
    assert digest(workbook) == before
    assert raw.tabs["Partners"][1][:2] == ["Dana", "dana@p.example"]  # type: ignore[index]
    assert raw.tabs["Touches"] is None  # absent tab


def test_health_is_replaced_and_log_appended_in_the_toolkit_file(workbook: Path) -> None:
    backend = XlsxBackend(workbook, Tabs())
    row = [
        "2026-06-15T09:00:00+00:00",
        "r1",
        "thank",
        "dana@p.example",
        "thank:dana@p.example:2026-06-01",
        "thank",
        "Thanks",
        "<m@x>",
        "sent",
        "",
    ]
    backend.write([["name", "score"], ["Dana", 50.0], ["Lee", 5.0]], [row])
    backend.write([["name", "score"], ["Dana", 51.0]], [[*row[:1], "r2", *row[2:]]])
    book = load_workbook(toolkit_path(workbook))
    assert [list(r) for r in book["Health"].iter_rows(values_only=True)] == [
        ["name", "score"],
        ["Dana", 51.0],
    ]
    log = [list(r) for r in book["Log"].iter_rows(values_only=True)]
    assert [r[1] for r in log] == ["run_id", "r1", "r2"]
    # The Log written is read back as history.
    assert len(XlsxBackend(workbook, Tabs()).read().tabs["Log"]) == 3  # type: ignore[arg-type]


def test_formula_looking_values_are_written_as_text(workbook: Path) -> None:
    backend = XlsxBackend(workbook, Tabs())
    backend.write([["company"], ["=cmd|' /C calc'!A0"], ["+1 555 0100"], ["@SUM(A1)"]], [])
    sheet = load_workbook(toolkit_path(workbook))["Health"]
    assert [(c.value, c.data_type) for (c,) in sheet.iter_rows(min_row=2)] == [
        ("=cmd|' /C calc'!A0", "s"),
        ("+1 555 0100", "s"),
        ("@SUM(A1)", "s"),
    ]


def test_a_log_tab_in_the_users_workbook_is_read_as_history(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Partners"
    ws.append(["Name", "Email"])
    log = wb.create_sheet("Log")
    log.append(["Status", "Key", "Timestamp", "Partner email"])  # hand-made: other column order
    log.append(["sent", "thank:a@p.example:2026-01-01", "2026-01-02", "a@p.example"])
    wb.save(tmp_path / "p.xlsx")
    rows = XlsxBackend(tmp_path / "p.xlsx", Tabs()).read().tabs["Log"]
    assert rows is not None
    assert rows[1][:5] == ["2026-01-02", None, None, "a@p.example", "thank:a@p.example:2026-01-01"]
    assert rows[1][8] == "sent"


def test_a_missing_or_broken_workbook_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        SheetError, match=r"workbook .*nope.xlsx not found \(run `partners init` for a sample\)"
    ):
        XlsxBackend(tmp_path / "nope.xlsx", Tabs()).read()
    (tmp_path / "broken.xlsx").write_text("not a zip")
    with pytest.raises(SheetError, match=r"broken.xlsx is not a readable .xlsx workbook"):
        XlsxBackend(tmp_path / "broken.xlsx", Tabs()).read()


def test_a_password_protected_workbook_is_named_as_such(tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    from automations.adapters.sheet.xlsx import write_workbook

    plain, locked = tmp_path / "plain.xlsx", tmp_path / "partners.xlsx"
    write_workbook(plain, {"Partners": [["name", "email"]]})
    with plain.open("rb") as source, locked.open("wb") as out:
        OOXMLFile(source).encrypt("secret", out)
    with pytest.raises(SheetError, match="is password-protected \\(encrypted\\)"):
        XlsxBackend(locked, Tabs()).read()


def test_a_macro_workbook_gets_a_plain_toolkit_xlsx(tmp_path: Path) -> None:
    from automations.adapters.sheet.xlsx import write_workbook

    book = tmp_path / "partners.xlsm"
    write_workbook(book, {"Partners": [["name", "email"], ["Dana", "dana@p.example"]]})
    backend = XlsxBackend(book, Tabs())
    backend.read()
    backend.write([["name"], ["Dana"]], [])
    assert toolkit_path(book) == tmp_path / "partners.toolkit.xlsx"
    assert not (tmp_path / "partners.toolkit.xlsm").exists()
    import zipfile

    with zipfile.ZipFile(tmp_path / "partners.toolkit.xlsx") as z:
        types = z.read("[Content_Types].xml").decode()
    assert "macroEnabled" not in types
    assert load_workbook(tmp_path / "partners.toolkit.xlsx")["Health"]["A2"].value == "Dana"


# --- what python-calamine returns differently from openpyxl (issue 16) ------------------------


def quirky_workbook(path: Path) -> None:
    """Cells as people leave them: a date typed as text, a date in a text-formatted cell, a
    formula error, a merged range, Excel's fictional 29 February 1900, a whole number."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Partners"
    ws.append(["Name", "Email", "Company", "Status", "First contact", "Cadence days"])
    ws.append(["Dana", "dana@p.example", "Northwind", "active", "2025-03-01", 30])
    ws.append(["Lee", "lee@p.example", "#N/A", "active", "3/1/2025", None])
    ws["C3"].data_type = "e"  # a formula error, as a spreadsheet saves it
    ws["E3"].number_format = "@"  # a date typed into a cell formatted as text
    ws.append(["Kim", "kim@p.example", "Kim & Co", "active", dt.date(2025, 3, 1), None])
    ws.append(["Ola", "ola@p.example", None, "active", None, None])
    ws.append(["Max", "max@p.example", "Max AG", "active", 45717, None])
    ws["E6"].number_format = "@"  # a date's serial number in a cell formatted as text
    ws.merge_cells("C4:C5")  # Kim's company spans Ola's row too
    ref = wb.create_sheet("Referrals")
    ref.append(["Date", "Direction", "Partner email", "Client"])
    ref.append([60, "received", "dana@p.example", 2024])
    ref.append([61, "received", "dana@p.example", "Acme"])
    ref["A2"].number_format = ref["A3"].number_format = "yyyy-mm-dd"
    wb.save(path)


def test_cells_calamine_reads_differently_are_read_as_the_user_means_them(
    tmp_path: Path,
) -> None:
    from automations.core.tables import build_tables

    path = tmp_path / "partners.xlsx"
    quirky_workbook(path)
    raw = XlsxBackend(path, Tabs()).read()
    partners = raw.tabs["Partners"]
    assert partners is not None
    assert partners[2][2] == ""  # calamine gives a formula error as a blank (openpyxl: "#N/A")
    assert partners[2][4] == "3/1/2025"  # a text-formatted cell stays text
    assert partners[4][2] == ""  # only the first cell of a merged range holds the value
    assert partners[1][5] == 30.0  # numbers come as floats
    titles = {t: t.capitalize() for t in ("partners", "referrals", "touches", "survey", "log")}
    tables = build_tables(raw, TODAY, titles, date_order="MDY")
    by_email = tables.partners.set_index("email")
    assert partners[5][4] == 45717.0
    firsts = by_email["first_contact"].dropna()
    assert sorted(firsts.index) == [
        "dana@p.example",
        "kim@p.example",
        "lee@p.example",
        "max@p.example",
    ]
    assert {str(d.date()) for d in firsts} == {"2025-03-01"}
    assert by_email.loc["lee@p.example", "company"] == ""  # the error cell: blank, kept
    assert by_email.loc["dana@p.example", "cadence_days"] == 30
    assert by_email.loc["ola@p.example", "company"] == ""
    dates = [str(d.date()) for d in tables.referrals["date"]]
    assert dates == ["1900-02-28", "1900-03-01"]  # serial 60 (1900-02-29 in Excel) as 28 Feb
    assert list(tables.referrals["client"]) == ["2024", "Acme"]  # never "2024.0"


def test_the_log_moves_to_archives_that_are_read_back_and_never_rewritten(
    tmp_path: Path,
) -> None:
    from automations.adapters.sheet.xlsx import archive_path

    book = tmp_path / "partners.xlsx"
    write_workbook_tabs(book)
    rows = [log_row(n) for n in range(25)]
    backend = XlsxBackend(book, Tabs(), log_chunk=10)
    backend.read()
    for start in range(0, 25, 5):  # five runs of five Log rows
        backend.write([["name"], ["Dana"]], rows[start : start + 5])
    toolkit = toolkit_path(book)
    first, second = archive_path(toolkit, 1), archive_path(toolkit, 2)
    assert first.exists() and not second.exists()
    live = [list(r) for r in load_workbook(toolkit)["Log"].iter_rows(values_only=True)]
    assert len(live) == 1 + 15  # under twice the chunk stays in the toolkit file
    written = first.stat().st_mtime_ns
    again = XlsxBackend(book, Tabs(), log_chunk=10)
    log = again.read().tabs["Log"]
    assert log is not None
    assert [r[1] for r in log[1:]] == [f"run{n}" for n in range(25)]  # every row, in order
    again.write([["name"], ["Dana"]], [log_row(25)])
    assert first.stat().st_mtime_ns == written  # an archive is written once


def test_a_run_stopped_after_writing_an_archive_reads_no_row_twice(tmp_path: Path) -> None:
    from automations.adapters.sheet.xlsx import archive_path, write_workbook

    book = tmp_path / "partners.xlsx"
    write_workbook_tabs(book)
    backend = XlsxBackend(book, Tabs(), log_chunk=10)
    backend.read()
    backend.write([["name"]], [log_row(n) for n in range(19)])
    # As if the run had written the archive and stopped before the toolkit file.
    write_workbook(
        archive_path(toolkit_path(book), 1),
        {"Log": [list(LOG_HEADER), *[log_row(n) for n in range(10)]]},
    )
    log = XlsxBackend(book, Tabs(), log_chunk=10).read().tabs["Log"]
    assert log is not None
    assert [r[1] for r in log[1:]] == [f"run{n}" for n in range(19)]


class Killed(BaseException):
    """The process killed at this point: nothing after it runs, no handler catches it."""


def test_a_run_killed_right_after_writing_an_archive_leaves_every_log_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automations.adapters.sheet.xlsx import archive_path

    book = tmp_path / "partners.xlsx"
    write_workbook_tabs(book)
    first = XlsxBackend(book, Tabs(), log_chunk=10)
    first.read()
    first.write([["name"]], [log_row(n) for n in range(4)])
    # A run adding more than a chunk: its archive holds the 4 old rows and 6 of its own.
    rename = os.replace

    def rename_then_die(source: str, target: str) -> None:
        rename(source, target)
        if ".log-" in str(target):
            raise Killed

    monkeypatch.setattr(os, "replace", rename_then_die)
    killed = XlsxBackend(book, Tabs(), log_chunk=10)
    killed.read()
    with pytest.raises(Killed):
        killed.write([["name"]], [log_row(n) for n in range(4, 21)])
    monkeypatch.undo()
    assert archive_path(toolkit_path(book), 1).exists()

    rerun = XlsxBackend(book, Tabs(), log_chunk=10)
    log = rerun.read().tabs["Log"]
    assert log is not None
    assert [r[1] for r in log[1:]] == [f"run{n}" for n in range(4)]  # each old row once
    # The rerun writes what the killed run did (the journal brings its sends back).
    rerun.write([["name"]], [log_row(n) for n in range(4, 21)])
    log = XlsxBackend(book, Tabs(), log_chunk=10).read().tabs["Log"]
    assert log is not None
    assert [r[1] for r in log[1:]] == [f"run{n}" for n in range(21)]
    assert [p.name for p in sorted(tmp_path.glob("*.log-*.xlsx"))] == [
        "partners.toolkit.log-0001.xlsx"
    ]


LOG_HEADER = LOG_COLUMNS


def log_row(n: int) -> list[str]:
    return [
        f"2026-06-{1 + n % 28:02d}T09:00:00+00:00",
        f"run{n}",
        "thank",
        "dana@p.example",
        f"thank:dana@p.example:{n}",
        "thank",
        "Thanks",
        f"<m{n}@x>",
        "sent",
        "",
    ]


def write_workbook_tabs(path: Path) -> None:
    from automations.adapters.sheet.xlsx import write_workbook

    write_workbook(path, {"Partners": [["name", "email"], ["Dana", "dana@p.example"]]})


# --- a run that cannot finish its write (a full disk, a kill) -----------------------------------

# Every write to a zip file fails as on a full disk: the first workbook the run writes is the
# archive, so this is a full disk while archiving (reads of workbooks still work).
DISK_FULL = """
import errno, io, os, zipfile

class Full:
    def __init__(self, f): self._f = f
    def write(self, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    def __getattr__(self, name): return getattr(self._f, name)

class Io:
    def __getattr__(self, name): return getattr(io, name)
    @staticmethod
    def open(file, mode="r", *args, **kwargs):
        handle = io.open(file, mode, *args, **kwargs)
        return handle if mode.startswith("r") else Full(handle)

zipfile.io = Io()
"""


def partners_with(
    patch: str, project: SheetProject, *args: str
) -> subprocess.CompletedProcess[str]:
    """`partners ARGS` in its own process, after `patch` ran in it (what a user sees: the
    exit code, stdout and stderr, tracebacks included)."""
    program = f"{patch}\nimport sys\nfrom automations.cli import main\nsys.exit(main(sys.argv[1:]))"
    config = str(project / "config" / "partners.toml")
    return subprocess.run(
        [sys.executable, "-c", program, *args, "--config", config],
        capture_output=True,
        text=True,
        cwd=project.path,
        env=env_for(project),
        timeout=100,
        check=False,
    )


def log_near_archiving(project: SheetProject, rows: int) -> Path:
    """The toolkit file of `project` with `rows` earlier Log rows (history, not this project's
    runs); the next `nurture --send` takes it past twice LOG_CHUNK, so an archive is written."""
    from automations.adapters.sheet.xlsx import write_workbook

    toolkit = project / "data" / "partners.toolkit.xlsx"
    history = [[*log_row(n)[:1], "history", *log_row(n)[2:]] for n in range(rows)]
    write_workbook(toolkit, {"Log": [list(LOG_COLUMNS), *history]})
    return toolkit


@pytest.mark.log_write_lost
def test_a_full_disk_while_archiving_the_log_is_one_clear_message_and_no_traceback(
    tmp_path: Path,
) -> None:
    project = SheetProject(tmp_path)
    toolkit = log_near_archiving(project, 2 * LOG_CHUNK - 10)
    before = toolkit.read_bytes()
    done = partners_with(DISK_FULL, project, "nurture", "--send")
    assert done.returncode == 2, done.stderr
    archive = project / "data" / "partners.toolkit.log-0001.xlsx"
    lines = [line for line in done.stderr.splitlines() if line.startswith("partners:")]
    assert lines[0].startswith(
        f"partners: cannot write {archive}: the disk is full (no space left on the device); "
        "free some space and run again"
    )
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert sorted(p.name for p in (project / "data").iterdir()) == [
        "partners.toolkit.xlsx",
        "partners.xlsx",
    ]  # no archive, no temporary file left behind
    assert toolkit.read_bytes() == before


def test_a_date_cell_far_outside_any_date_is_a_sheet_error_naming_its_row(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # calamine panicked on it: a Rust backtrace and a PanicException, which no `except
    # Exception` stops. The tab cannot be read past that row, so the run stops naming it.
    path = tmp_path / "partners.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Partners"
    sheet.append(["Name", "Email", "First contact"])
    sheet.append(["Lee", "lee@p.example", dt.datetime(2025, 3, 1)])
    sheet.append(["Dana", "dana@p.example", -(10**15)])
    for row in (2, 3):
        sheet.cell(row, 3).number_format = "yyyy-mm-dd"
    book.save(path)
    with pytest.raises(SheetError) as caught:
        XlsxBackend(path, Tabs()).read()
    assert str(caught.value).startswith(
        "Partners!3: a cell formatted as a date holds a number no date can be"
    )
    assert "retype it as a date such as 2026-11-24, or clear the cell" in str(caught.value)
    assert "panicked" not in capfd.readouterr().err
