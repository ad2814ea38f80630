"""Calendar feeds: a private iCal address or an .ics file, read into plain event
occurrences for core.touches (RULES.md, touches that record themselves). A feed that
cannot be had or read is a CalendarError naming it with its secret part hidden; a broken
event in it costs only itself, named in the feed's warning."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from automations.adapters.calendar.fetch import Unreadable, read_source, shown
from automations.core.touches import Event
from automations.errors import CalendarError

__all__ = ["Feed", "read_feed", "shown"]

_NAMED = 5  # broken events named in a warning; the rest counted


@dataclass
class Feed:
    """One feed's occurrences, and a warning naming the events left out (empty: none)."""

    events: list[Event] = field(default_factory=list)
    warning: str = ""


def read_feed(
    source: str, base: Path, start: dt.datetime, end: dt.datetime, deadline: float
) -> Feed:
    """Every occurrence between `start` and `end` of the feed's events (RULES.md): fetched
    within `deadline` seconds in all, recurrences expanded, broken events left out."""
    try:
        data = read_source(source, base, deadline)
    except Unreadable as exc:
        raise CalendarError(
            f"calendar {shown(source)} could not be read ({exc}); meetings in it are not "
            "counted this run (check the address in [calendar] ics, or that the file exists)"
        ) from None
    # Here, not at the top: icalendar is slow to import and most projects have no calendar.
    from automations.adapters.calendar.events import occurrences

    try:
        found = occurrences(data, start, end)
    except Exception as exc:  # the parsers raise assorted errors on a feed that is not iCal
        raise CalendarError(
            f"calendar {shown(source)} is not a readable iCal feed ({_said(exc)}); "
            "meetings in it are not counted this run"
        ) from None
    return Feed(found.events, _warning(source, found.broken))


def _said(exc: BaseException) -> str:
    from automations.adapters.calendar.events import NotCalendar

    if isinstance(exc, NotCalendar):
        return str(exc)
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warning(source: str, broken: list[str]) -> str:
    if not broken:
        return ""
    names = ", ".join(broken[:_NAMED])
    more = f" and {len(broken) - _NAMED} more" if len(broken) > _NAMED else ""
    return (
        f"calendar {shown(source)}: {len(broken)} event(s) could not be read and are left "
        f"out: {names}{more}; the rest of the calendar counts (fix or delete them in your "
        "calendar)"
    )
