"""`partners nurture --baseline` (CLI.md): what is due now recorded as handled, nothing
sent, the first run on an existing sheet."""

from __future__ import annotations

import datetime as dt

from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.engine.decide import decide
from automations.core.mail import drafting
from automations.core.vocabulary import NURTURE_KINDS, Status
from automations.jobs.log_rows import with_log_rows
from automations.jobs.pipeline import RunOptions, RunResult, started
from automations.jobs.plans import nurture
from automations.jobs.plans.planned import PlanContext, Planned
from automations.jobs.sending import Clock, draft_entries, stamp
from automations.jobs.session import RunSummary, session, write_sheet
from automations.jobs.wiring import (
    decide_options,
    health_rows,
    letterhead,
    load_templates,
    sign_in_notes,
    tables_from,
)

BASELINE_DETAIL = "baseline: recorded as handled without sending"


def run_baseline(
    settings: Settings, today: dt.date, clock: Clock, only: tuple[str, ...] = ()
) -> RunResult[Planned]:
    """Record as `skipped` everything due now, including what one email per partner hid."""
    now = clock()
    load_templates(settings)  # a broken template folder stops this run as it stops a send
    notes = sign_in_notes(settings)
    with session(settings, today, now, writing=True) as s:
        planned = nurture.only(only)(PlanContext(settings, s, today, now))
        result, drafts = started(settings, s, planned, RunOptions(), notes)
        result.baselined = True
        entries: list[Entry] = []
        # Recording a thank as handled can reveal the survey it was hiding: repeat until quiet.
        for _ in range(len(NURTURE_KINDS) + 1):
            if not drafts:
                break
            result.baseline_emails += len(drafts)
            entries += draft_entries(drafts, Status.SKIPPED, BASELINE_DETAIL, stamp(now), s.run_id)
            merged = with_log_rows(s.raw, settings.sheet.tabs.log, entries)
            tables = tables_from(settings, merged, today)
            result.decisions = decide(tables, today, settings.rules, decide_options(settings))
            drafts = drafting.drafts(tables, result.decisions, letterhead(settings), today)
            drafts = [d for d in drafts if not only or d.kind in only]
        result.baseline = entries
        s.journal.record(entries)
        summary = RunSummary(
            result.exit_code,
            f"nurture --baseline: {result.baseline_emails} email(s) recorded as handled, none sent",
        )
        health = health_rows(result.decisions.health)
        result.write_error = write_sheet(s, health, entries, summary)
        result.wrote = not result.write_error
        return result
