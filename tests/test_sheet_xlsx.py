"""The xlsx backend: the user's workbook is never written; Health and Log go to the sibling file."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.image import Image
from PIL import Image as PILImage

from automations.adapters.sheet.xlsx import XlsxBackend, toolkit_path
from automations.config import Tabs
from automations.errors import SheetError

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
