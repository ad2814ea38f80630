"""Calendar feeds that are broken, hostile or strange (RULES.md, touches that record
themselves; issue 25): a broken event costs only itself, a feed that drips, hangs, loops or
answers garbage ends within its deadline without printing its secret, and only meetings a
partner accepted or organised count, at most one a day."""

from __future__ import annotations

import datetime as dt
import http.server
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from automations.adapters.calendar import read_feed
from automations.demo.workbook import SENDER
from automations.errors import CalendarError
from tests.projects import SheetProject
from tests.test_touches import (
    LENA,
    MAYA,
    PRIYA,
    FeedServer,
    feed,
    ics_time,
    logged,
    run,
    use_calendar,
)

DATA = Path(__file__).parent / "data"
BROKEN = [
    DATA / "icalendar" / "issue_1081_invalid_rrule_freq.ics",
    DATA / "icalendar" / "invalid_duration.ics",
    DATA / "recurring-ical-events" / "bad_rrule_missing_until_event.ics",
]
SECRETS = ("secret123", "hunter2", "alex:")


@pytest.fixture
def project(tmp_path: Path) -> SheetProject:
    return SheetProject(tmp_path)


def with_events(calendar: str, *files: Path) -> str:
    """`calendar` with the VEVENTs of the corpus files added, unchanged."""
    blocks = [
        "\r\n".join(block.splitlines()) + "\r\n"
        for path in files
        for block in re.findall(r"BEGIN:VEVENT.*?END:VEVENT", path.read_text(), re.S)
    ]
    return calendar.replace("END:VCALENDAR", "".join(blocks) + "END:VCALENDAR")


def test_broken_events_from_the_corpora_are_named_in_one_warning_and_the_good_meetings_count(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FeedServer(with_events(feed(dt.datetime.now(dt.UTC)), *BROKEN))
    try:
        use_calendar(project, server.url)
        code, out = run(project, capsys, "nurture", "--send")
    finally:
        server.stop()
    assert code == 0, out
    met = [(r["partner_email"], r["subject"]) for r in logged(project, "meeting")]
    assert sorted(met) == [(LENA, "Lunch with Lena")] + [(MAYA, "Weekly with Maya")] * 4
    warnings = [line for line in out.splitlines() if "left out" in line]
    assert len(warnings) == 1, out
    for title in ('"Test Event"', '"Event with an impractical duration"', '"blabla"'):
        assert title in warnings[0]
    assert warnings[0].startswith("partners: calendar http://127.0.0.1:")
    assert "secret123" not in out


class HostileServer:
    """Feeds on 127.0.0.1 that misbehave, each at a secret-looking path: `drip` (a byte
    every 0.3 s, for ever), `hang` (never answers), `loop` (redirects to itself), `garbage`
    (not HTTP), `short` (a body shorter than it said)."""

    def __init__(self) -> None:
        stop = self.stop_event = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                kind = self.path.split("/")[1]
                if kind == "drip":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.end_headers()
                    while not stop.wait(0.3):
                        self.wfile.write(b"B")
                        self.wfile.flush()
                elif kind == "hang":
                    stop.wait(60)
                elif kind == "loop":
                    self.send_response(302)
                    self.send_header("Location", self.path)
                    self.end_headers()
                elif kind == "garbage":
                    self.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", "5000")
                    self.end_headers()
                    self.wfile.write(b"BEGIN:VCALENDAR\r\n")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, kind: str) -> str:
        port = self.server.server_port
        return f"http://alex:hunter2@127.0.0.1:{port}/{kind}/calendar/secret123/basic.ics"

    def stop(self) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile() -> Any:
    server = HostileServer()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("drip", "no complete answer within 1 s"),
        ("hang", "no complete answer within 1 s"),
        ("loop", "the server redirected more than 5 times"),
        ("garbage", "the answer is not HTTP"),
        ("short", "the answer ended early"),
    ],
)
def test_a_feed_that_misbehaves_ends_within_its_deadline_and_is_named_without_its_secret(
    hostile: HostileServer, kind: str, reason: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    began = time.monotonic()
    with pytest.raises(CalendarError) as caught:
        read_feed(hostile.url(kind), Path("."), now - dt.timedelta(days=30), now, 1.0)
    assert time.monotonic() - began < 3  # the deadline is 1 s for the whole feed
    said = str(caught.value)
    port = hostile.server.server_port
    assert said.startswith(f"calendar http://127.0.0.1:{port}/… could not be read ({reason})")
    assert not any(secret in said for secret in SECRETS)


@pytest.mark.parametrize(
    "address",
    [
        "htps://alex:hunter2@calendar.example/calendar/ical/secret123/basic.ics",
        "https//calendar.example/calendar/ical/secret123/basic.ics",
        "https://calendar.example/calendar/ical/secret123/basic .ics",
        "webcal://alex:hunter2@127.0.0.1:1/ical/secret123?key=secret123",
    ],
)
def test_a_mistyped_address_is_a_plain_fault_that_does_not_show_its_secret(address: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(CalendarError) as caught:
        read_feed(address, Path("."), now - dt.timedelta(days=30), now, 1.0)
    said = str(caught.value)
    assert "could not be read (" in said
    assert not any(secret in said for secret in SECRETS), said


def test_misbehaving_feeds_cost_only_their_meetings_and_the_run_ends_in_time(
    project: SheetProject, hostile: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import set_keys

    good = FeedServer(feed(dt.datetime.now(dt.UTC)))
    kinds = ["drip", "hang", "loop", "garbage", "short"]
    try:
        use_calendar(project, *[hostile.url(k) for k in kinds], good.url)
        set_keys(project / "config" / "partners.toml", "calendar", timeout=1)
        began = time.monotonic()
        code, out = run(project, capsys, "nurture", "--send")
        took = time.monotonic() - began
    finally:
        good.stop()
    assert code == 1, out  # the feeds that could not be read are faults
    assert took < 30  # two feeds of 1 s each, and the run
    lines = [line for line in out.splitlines() if "could not be read" in line]
    assert len(lines) == len(kinds), out
    assert all(line.startswith("partners: calendar http://127.0.0.1:") for line in lines)
    assert not any(secret in out for secret in SECRETS)
    met = sorted(r["partner_email"] for r in logged(project, "meeting"))
    assert met == [LENA] + [MAYA] * 4  # the good feed counted


def invitation_feed(now: dt.datetime) -> str:
    """Priya (follow-up due today) invited three times: never answered, answered without a
    PARTSTAT, declined; Lena only tentatively."""
    at = now.replace(hour=9, minute=0, second=0, microsecond=0) - dt.timedelta(days=2)

    def event(uid: str, attendee: str) -> str:
        return (
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{ics_time(now)}\r\nDTSTART:{ics_time(at)}\r\n"
            f"SUMMARY:{uid}\r\nORGANIZER:mailto:{SENDER}\r\nATTENDEE;{attendee}\r\nEND:VEVENT\r\n"
        )

    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//partners//EN\r\n"
        + event("unanswered", f"PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{PRIYA}")
        + event("no-partstat", f"RSVP=TRUE:mailto:{PRIYA}")
        + event("declined", f"PARTSTAT=DECLINED:mailto:{PRIYA}")
        + event("tentative", f"PARTSTAT=TENTATIVE:mailto:{LENA}")
        + "END:VCALENDAR\r\n"
    )


def test_an_unanswered_or_declined_invitation_is_no_reply_and_the_follow_up_goes(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FeedServer(invitation_feed(dt.datetime.now(dt.UTC)))
    try:
        use_calendar(project, server.url)
        code, out = run(project, capsys, "nurture", "--send")
    finally:
        server.stop()
    assert code == 0, out
    assert not logged(project, "meeting")
    written = {p.name.split("-", 1)[1].rsplit("-", 1)[0] for p in (project / "outbox").glob("*")}
    assert PRIYA in written and LENA in written  # her follow-up, Lena's check-in
    health = project.health()
    assert health[PRIYA]["status"] != "replied" and "replied" not in str(health[PRIYA]["reason"])


def minutely_feed(now: dt.datetime) -> str:
    """A meeting with Maya every minute from five days ago, and one with Lena every day at
    9, 10 and 11 o'clock (BYHOUR): both accepted."""
    first = (now - dt.timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//partners//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:every-minute\r\nDTSTAMP:{ics_time(now)}\r\n"
        f"DTSTART:{ics_time(first)}\r\nDURATION:PT1M\r\nSUMMARY:Ping\r\nRRULE:FREQ=MINUTELY\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{MAYA}\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:hourly\r\nDTSTAMP:{ics_time(now)}\r\n"
        f"DTSTART:{ics_time(first)}\r\nSUMMARY:Stand-up\r\n"
        "RRULE:FREQ=DAILY;BYHOUR=9,10,11;COUNT=9\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{LENA}\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def test_a_minutely_recurrence_is_one_touch_per_partner_per_day(
    project: SheetProject, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(dt.UTC)
    server = FeedServer(minutely_feed(now))
    try:
        use_calendar(project, server.url)
        for _ in range(2):
            code, out = run(project, capsys, "nurture", "--send")
            assert code == 0, out
    finally:
        server.stop()
    met = logged(project, "meeting")
    days = [(r["partner_email"], str(r["timestamp"])[:10]) for r in met]
    assert len(days) == len(set(days))  # never two the same day
    assert 5 <= sum(1 for p, _ in days if p == MAYA) <= 6  # five days back, and today
    assert sum(1 for p, _ in days if p == LENA) == 3  # nine occurrences, three days


def test_an_address_with_an_umlaut_or_a_nul_is_read_or_refused_plainly() -> None:
    now = dt.datetime.now(dt.UTC)
    server = FeedServer(feed(now))
    try:
        address = server.url.replace("/calendar/", "/kalender-für-alex/")
        read = read_feed(address, Path("."), now - dt.timedelta(days=30), now, 5.0)
    finally:
        server.stop()
    assert {e.uid for e in read.events} >= {"lunch-lena", "weekly-maya"}
    with pytest.raises(CalendarError, match=r"calendar cal\?\.ics could not be read \(the file"):
        read_feed("cal\x00.ics", Path("."), now - dt.timedelta(days=30), now, 5.0)
