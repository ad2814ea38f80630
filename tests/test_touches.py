"""Contact that records itself (RULES.md): the Sent folder on a real IMAP server (pymap) and
calendar feeds served over HTTP on loopback become touches, recorded once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from automations.cli import main
from automations.demo.workbook import SENDER
from tests.conftest import ImapServer, set_keys, use_imap, use_smtp
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


# --- calendar feeds ---------------------------------------------------------------------------

MAYA = "maya@goldberg.example"  # check-in due today (tier B, no touch in 100 days)
RAFAEL = "rafael@costa.example"  # check-in due today
PRIYA = "priya@stackwise.example"  # follow-up due today


def ics_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def feed(now: dt.datetime) -> str:
    """A one-off meeting with Lena, five weekly ones with Maya (one skipped), a cancelled
    one with Rafael, one Priya declined, and one with Lena next week (not yet a touch)."""
    at = now.replace(hour=10, minute=0, second=0, microsecond=0)
    weekly = at - dt.timedelta(days=35)

    def event(uid: str, start: dt.datetime, extra: str) -> str:
        return (
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{ics_time(now)}\r\n"
            f"DTSTART:{ics_time(start)}\r\nDTEND:{ics_time(start + dt.timedelta(hours=1))}\r\n"
            f"ORGANIZER:mailto:{SENDER}\r\n{extra}END:VEVENT\r\n"
        )

    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//partners//EN\r\n"
        + event(
            "lunch-lena",
            at - dt.timedelta(days=3),
            "SUMMARY:Lunch with Lena\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:Lena@Fischer.example\r\n",
        )
        + event(
            "weekly-maya",
            weekly,
            "SUMMARY:Weekly with Maya\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\n"
            f"EXDATE:{ics_time(weekly + dt.timedelta(days=14))}\r\n"
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{MAYA}\r\n",
        )
        + event(
            "cancelled-rafael",
            at - dt.timedelta(days=2),
            f"SUMMARY:Call\r\nSTATUS:CANCELLED\r\nATTENDEE:mailto:{RAFAEL}\r\n",
        )
        + event(
            "declined-priya",
            at - dt.timedelta(days=1),
            f"SUMMARY:Intro call\r\nATTENDEE;PARTSTAT=DECLINED:mailto:{PRIYA}\r\n",
        )
        + event(
            "next-week-lena",
            at + dt.timedelta(days=7),
            f"SUMMARY:Next week\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{LENA}\r\n",
        )
        + "END:VCALENDAR\r\n"
    )


class FeedServer:
    """An HTTP server on 127.0.0.1 serving one calendar feed at a secret-looking path."""

    def __init__(self, body: str) -> None:
        import http.server
        import threading

        payload = body.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = self.path.endswith("/basic.ics")
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "text/calendar")
                self.end_headers()
                self.wfile.write(payload if ok else b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/calendar/ical/secret123/basic.ics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def use_calendar(project: SheetProject, *sources: str) -> None:
    set_keys(project / "config" / "partners.toml", "calendar", ics=list(sources))


def test_past_meetings_in_a_calendar_feed_are_touches_recorded_once(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FeedServer(feed(dt.datetime.now(dt.UTC)))
    try:
        use_calendar(project, server.url)
        for _ in range(3):
            code, out = run(project, capsys, "nurture", "--send")
            assert code == 0, out
    finally:
        server.stop()
    met = [(r["partner_email"], r["subject"]) for r in logged(project, "meeting")]
    assert sorted(met) == [(LENA, "Lunch with Lena")] + [(MAYA, "Weekly with Maya")] * 4
    written = {p.name.split("-", 1)[1].rsplit("-", 1)[0] for p in (project / "outbox").glob("*")}
    assert LENA not in written and MAYA not in written  # their check-ins: not due any more
    assert RAFAEL in written  # a cancelled meeting is no contact
    assert PRIYA in written  # nor one the partner declined: her follow-up goes
    health = project.health()
    assert health[LENA]["days_since_touch"] == 3
    assert health[MAYA]["days_since_touch"] == 7  # the last of the weekly ones


def test_a_calendar_feed_that_is_down_is_a_warning_and_everything_else_goes(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FeedServer("")
    url = server.url
    server.stop()
    use_calendar(project, url)
    code, out = run(project, capsys, "nurture", "--send")
    assert code == 1
    assert "calendar http://127.0.0.1:" in out and "could not be read" in out
    assert "secret123" not in out  # the private address's secret is never printed
    assert len(list((project / "outbox").glob("*.eml"))) == 10  # everything due went


def test_health_counts_a_past_meeting_so_the_check_in_is_not_due_and_records_nothing(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    from automations.adapters.state import Journal

    assert run(project, capsys, "health")[0] == 0
    assert project.health()[LENA]["action"] == "nurture"  # due today, without the calendar
    server = FeedServer(feed(dt.datetime.now(dt.UTC)))
    try:
        use_calendar(project, server.url)
        code, out = run(project, capsys, "health")
        assert code == 0, out
        lena = project.health()[LENA]
        assert lena["action"] == "none" and lena["days_since_touch"] == 3
        code, out = run(project, capsys, "preview", "nurture", "--partner", LENA)
        assert code == 0, out
        assert out.startswith("Not due now")  # the meeting counts in a preview too
    finally:
        server.stop()
    assert not logged(project, "meeting")  # read, not recorded: the sending run records it
    journal = Journal(project / "state" / "journal.sqlite3")
    try:
        assert not [e for e in journal.entries() if e.status == "meeting"]
    finally:
        journal.close()
