"""The owner's reminders written as an iCalendar file (CLI.md, `partners calendar`): one
all-day VEVENT each, with a UID that stays the same from one export to the next."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import icalendar

from automations.adapters.calendar.marks import MARK, PRODID, uid_of
from automations.core.agenda import Reminder
from automations.errors import ExportError


def feed_bytes(reminders: Sequence[Reminder], owner: str, stamp: dt.datetime) -> bytes:
    """The reminders as one VCALENDAR (RFC 5545): all-day, free time, marked as ours."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", f"Partners: {owner}")
    for reminder in reminders:
        event = icalendar.Event()
        event.add("UID", uid_of(reminder.ident))
        event.add("DTSTAMP", stamp.astimezone(dt.UTC))
        event.add("DTSTART", reminder.day)
        event.add("DTEND", reminder.day + dt.timedelta(days=1))
        event.add("SUMMARY", reminder.title)
        event.add("DESCRIPTION", reminder.text)
        event.add("CATEGORIES", [reminder.kind.replace("_", "-")])
        # A reminder, not a meeting: it never shows the owner as busy.
        event.add("TRANSP", "TRANSPARENT")
        event.add(MARK, "reminder")
        calendar.add_component(event)
    return calendar.to_ical()


def write_feed(path: Path, reminders: Sequence[Reminder], owner: str, stamp: dt.datetime) -> None:
    """Replace `path` with the feed at once (a calendar app reading it never sees half)."""
    data = feed_bytes(reminders, owner, stamp)
    where = path.expanduser()
    temporary = ""
    try:
        if where.is_dir():
            raise IsADirectoryError(21, "it is a folder")
        handle, temporary = tempfile.mkstemp(dir=where.parent, prefix=".partners-", suffix=".ics")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp's file is the user's alone; a feed is read by a calendar app or server.
        os.chmod(temporary, where.stat().st_mode & 0o777 if where.exists() else 0o644)
        os.replace(temporary, where)
    except OSError as exc:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise ExportError(
            f"cannot write the calendar to {path} ({exc.strerror or type(exc).__name__}); "
            "give --ics a file in a folder that exists and that you can write to"
        ) from None
