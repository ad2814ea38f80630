"""`partners calendar`: what comes due for one owner, written as an iCalendar file, and the
same feed served while `partners schedule` runs (CLI.md). Read-only like `health`: the
sheet, the inbox and the calendars are read, nothing is recorded, and the waiting
proposals are settled in memory as the sending run would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from automations.adapters.calendar.export import feed_bytes, write_feed
from automations.adapters.calendar.serve import serve_feed
from automations.config import Settings
from automations.core import agenda
from automations.core.engine.decide import decide
from automations.core.tables import Problem
from automations.errors import UsageError
from automations.jobs import health as health_job
from automations.jobs.review import run as review_job
from automations.jobs.session import session
from automations.jobs.wiring import decide_options


@dataclass
class AgendaResult:
    """The owner the feed is for, the reminders in it, and what needs a look."""

    owner: str
    reminders: list[agenda.Reminder]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_calendar(
    settings: Settings, today: dt.date, now: dt.datetime, path: Path, owner: str | None
) -> AgendaResult:
    """Write `path` with the owner's reminders (CLI.md `partners calendar`)."""
    result = agenda_of(settings, today, now, owner)
    write_feed(path, result.reminders, result.owner, now)
    return result


@contextmanager
def served(settings: Settings, port: int, clock: Callable[[], dt.datetime]) -> Iterator[str]:
    """The feed at http://127.0.0.1:PORT/calendar.ics (`?owner=EMAIL`), made fresh for each
    request, until the block ends (CLI.md, `partners schedule`); yields the address."""

    def make(owner: str | None) -> bytes:
        now = clock()
        result = agenda_of(settings, now.date(), now, owner)
        return feed_bytes(result.reminders, result.owner, now)

    with serve_feed(port, make) as url:
        yield url


def agenda_of(
    settings: Settings, today: dt.date, now: dt.datetime, owner: str | None
) -> AgendaResult:
    """The owner's reminders: `owner`, else the sender (SHEET.md: a blank `owner` is the
    sender); an owner no partner or proposal names is a UsageError listing the known ones."""
    with session(settings, today, now, writing=False, record=False) as s:
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        waiting = health_job.waiting_proposals(settings, s, decisions, now, today)
        health = review_job.mark_waiting(decisions.health, waiting)
        unread = [*(s.calendar.faults + s.calendar.warnings if s.calendar else [])]
        if s.inbox is not None and s.inbox.error:
            unread.append(f"{s.inbox.error}; replies in it are not counted")
        problems = list(s.tables.problems)
    chosen = (owner or settings.sender.email).strip().lower()
    known = agenda.owners_in(health, waiting)
    if owner is not None and chosen not in known:
        raise UsageError(_unknown(owner, known, settings))
    return AgendaResult(chosen, agenda.reminders(health, waiting, chosen, today), problems, unread)


def _unknown(owner: str, known: list[str], settings: Settings) -> str:
    tab = settings.sheet.tabs.partners
    listed = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
    return (
        f"partners calendar --owner {owner!r}: no partner in the {tab} tab has that owner "
        f"(column `owner`; a blank cell means the sender, {settings.sender.email}). "
        f"Owners in the sheet: {listed or 'none'}"
    )
