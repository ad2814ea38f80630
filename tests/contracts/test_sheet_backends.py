"""Every sheet backend (the local workbook, the in-memory sheet, Google Sheets through the
emulator) keeps the contract jobs rely on (SHEET.md): the same sheet reads as the same
tables; Health and Status are replaced whole; the Log is appended to, in order, and read back
by the next run; text stays text; the Review tab hands back what the user typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from automations.adapters.sheet import ReviewTable, SheetBackend
from automations.adapters.sheet.google import GoogleBackend
from automations.adapters.sheet.memory import MemorySheet
from automations.adapters.sheet.xlsx import XlsxBackend, toolkit_path
from automations.config import Tabs
from automations.core.review import REVIEW_COLUMNS
from automations.core.schema import LOG_COLUMNS
from automations.core.tables import Tables, build_tables
from automations.jobs.init import run_init
from automations.testing.cells import Cell
from automations.testing.sheets_emulator import SheetsEmulator

TODAY = dt.date(2026, 12, 7)
TABS = Tabs()
TITLES = {
    "partners": TABS.partners,
    "referrals": TABS.referrals,
    "touches": TABS.touches,
    "survey": TABS.survey,
    "unsubscribes": TABS.unsubscribes,
    "log": TABS.log,
}
KEY = "1ContractSheetKey"


@dataclass
class OpenSheet:
    """One backend over the demo sheet: `reopen` opens the same sheet afresh (as the next
    run does), `tab` shows a tab's cells as the user sees them, `type_in` is the user typing
    into a cell (row and column counted from 0, header included)."""

    name: str
    reopen: Callable[[], SheetBackend]
    tab: Callable[[str], list[list[str]]]
    type_in: Callable[[str, int, int, str], None]


def _seen(value: Any) -> str:
    """A cell as a person reads it: dates as days, whole numbers without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(rows: list[list[Any]]) -> list[list[str]]:
    """Rows as seen, without trailing blank cells or blank rows."""
    seen = [[_seen(v) for v in row] for row in rows]
    for row in seen:
        while row and row[-1] == "":
            row.pop()
    return [row for row in seen if row]


def _demo_workbook(folder: Path) -> Path:
    run_init(folder, TODAY)
    return folder / "data" / "partners.xlsx"


def _xlsx(folder: Path) -> Iterator[OpenSheet]:
    workbook = _demo_workbook(folder)

    def tab(title: str) -> list[list[str]]:
        book = load_workbook(toolkit_path(workbook))
        return _rows([list(r) for r in book[title].iter_rows(values_only=True)])

    def type_in(title: str, row: int, column: int, text: str) -> None:
        path = toolkit_path(workbook)
        book = load_workbook(path)
        book[title].cell(row + 1, column + 1).value = text
        book.save(path)

    yield OpenSheet("xlsx", lambda: XlsxBackend(workbook, TABS, project=folder), tab, type_in)


def _memory(folder: Path) -> Iterator[OpenSheet]:
    book = load_workbook(_demo_workbook(folder), data_only=True)
    sheet = MemorySheet(
        {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}, TABS
    )

    def type_in(title: str, row: int, column: int, text: str) -> None:
        sheet.tabs[title][row][column] = text

    yield OpenSheet("memory", lambda: sheet, lambda t: _rows(sheet.tabs.get(t, [])), type_in)


def _google(folder: Path) -> Iterator[OpenSheet]:
    emulator = SheetsEmulator().start()
    emulator.load_workbook(_demo_workbook(folder), KEY)

    def reopen() -> SheetBackend:
        return GoogleBackend(KEY, TABS, credentials=_no_sign_in, emulator_host=emulator.host)

    def type_in(title: str, row: int, column: int, text: str) -> None:
        tab = emulator.spreadsheets[KEY].tab(title)
        assert tab is not None
        tab.cells[(row, column)] = Cell.native(text)

    yield OpenSheet("google", reopen, lambda t: _rows(emulator.values(KEY, t)), type_in)
    emulator.stop()


def _no_sign_in() -> Any:
    raise AssertionError("the emulator needs no sign-in")


@pytest.fixture(params=[_xlsx, _memory, _google], ids=["xlsx", "memory", "google"])
def sheet(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenSheet]:
    """The demo sheet on each backend."""
    yield from request.param(tmp_path)


def _tables(backend: SheetBackend) -> Tables:
    raw = backend.read()
    return build_tables(raw, TODAY, TITLES, date_order=raw.date_order)


def _log_row(key: str, detail: str = "sent") -> list[Any]:
    row = dict.fromkeys(LOG_COLUMNS, "")
    row |= {
        "timestamp": "2026-12-07T09:00:00+00:00",
        "run_id": "20261207T090000Z-1",
        "action": "thank",
        "partner_email": "dana@northwind.example",
        "key": key,
        "status": "sent",
        "detail": detail,
    }
    return [row[c] for c in LOG_COLUMNS]


HEALTH = [
    ["partner", "email", "next_action", "due", "score", "paused"],
    ["Dana Whitfield", "dana@northwind.example", "thank", dt.date(2026, 12, 7), 82.0, False],
    ["Marcus Lee", "marcus@brightpath.example", "check_in", dt.date(2026, 12, 20), 61.5, None],
    ["Zoe Nunez", "zoe@nunez.example", "none", None, 40.0, True],
]


def test_the_demo_reads_as_the_same_tables_on_every_backend(
    sheet: OpenSheet, tmp_path: Path
) -> None:
    reference = _tables(next(_memory(tmp_path / "reference")).reopen())
    got = _tables(sheet.reopen())
    for name in ("partners", "referrals", "touches", "survey", "log", "unsubscribes"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(reference, name), obj=name)
    assert got.problems == reference.problems
    assert len(got.partners) >= 10  # the demo, not an empty sheet read twice


def test_a_second_health_replaces_the_first_whole(sheet: OpenSheet) -> None:
    sheet.reopen().write(HEALTH, [])
    sheet.reopen().write(HEALTH[:2], [])
    assert sheet.tab(TABS.health) == [
        ["partner", "email", "next_action", "due", "score", "paused"],
        ["Dana Whitfield", "dana@northwind.example", "thank", "2026-12-07", "82", "FALSE"],
    ]


def test_none_keeps_health_and_no_log_rows_add_none(sheet: OpenSheet) -> None:
    sheet.reopen().write(HEALTH, [_log_row("thank:dana:1")])
    sheet.reopen().write(None, [])
    assert len(sheet.tab(TABS.health)) == len(HEALTH)
    keys = list(_tables(sheet.reopen()).log["key"])
    assert keys.count("thank:dana:1") == 1


def test_log_rows_are_appended_in_order_and_the_next_run_reads_them(sheet: OpenSheet) -> None:
    before = len(_tables(sheet.reopen()).log)
    first = sheet.reopen()
    first.read()  # a run reads before it writes
    first.write(HEALTH, [_log_row("thank:dana:1"), _log_row("thank:dana:2")])
    sheet.reopen().write(None, [_log_row("thank:dana:3")])
    log = _tables(sheet.reopen()).log
    assert len(log) == before + 3
    assert list(log["key"])[-3:] == ["thank:dana:1", "thank:dana:2", "thank:dana:3"]
    assert set(log["status"][-3:]) == {"sent"}


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://evil.example","click")', "+1 555 0100", "-5", "@home", "0042"]
)
def test_text_that_looks_like_a_formula_or_a_number_stays_text(sheet: OpenSheet, text: str) -> None:
    sheet.reopen().write(None, [_log_row("thank:dana:9", detail=text)])
    log = _tables(sheet.reopen()).log
    assert list(log["detail"])[-1] == text
    assert sheet.tab(TABS.log)[-1][LOG_COLUMNS.index("detail")] == text


def test_status_is_replaced_whole(sheet: OpenSheet) -> None:
    long = [["Last run", "OK"], *[[f"line {n}", "text"] for n in range(6)]]
    sheet.reopen().write(None, [], status=long)
    sheet.reopen().write(None, [], status=[["Last run", "2 emails held back"]])
    assert sheet.tab(TABS.status) == [["Last run", "2 emails held back"]]


def _proposal_row(ident: str) -> list[Any]:
    row = dict.fromkeys(REVIEW_COLUMNS, "")
    row |= {
        "proposed_on": "2026-12-07",
        "kind": "thank",
        "to": "dana@northwind.example",
        "subject": "Thank you for Marcus",
        "keys": "thank:dana:1",
        "proposal": ident,
        "status": "waiting",
    }
    return [row[c] for c in REVIEW_COLUMNS]


def test_the_review_tab_hands_back_the_decision_the_user_typed(sheet: OpenSheet) -> None:
    proposal = _proposal_row("p-1")
    sheet.reopen().write(None, [], review=ReviewTable([proposal], new={"p-1"}))
    (header, row) = sheet.tab(TABS.review)
    assert header == list(REVIEW_COLUMNS) and row[REVIEW_COLUMNS.index("proposal")] == "p-1"
    sheet.type_in(TABS.review, 1, REVIEW_COLUMNS.index("decision"), "send")
    review = sheet.reopen().read().tabs[TABS.review]
    assert review is not None
    (typed,) = [r for r in review[1:] if "p-1" in r]
    assert typed[REVIEW_COLUMNS.index("decision")] == "send"


def test_the_identity_names_the_backend_and_holds_across_runs(sheet: OpenSheet) -> None:
    assert sheet.reopen().identity == sheet.reopen().identity
    assert sheet.reopen().identity.startswith(f"{sheet.name}:")
