"""The Status tab says what lies ahead (SHEET.md, Status): sign-ins that will end soon
(Microsoft refresh tokens after 90 idle days, Google clients in Testing 7 days after the
sign-in; FIELD-NOTES.md) and the next run the scheduler will start."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automations.adapters.auth.tokens import TOKEN_URL_VARIABLE, Account
from automations.adapters.state import Journal
from automations.cli import main
from automations.core.status import Ahead, SignIn, sign_in_sentence, status_rows
from tests.conftest import set_keys
from tests.oauth_servers import REFRESH_TOKEN, TokenEndpoint, XOAuth2SmtpServer
from tests.projects import SheetProject
from tests.test_oauth import USER, oauth_project

NOW = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


# --- the sentences (pure) ---------------------------------------------------------------------


def test_a_microsoft_sign_in_unused_for_80_days_is_said_to_end_on_its_ninetieth_idle_day() -> None:
    line = sign_in_sentence(SignIn("mail", "microsoft", USER, days_ago(200), days_ago(80)), NOW)
    assert line == (
        f"The Microsoft sign-in for mail ({USER}) was last used on 2026-09-17 and ends on "
        "2026-12-16 if no run uses it before (90 days unused): a run that sends or reads mail "
        "keeps it; else run `partners login mail`."
    )


def test_a_microsoft_sign_in_unused_for_100_days_is_said_to_have_ended() -> None:
    line = sign_in_sentence(SignIn("imap", "microsoft", USER, None, days_ago(100)), NOW)
    assert "ended on 2026-11-26 (90 days unused): run `partners login imap`." in line


def test_a_microsoft_sign_in_used_yesterday_needs_no_line() -> None:
    assert sign_in_sentence(SignIn("mail", "microsoft", USER, None, days_ago(1)), NOW) == ""


def test_a_google_sign_in_made_two_days_ago_says_when_testing_would_end_it() -> None:
    line = sign_in_sentence(SignIn("mail", "google", USER, days_ago(2), days_ago(0)), NOW)
    assert line.startswith(
        f"If your Google OAuth client is still in Testing, the Google sign-in for mail ({USER}) "
        "ends on 2026-12-11 (7 days after you signed in): publish the app"
    )


def test_a_google_sign_in_refreshed_after_its_seventh_day_is_not_in_testing() -> None:
    assert sign_in_sentence(SignIn("mail", "google", USER, days_ago(30), days_ago(1)), NOW) == ""


def test_a_google_sign_in_older_than_seven_days_and_not_refreshed_since_may_have_ended() -> None:
    line = sign_in_sentence(SignIn("mail", "google", USER, days_ago(9), days_ago(9)), NOW)
    assert "if your Google OAuth client is still in Testing it ended on 2026-12-04" in line


def test_status_names_the_next_scheduled_run_with_its_day_and_zone() -> None:
    ahead = Ahead(NOW, (), ("nurture", dt.datetime(2026, 12, 7, 9, 0)), "Europe/Berlin")
    rows = dict((r[0], r[1]) for r in status_rows(NOW, 0, "done", 0, None, [], ahead)[1:])
    assert rows["next run"] == (
        "The scheduler starts nurture next on Monday 2026-12-07 at 09:00 (Europe/Berlin)."
    )
    assert "sign-in" not in rows  # no saved sign-in: nothing to say of one


# --- through real runs -------------------------------------------------------------------------


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TokenEndpoint]:
    served = TokenEndpoint(USER)
    monkeypatch.setenv(TOKEN_URL_VARIABLE, served.url)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    yield served
    served.stop()


@pytest.fixture
def oauth_smtp(endpoint: TokenEndpoint) -> Iterator[XOAuth2SmtpServer]:
    server = XOAuth2SmtpServer(endpoint, USER)
    server.start()
    yield server
    server.stop()


def cache(provider: str, signed_in: dt.datetime | None, refreshed: dt.datetime) -> Path:
    """What `partners login mail` leaves, signed in and last refreshed at these moments."""
    path = Account("mail", provider, USER).cache
    path.parent.mkdir(parents=True, exist_ok=True)
    saved: dict[str, Any] = {
        "refresh_token": REFRESH_TOKEN,
        "client_id": "id",
        "refreshed_at": refreshed.isoformat(timespec="seconds"),
    }
    if signed_in is not None:
        saved["signed_in_at"] = signed_in.isoformat(timespec="seconds")
    path.write_text(json.dumps(saved))
    os.chmod(path, 0o600)
    return path


def status(folder: Path) -> dict[str, str]:
    from openpyxl import load_workbook

    sheet = load_workbook(folder / "data" / "partners.toolkit.xlsx")["Status"]
    return {str(r[0]): str(r[1]) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]}


def test_status_after_sending_with_a_google_sign_in_made_two_days_ago_says_when_testing_ends_it(
    tmp_path: Path, oauth_smtp: XOAuth2SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    made = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    cache("google", made, made)
    config = oauth_project(tmp_path, oauth_smtp)
    assert main(["nurture", "--send", "--config", config]) in (0, 1)
    assert oauth_smtp.recorder.received  # the sign-in was used (and refreshed) by this run
    ends = (made + dt.timedelta(days=7)).date().isoformat()
    assert status(tmp_path / "p")["sign-in"].startswith(
        f"If your Google OAuth client is still in Testing, the Google sign-in for mail ({USER}) "
        f"ends on {ends}"
    )


def test_status_after_a_run_that_did_not_use_an_idle_microsoft_sign_in_says_when_it_ends(
    tmp_path: Path, endpoint: TokenEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    last = dt.datetime.now(dt.UTC) - dt.timedelta(days=80)
    cache("microsoft", last, last)
    project = SheetProject(tmp_path)
    set_keys(
        project / "config" / "partners.toml",
        "mail",
        backend="smtp",
        host="127.0.0.1",
        port=1,
        username=USER,
        auth="oauth",
        provider="microsoft",
        client_id="app-id",
    )
    assert main(["health", "--config", str(project / "config" / "partners.toml")]) in (0, 1)
    ends = (last + dt.timedelta(days=90)).date().isoformat()
    line = status(tmp_path)["sign-in"]
    assert f"The Microsoft sign-in for mail ({USER}) was last used on {last.date()}" in line
    assert f"ends on {ends} if no run uses it before" in line


def test_status_names_the_next_run_once_the_scheduler_has_run_jobs_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path)
    config = project / "config" / "partners.toml"
    set_keys(config, "schedule", timezone="UTC")
    assert main(["health", "--config", str(config)]) in (0, 1)
    assert "next run" not in status(tmp_path)  # nothing says a scheduler runs here
    journal = Journal(tmp_path / "state" / "journal.sqlite3")
    journal.record_job_run("nurture", dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    journal.close()
    assert main(["health", "--config", str(config)]) in (0, 1)
    now = dt.datetime.now(dt.UTC)
    nine = now.replace(hour=9, minute=0, second=0, microsecond=0)
    due = nine if nine > now else nine + dt.timedelta(days=1)
    assert status(tmp_path)["next run"] == (
        f"The scheduler starts nurture next on {due:%A %Y-%m-%d} at 09:00 (UTC)."
    )
