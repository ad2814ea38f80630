"""Contact that records itself (RULES.md): the Sent folder on a real IMAP server (pymap) and
calendar feeds served over HTTP on loopback become touches, recorded once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automations.cli import main
from automations.core.sample import SENDER
from tests.conftest import ImapServer, use_imap, use_smtp
from tests.imap_messages import message
from tests.projects import SheetProject, email_rows
from tests.smtp_server import SmtpServer

LENA = "lena@fischer.example"  # the sample's check-in due today (no touch in 40 days, every 30)
TODAY = dt.date.today()


def run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    return code, out + err


def logged(project: SheetProject, status: str) -> list[dict[str, Any]]:
    return [r for r in email_rows(project.log_rows()) if r["status"] == status]


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path)


def test_an_email_the_user_sent_a_partner_resets_the_check_in_once_and_our_copies_do_not_count(
    project: SheetProject,
    imap_server: ImapServer,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_smtp(project, smtp_server)
    use_imap(project, imap_server, monkeypatch, save_sent=True, scan_sent=True)
    assert run(project, capsys, "health")[0] in (0, 1)
    assert project.health()[LENA]["action"] == "nurture"  # due today, before the scan
    wrote = dt.datetime.combine(TODAY - dt.timedelta(days=2), dt.time(15, 0), dt.UTC)
    imap_server.append(
        message(
            f"Alex Rivera <{SENDER}>",
            "Lena Fischer <lena@fischer.example>",
            "Lunch next week?",
            ident="<own-1@rivera-consulting.example>",
            when=wrote,
            headers={"Cc": "someone@elsewhere.example"},
        ),
        folder="Sent",
    )
    for _ in range(3):  # the toolkit's own copies reach Sent too (save_sent) from run 1 on
        code, out = run(project, capsys, "nurture", "--send")
        assert code in (0, 1), out
    assert not smtp_server.recorder.by_recipient(LENA)  # she heard from the user two days ago
    emailed = logged(project, "emailed")
    assert [(r["action"], r["partner_email"], r["subject"]) for r in emailed] == [
        ("touch", LENA, "Lunch next week?")
    ]
    assert len(smtp_server.recorder.received) > 5  # the rest went, and were filed in Sent
    lena = project.health()[LENA]
    assert str(lena["last_touch"])[:10] == wrote.date().isoformat()
    assert lena["action"] == "none" and lena["days_since_touch"] == 2
    assert str(lena["next_due"])[:10] > TODAY.isoformat()  # was today: the check-in
