"""`partners campaign FILE`: one-off outreach to the partners an audience filter picks."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from automations.config import Settings
from automations.core import compose
from automations.core.audience import Audience, Campaign, parse_campaign, select
from automations.core.engine.decide import decide
from automations.core.engine.decisions import Decisions
from automations.core.render import TemplateFault, Templates, TemplateSource
from automations.core.review import OPEN, Proposal
from automations.core.tables import Problem
from automations.errors import ConfigError
from automations.jobs import review as review_job
from automations.jobs.envelope import Caps
from automations.jobs.sending import (
    Clock,
    DeliveryReport,
    Prepared,
    Progress,
    exit_code,
    prepare,
    within_window,
)
from automations.jobs.session import Session, send_all, sending_summary, session, write_sheet
from automations.jobs.wiring import (
    decide_options,
    letterhead,
    load_templates,
    mail_capabilities,
    sign_in_notes,
)


@dataclass
class CampaignResult:
    """What a campaign run found and did."""

    campaign: Campaign
    audience: Audience
    problems: list[Problem]
    to_send: list[Prepared] = field(default_factory=list)
    held: list[compose.Draft] = field(default_factory=list)  # over a limit: next run
    held_by: str = ""
    faults: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # printed; the exit code stays
    report: DeliveryReport | None = None
    review: review_job.ReviewRun | None = None
    write_error: str = ""

    @property
    def exit_code(self) -> int:
        """0 all well, 1 something needs a look, 2 the run could not finish."""
        return exit_code(self.problems, self.faults, self.report, self.write_error)


def load_campaign(path: Path) -> Campaign:
    """Read and check a campaign file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"campaign file {path} not found") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"campaign file {path} cannot be read: {exc}") from exc
    return parse_campaign(data, str(path))


def _drafts(
    campaign: Campaign,
    s: Session,
    decisions: Decisions,
    settings: Settings,
    today: dt.date,
    emails: list[str],
    source: str,
) -> tuple[list[compose.Draft], list[str]]:
    """One outreach draft per partner due; a subject that cannot render stops them all."""
    look = compose.Lookup.build(s.tables, decisions.health)
    subjects: Templates | None = None
    if campaign.subject:
        text = f"Subject: {campaign.subject}\n\n.\n"
        subjects = Templates({"subject": TemplateSource("subject", f"{source} (subject)", text)})
    drafts: list[compose.Draft] = []
    faults: list[str] = []
    for email in emails:
        context = {
            **compose.partner_context(email, look, letterhead(settings), today, []),
            "campaign": {"name": campaign.name},
        }
        subject = ""
        if subjects is not None:
            try:
                subject = subjects.render("subject", context).subject
            except TemplateFault as fault:
                return [], [f"campaign subject error, nothing sent: {fault}"]
        drafts.append(
            compose.Draft(
                kind="outreach",
                template=campaign.template,
                to_email=email,
                to_name=str(look.partners[email].get("name", "")),
                keys=(campaign.key(email),),
                key_partners=(email,),
                context=context,
                priority=4,
                why=f"campaign {campaign.name}",
                partner_row=look.rows.get(email),
                subject=subject,
            )
        )
    return drafts, faults


def _not_proposed_elsewhere(
    drafts: list[compose.Draft], proposals: list[Proposal], name: str
) -> tuple[list[compose.Draft], list[str]]:
    """The drafts whose partner has no open proposal of another campaign or kind: two
    overlapping campaigns never propose one partner twice (EMAIL.md, review)."""
    elsewhere = {
        p.to_email.lower(): p for p in proposals if p.status in OPEN and p.campaign != name
    }
    kept = [d for d in drafts if d.to_email.lower() not in elsewhere]
    notes = [
        f"{d.to_email} is left out: an email to them ({elsewhere[d.to_email.lower()].kind}) "
        "already waits for your approval"
        for d in drafts
        if d.to_email.lower() in elsewhere
    ]
    return kept, notes


def run_campaign(
    settings: Settings,
    today: dt.date,
    clock: Clock,
    path: Path,
    send: bool,
    limit: int | None = None,
    progress: Progress | None = None,
) -> CampaignResult:
    """Dry run (the audience and one email) or send, each partner at most once per campaign."""
    campaign = load_campaign(path)
    templates = load_templates(settings)
    now = clock()
    notes = sign_in_notes(settings)  # before the inbox scan refreshes (rewrites) a cache
    with session(settings, today, now, writing=send) as s:
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        audience = select(
            campaign,
            s.tables,
            decisions,
            today,
            settings.rules.min_days_between_emails,
            not mail_capabilities(settings).delivers,
            str(path),
        )
        result = CampaignResult(campaign, audience, s.tables.problems, warnings=notes)
        drafts, result.faults = _drafts(
            campaign, s, decisions, settings, today, audience.due, str(path)
        )
        drafts, waiting = _not_proposed_elsewhere(drafts, s.journal.proposals(), campaign.name)
        result.warnings += waiting
        bounds = [b for b in (limit, campaign.limit) if b is not None]
        bound = min(bounds) if bounds else None
        if send and (settings.mail.review or s.journal.has_proposals()):
            run = review_job.prepare_run(
                settings,
                s,
                drafts,
                templates,
                decisions.health,
                now,
                today,
                bound,
                in_scope=lambda p: p.campaign == campaign.name,
            )
            result.review, result.held, result.held_by = run, run.held, run.held_by
            result.faults += run.faults
            result.warnings += run.notes
            result.to_send = run.ready
        else:
            caps = Caps.for_run(settings, s.journal, now, bound)
            kept, result.held, result.held_by = caps.split(drafts)
            prepared = prepare(kept, templates, settings, now)
            result.faults += prepared.faults
            result.to_send = prepared.ready
        if not send:
            return result
        result.to_send, waits = within_window(settings, result.to_send, today, clock())
        result.warnings += [waits] if waits else []
        result.report = send_all(settings, s, result.to_send, clock, result.warnings, progress)
        entries = result.report.entries
        table = None
        if result.review is not None:
            review_job.after_delivery(s, result.review, result.report)
            entries, table = [*result.review.entries, *entries], result.review.table()
        summary = sending_summary(
            f"campaign {campaign.name}",
            result.report,
            result.exit_code,
            len(result.problems),
            result.faults,
            len(result.review.proposed) if result.review else 0,
        )
        result.write_error = write_sheet(s, None, entries, summary, table)
        return result
