"""The main job (`partners nurture`), `partners preview` and `partners resolve`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

import pandas as pd

from automations.adapters.imap import InboxError
from automations.adapters.journal import Entry
from automations.adapters.mail import Mailer
from automations.config import Settings
from automations.core import compose
from automations.core.engine import arrays
from automations.core.engine.decide import decide, sort_health
from automations.core.engine.decisions import Decisions
from automations.core.tables import Problem, Tables
from automations.errors import ConfigError, ToolkitError
from automations.jobs import inbox as mailbox
from automations.jobs.sending import (
    Caps,
    Clock,
    DeliveryReport,
    Prepared,
    Progress,
    draft_entries,
    exit_code,
    prepare,
    stamp,
    with_log_rows,
)
from automations.jobs.session import Session, send_all, session, write_sheet
from automations.jobs.wiring import (
    decide_options,
    health_rows,
    letterhead,
    load_templates,
    open_mailer,
    tables_from,
)

KINDS = ("escalation", "thank", "outcome", "follow_up", "survey", "nurture")
BASELINE_DETAIL = "baseline: recorded as handled without sending"
PLACEHOLDER_FORM = "EXAMPLE-FORM-ID"  # the form_url `partners init` writes


class ResolveError(ToolkitError):
    """`partners resolve` was given a key it cannot settle."""


@dataclass(frozen=True)
class NurtureOptions:
    """What `partners nurture` was asked to do."""

    send: bool = False
    baseline: bool = False
    only: tuple[str, ...] = ()
    limit: int | None = None
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
    inbox: mailbox.InboxOutcome | None = None
    report: DeliveryReport | None = None
    baseline: list[Entry] = field(default_factory=list)
    baseline_emails: int = 0
    recovered: list[Entry] = field(default_factory=list)
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
) -> NurtureResult:
    """Health and every due email: a dry run, `--baseline`, or `--send`."""
    now = clock()
    writing = options.send or options.baseline
    templates = load_templates(settings)
    with session(settings, today, now, writing) as s:
        decided = decide_options(settings)
        placeholder = (
            settings.mail.backend == "smtp" and PLACEHOLDER_FORM in settings.survey.form_url
        )
        if placeholder:
            # Surveys cannot go with the sample's form: decide as if surveys were off, so a
            # partner due both gets the check-in (RULES.md: the next action in line).
            due = decide(s.tables, today, settings.rules, decided).emails
            held_surveys = int((due["kind"] == "survey").sum()) if len(due) else 0
            decided = replace(decided, survey_enabled=False)
        decisions = decide(s.tables, today, settings.rules, decided)
        result = NurtureResult(s.tables, decisions, options, recovered=s.recovered)
        drafts = compose.drafts(s.tables, decisions, letterhead(settings), today)
        if options.only:
            drafts = [d for d in drafts if d.kind in options.only]
        if options.owner_surveys or options.digest:
            view = arrays.log_view(
                s.tables.log,
                pd.Index(s.tables.partners["email"]),
                decide_options(settings).count_written,
            )
            handled = set(view.handled_keys)
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
                    settings.rules.stale_referral_days,
                    decided.count_written,
                    referrals_chart,
                )
        if placeholder:
            held = held_surveys + sum(1 for d in drafts if d.template == "survey_owner")
            drafts = [d for d in drafts if d.template not in ("survey", "survey_owner")]
            if held:
                result.faults.append(
                    f"{held} survey email(s) held back: [survey] form_url is still the sample's "
                    "placeholder; set it to your form's address (the README shows how); "
                    "check-ins and the other emails go"
                )
        result.inbox = s.inbox
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
        caps = Caps.for_run(settings, s.journal, now, options.limit)
        kept, result.held, result.held_by = caps.split(drafts)
        prepared = prepare(kept, templates, settings, now)
        result.faults += prepared.faults
        result.to_send = prepared.ready
        if not options.send:
            return result
        result.report = send_all(
            settings, s, result.to_send, clock, result.warnings, progress, mailer
        )
        health = _after_refusals(settings, today, s, result, health)
        result.write_error = write_sheet(s, health, result.report.entries)
        result.wrote = not result.write_error
        return result


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
    result.write_error = write_sheet(s, health_rows(result.decisions.health), entries)
    result.wrote = not result.write_error
    return result


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
    with session(settings, today, now, writing=write, read_inbox=False) as s:
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        if not write:
            return HealthResult(s.tables, decisions, False)
        error = write_sheet(s, health_rows(decisions.health), [])
        return HealthResult(s.tables, decisions, not error, error)


@dataclass
class Resolved:
    """A settled uncertain key."""

    key: str
    entry: Entry
    write_error: str = ""


def run_resolve(settings: Settings, key: str, sent: bool, clock: Clock) -> Resolved:
    """Settle an `uncertain` key: it was sent (never send again) or send it on the next run."""
    now = clock()
    with session(settings, now.date(), now, writing=True) as s:
        if key not in arrays.uncertain_keys(s.tables.log):
            known = s.tables.log[s.tables.log["key"] == key]
            state = known["status"].iloc[-1] if len(known) else "not in the Log or the journal"
            raise ResolveError(
                f"{key!r} is not uncertain (its state: {state}); `partners check` lists the "
                "uncertain keys"
            )
        base = next((e for e in reversed(s.journal.entries()) if e.key == key), None)
        if base is None:
            row = s.tables.log[s.tables.log["key"] == key].iloc[-1]
            base = Entry(
                "",
                "",
                str(row["action"]),
                str(row["partner_email"]),
                key,
                str(row["template"]),
                str(row["subject"]),
                str(row["message_id"]),
                "uncertain",
                "",
            )
        if sent:
            entry = base.moved(
                "sent", "confirmed sent by hand (partners resolve --sent)", stamp(now)
            )
        else:
            entry = base.moved(
                "failed",
                "not sent, settled by hand: due again (partners resolve --retry)",
                stamp(now),
            )
        entry = Entry(entry.timestamp, s.run_id, *entry.as_row()[2:])
        s.journal.record([entry])
        return Resolved(key, entry, write_sheet(s, None, [entry]))


@dataclass
class CarriedOver:
    """What `partners carry-over` brought into this sheet's Log."""

    carried: list[Entry]
    write_error: str = ""


def run_carry_over(settings: Settings, clock: Clock) -> CarriedOver:
    """The journal's rows of the sheets this project used before become this sheet's, and
    go to its Log: the stated step after moving from the workbook to Google Sheets."""
    now = clock()
    with session(settings, now.date(), now, writing=True, read_inbox=False, carry_over=True) as s:
        return CarriedOver(s.carried or [], write_sheet(s, None, []))


class PreviewError(ToolkitError):
    """The preview cannot be made (unknown partner, template error)."""

    exit_code = 1


def run_preview(
    settings: Settings, today: dt.date, now: dt.datetime, template: str, email: str
) -> Prepared:
    """One email exactly as it would be sent (the due one, else made up for a look)."""
    templates = load_templates(settings)
    with session(settings, today, now, writing=False, read_inbox=False) as s:
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        draft = compose.preview_draft(
            template,
            email,
            s.tables,
            decisions,
            letterhead(settings),
            today,
            settings.rules.stale_referral_days,
        )
        if draft is None:
            raise PreviewError(f"no partner with email {email!r} in the Partners tab")
        prepared = prepare([draft], templates, settings, now)
        if prepared.faults:
            raise PreviewError(prepared.faults[0])
        return prepared.ready[0]


def check_templates(settings: Settings, today: dt.date, now: dt.datetime) -> list[str]:
    """Compile every template; one line per template that cannot be used."""
    from automations.core.render import TemplateFault

    templates = load_templates(settings)
    faults = []
    for name in sorted(templates.sources):
        try:
            templates.check(name)
        except TemplateFault as fault:
            faults.append(f"template error: {fault}")
    return faults


def check_mail(settings: Settings) -> str:
    """Log in to the SMTP server (and leave) to prove the settings work; a line saying so."""
    mailer = open_mailer(settings)
    if settings.mail.backend != "smtp":
        return f"mail: outbox folder {settings.mail.outbox_dir}/ (nothing leaves this machine)"
    from automations.adapters.mail.smtp import SmtpMailer

    assert isinstance(mailer, SmtpMailer)
    mailer.open()
    mailer.close()
    who = f" as {settings.mail.username}" if settings.mail.username else ""
    return f"mail: connected to {mailer.where}{who} ({settings.mail.security}): OK"


@dataclass
class RepliesResult:
    """What `partners replies` found and recorded."""

    inbox: mailbox.InboxOutcome
    write_error: str = ""


def run_survey_report(settings: Settings, today: dt.date, now: dt.datetime) -> pd.DataFrame:
    """Per partner: their latest view, the owner's beside it, items 3+ points apart."""
    from automations.core import survey

    with session(settings, today, now, writing=False, read_inbox=False) as s:
        return survey.report(s.tables, today, settings.sender.email)


def run_replies(settings: Settings, clock: Clock) -> RepliesResult:
    """Read the inbox now and record replies, bounces and unsubscribes in the Log."""
    if not settings.imap.host:
        raise ConfigError("`partners replies` needs an [imap] section with a host")
    now = clock()
    with session(settings, now.date(), now, writing=True) as s:
        assert s.inbox is not None
        if s.inbox.error:
            raise InboxError(s.inbox.error)
        return RepliesResult(s.inbox, write_sheet(s, None, []))
