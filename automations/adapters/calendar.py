"""Calendar feeds (icalendar + recurring-ical-events): a private iCal address or an .ics
file, read into plain event occurrences for core.touches (RULES.md, touches that record
themselves). Fetched with a timeout; a feed that cannot be read is a CalendarError with
the address (its secret part hidden) and what to check."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from automations.core.touches import Event
from automations.errors import ToolkitError


class CalendarError(ToolkitError):
    """A calendar feed that could not be read (a warning: the run goes on)."""


def shown(source: str) -> str:
    """The feed as the output may show it: a private address's secret path hidden."""
    if "://" not in source:
        return source
    scheme, _, rest = source.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/…"


def _fetch(source: str, base: Path, timeout: float) -> bytes:
    if source.startswith("webcal://"):
        source = "https://" + source.removeprefix("webcal://")
    if source.startswith(("https://", "http://")):
        request = urllib.request.Request(source, headers={"User-Agent": "partner-automations"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            data: bytes = answer.read()
            return data
    path = Path(source).expanduser()
    return (path if path.is_absolute() else base / path).read_bytes()


def _address(value: Any) -> str:
    text = str(value or "").strip()
    return text[7:].lower() if text.lower().startswith("mailto:") else text.lower()


def _moment(value: Any, zone: dt.tzinfo) -> dt.datetime:
    """A DTSTART as an aware datetime (an all-day event starts at midnight in `zone`)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(), zone)


def _event(component: Any, zone: dt.tzinfo) -> Event:
    attendees = component.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    return Event(
        uid=str(component.get("UID", "")),
        start=_moment(component.decoded("DTSTART"), zone),
        summary=str(component.get("SUMMARY", "")),
        attendees={
            _address(a): str(getattr(a, "params", {}).get("PARTSTAT", "NEEDS-ACTION")).upper()
            for a in attendees
        },
        organizer=_address(component.get("ORGANIZER")),
        cancelled=str(component.get("STATUS", "")).upper() == "CANCELLED",
    )


def read_events(
    source: str, base: Path, start: dt.datetime, end: dt.datetime, timeout: float
) -> list[Event]:
    """Every occurrence between `start` and `end` of the feed's events, recurrences
    expanded (exceptions and moved occurrences applied)."""
    try:
        data = _fetch(source, base, timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise CalendarError(
            f"calendar {shown(source)} could not be read ({reason}); meetings in it are not "
            "counted this run (check the address in [calendar] ics, or that the file exists)"
        ) from None
    import icalendar  # here, not at the top: most projects have no calendar (fast start)
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(data)
        found = recurring_ical_events.of(calendar).between(start, end)
        return [_event(c, start.tzinfo or dt.UTC) for c in found if c.get("DTSTART")]
    except Exception as exc:  # the parsers raise assorted errors on a broken feed
        raise CalendarError(
            f"calendar {shown(source)} is not a readable iCal feed ({type(exc).__name__}: "
            f"{exc}); meetings in it are not counted this run"
        ) from None
