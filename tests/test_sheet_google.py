"""The google backend through real gspread and HTTP, against the local Sheets emulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from gspread.exceptions import APIError

from automations.adapters.sheet import google
from automations.adapters.sheet.google import GoogleBackend, date_order_of, spreadsheet_key
from automations.adapters.sheet.google_session import api_error
from automations.adapters.sheet.xlsx import write_workbook
from automations.cli import main
from automations.config import Tabs
from automations.errors import SheetError
from automations.testing.sheets_emulator import SheetsEmulator
from tests import sheets_replay
from tests.projects import SHEET_KEY, SheetProject, email_rows, run_rows

TODAY = dt.date.today()


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[SheetsEmulator]:
    """The emulator, with SHEETS_EMULATOR_HOST pointing at it and short retry waits."""
    server = SheetsEmulator().start()
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", server.host)
    monkeypatch.setattr(google, "BACKOFF", 0.01)
    yield server
    server.stop()


@pytest.fixture
def project(tmp_path: Path, emulator: SheetsEmulator) -> SheetProject:
    return SheetProject(tmp_path, emulator)


def run(
    project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out, err


def big_sheet(partners: int) -> dict[str, list[list[Any]]]:
    """`partners` active partners, each with a referral received three days ago (a thank)."""
    day = (TODAY - dt.timedelta(days=3)).isoformat()
    rows = [["name", "email", "status", "first_contact"]]
    refs = [["date", "direction", "partner_email", "client"]]
    for i in range(partners):
        rows.append([f"Partner {i}", f"p{i}@firm.example", "active", "2024-01-15"])
        refs.append([day, "received", f"p{i}@firm.example", f"Client {i}"])
    return {"Partners": rows, "Referrals": refs}


# --- quota: a constant number of requests ------------------------------------------------------


@pytest.mark.parametrize("partners", [10, 5000])
def test_a_send_run_costs_four_requests_whatever_the_size(
    partners: int,
    tmp_path: Path,
    emulator: SheetsEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = SheetProject(tmp_path, emulator)
    emulator.spreadsheets.pop(SHEET_KEY)
    write_workbook(tmp_path / "big.xlsx", big_sheet(partners))
    emulator.load_workbook(tmp_path / "big.xlsx", SHEET_KEY)
    config = project / "config" / "partners.toml"
    config.write_text(config.read_text().replace("max_per_run = 100", "max_per_run = 10000"))
    code, out, _ = run(project, capsys, "nurture", "--send", "-q")
    assert code == 0
    first = list(emulator.requests)
    batches = [r for r in first if r == ("POST", f"/v4/spreadsheets/{SHEET_KEY}:batchUpdate")]
    # Health and Log added once, in one request; then Health with its formatting in one
    assert len(batches) == 2
    assert len(first) == 5
    assert len(emulator.values(SHEET_KEY, "Health")) == partners + 1
    assert len(emulator.values(SHEET_KEY, "Log")) == partners + 2  # and the `run` row
    emulator.requests.clear()
    code, out, _ = run(project, capsys, "nurture", "--send", "-q")
    assert code == 0 and "Nothing is due" in out
    assert len(emulator.requests) == 4  # metadata, batchGet, Health, the `run` row


def test_health_is_blanked_below_when_it_gets_shorter(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    run(project, capsys, "health")
    assert len(emulator.values(SHEET_KEY, "Health")) == 29
    tab = emulator.spreadsheets[SHEET_KEY].tab("Partners")
    assert tab is not None
    for c in range(tab.columns):
        tab.cells.pop((28, c), None)  # the user deletes the last partner's row
    run(project, capsys, "health")
    assert len(emulator.values(SHEET_KEY, "Health")) == 28


# --- failures ----------------------------------------------------------------------------------


def test_three_429s_then_success_the_run_completes(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fail(429, times=3)
    code, out, _ = run(project, capsys, "nurture", "--send")
    assert code == 0
    assert "Wrote 10 email(s)" in out


def test_429_without_end_stops_the_run_within_its_bound_and_sends_nothing(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fail(429, times=10**6)
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 2
    assert "quota exceeded (429) after 5 tries; nothing was sent" in err
    assert len(emulator.requests) == google.ATTEMPTS
    assert not (project / "outbox").exists()


@pytest.mark.log_write_lost
def test_a_500_on_the_log_append_loses_nothing(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail_appends(method: str, path: str) -> None:
        if path.endswith(":append"):
            emulator.fail(500, times=1)

    emulator.before = fail_appends
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 2
    assert "Google Sheets refused to append to the Log tab (500)" in err
    assert "goes to the Log on the next run" in err
    emulator.before = None
    code, out, _ = run(project, capsys, "nurture", "--send")
    assert code == 0 and "Nothing is due" in out
    toolkit = email_rows(project.log_rows())
    assert len(toolkit) == 11 and {r["status"] for r in toolkit} == {"written"}
    # The failed run's own `run` row could not be written either; the sheet said so.
    assert run_rows(project.log_rows()) == [("ok", "nurture: no email was due")]


def test_a_wrong_key_is_named(project: SheetProject, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / "config" / "partners.toml"
    config.write_text(config.read_text().replace(SHEET_KEY, "no-such-key"))
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 2
    assert "spreadsheet no-such-key not found" in err and "[sheet] spreadsheet" in err


def test_no_access_names_the_account_to_share_with(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.fail(403, times=1)
    code, _, err = run(project, capsys, "health")
    assert code == 2
    assert f"no access to spreadsheet {SHEET_KEY}" in err and "as an Editor" in err


def test_a_missing_partners_column_is_named(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    tab = emulator.spreadsheets[SHEET_KEY].tab("Partners")
    assert tab is not None
    tab.cells.pop((0, 1))  # the Email header
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 2
    assert "Partners" in err and "email" in err
    assert not (project / "outbox").exists()


# --- the user's edits and values ---------------------------------------------------------------


def test_a_row_added_to_the_log_during_a_run_survives_and_ours_follow_it(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from automations.testing.cells import Cell

    sheet = emulator.spreadsheets[SHEET_KEY]

    def user_edits(method: str, path: str) -> None:
        if method == "POST" and path.endswith(":batchUpdate") and emulator.before:
            emulator.before = None
            log, partners = sheet.tab("Log"), sheet.tab("Partners")
            assert log is not None and partners is not None
            end = log.last_row()
            for c, value in enumerate(["2026-01-01 10:00", "by hand", "reply", "x@y.example"]):
                log.cells[(end, c)] = Cell.native(value)
            partners.cells[(1, 11)] = Cell.native("edited while the run was going")

    emulator.before = user_edits
    code, _, _ = run(project, capsys, "nurture", "--send")
    assert code == 0
    log = emulator.values(SHEET_KEY, "Log")
    by_hand = next(i for i, r in enumerate(log) if r[1:2] == ["by hand"])
    ours = [i for i, r in enumerate(log) if r[1:2] and r[1] not in ("history", "by hand", "run_id")]
    assert len(ours) == 11 + 1 and min(ours) > by_hand  # and the `run` row
    assert emulator.values(SHEET_KEY, "Partners")[1][11] == "edited while the run was going"


def test_text_that_looks_like_a_formula_or_a_number_stays_text(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from automations.testing.cells import Cell

    partners = emulator.spreadsheets[SHEET_KEY].tab("Partners")
    assert partners is not None
    partners.cells[(1, 0)] = Cell.native('=IMPORTXML("http://x.example","//a")')
    partners.cells[(1, 2)] = Cell.native("+1 555 0100")
    run(project, capsys, "health")
    health = emulator.spreadsheets[SHEET_KEY].tab("Health")
    assert health is not None
    cells = {cell.value: cell.kind for cell in health.cells.values()}
    assert cells['=IMPORTXML("http://x.example","//a")'] == "string"
    assert cells["+1 555 0100"] == "string"


def test_dates_typed_as_text_follow_the_spreadsheets_locale(
    project: SheetProject, emulator: SheetsEmulator
) -> None:
    emulator.spreadsheets[SHEET_KEY].locale = "en_GB"
    backend = GoogleBackend(SHEET_KEY, Tabs(), AnonymousCredentials, emulator.host)
    assert backend.read().date_order == "DMY"
    assert date_order_of("en_US") == "MDY" and date_order_of("ja_JP") == "YMD"
    assert date_order_of("de_DE") == "DMY"


def test_the_key_comes_from_a_url_or_a_bare_key() -> None:
    url = "https://docs.google.com/spreadsheets/d/1AbC_dEf-123/edit#gid=0"
    assert spreadsheet_key(url) == "1AbC_dEf-123"
    assert spreadsheet_key(" 1AbC_dEf-123 ") == "1AbC_dEf-123"


def test_without_the_emulator_variable_only_google_is_contacted() -> None:
    session = google._Session(AnonymousCredentials())
    with pytest.raises(SheetError, match=r"refusing to send sheet data to evil\.example"):
        session.request("GET", "https://evil.example/v4/spreadsheets/x")


def test_credentials_are_required_outside_the_emulator(
    project: SheetProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SHEETS_EMULATOR_HOST")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    code, _, err = run(project, capsys, "health")
    assert code == 2
    assert "the google backend needs credentials" in err


# --- the emulator answers as Google does -------------------------------------------------------


@pytest.mark.skipif(not sheets_replay.CASSETTES.is_dir(), reason="no recorded cassettes here")
def test_the_emulator_answers_recorded_google_traffic_the_same_way() -> None:
    found = sorted(p for p in sheets_replay.CASSETTES.glob("*.json") if sheets_replay.usable(p))
    result = sheets_replay.replay(found)
    print(result.table())
    assert len(found) >= 40
    assert sum(result.total.values()) >= 400
    assert result.rate >= 0.95, "\n".join(result.differences[:20])


def _api(emulator: SheetsEmulator, method: str, path: str, **kwargs: Any) -> Any:
    session = requests.Session()
    session.trust_env = False
    return session.request(method, f"http://{emulator.host}/v4/spreadsheets/{path}", **kwargs)


def test_batch_get_drops_trailing_blanks_and_omits_values_of_empty_ranges(
    emulator: SheetsEmulator,
) -> None:
    emulator.create("s1", tabs={"Data": [["a", "b", None], [None, None, None], [1, True, 2.5]]})
    emulator.spreadsheets["s1"].tabs.append(type(emulator.spreadsheets["s1"].tabs[0])(99, "Empty"))
    got = _api(
        emulator,
        "GET",
        "s1/values:batchGet",
        params={
            "ranges": ["Data", "'Empty'!A1:C3", "Data!B1:B1"],
            "valueRenderOption": "UNFORMATTED_VALUE",
        },
    ).json()
    data, empty, one = got["valueRanges"]
    assert data == {
        "range": "Data!A1:Z1000",
        "majorDimension": "ROWS",
        "values": [["a", "b"], [], [1, True, 2.5]],
    }
    assert empty == {"range": "Empty!A1:C3", "majorDimension": "ROWS"}
    assert one["range"] == "Data!B1" and one["values"] == [["b"]]
    formatted = _api(emulator, "GET", "s1/values/Data!A3:C3").json()
    assert formatted["values"] == [["1", "TRUE", "2.5"]]


def test_values_batch_update_counts_and_refuses_writes_beyond_the_grid(
    emulator: SheetsEmulator,
) -> None:
    emulator.create("s2")
    body = {
        "valueInputOption": "RAW",
        "data": [
            {"range": "Sheet1!A1", "values": [["x", "=1+1"], ["y", 3]]},
            {"range": "'Sheet1'!D5:E5", "values": [["z", "w"]]},
        ],
    }
    got = _api(emulator, "POST", "s2/values:batchUpdate", json=body).json()
    assert got["totalUpdatedCells"] == 6 and got["totalUpdatedRows"] == 3
    assert [r["updatedRange"] for r in got["responses"]] == ["Sheet1!A1:B2", "Sheet1!D5:E5"]
    assert emulator.values("s2", "Sheet1")[0] == ["x", "=1+1"]  # RAW: text, not a formula
    too_far = {
        "valueInputOption": "RAW",
        "data": [{"range": "Sheet1!A1000", "values": [["a"], ["b"]]}],
    }
    answer = _api(emulator, "POST", "s2/values:batchUpdate", json=too_far)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "Range (Sheet1!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    missing = _api(emulator, "GET", "nope/values/A1")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


def test_the_emulator_runs_as_a_command_with_a_workbook(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from tests.smtp_server import free_port

    write_workbook(tmp_path / "w.xlsx", {"Partners": [["name", "email"], ["Pat", "pat@x.example"]]})
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automations.testing.sheets_emulator",
            "--port",
            str(port),
            "--workbook",
            str(tmp_path / "w.xlsx"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "SHEETS_EMULATOR_HOST=127.0.0.1:" in (
            process.stdout.readline() + process.stdout.readline()
        )  # type: ignore[union-attr]
        session = requests.Session()
        session.trust_env = False
        deadline = time.monotonic() + 10
        while True:
            try:
                got = session.get(
                    f"http://127.0.0.1:{port}/v4/spreadsheets/local-workbook/values/Partners"
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert got.json()["values"] == [["name", "email"], ["Pat", "pat@x.example"]]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_health_larger_than_googles_request_advice_is_written_in_pieces(
    project: SheetProject,
    emulator: SheetsEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(project, capsys, "health")
    whole = emulator.values(SHEET_KEY, "Health")
    emulator.requests.clear()
    monkeypatch.setattr(google, "MAX_REQUEST_BYTES", 3000)
    run(project, capsys, "health")
    writes = [r for r in emulator.requests if r[1].endswith(":batchUpdate")]
    assert len(writes) >= 2
    assert emulator.values(SHEET_KEY, "Health") == whole


# --- credentials -------------------------------------------------------------------------------

KEY_PEM = (Path(__file__).parent / "data" / "smtp-test-key.pem").read_text()


def test_a_service_account_key_is_loaded_and_its_email_is_named_on_403(
    tmp_path: Path, emulator: SheetsEmulator
) -> None:
    import json

    key = tmp_path / "sa.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "1",
                "private_key": KEY_PEM,
                "client_email": "partners-bot@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    creds = google.load_credentials(str(key))
    assert creds.service_account_email == "partners-bot@p.iam.gserviceaccount.com"  # type: ignore[attr-defined]
    backend = GoogleBackend(SHEET_KEY, Tabs(), lambda: creds, emulator.host)
    backend._http = google.HTTPClient(creds, session=google._Session(creds, emulator.host))
    answer = requests.Response()
    answer.status_code, answer._content = 403, b'{"error": {"code": 403, "message": "denied"}}'
    refused = api_error("read the tabs", 403, APIError(answer), SHEET_KEY, backend._account_email())
    assert "share the sheet with the service account partners-bot@p.iam.gserviceaccount.com" in str(
        refused
    )


def test_an_oauth_desktop_client_reuses_its_cached_token_without_a_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from automations.adapters.auth import sheets_desktop_credentials, sheets_token_file

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    client = tmp_path / "client.json"
    client.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "id",
                    "client_secret": "s",
                    "token_uri": "https://oauth2.googleapis.com/token",
                    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "redirect_uris": ["http://localhost"],
                }
            }
        )
    )
    token = sheets_token_file()
    token.parent.mkdir(parents=True)
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(
        tzinfo=None
    ).isoformat() + "Z"
    token.write_text(
        json.dumps(
            {
                "token": "t",
                "refresh_token": "r",
                "client_id": "id",
                "client_secret": "s",
                "token_uri": "https://oauth2.googleapis.com/token",
                "scopes": google.SCOPES,
                "expiry": expiry,
            }
        )
    )
    creds = google.load_credentials(str(client), sheets_desktop_credentials)
    assert creds.valid and creds.token == "t"


def test_an_oauth_desktop_client_without_a_saved_sign_in_says_run_partners_login_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automations.adapters.auth import sheets_desktop_credentials
    from automations.errors import LoginNeeded

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    client = tmp_path / "client.json"
    client.write_text('{"installed": {"client_id": "id", "client_secret": "s"}}')
    with pytest.raises(LoginNeeded, match="run `partners check` once in a terminal"):
        google.load_credentials(str(client), sheets_desktop_credentials)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("not json", "is not a readable JSON key"),
        (
            '{"type": "authorized_user"}',
            "neither a service-account key nor an OAuth desktop client",
        ),
    ],
)
def test_bad_credentials_files_are_named(tmp_path: Path, content: str | None, message: str) -> None:
    from automations.errors import ConfigError

    path = tmp_path / "creds.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        google.load_credentials(str(path))


# --- the Log as the user keeps it (issue 10, item 9) ------------------------------------------


def _narrow_log(emulator: SheetsEmulator, keep: list[str]) -> None:
    """The user's Log tab with only some of the toolkit's columns, in their own order."""
    from automations.testing.cells import Cell

    tab = emulator.spreadsheets[SHEET_KEY].tab("Log")
    assert tab is not None
    rows = emulator.values(SHEET_KEY, "Log")
    header = [str(h) for h in rows[0]]
    tab.cells.clear()
    for r, row in enumerate(rows):
        padded = row + [""] * (len(header) - len(row))
        for c, name in enumerate(keep):
            value = name.title() if r == 0 else padded[header.index(name)]
            if value not in ("", None):
                tab.cells[(r, c)] = Cell.native(value)


def test_a_log_header_missing_toolkit_columns_gets_them_and_rows_land_in_line(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    _narrow_log(emulator, ["status", "timestamp", "key", "action", "partner_email"])
    before = len(emulator.values(SHEET_KEY, "Log"))
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    emulator.requests.clear()
    rows = emulator.values(SHEET_KEY, "Log")
    header = [str(h) for h in rows[0]]
    assert header[:5] == ["Status", "Timestamp", "Key", "Action", "Partner_Email"]
    assert set(header[5:]) == {"run_id", "template", "subject", "message_id", "detail"}
    ours = [dict(zip(header, r, strict=False)) for r in rows[before:]]
    assert [r["Status"] for r in ours if r["Action"] == "run"] == ["ok"]
    ours = [r for r in ours if r["Action"] != "run"]
    assert len(ours) == 11 and {r["Status"] for r in ours} == {"written"}
    assert all(r["Key"].startswith(r["Action"] + ":") for r in ours)
    assert all(str(r["message_id"]).startswith("<pa.") for r in ours)
    for _ in range(2):  # nothing appended again, nothing read back as an error
        code, out, err = run(project, capsys, "nurture", "--send")
        assert code == 0, err
        assert "Nothing is due" in out
    assert len(emulator.values(SHEET_KEY, "Log")) == before + 11 + 3  # a `run` row each


@pytest.mark.log_write_lost
def test_a_log_append_that_may_have_landed_is_not_retried(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail_appends(method: str, path: str) -> None:
        if path.endswith(":append"):
            emulator.fail(503, times=1)

    emulator.before = fail_appends
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 2
    appends = [p for _, p in emulator.requests if p.endswith(":append")]
    assert len(appends) == 1
    emulator.before = None
    code, _out, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    keys = [r["key"] for r in project.log_rows() if r["status"] == "written"]
    assert len(keys) == len(set(keys)) == 11


def test_the_emulator_appends_below_the_table_a_range_starts(emulator: SheetsEmulator) -> None:
    # Issue 10, item 10: `Referrals!A1` appended at A2, over the user's rows.
    rows = [["date", "direction", "partner_email"]] + [
        ["2026-01-0" + str(i), "received", f"p{i}@x.example"] for i in range(1, 6)
    ]
    emulator.create("k", tabs={"Referrals": rows})
    answer = requests.post(
        f"http://{emulator.host}/v4/spreadsheets/k/values/Referrals!A1:append",
        params={"valueInputOption": "RAW"},
        json={"values": [["2026-02-01", "given", "new@x.example"]]},
        timeout=10,
    ).json()
    assert answer["tableRange"] == "Referrals!A1:C6"
    assert answer["updates"]["updatedRange"] == "Referrals!A7:C7"
    assert emulator.values("k", "Referrals")[1][2] == "p1@x.example"


# --- one project folder, two sheets (issue 10, item 11) ---------------------------------------


def _use_backend(project: SheetProject, backend: str) -> None:
    config = project / "config" / "partners.toml"
    text = config.read_text(encoding="utf-8")
    other = "xlsx" if backend == "google" else "google"
    config.write_text(text.replace(f'backend = "{other}"', f'backend = "{backend}"', 1))


def test_a_sheet_never_gets_the_journal_rows_of_another_sheet(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    google_runs = {r["run_id"] for r in project.log_rows() if r["status"] == "written"}
    _use_backend(project, "xlsx")
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    local = SheetProject.__new__(SheetProject)
    local.path, local.emulator = project.path, None
    written = [r for r in local.log_rows() if r["status"] == "written"]
    assert written and not google_runs & {r["run_id"] for r in written}


@pytest.mark.log_write_lost
def test_moving_to_google_sends_nothing_twice_and_carry_over_brings_the_history(
    tmp_path: Path,
    emulator: SheetsEmulator,
    smtp_server: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.conftest import use_smtp

    project = SheetProject(tmp_path, emulator)
    _use_backend(project, "xlsx")
    use_smtp(project, smtp_server)
    code, _, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    sent = len(smtp_server.recorder.received)
    _use_backend(project, "google")  # the same partners, now in a Google Sheet
    code, out, err = run(project, capsys, "nurture", "--send")
    assert len(smtp_server.recorder.received) == sent
    assert code == 1
    assert "`partners carry-over` brings that history into this sheet's Log" in err
    code, out, err = run(project, capsys, "carry-over")
    assert code == 0, err
    assert "Carried over" in out
    assert {r["status"] for r in email_rows(project.log_rows())} == {"sent"}
    assert [status for status, _ in run_rows(project.log_rows())] == ["problems", "ok"]
    code, out, err = run(project, capsys, "nurture", "--send")
    assert code == 0, err
    assert "Nothing is due" in out
    assert len(smtp_server.recorder.received) == sent


# --- a Log backlog, tabs added once (issue 22, items 8 and 9) ---------------------------------


def _backlog(project: SheetProject, rows: int) -> list[str]:
    """`rows` journal rows this sheet's Log lacks (an old outage, or a carry-over); their keys,
    oldest first. Each row is about 300 bytes, as a Log row with a subject and a detail is."""
    from automations.adapters.state import Entry, Journal

    journal = Journal(project / "state" / "journal.sqlite3", f"google:{SHEET_KEY}")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    entries = [
        Entry(
            (start + dt.timedelta(minutes=i)).isoformat(timespec="seconds"),
            "backlog",
            "thank",
            f"old-partner-{i}@firm.example",
            f"thank:old-partner-{i}@firm.example:2024-01-01",
            "thank_you",
            f"Thank you for the referral of Client {i}, it means a lot to us here",
            f"<pa.{i:08d}.backlog@partners.example>",
            "sent",
            "sent through smtp.firm.example; accepted as queued: 250 2.0.0 OK id=" + "x" * 40,
        )
        for i in range(rows)
    ]
    try:
        journal.record(entries)
    finally:
        journal.close()
    return [e.key for e in entries]


def _appends(emulator: SheetsEmulator) -> list[int]:
    """The body size of each Log append."""
    from urllib.parse import unquote

    return [s for _, path, s in emulator.sizes if unquote(path).endswith("/'Log'!A:A:append")]


def test_a_log_backlog_of_60000_rows_lands_once_in_pieces_under_2_mb(
    project: SheetProject, emulator: SheetsEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = _backlog(project, 60_000)  # about 18 MB: Google refuses one body over 10 MiB
    code, _, err = run(project, capsys, "nurture", "--send", "-q")
    assert code == 0, err
    sizes = _appends(emulator)
    assert len(sizes) >= 9 and max(sizes) < 2_000_000 and sum(sizes) > 10_485_760
    logged = [r["key"] for r in project.log_rows() if r["run_id"] == "backlog"]
    assert logged == keys  # every row once, in order


@pytest.mark.log_write_lost
@pytest.mark.parametrize("landed", [True, False], ids=["applied-answer-lost", "refused"])
def test_a_log_backlog_append_failing_between_pieces_lands_every_row_once_on_the_next_run(
    landed: bool,
    project: SheetProject,
    emulator: SheetsEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keys = _backlog(project, 200)
    monkeypatch.setattr(google, "MAX_APPEND_BYTES", 10_000)  # about 30 rows a piece

    def third_append_fails(method: str, path: str) -> None:
        if path.endswith(":append") and len(_appends(emulator)) == 3:
            emulator.fail(500, landed=landed)

    emulator.before = third_append_fails
    code, _, err = run(project, capsys, "nurture", "--send", "-q")
    assert code == 2
    assert "Google Sheets refused to append to the Log tab (500)" in err
    assert "Log rows went in" in err and "goes to the Log on the next run" in err
    assert len(_appends(emulator)) == 3  # no piece after the one that failed
    emulator.before = None
    code, _, err = run(project, capsys, "nurture", "--send", "-q")
    assert code == 0, err
    logged = [r["key"] for r in project.log_rows() if r["run_id"] == "backlog"]
    assert logged == keys
    written = [r["key"] for r in email_rows(project.log_rows()) if r["status"] == "written"]
    assert len(written) == len(set(written)) == 11


@pytest.mark.parametrize("landed", [True, False], ids=["applied-answer-lost", "refused"])
def test_a_500_on_adding_the_health_tab_leaves_one_health_tab_and_no_error(
    landed: bool,
    project: SheetProject,
    emulator: SheetsEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sheet = emulator.spreadsheets[SHEET_KEY]
    assert sheet.tab("Health") is None
    add_tabs = ("POST", f"/v4/spreadsheets/{SHEET_KEY}:batchUpdate")

    def first_add_fails(method: str, path: str) -> None:
        if (method, path) == add_tabs:
            emulator.before = None
            emulator.fail(500, landed=landed)

    emulator.before = first_add_fails
    code, _, err = run(project, capsys, "health")
    assert code == 0, err
    assert [t.title for t in sheet.tabs].count("Health") == 1
    assert len(emulator.values(SHEET_KEY, "Health")) == 29
    # the add (again only when it did not land), then Health's write
    assert emulator.requests.count(add_tabs) == (1 if landed else 2) + 1


def test_a_health_of_non_ascii_names_is_cut_by_the_size_google_receives(
    project: SheetProject,
    emulator: SheetsEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automations.testing import sheets_emulator
    from automations.testing.cells import Cell

    partners = emulator.spreadsheets[SHEET_KEY].tab("Partners")
    assert partners is not None
    for r in range(1, 29):  # names in kanji: 3 bytes each in UTF-8, 6 as gspread sends them
        partners.cells[(r, 0)] = Cell.native("山田太郎" * 60 + str(r))
    monkeypatch.setattr(google, "MAX_REQUEST_BYTES", 20_000)
    monkeypatch.setattr(sheets_emulator, "PAYLOAD_LIMIT", 22_000)  # the envelope's margin
    code, _, err = run(project, capsys, "health")
    assert code == 0, err
    writes = [s for _, path, s in emulator.sizes if path.endswith(":batchUpdate")]
    assert len(writes) >= 2 and max(writes) <= 22_000
    names = [str(r[0]) for r in emulator.values(SHEET_KEY, "Health")[1:]]
    assert sorted(names) == sorted("山田太郎" * 60 + str(r) for r in range(1, 29))
