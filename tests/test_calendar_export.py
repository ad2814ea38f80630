"""`partners calendar` (CLI.md): the owner's reminders as an iCalendar file that parses back,
keeps its UIDs from one export to the next, holds one owner's partners, and is never read
back as meetings when the owner's calendar imports it (RULES.md, touches)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest

from automations.demo.workbook import SENDER
from tests.projects import SheetProject, on_both_sheets, sample_project
from tests.test_touches import LENA, logged, run, use_calendar

TODAY = dt.date.today()
OTHER_OWNER = "sam@rivera-consulting.example"


@pytest.fixture
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SheetProject]:
    """The sample project (on the Sheets emulator too, for a test `on_both_sheets`)."""
    yield from sample_project(request, tmp_path, monkeypatch)


def export(
    project: SheetProject, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, dict[str, Any]]:
    """Run `partners calendar`; the exit code, the output and the events by SUMMARY."""
    path = project / "reminders.ics"
    code, out = run(project, capsys, "calendar", "--ics", str(path), *args)
    if code != 0:
        return code, out, {}
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    return code, out, {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


@on_both_sheets
def test_the_feed_parses_back_as_all_day_events_with_a_uid_a_stamp_and_the_reason(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, events = export(project, capsys)
    assert code == 0, out
    assert f"reminder(s) for {SENDER}" in out
    assert len(events) >= 10
    for event in events.values():
        start = event.decoded("DTSTART")
        assert isinstance(start, dt.date) and not isinstance(start, dt.datetime)
        assert start >= TODAY
        assert event.decoded("DTEND") == start + dt.timedelta(days=1)
        assert str(event["UID"]) and isinstance(event.decoded("DTSTAMP"), dt.datetime)
    lena = events["Check in with Lena Fischer (Fischer Copy)"]
    assert lena.decoded("DTSTART") == TODAY  # the sample's check-in due today
    text = str(lena["DESCRIPTION"])
    assert "no touch in 40 days" in text and f"next_due {TODAY.isoformat()}" in text
    assert LENA in text
    assert any(t.startswith("Follow up with ") for t in events)
    upcoming = [e for e in events.values() if e.decoded("DTSTART") > TODAY]
    assert upcoming, "next_due days to come are reminders too"


def test_a_second_export_keeps_the_uids_and_a_waiting_proposal_updates_its_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = SheetProject(tmp_path, review=True)
    first = {str(e["UID"]): t for t, e in export(project, capsys)[2].items()}
    again = {str(e["UID"]): t for t, e in export(project, capsys)[2].items()}
    assert again == first
    code, out = run(project, capsys, "nurture", "--send")
    assert code in (0, 1), out
    waiting = {str(e["UID"]): t for t, e in export(project, capsys)[2].items()}
    lena = next(u for u, t in first.items() if t == "Check in with Lena Fischer (Fischer Copy)")
    assert waiting[lena] == "Approve: Check in with Lena Fischer (Fischer Copy)"
    kept = set(first) & set(waiting)
    assert len(kept) >= len(first) - 3  # only what went out (escalations) or changed kind


def test_the_feed_holds_one_owner_s_partners_and_the_sender_s_by_default(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project.set_partner(LENA, "owner", OTHER_OWNER)
    code, out, theirs = export(project, capsys, "--owner", OTHER_OWNER.upper())
    assert code == 0, out
    assert list(theirs) == ["Check in with Lena Fischer (Fischer Copy)"]
    assert f"1 reminder(s) for {OTHER_OWNER}" in out
    code, out, mine = export(project, capsys)
    assert code == 0, out
    assert mine and not any("Lena Fischer" in t for t in mine)


def test_an_unknown_owner_or_an_unwritable_file_is_a_plain_message(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = export(project, capsys, "--owner", "nobody@else.example")
    assert code == 2
    assert out.startswith("partners: partners calendar --owner 'nobody@else.example'")
    assert "column `owner`" in out and SENDER in out and "Traceback" not in out
    for target in (project / "no-such-folder" / "x.ics", project / "data"):
        code, out = run(project, capsys, "calendar", "--ics", str(target))
        assert code == 2
        assert out.startswith(f"partners: cannot write the calendar to {target} (")
        assert "Traceback" not in out
    assert not list((project / "data").glob(".partners-*"))  # no half-written file left


def test_our_own_reminders_imported_into_the_owner_s_calendar_are_not_meetings(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "reminders.ics"
    assert run(project, capsys, "calendar", "--ics", str(path))[0] == 0
    # A calendar app may add the partner to an event (and drop our X- property): the UID
    # it keeps is enough. A real meeting with Lena in the same file does count.
    accepted = f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{LENA}\r\n"
    text = path.read_text(encoding="utf-8").replace("X-PARTNER-AUTOMATIONS:reminder\r\n", "")
    text = text.replace("END:VEVENT", accepted + "END:VEVENT")
    path.write_text(text, encoding="utf-8", newline="")
    use_calendar(project, str(path))
    assert run(project, capsys, "nurture", "--send")[0] in (0, 1)
    assert not logged(project, "meeting")
    assert project.health()[LENA]["action"] != "none"  # still due: no call happened
    met = (TODAY - dt.timedelta(days=1)).strftime("%Y%m%d")
    meeting = (
        f"BEGIN:VEVENT\r\nUID:call-1@calendar.example\r\nDTSTAMP:{met}T090000Z\r\n"
        f"DTSTART:{met}T090000Z\r\nSUMMARY:Call with Lena\r\n{accepted}END:VEVENT\r\n"
    )
    path.write_text(text.replace("END:VCALENDAR", meeting + "END:VCALENDAR"), newline="")
    assert run(project, capsys, "nurture", "--send")[0] in (0, 1)
    assert [(r["partner_email"], r["subject"]) for r in logged(project, "meeting")] == [
        (LENA, "Call with Lena")
    ]


def health_row(action: str, next_kind: str = "", days: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Ada Lovelace",
        "email": "ada@acme.example",
        "company": "Acme",
        "owner": SENDER,
        "action": action,
        "reason": "the quarter's statement is due",
        "next_due": TODAY + dt.timedelta(days=days),
        "next_kind": next_kind,
        **extra,
    }


def test_an_action_the_engine_learns_later_becomes_a_reminder_with_a_plain_title() -> None:
    import pandas as pd

    from automations.core.agenda import reminders

    rows = [
        health_row("statement"),
        health_row("none", "statement", 9, email="bo@b.example", name="Bo", company=""),
        health_row("frobnicate", email="cy@c.example", name="Cy"),
        health_row("none", "", 3, email="di@d.example"),  # nothing named: nothing to do
        health_row("fade", "", 3, email="ed@e.example"),
    ]
    got = reminders(pd.DataFrame(rows), [], SENDER, TODAY)
    assert [(r.title, r.day) for r in got] == [
        ("Frobnicate: Cy (Acme)", TODAY),
        ("Referral statement for Ada Lovelace (Acme)", TODAY),
        ("Referral statement for Bo", TODAY + dt.timedelta(days=9)),
    ]
    assert "the quarter's statement is due" in got[1].text


def test_an_event_with_only_our_mark_is_left_out_by_the_calendar_reader() -> None:
    from automations.adapters.calendar.events import occurrences

    now = dt.datetime.now(dt.UTC)
    day = (now - dt.timedelta(days=1)).strftime("%Y%m%dT090000Z")
    event = (
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{day}\r\nDTSTART:{day}\r\nSUMMARY:Call\r\n"
        "ORGANIZER:mailto:{lena}\r\n{mark}END:VEVENT\r\n"
    )
    feed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n" + "".join(
        event.format(uid=uid, day=day, lena=LENA, mark=mark)
        for uid, mark in (("a@google.com", "X-PARTNER-AUTOMATIONS:reminder\r\n"), ("b@x", ""))
    )
    found = occurrences((feed + "END:VCALENDAR\r\n").encode(), now - dt.timedelta(days=3), now)
    assert [e.uid for e in found.events] == ["b@x"] and not found.broken


def proposal(status: str = "waiting", later: str = "", kind: str = "thank", **extra: Any) -> Any:
    from automations.core.review import Proposal

    fields: dict[str, Any] = {
        "ident": f"<{kind}-{status}@x>",
        "keys": (f"{kind}:ada@acme.example:2026-01-02",),
        "kind": kind,
        "template": kind,
        "partners": ("ada@acme.example",),
        "to_email": "ada@acme.example",
        "to_name": "Ada Lovelace",
        "owner": SENDER,
        "subject": "Thank you for Client Co",
        "preview": "",
        "why": "referral on 2026-01-02",
        "proposed_at": f"{TODAY.isoformat()}T09:00:00+00:00",
        "status": status,
        "later_until": later,
    }
    fields.update(extra)
    return Proposal(**fields)


def test_a_waiting_email_is_one_event_with_the_partner_s_action_and_later_moves_it() -> None:
    import pandas as pd

    from automations.core.agenda import reminders

    health = pd.DataFrame([health_row("thank")])
    got = reminders(health, [proposal()], SENDER, TODAY)
    assert [(r.title, r.day) for r in got] == [("Approve: Thank Ada Lovelace (Acme)", TODAY)]
    alone = reminders(health, [], SENDER, TODAY)
    assert got[0].ident == alone[0].ident  # the calendar updates the event it had
    later = (TODAY + dt.timedelta(days=5)).isoformat()
    got = reminders(health, [proposal("later", later)], SENDER, TODAY)
    assert got[0].day == TODAY + dt.timedelta(days=5) and later in got[0].text
    assert reminders(health, [proposal("approved")], SENDER, TODAY) == alone
    assert reminders(health, [proposal(owner="sam@x.example")], SENDER, TODAY) == alone


def test_the_scheduler_serves_the_same_feed_on_loopback_until_it_stops(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.smtp_server import free_port

    _, _, exported = export(project, capsys)
    port = free_port()
    config = str(project / "config" / "partners.toml")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automations",
            "schedule",
            "--calendar-port",
            str(port),
            "--config",
            config,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stderr.readline() for _ in range(2)]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/calendar.ics"
        assert any(f"calendar feed at {url}" in line for line in lines), lines
        with urllib.request.urlopen(url, timeout=60) as answer:
            assert answer.headers["Content-Type"].startswith("text/calendar")
            served = icalendar.Calendar.from_ical(answer.read())
        uids = {str(e["SUMMARY"]): str(e["UID"]) for e in served.walk("VEVENT")}
        assert uids == {t: str(e["UID"]) for t, e in exported.items()}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}?owner=nobody@else.example", timeout=60)
        assert refused.value.code == 404 and b"no partner" in refused.value.read()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_a_taken_port_or_no_port_is_a_plain_message_before_the_scheduler_starts(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, out = run(project, capsys, "schedule", "--calendar-port", port)
    assert code == 2
    assert out.startswith(f"partners: cannot serve the calendar on 127.0.0.1:{port} (")
    assert "--calendar-port" in out and "Traceback" not in out
    code, out = run(project, capsys, "schedule", "--calendar-port", "70000")
    assert code == 2 and "--calendar-port must be a port" in out
