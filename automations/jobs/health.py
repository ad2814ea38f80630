"""`partners health`: decide and replace the Health tab, through the run session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from automations.config import Settings
from automations.core.engine.decide import decide
from automations.core.engine.decisions import Decisions
from automations.core.mail import drafting
from automations.core.review import OPEN, Proposal
from automations.core.tables import Problem, Tables
from automations.jobs.review import run as review
from automations.jobs.session import RunSummary, Session, session, write_sheet
from automations.jobs.wiring import decide_options, health_rows, letterhead


@dataclass
class HealthResult:
    """What a health run found: decisions, problems, and whether Health was written."""

    tables: Tables
    decisions: Decisions
    wrote: bool
    write_error: str = ""
    warnings: list[str] = field(default_factory=list)  # a source that could not be read

    @property
    def problems(self) -> list[Problem]:
        """Every row or tab problem found while reading the sheet."""
        return self.tables.problems


def run_health(settings: Settings, today: dt.date, now: dt.datetime, write: bool) -> HealthResult:
    """Decide and (with `write`) replace Health, through the session like every writer:
    the run lock (never over a send's Log rows) and the journal's rows merged in."""
    # The inbox and calendars read-only: Health shows what the sending run will do.
    with session(settings, today, now, writing=write, record=False) as s:
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        decisions = replace(decisions, health=_waiting(settings, s, decisions, now, today))
        unread = [*(s.calendar.faults + s.calendar.warnings if s.calendar else [])]
        if s.inbox is not None and s.inbox.error:
            unread.append(f"{s.inbox.error}; replies in it are not counted in Health")
        if not write:
            return HealthResult(s.tables, decisions, False, warnings=unread)
        problems = len(s.tables.problems)
        said = f"; {problems} sheet problem(s), `partners check` lists them" if problems else ""
        summary = RunSummary(1 if problems else 0, f"health: {len(decisions.health)} rows{said}")
        error = write_sheet(s, health_rows(decisions.health), [], summary)
        return HealthResult(s.tables, decisions, not error, error, unread)


def _not_campaign(p: Proposal) -> bool:
    return not p.campaign


def _waiting(
    settings: Settings, s: Session, decisions: Decisions, now: dt.datetime, today: dt.date
) -> pd.DataFrame:
    """Health with the reason of each email that waits for approval, as the sending run
    writes it (CLI.md: proposals already waiting are shown as waiting), settled in memory."""
    if not (settings.mail.review or s.journal.has_proposals()):
        return decisions.health
    return review.mark_waiting(
        decisions.health, waiting_proposals(settings, s, decisions, now, today)
    )


def waiting_proposals(
    settings: Settings, s: Session, decisions: Decisions, now: dt.datetime, today: dt.date
) -> list[Proposal]:
    """The proposals that still wait for approval after the sending run's review step,
    settled in memory (EMAIL.md, review), and the campaigns' open ones as they stand."""
    if not (settings.mail.review or s.journal.has_proposals()):
        return []
    drafts = drafting.drafts(s.tables, decisions, letterhead(settings), today)
    _, waiting, _ = review.settled_in_memory(
        settings, s, drafts, decisions.health, now, today, _not_campaign
    )
    # A campaign's proposals are settled by the campaign run: as they stand.
    held = [p for p in s.journal.proposals() if p.status in OPEN and not _not_campaign(p)]
    return [*waiting, *held]
