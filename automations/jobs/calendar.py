"""Meetings from the calendars of `[calendar] ics` as touches, recorded once in the Log
(RULES.md, "touches that record themselves")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from automations.adapters.calendar import read_feed
from automations.adapters.state import Entry, Journal
from automations.config import Settings
from automations.core.tables import Tables
from automations.core.touches import meetings
from automations.errors import CalendarError
from automations.jobs.inbox import new_touches


@dataclass
class CalendarOutcome:
    """The new `meeting` rows, the feeds that could not be read (each a fault), and the
    feeds read with broken events left out (each a warning)."""

    entries: list[Entry] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scan_calendars(
    settings: Settings,
    journal: Journal,
    tables: Tables,
    now: dt.datetime,
    run_id: str,
    writing: bool,
) -> CalendarOutcome:
    """Past meetings with partners in every feed; with `writing`, recorded in the journal
    (they reach the Log with the run's write). A feed that is down costs only its meetings."""
    out = CalendarOutcome()
    partners = frozenset(str(e).lower() for e in tables.partners["email"])
    seen = set(tables.log["key"])
    # From midnight: the first meeting of a day stays the first as the window moves on.
    start = dt.datetime.combine(
        (now - dt.timedelta(days=settings.calendar.lookback_days)).date(), dt.time(), now.tzinfo
    )
    for source in settings.calendar.ics:
        try:
            feed = read_feed(source, settings.base_dir, start, now, settings.calendar.timeout)
        except CalendarError as exc:
            out.faults.append(str(exc))
            continue
        if feed.warning:
            out.warnings.append(feed.warning)
        out.entries += new_touches(meetings(feed.events, partners, now), seen, run_id)
    if writing:
        journal.record(out.entries)
    return out
