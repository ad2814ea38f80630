"""The one send path (ARCHITECTURE.md, "The second step"; EMAIL.md): plan -> review step ->
caps -> prepare -> window -> the at-most-once gate -> deliver -> after delivery -> run row
-> write. Every sending command is a plan (`jobs/plans/`) run through `run`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import pandas as pd

from automations.adapters.mail import Mailer
from automations.adapters.sheet import SheetBackend
from automations.adapters.state import Entry
from automations.config import Settings
from automations.core.engine import arrays
from automations.core.engine.decide import decide, sort_health
from automations.core.engine.decisions import Decisions
from automations.core.mail.draft import Draft
from automations.core.render import Templates
from automations.core.review import Proposal, waiting_lines
from automations.core.tables import Problem, Tables
from automations.core.vocabulary import Kind, Status
from automations.jobs import inbox as mailbox
from automations.jobs.envelope import Caps
from automations.jobs.log_rows import with_log_rows
from automations.jobs.plans.planned import PlanContext, Planned
from automations.jobs.review import run as review
from automations.jobs.sending import (
    Clock,
    DeliveryReport,
    Outgoing,
    Progress,
    exit_code,
    prepare,
    within_window,
)
from automations.jobs.session import Session, send_all, sending_summary, session, write_sheet
from automations.jobs.wiring import (
    decide_options,
    health_rows,
    load_templates,
    sign_in_notes,
    tables_from,
)

PlannedT = TypeVar("PlannedT", bound=Planned)
PlannedT_co = TypeVar("PlannedT_co", bound=Planned, covariant=True)


@dataclass(frozen=True)
class RunOptions:
    """How a sending command runs its plan."""

    send: bool = False  # else a dry run: nothing sent, nothing recorded
    limit: int | None = None  # `--limit`: at most this many emails this run
    approved_only: bool = False  # `partners review`: send what was just approved, nothing else


@dataclass
class RunResult(Generic[PlannedT_co]):
    """What a run planned, prepared, sent and recorded."""

    planned: PlannedT_co
    tables: Tables
    decisions: Decisions
    options: RunOptions
    to_send: list[Outgoing] = field(default_factory=list)
    held: list[Draft] = field(default_factory=list)  # due, over a cap: next run
    held_by: str = ""
    faults: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # printed; the exit code stays
    sign_in_notes: list[str] = field(default_factory=list)  # printed, `check` too
    inbox: mailbox.InboxOutcome | None = None
    report: DeliveryReport | None = None
    baselined: bool = False  # `nurture --baseline` (jobs/baseline.py): nothing sent
    baseline: list[Entry] = field(default_factory=list)
    baseline_emails: int = 0
    recovered: list[Entry] = field(default_factory=list)
    review: review.ReviewRun | None = None  # with [mail] review (or proposals open)
    reviewable: int = 0  # a dry run: how many of the due emails would be proposed
    waiting: list[Proposal] = field(default_factory=list)  # a dry run: already proposed
    waiting_said: list[str] = field(default_factory=list)  # those, in the digest's words
    wrote: bool = False
    write_error: str = ""

    @property
    def problems(self) -> list[Problem]:
        """Row and tab problems found while reading the sheet."""
        return self.tables.problems

    @property
    def uncertain(self) -> list[str]:
        """Keys waiting for `partners resolve`."""
        return arrays.uncertain_keys(self.tables.log)

    @property
    def exit_code(self) -> int:
        """0 all well, 1 something needs a look, 2 the run could not finish."""
        code = exit_code(self.problems, self.faults, self.report, self.write_error)
        return max(code, 1) if self.recovered else code


def started(
    settings: Settings, s: Session, planned: PlannedT, options: RunOptions, notes: list[str]
) -> tuple[RunResult[PlannedT], list[Draft]]:
    """The result of a run as its plan left it, and the drafts that may go once the
    inbox and the calendars were read: a feed that is down holds its meetings, the rest goes."""
    result = RunResult(
        planned,
        s.tables,
        planned.decisions,
        options,
        faults=list(planned.faults),
        warnings=list(planned.warnings),
        sign_in_notes=notes,
        inbox=s.inbox,
        recovered=s.recovered,
    )
    drafts = planned.drafts
    if s.calendar is not None:
        result.faults += s.calendar.faults
        result.warnings += s.calendar.warnings
    if s.inbox is not None and s.inbox.error:
        if settings.imap.required:
            # A partner may have answered: no follow-up until the inbox can be read.
            held = sum(1 for d in drafts if d.kind == Kind.FOLLOW_UP)
            drafts = [d for d in drafts if d.kind != Kind.FOLLOW_UP]
            result.faults.append(
                f"{s.inbox.error}; {held} follow-up(s) held back until the inbox can be "
                "read (a partner may have replied); the other emails go"
            )
        else:
            result.warnings.append(f"{s.inbox.error}; going on ([imap] required = false)")
    return result, drafts


def run(
    settings: Settings,
    today: dt.date,
    clock: Clock,
    plan: Callable[[PlanContext], PlannedT],
    options: RunOptions,
    progress: Progress | None = None,
    mailer: Mailer | None = None,
    sheet: SheetBackend | None = None,
) -> RunResult[PlannedT]:
    """One sending command: its plan, reviewed, capped, prepared, within the window, sent at
    most once, recorded; a dry run stops before sending and records nothing (CLI.md)."""
    now = clock()
    templates = load_templates(settings)
    notes = sign_in_notes(settings)  # before the inbox scan refreshes (rewrites) a cache
    with session(settings, today, now, options.send, sheet=sheet) as s:
        planned = plan(PlanContext(settings, s, today, now))
        result, drafts = started(settings, s, planned, options, notes)
        limit = _bound(options.limit, planned.limit)
        reviewing = bool(settings.mail.review) or s.journal.has_proposals()
        if options.send and reviewing:
            _review_step(settings, s, result, drafts, templates, now, today, limit)
        else:  # `reviewing` here is a dry run's: settled in memory, nothing recorded
            _dry(settings, s, result, drafts, templates, now, today, reviewing, limit)
        if not options.send:
            return result
        result.to_send, waits = within_window(settings, result.to_send, today, now)
        result.warnings += [waits] if waits else []
        result.report = send_all(
            settings, s, result.to_send, clock, result.warnings, progress, mailer
        )
        _record(settings, today, s, result)
        return result


def _bound(*limits: int | None) -> int | None:
    bounds = [b for b in limits if b is not None]
    return min(bounds) if bounds else None


def _review_step(
    settings: Settings,
    s: Session,
    result: RunResult[Planned],
    drafts: list[Draft],
    templates: Templates,
    now: dt.datetime,
    today: dt.date,
    limit: int | None,
) -> None:
    """The review step of a sending run: decisions applied, new proposals made, and what
    goes now (approved ones as stored, the rest rendered) within the caps."""
    decided = review.prepare_run(
        settings,
        s,
        drafts,
        templates,
        result.decisions.health,
        now,
        today,
        limit,
        result.options.approved_only,
        result.planned.scope,
    )
    result.review, result.held, result.held_by = decided, decided.held, decided.held_by
    result.faults += decided.faults
    result.warnings += decided.notes
    result.to_send = decided.ready


def _dry(
    settings: Settings,
    s: Session,
    result: RunResult[Planned],
    drafts: list[Draft],
    templates: Templates,
    now: dt.datetime,
    today: dt.date,
    reviewing: bool,
    limit: int | None,
) -> None:
    """What goes within the caps (and, with review, what would be proposed and what already
    waits for approval, as the sending run would settle it, in memory only; CLI.md)."""
    proposing: list[Draft] = []
    if reviewing:
        step, result.waiting, notes = review.settled_in_memory(
            settings, s, drafts, result.decisions.health, now, today, result.planned.scope
        )
        said = waiting_lines(result.waiting, today)
        result.waiting_said = [line for owner in sorted(said) for _, line in said[owner]]
        result.warnings += notes
        drafts, proposing = [*step.approved, *step.to_send], step.to_propose
    caps = Caps.for_run(settings, s.journal, now, limit)
    kept, result.held, result.held_by = caps.split(drafts)
    prepared = prepare([*kept, *proposing], templates, settings, now)  # proposals: no cap
    result.faults += prepared.faults
    result.to_send = list(prepared.ready)
    proposed = {d.keys for d in proposing}
    result.reviewable = sum(1 for p in result.to_send if p.draft.keys in proposed)


def _record(settings: Settings, today: dt.date, s: Session, result: RunResult[Planned]) -> None:
    """After delivery: approved proposals that went are `sent`; Health (when the plan keeps
    it), the Log rows and the run's `run` row written once."""
    assert result.report is not None
    entries = result.report.entries
    health = health_rows(result.decisions.health) if result.planned.writes_health else None
    table = None
    if result.review is not None:
        review.after_delivery(s, result.review, result.report)
        entries, table = [*result.review.entries, *entries], result.review.table()
        if health is not None:
            marked = review.mark_waiting(result.decisions.health, result.review.waiting)
            health = health_rows(marked)
    if health is not None:
        health = _after_refusals(settings, today, s, result, health)
    summary = sending_summary(
        result.planned.job,
        result.report,
        result.exit_code,
        len(result.problems),
        result.faults,
        len(result.review.proposed) if result.review else 0,
    )
    result.write_error = write_sheet(s, health, entries, summary, table)
    result.wrote = not result.write_error


def _after_refusals(
    settings: Settings,
    today: dt.date,
    s: Session,
    result: RunResult[Planned],
    health: list[list[object]],
) -> list[list[object]]:
    """Health as it stands after the server refused an address (5xx) this run: that partner
    is blocked now, not still due (the rest keeps showing what this run did)."""
    assert result.report is not None
    refused = {
        p.draft.to_email
        for p, d in result.report.outcomes
        if d.status == Status.FAILED and re.match(r"5\d\d", d.detail) and not p.draft.internal
    }
    if not refused:
        return health
    merged = with_log_rows(s.raw, settings.sheet.tabs.log, result.report.entries)
    after = decide(
        tables_from(settings, merged, today), today, settings.rules, decide_options(settings)
    )
    frame = result.decisions.health
    now_blocked = after.health[after.health["email"].isin(refused)]
    frame = pd.concat([frame[~frame["email"].isin(refused)], now_blocked], ignore_index=True)
    result.decisions = replace(result.decisions, health=sort_health(frame))
    return health_rows(result.decisions.health)
