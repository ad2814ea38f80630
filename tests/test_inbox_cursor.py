"""Where an inbox scan starts and what it holds (a real IMAP server, pymap on 127.0.0.1):
EMAIL.md, Replies and bounces."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from automations.cli import main
from automations.core.messages import message_id
from automations.demo.workbook import SENDER
from tests.conftest import ImapServer, use_imap
from tests.imap_messages import dsn, message
from tests.projects import SheetProject

PRIYA = "priya@stackwise.example"
OUTREACH_ID = message_id((f"campaign:platforms-2026:{PRIYA}",), SENDER)


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path)


def run(project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(project / "config" / "partners.toml")])
    out, err = capsys.readouterr()
    assert code == 0, err
    return code, out + err


def ours(project: SheetProject, status: str) -> list[dict[str, Any]]:
    return [r for r in project.log_rows() if r["status"] == status and r["run_id"] != "history"]


def test_a_years_old_bounce_outside_the_window_never_blocks_on_a_later_scan(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The first scan finds nothing in its 30 days; it stored cursor 0 and the next scan read
    # the whole folder, years-old bounces and all.
    use_imap(project, imap_server, monkeypatch)
    long_ago = dt.datetime(2021, 3, 1, 9, 0, tzinfo=dt.UTC)
    imap_server.append(dsn(PRIYA, "5.1.1", "<old@x>"), arrived=long_ago)
    for _ in range(2):
        _, said = run(project, capsys, "replies")
        assert "0 bounce(s)" in said
    assert not ours(project, "bounce")
    fresh = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    imap_server.append(message(f"<{PRIYA}>", SENDER, "Re: hello", when=fresh))
    _, said = run(project, capsys, "replies")
    assert "1 reply(ies), 0 bounce(s)" in said  # what arrives later is still read


def test_replies_looks_back_from_the_day_given_with_today(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dana = "dana@northwind.example"  # a partner since 2025
    use_imap(project, imap_server, monkeypatch)
    day = dt.date.today() - dt.timedelta(days=10)  # its window: 40 to 10 days ago
    then = dt.datetime.combine(day - dt.timedelta(days=25), dt.time(9), tzinfo=dt.UTC)
    imap_server.append(message(f"<{dana}>", SENDER, "Re: hello", when=then), arrived=then)
    _, said = run(project, capsys, "replies", "--today", day.isoformat())
    assert "1 reply(ies)" in said
    assert [r["partner_email"] for r in ours(project, "reply")] == [dana]


def test_a_renumbered_folder_is_read_again_said_so_and_nothing_logged_twice(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automations.adapters.state import Journal

    use_imap(project, imap_server, monkeypatch)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    imap_server.append(message(f"<{PRIYA}>", SENDER, "Re: hello", when=recent))
    _, said = run(project, capsys, "replies")
    assert "renumbered" not in said
    journal = Journal(project / "state" / "journal.sqlite3")
    journal.set_inbox_cursor("INBOX", 12345, 99999)  # as if the server renumbered the folder
    journal.close()
    _, said = run(project, capsys, "replies")
    assert "partners: the IMAP server renumbered INBOX (a new UIDVALIDITY): read it again" in said
    assert "1 reply(ies)" in said and "0 new in the Log" in said
    assert len(ours(project, "reply")) == 1


def sent_mail(n: int, size: int) -> bytes:
    """One of the user's own emails to Priya, with an attachment of `size` bytes."""
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = f"Priya <{PRIYA}>"
    msg["Subject"] = f"Numbers {n}"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(days=1, minutes=n))
    msg["Message-ID"] = f"<mine{n}@rivera-consulting.example>"
    msg.set_content("The figures you asked for.")
    msg.add_attachment(bytes(range(256)) * (size // 256), "application", "octet-stream")
    return msg.as_bytes()


def test_the_sent_folder_scan_reads_headers_and_never_holds_the_attachments(
    project: SheetProject,
    imap_server: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_imap(project, imap_server, monkeypatch, scan_sent=True)
    imap_server.append_all([sent_mail(n, 2_000_000) for n in range(8)], folder="Sent")
    tracemalloc.start()
    try:
        _, said = run(project, capsys, "replies")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "8 email(s) of yours to partners in Sent" in said
    assert peak < 12_000_000, f"{peak / 1e6:.0f} MB held for 8 sent emails of 2.7 MB each"
