"""Alerts for runs nobody watches (EMAIL.md, "Copies, windows and alerts"): a ping to a
loopback monitoring service at each run's start and end, and one email to the owner after
`email_owner_after` failed runs in a row, at most one a day."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from automations.cli import main
from automations.demo.workbook import SENDER
from automations.errors import ConfigError
from tests.conftest import set_keys, use_smtp
from tests.projects import SheetProject
from tests.smtp_server import SmtpServer

CHECK = "/ping/0b8f7a1e-check"  # a check's address holds its secret: never in output


class Monitor:
    """A healthchecks-style service on 127.0.0.1 that records each ping."""

    def __init__(self) -> None:
        self.pings: list[tuple[str, str]] = []
        pings = self.pings

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                pings.append((self.path, self.rfile.read(size).decode("utf-8")))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{CHECK}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [p.removeprefix(CHECK) or "/" for p, _ in self.pings]


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    m = Monitor()
    yield m
    m.server.shutdown()


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path)


def run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out + err


def sheet_unwritable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The toolkit file cannot be written: the run sends, then fails (exit 2)."""
    from automations.adapters.sheet import xlsx

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(xlsx, "tempfile", SimpleNamespace(mkstemp=refuse))


def alerts_to_owner(server: SmtpServer) -> list[Any]:
    return [
        r
        for r in server.recorder.received
        if r.rcpt_tos == [SENDER] and "runs in a row" in str(r.message["Subject"])
    ]


@pytest.mark.log_write_lost  # the failing runs cannot write their `run` row
def test_a_run_pings_start_then_success_and_a_failing_run_pings_fail_with_its_summary(
    project: SheetProject,
    monitor: Monitor,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_keys(project / "config" / "partners.toml", "alerts", ping_url=monitor.url)
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0, out
    assert monitor.paths() == ["/start", "/"]
    assert "nurture: emails: 10 written" in monitor.pings[1][1]
    sheet_unwritable(monkeypatch)
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 2
    assert monitor.paths()[2:] == ["/start", "/fail"]
    assert "cannot write" in monitor.pings[3][1]
    assert CHECK not in out  # the check's secret address is never printed


def test_a_monitoring_service_that_is_down_never_stops_a_run(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    set_keys(project / "config" / "partners.toml", "alerts", ping_url="http://127.0.0.1:9/x")
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 0, out


@pytest.mark.log_write_lost  # the failing runs cannot write their `run` row
def test_the_owner_gets_one_email_after_n_failed_runs_in_a_row_and_no_more_that_day(
    project: SheetProject,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_smtp(project, smtp_server)
    set_keys(project / "config" / "partners.toml", "alerts", email_owner_after=2)
    with monkeypatch.context() as patch:
        sheet_unwritable(patch)
        assert run(project, capsys, "nurture", "--send")[0] == 2
        assert not alerts_to_owner(smtp_server)  # one failed run: no email yet
        assert run(project, capsys, "nurture", "--send")[0] == 2
        [alert] = alerts_to_owner(smtp_server)
        assert run(project, capsys, "nurture", "--send")[0] == 2
        assert len(alerts_to_owner(smtp_server)) == 1  # at most one a day
    text = alert.message.get_body(("plain",)).get_content()
    assert "have not finished 2 times in a row" in text
    assert "cannot write" in text and "Permission denied" in text
    assert alert.message["Auto-Submitted"] == "auto-generated"
    assert run(project, capsys, "nurture", "--send")[0] == 0  # works again: the count restarts
    from automations.adapters.state import Journal

    journal = Journal(project / "state" / "journal.sqlite3")
    assert journal.counter("failed_runs_in_a_row") == "0"
    journal.close()


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"ping_url": "hc-ping.com/abc"}, "'alerts.ping_url'"),
        ({"ping_url": "http://exa mple.com/secret-uuid"}, "'alerts.ping_url' is not a web"),
        ({"ping_url": "http://"}, "'alerts.ping_url' is not a web"),
        ({"email_owner_after": -1}, "'alerts.email_owner_after'"),
        ({"ping": "x"}, "'alerts.ping' is not known"),
    ],
)
def test_an_alerts_key_that_is_wrong_is_named(
    tmp_path: Path, values: dict[str, Any], said: str
) -> None:
    from automations.config import load_settings

    project = SheetProject(tmp_path)
    config = project / "config" / "partners.toml"
    set_keys(config, "alerts", **values)
    with pytest.raises(ConfigError, match=said) as refused:
        load_settings(config)
    assert "secret-uuid" not in str(refused.value)  # the check's address is its secret
