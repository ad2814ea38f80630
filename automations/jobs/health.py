"""`partners health`: decide and replace the Health tab, through the run session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from automations.config import Settings
from automations.core.engine.decide import decide
from automations.core.engine.decisions import Decisions
from automations.core.tables import Problem, Tables
from automations.jobs.session import RunSummary, session, write_sheet
from automations.jobs.wiring import (
    decide_options,
    health_rows,
)


@dataclass
class HealthResult:
    """What a health run found: decisions, problems, and whether Health was written."""

    tables: Tables
    decisions: Decisions
    wrote: bool
    write_error: str = ""

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
        if not write:
            return HealthResult(s.tables, decisions, False)
        problems = len(s.tables.problems)
        said = f"; {problems} sheet problem(s), `partners check` lists them" if problems else ""
        summary = RunSummary(1 if problems else 0, f"health: {len(decisions.health)} rows{said}")
        error = write_sheet(s, health_rows(decisions.health), [], summary)
        return HealthResult(s.tables, decisions, not error, error)
