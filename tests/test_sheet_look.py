"""The toolkit's tabs as a person sees them (SHEET.md, Health and Review): frozen headers,
a filter, colours by action, real dates, a legend, the `decision` dropdown; on Google
through real gspread against the emulator, in the workbook read back with openpyxl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials

from automations.adapters.sheet import google
from automations.adapters.sheet.google import GoogleBackend
from automations.cli import main
from automations.config import Tabs
from automations.testing.sheets_emulator import SheetsEmulator
from tests import sheets_replay
from tests.projects import SHEET_KEY, SheetProject


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[SheetsEmulator]:
    server = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", server.host)
    monkeypatch.setattr(google, "BACKOFF", 0.01)
    yield server
    server.stop()


def run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> int:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    capsys.readouterr()
    return code


def metadata(emulator: SheetsEmulator, **params: Any) -> dict[str, Any]:
    """spreadsheets.get through gspread, as a script of the user's would call it."""
    backend = GoogleBackend(SHEET_KEY, Tabs(), AnonymousCredentials, emulator_host=emulator.host)
    return dict(backend.http.fetch_sheet_metadata(SHEET_KEY, params=params or None))


def tab_of(meta: dict[str, Any], title: str) -> dict[str, Any]:
    return next(s for s in meta["sheets"] if s["properties"]["title"] == title)


def test_health_on_google_has_a_frozen_header_a_filter_colours_dates_and_a_legend(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    assert run(project, capsys, "health") == 0
    health = tab_of(metadata(emulator), "Health")
    assert health["properties"]["gridProperties"]["frozenRowCount"] == 1
    header = emulator.values(SHEET_KEY, "Health")[0]
    assert health["basicFilter"]["range"]["endColumnIndex"] == len(header)
    formulas = {
        r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
        for r in health["conditionalFormats"]
    }
    action = chr(ord("A") + header.index("action"))
    for name in ("escalate", "thank", "outcome", "follow_up", "fade", "blocked", "fix row"):
        assert f'=${action}2="{name}"' in formulas
    grid = metadata(
        emulator, includeGridData="true", ranges=f"Health!A1:{chr(ord('A') + len(header) - 1)}3"
    )
    rows = tab_of(grid, "Health")["data"][0]["rowData"]
    assert "escalate" in rows[0]["values"][header.index("action")]["note"]
    due = rows[1]["values"][header.index("next_due")]
    assert due["userEnteredFormat"]["numberFormat"]["type"] == "DATE"
    assert isinstance(due["userEnteredValue"]["numberValue"], float)
    shown = emulator.values(SHEET_KEY, "Health")[1][header.index("next_due")]
    assert len(shown) == 10 and shown[4] == "-"  # a date shown as 2026-11-24, not a serial


def test_ten_runs_leave_one_set_of_colour_rules_and_cost_four_requests_each(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    for _ in range(10):
        emulator.requests.clear()
        assert run(project, capsys, "nurture", "--send", "-q") == 0
    assert len(emulator.requests) <= 4
    health = tab_of(metadata(emulator), "Health")
    assert len(health["conditionalFormats"]) == 7


def test_a_users_filter_on_health_is_kept_by_the_next_run(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    assert run(project, capsys, "health") == 0
    tab = emulator.spreadsheets[SHEET_KEY].tab("Health")
    assert tab is not None and tab.basic_filter is not None
    tab.basic_filter["sortSpecs"] = [{"dimensionIndex": 7, "sortOrder": "DESCENDING"}]
    assert run(project, capsys, "health") == 0
    assert tab.basic_filter["sortSpecs"][0]["dimensionIndex"] == 7


def test_the_review_decision_on_google_is_a_dropdown_that_takes_a_date_under_a_frozen_header(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator, review=True)
    assert run(project, capsys, "nurture", "--send") == 0
    assert run(project, capsys, "nurture", "--send") == 0
    header = emulator.values(SHEET_KEY, "Review")[0]
    column = chr(ord("A") + header.index("decision"))
    grid = metadata(emulator, includeGridData="true", ranges=f"Review!{column}2")
    review = tab_of(grid, "Review")
    assert review["properties"]["gridProperties"]["frozenRowCount"] == 1
    rule = review["data"][0]["rowData"][0]["values"][0]["dataValidation"]
    assert rule["condition"]["type"] == "ONE_OF_LIST"
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == ["send", "skip"]
    assert rule["strict"] is False  # a typed date (later) still goes in
    protected = review["protectedRanges"]
    assert len(protected) == 1  # added once, not once per run
    assert protected[0]["warningOnly"] is True
    assert protected[0]["range"]["endColumnIndex"] == header.index("decision")


def test_the_emulator_refuses_formatting_requests_google_refuses_and_applies_none_of_the_batch(
    emulator: SheetsEmulator,
) -> None:
    import requests

    emulator.create("s3", tabs={"Health": [["name", "action"]]})
    sheet_id = emulator.spreadsheets["s3"].tabs[0].sheet_id
    url = f"http://{emulator.host}/v4/spreadsheets/s3:batchUpdate"
    freeze = {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
            "fields": "gridProperties.frozenRowCount",
        }
    }
    refused: list[tuple[Any, str]] = [
        ({"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}}, "No conditional"),
        (
            {
                "setDataValidation": {
                    "range": {"sheetId": sheet_id},
                    "rule": {"condition": {"type": "ONE_OF_LIST", "values": []}},
                }
            },
            "at least one value",
        ),
        ({"repeatCell": {"range": {"sheetId": sheet_id}, "cell": {}}}, "field"),
        ({"setBasicFilter": {"filter": {"range": {"sheetId": 99}}}}, "No grid with id: 99"),
    ]
    for request, words in refused:
        body: Any = {"requests": [freeze, request]}
        answer = requests.post(url, json=body, timeout=10)
        assert answer.status_code == 400 and words in answer.json()["error"]["message"]
        assert "requests[1]" in answer.json()["error"]["message"]
    assert emulator.spreadsheets["s3"].tabs[0].frozen_rows == 0  # the freeze went with them


def toolkit_book(project: SheetProject) -> Any:
    from openpyxl import load_workbook

    return load_workbook(project / "data" / "partners.toolkit.xlsx")


def test_health_in_the_workbook_has_a_frozen_header_a_filter_colours_and_a_legend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path)
    assert run(project, capsys, "health") == 0
    sheet = toolkit_book(project)["Health"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    formulas = {f for cf in sheet.conditional_formatting for rule in cf.rules for f in rule.formula}
    action = chr(ord("A") + header.index("action"))
    for name in ("escalate", "thank", "outcome", "follow_up", "fade", "blocked", "fix row"):
        assert f'${action}2="{name}"' in formulas
    assert "escalate" in sheet.cell(1, header.index("action") + 1).comment.text
    assert sheet.column_dimensions["P"].width > sheet.column_dimensions["H"].width  # reason


def test_the_review_decision_in_the_workbook_is_a_dropdown_that_takes_a_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, review=True)
    assert run(project, capsys, "nurture", "--send") == 0
    sheet = toolkit_book(project)["Review"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    (rule,) = sheet.data_validations.dataValidation
    column = chr(ord("A") + header.index("decision"))
    assert str(rule.sqref).startswith(f"{column}2:{column}")
    assert rule.type == "list" and rule.formula1 == '"send,skip"'
    assert rule.errorStyle == "information"  # a typed date is let through


# --- the Status tab ----------------------------------------------------------------------------


def status_of(project: SheetProject) -> dict[str, str]:
    sheet = toolkit_book(project)["Status"]
    return {str(r[0]): str(r[1]) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]}


def test_status_after_an_ok_run_says_it_finished_and_what_it_sent(
    tmp_path: Path,
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.conftest import use_smtp

    project = SheetProject(tmp_path)
    use_smtp(project.path, smtp_server)
    assert run(project, capsys, "nurture", "--send") in (0, 1)
    status = status_of(project)
    sent = len(smtp_server.recorder.received)
    assert sent > 0
    assert status["last run"].startswith("The run of ")
    assert " finished " in status["last run"] and f"{sent} sent" in status["last run"]
    assert status["sent"] == f"It sent {sent} emails."


def test_status_after_a_refused_smtp_login_says_the_run_failed_and_why(
    tmp_path: Path,
    tls_smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.conftest import use_smtp

    project = SheetProject(tmp_path)
    use_smtp(project.path, tls_smtp_server)
    monkeypatch.setenv("PARTNERS_SMTP_PASSWORD", "wrong")
    assert run(project, capsys, "nurture", "--send") == 2
    status = status_of(project)
    assert " failed: " in status["last run"] and "refused the login" in status["last run"]
    assert status["sent"] == "It sent no email."


def test_status_with_proposals_waiting_says_how_many_and_since_when(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    project = SheetProject(tmp_path, review=True)
    assert run(project, capsys, "nurture", "--send") in (0, 1)
    waiting = status_of(project)["waiting"]
    assert "for your approval in Review, since " + dt.date.today().isoformat() in waiting
    assert int(waiting.split()[0]) > 0


def test_status_on_google_is_a_tab_written_with_health_in_the_same_requests(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    assert run(project, capsys, "health") in (0, 1)
    emulator.requests.clear()
    assert run(project, capsys, "health") in (0, 1)
    assert len(emulator.requests) <= 4
    rows = emulator.values(SHEET_KEY, "Status")
    assert rows[0] == ["what", "status"]
    assert rows[1][0] == "last run" and "health:" in rows[1][1]


# --- the formatting requests answer as Google did (recorded cassettes) ------------------------

FORMATTING_CASSETTES = [
    "format",  # repeatCell
    "freeze",  # updateSheetProperties: frozen rows and columns
    "basic_filters",  # setBasicFilter, clearBasicFilter
    "add_validation",  # setDataValidation
    "add_protected_range_warning",  # addProtectedRange, warning only
    "add_protected_range_normal",
    "hide_columns_rows",  # updateDimensionProperties
]


@pytest.mark.skipif(not sheets_replay.CASSETTES.is_dir(), reason="no recorded cassettes here")
def test_the_emulator_answers_recorded_formatting_requests_as_google_did() -> None:
    # No cassette records addConditionalFormatRule or deleteConditionalFormatRule: those
    # are checked against Google's request schema only (sheet_requests.py).
    found = [sheets_replay.CASSETTES / f"WorksheetTest.test_{n}.json" for n in FORMATTING_CASSETTES]
    ops = sheets_replay.OPERATIONS | sheets_replay.FORMATTING
    assert all(sheets_replay.usable(p, ops) for p in found)
    result = sheets_replay.replay(found, sheets_replay.formatting_shape)
    print(result.table())
    assert {op for op in result.total if op.startswith("batchUpdate:")} == sheets_replay.FORMATTING
    assert result.rate == 1.0, "\n".join(result.differences)
