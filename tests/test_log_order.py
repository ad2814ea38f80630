"""Nothing depends on the order of the user's Log rows (ARCHITECTURE.md, "The second step"):
a key's latest state is the one latest in time, however the Google Log is sorted."""

from __future__ import annotations

import datetime as dt
import json
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
from tests.conftest import Sheet
from tests.projects import SHEET_KEY, SheetProject


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[SheetsEmulator]:
    server = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", server.host)
    monkeypatch.setattr(google, "BACKOFF", 0.01)
    yield server
    server.stop()


def _run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return out


def _decisions(project: SheetProject, capsys: pytest.CaptureFixture[str]) -> Any:
    """What the engine decides now: every Health row and every email due (dry runs)."""
    health = json.loads(_run(project, capsys, "health", "--no-write", "--format", "json", "-q"))
    emails = json.loads(_run(project, capsys, "nurture", "--format", "json", "-q"))
    return health, emails


def _gspread(emulator: SheetsEmulator) -> Any:
    """gspread's HTTP client on the emulator, as a user's script (or a sort) would use it."""
    return GoogleBackend(SHEET_KEY, Tabs(), AnonymousCredentials, emulator.host).http


def _history(key: str, email: str, states: list[str]) -> list[list[str]]:
    """Log rows of an earlier machine: `key` going through `states`, a minute apart."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
    return [
        [
            (start + dt.timedelta(minutes=n)).isoformat(),
            "elsewhere",
            key.split(":")[0],
            email,
            key,
            "",
            "",
            f"<{n}.{key}@x.example>",
            status,
            "",
        ]
        for n, status in enumerate(states)
    ]


def test_a_google_log_sorted_newest_first_changes_no_decision(
    tmp_path: Path, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, emulator)
    _run(project, capsys, "nurture", "--send", "--limit", "3", "-q")  # the toolkit's own rows
    due = [
        e
        for e in json.loads(_run(project, capsys, "nurture", "--format", "json", "-q"))
        if e["kind"] in ("thank", "nurture", "survey", "outcome")
    ]
    assert len(due) >= 2
    sent_after_failing = _history(due[0]["keys"][0], due[0]["to"], ["failed", "sent"])
    retried = _history(due[1]["keys"][0], due[1]["to"], ["uncertain", "failed"])
    http = _gspread(emulator)
    http.values_append(
        SHEET_KEY,
        "'Log'!A:A",
        {"valueInputOption": "RAW"},
        {"values": [*sent_after_failing, *retried]},
    )
    before = _decisions(project, capsys)
    keys = {e["keys"][0] for e in before[1]}
    assert due[0]["keys"][0] not in keys and due[1]["keys"][0] in keys  # failed, then sent

    params = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
    rows = http.values_get(SHEET_KEY, "'Log'", params)["values"]
    width = max(len(r) for r in rows)
    newest_first = [rows[0], *reversed(rows[1:])]
    body = {"values": [[*r, *[""] * (width - len(r))] for r in newest_first]}
    http.values_update(SHEET_KEY, "'Log'!A1", {"valueInputOption": "RAW"}, body)
    assert emulator.values(SHEET_KEY, "Log")[1] == rows[-1]

    assert _decisions(project, capsys) == before


def test_a_keys_state_is_its_latest_row_in_time_not_its_last_row() -> None:
    sheet = Sheet().partner().referral(3)
    sheet.sent(2, "thank", "thank:pat@partner.example:" + sheet.referrals[0][0], status="failed")
    sheet.sent(1, "thank", "thank:pat@partner.example:" + sheet.referrals[0][0])
    in_order = sheet.emails()
    sheet.log.reverse()
    assert sheet.emails().equals(in_order) and in_order.empty


def test_the_emulator_refuses_an_append_over_10_mib_as_google_does_and_nothing_lands(
    tmp_path: Path, emulator: SheetsEmulator
) -> None:
    from gspread.exceptions import APIError

    SheetProject(tmp_path, emulator)
    before = emulator.values(SHEET_KEY, "Log")
    rows = [["2026-12-06T09:00:00+00:00", "r", "thank", "x" * 1000]] * 11_000  # about 11 MB
    with pytest.raises(APIError, match="Request payload size exceeds the limit: 10485760 bytes"):
        _gspread(emulator).values_append(
            SHEET_KEY, "'Log'!A:A", {"valueInputOption": "RAW"}, {"values": rows}
        )
    assert emulator.values(SHEET_KEY, "Log") == before
