"""The main job, `partners nurture`: Health and every due email (also `survey` and `digest`,
which are nurture runs of one kind), a dry run, `--baseline` or `--send`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from automations.adapters.mail import Mailer
from automations.adapters.sheet import SheetBackend
from automations.adapters.state import Entry
from automations.config import Settings
from automations.core import compose
from automations.core.engine import arrays
from automations.core.engine.decide import decide, sort_health
from automations.core.engine.decisions import Decisions
from automations.core.render import Templates
from automations.core.review import Proposal, waiting_lines
from automations.core.tables import Problem, Tables
from automations.core.vocabulary import NURTURE_KINDS
from automations.jobs import inbox as mailbox
from automations.jobs import review as review_job
from automations.jobs.envelope import Caps
from automations.jobs.sending import (
    Clock,
    DeliveryReport,
    Prepared,
    Progress,
    draft_entries,
    exit_code,
    prepare,
    stamp,
    with_log_rows,
    within_window,
)
from automations.jobs.session import (
    RunSummary,
    Session,
    send_all,
    sending_summary,
    session,
    write_sheet,
)
from automations.jobs.wiring import (
    decide_options,
    health_rows,
    letterhead,
    load_templates,
    mail_capabilities,
    quote_outreach,
    sign_in_notes,
    tables_from,
)

KINDS = NURTURE_KINDS
BASELINE_DETAIL = "baseline: recorded as handled without sending"
PLACEHOLDER_FORM = "EXAMPLE-FORM-ID"  # the form_url `partners init` writes
NO_RESPONDENT_FIELD = (
    "no self-assessment invitation went to the owners: [survey] respondent_field is empty, so "
    "an owner's own ratings would be recorded as the partner's answers; set it to the form's "
    "field id for the respondent (docs/emails.md, The quarterly survey, shows how to find it)"
)


@dataclass(frozen=True)
class NurtureOptions:
    """What `partners nurture` was asked to do."""

    send: bool = False
    baseline: bool = False
    only: tuple[str, ...] = ()
    limit: int | None = None
    approved_only: bool = False  # `partners review`: send what was just approved, nothing else
    owner_surveys: bool = False  # `partners survey`: the owners' self-assessment invitations too
    digest: bool = False  # `partners digest`: the owners' weekly digests, nothing else


@dataclass
class NurtureResult:
    """What a nurture run decided, prepared, sent and recorded."""

    tables: Tables
    decisions: Decisions
    options: NurtureOptions
    to_send: list[Prepared] = field(default_factory=list)
    held: list[compose.Draft] = field(default_factory=list)  # due, over a cap: next run
    held_by: str = ""
    faults: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # printed; the exit code stays
    sign_in_notes: list[str] = field(default_factory=list)  # printed, `check` too
    inbox: mailbox.InboxOutcome | None = None
    report: DeliveryReport | None = None
    baseline: list[Entry] = field(default_factory=list)
    baseline_emails: int = 0
    recovered: list[Entry] = field(default_factory=list)
    review: review_job.ReviewRun | None = None  # with [mail] review (or proposals open)
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


def run_nurture(
    settings: Settings,
    today: dt.date,
    clock: Clock,
    options: NurtureOptions,
    progress: Progress | None = None,
    mailer: Mailer | None = None,
    sheet: SheetBackend | None = None,
) -> NurtureResult:
    """Health and every due email: a dry run, `--baseline`, or `--send`."""
    now = clock()
    writing = options.send or options.baseline
    templates = load_templates(settings)
    notes = sign_in_notes(settings)  # before the inbox scan refreshes (rewrites) a cache
    with session(settings, today, now, writing, sheet=sheet) as s:
        decided = decide_options(settings)
        placeholder = (
            mail_capabilities(settings).delivers and PLACEHOLDER_FORM in settings.survey.form_url
        )
        if placeholder:
            # Surveys cannot go with the sample's form: decide as if surveys were off, so a
            # partner due both gets the check-in (RULES.md: the next action in line).
            due = decide(s.tables, today, settings.rules, decided).emails
            held_surveys = int((due["kind"] == "survey").sum()) if len(due) else 0
            decided = replace(decided, survey_enabled=False)
        decisions = decide(s.tables, today, settings.rules, decided)
        result = NurtureResult(
            s.tables, decisions, options, recovered=s.recovered, sign_in_notes=notes
        )
        drafts = compose.drafts(s.tables, decisions, letterhead(settings), today)
        quote_outreach(drafts, s.journal)
        if options.only:
            drafts = [d for d in drafts if d.kind in options.only]
        if options.owner_surveys or options.digest:
            view = arrays.log_view(
                s.tables.log,
                pd.Index(s.tables.partners["email"]),
                decide_options(settings).count_written,
            )
            handled = set(view.handled_keys)
            if options.owner_surveys and not settings.survey.respondent_field:
                result.warnings.append(NO_RESPONDENT_FIELD)
            if options.owner_surveys:
                drafts += compose.owner_survey_drafts(
                    s.tables, decisions, letterhead(settings), today, handled
                )
            if options.digest:
                from automations.adapters.chart import referrals_chart

                drafts = compose.digest_drafts(
                    s.tables,
                    decisions,
                    letterhead(settings),
                    today,
                    handled,
                    settings.rules,
                    decided.count_written,
                    referrals_chart,
                    waiting_lines(s.journal.proposals(), today),
                )
        if placeholder:
            held = held_surveys + sum(1 for d in drafts if d.template == "survey_owner")
            drafts = [d for d in drafts if d.template not in ("survey", "survey_owner")]
            if held:
                result.faults.append(
                    f"{held} survey email(s) held back: [survey] form_url is still the sample's "
                    "placeholder; set it to your form's address (docs/emails.md, The quarterly survey, shows how); "
                    "check-ins and the other emails go"
                )
        result.inbox = s.inbox
        if s.calendar is not None:  # a feed that is down: its meetings wait, the rest goes
            result.faults += s.calendar.faults
            result.warnings += s.calendar.warnings
        if s.inbox is not None and s.inbox.error:
            if settings.imap.required:
                # A partner may have answered: no follow-up until the inbox can be read.
                held = sum(1 for d in drafts if d.kind == "follow_up")
                drafts = [d for d in drafts if d.kind != "follow_up"]
                result.faults.append(
                    f"{s.inbox.error}; {held} follow-up(s) held back until the inbox can be "
                    "read (a partner may have replied); the other emails go"
                )
            else:
                result.warnings.append(f"{s.inbox.error}; going on ([imap] required = false)")
        health = health_rows(decisions.health)
        if options.baseline:
            return _baseline(settings, today, now, options, s, result, drafts)
        reviewing = bool(settings.mail.review) or s.journal.has_proposals()
        if options.send and reviewing:
            run = review_job.prepare_run(
                settings,
                s,
                drafts,
                templates,
                decisions.health,
                now,
                today,
                options.limit,
                options.approved_only,
                _scope(options),
            )
            result.review, result.held, result.held_by = run, run.held, run.held_by
            result.faults += run.faults
            result.warnings += run.notes
            result.to_send = run.ready
        else:  # `reviewing` here is a dry run's: settled in memory, nothing recorded
            _plan(settings, s, result, drafts, templates, now, today, reviewing)
        if not options.send:
            return result
        result.to_send, waits = within_window(settings, result.to_send, today, now)
        result.warnings += [waits] if waits else []
        result.report = send_all(
            settings, s, result.to_send, clock, result.warnings, progress, mailer
        )
        entries = result.report.entries
        if result.review is not None:
            review_job.after_delivery(s, result.review, result.report)
            entries = [*result.review.entries, *entries]
            health = health_rows(review_job.mark_waiting(decisions.health, result.review.waiting))
        health = _after_refusals(settings, today, s, result, health)
        job = "digest" if options.digest else "survey" if options.owner_surveys else "nurture"
        summary = sending_summary(
            job,
            result.report,
            result.exit_code,
            len(result.problems),
            result.faults,
            len(result.review.proposed) if result.review else 0,
        )
        table = result.review.table() if result.review is not None else None
        result.write_error = write_sheet(s, health, entries, summary, table)
        result.wrote = not result.write_error
        return result


def _plan(
    settings: Settings,
    s: Session,
    result: NurtureResult,
    drafts: list[compose.Draft],
    templates: Templates,
    now: dt.datetime,
    today: dt.date,
    reviewing: bool,
) -> None:
    """What goes within the caps (and, in a dry run with review, what would be proposed and
    what already waits for approval, as the sending run would settle it)."""
    proposing: list[compose.Draft] = []
    if reviewing:
        drafts, proposing = _dry_review(settings, s, result, drafts, now, today)
    caps = Caps.for_run(settings, s.journal, now, result.options.limit)
    kept, result.held, result.held_by = caps.split(drafts)
    prepared = prepare([*kept, *proposing], templates, settings, now)  # proposals: no cap
    result.faults += prepared.faults
    result.to_send = prepared.ready
    proposed = {d.keys for d in proposing}
    result.reviewable = sum(1 for p in result.to_send if p.draft.keys in proposed)


def _dry_review(
    settings: Settings,
    s: Session,
    result: NurtureResult,
    drafts: list[compose.Draft],
    now: dt.datetime,
    today: dt.date,
) -> tuple[list[compose.Draft], list[compose.Draft]]:
    """The review step of the sending run, in memory only: (what goes, what would be
    proposed); the proposals already waiting go to `result.waiting` (CLI.md: shown as
    waiting, not as due)."""
    frame = result.decisions.health
    step, result.waiting, notes = review_job.settled_in_memory(
        settings, s, drafts, frame, now, today, _scope(result.options)
    )
    result.waiting_said = [line for _, line in _flat(waiting_lines(result.waiting, today))]
    result.warnings += notes
    return [*step.approved, *step.to_send], step.to_propose


def _flat(by_owner: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return [pair for owner in sorted(by_owner) for pair in by_owner[owner]]


def _after_refusals(
    settings: Settings,
    today: dt.date,
    s: Session,
    result: NurtureResult,
    health: list[list[object]],
) -> list[list[object]]:
    """Health as it stands after the server refused an address (5xx) this run: that partner
    is blocked now, not still due (the rest keeps showing what this run did)."""
    assert result.report is not None
    refused = {
        p.draft.to_email
        for p, d in result.report.outcomes
        if d.status == "failed" and re.match(r"5\d\d", d.detail) and not p.draft.internal
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


def _baseline(
    settings: Settings,
    today: dt.date,
    now: dt.datetime,
    options: NurtureOptions,
    s: Session,
    result: NurtureResult,
    drafts: list[compose.Draft],
) -> NurtureResult:
    """Record as `skipped` everything due now, including what one email per partner hid."""
    entries: list[Entry] = []
    # Recording a thank as handled can reveal the survey it was hiding: repeat until quiet.
    for _ in range(len(KINDS) + 1):
        if not drafts:
            break
        result.baseline_emails += len(drafts)
        entries += draft_entries(drafts, "skipped", BASELINE_DETAIL, stamp(now), s.run_id)
        merged = with_log_rows(s.raw, settings.sheet.tabs.log, entries)
        tables = tables_from(settings, merged, today)
        result.decisions = decide(tables, today, settings.rules, decide_options(settings))
        drafts = compose.drafts(tables, result.decisions, letterhead(settings), today)
        drafts = [d for d in drafts if not options.only or d.kind in options.only]
    result.baseline = entries
    s.journal.record(entries)
    summary = RunSummary(
        result.exit_code,
        f"nurture --baseline: {result.baseline_emails} email(s) recorded as handled, none sent",
    )
    result.write_error = write_sheet(s, health_rows(result.decisions.health), entries, summary)
    result.wrote = not result.write_error
    return result


def _scope(options: NurtureOptions) -> Callable[[Proposal], bool]:
    """The proposals this run settles: its own kinds, never a campaign's."""
    kinds = set(options.only) or ({"digest"} if options.digest else set())
    if options.owner_surveys:
        kinds |= {"survey", "survey_owner"}

    def mine(p: Proposal) -> bool:
        if p.campaign:
            return False
        return not kinds or p.kind in kinds

    return mine
