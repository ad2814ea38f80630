"""`partners campaign FILE`: one-off outreach to the partners an audience filter picks,
each at most once per campaign (CLI.md, Campaign file)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from automations.core.audience import Audience, Campaign, parse_campaign, select
from automations.core.engine.decide import decide
from automations.core.engine.decisions import Decisions
from automations.core.mail.draft import Draft, Lookup
from automations.core.mail.partner import partner_context
from automations.core.render import Templates, TemplateSource
from automations.core.review import OPEN, Proposal
from automations.core.vocabulary import Kind
from automations.errors import ConfigError, TemplateFault
from automations.jobs.plans.planned import PlanContext, Planned
from automations.jobs.wiring import decide_options, letterhead, mail_capabilities


@dataclass(kw_only=True)
class CampaignPlanned(Planned):
    """A campaign's plan, with the audience its filter picked."""

    campaign: Campaign
    audience: Audience


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
    ctx: PlanContext,
    decisions: Decisions,
    emails: list[str],
    source: str,
) -> tuple[list[Draft], list[str]]:
    """One outreach draft per partner due; a subject that cannot render stops them all."""
    settings, today = ctx.settings, ctx.today
    look = Lookup.build(ctx.tables, decisions.health)
    subjects: Templates | None = None
    if campaign.subject:
        text = f"Subject: {campaign.subject}\n\n.\n"
        subjects = Templates({"subject": TemplateSource("subject", f"{source} (subject)", text)})
    drafts: list[Draft] = []
    faults: list[str] = []
    for email in emails:
        context = {
            **partner_context(email, look, letterhead(settings), today, []),
            "campaign": {"name": campaign.name},
        }
        subject = ""
        if subjects is not None:
            try:
                subject = subjects.render("subject", context).subject
            except TemplateFault as fault:
                return [], [f"campaign subject error, nothing sent: {fault}"]
        drafts.append(
            Draft(
                kind=Kind.OUTREACH,
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
    drafts: list[Draft], proposals: list[Proposal], name: str
) -> tuple[list[Draft], list[str]]:
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


def plan_of(campaign: Campaign, source: str) -> Callable[[PlanContext], CampaignPlanned]:
    """The plan of one campaign file: the partners its audience picks who are due, each
    once; none an open proposal of another campaign already holds."""

    def plan(ctx: PlanContext) -> CampaignPlanned:
        settings = ctx.settings
        decisions = decide(ctx.tables, ctx.today, settings.rules, decide_options(settings))
        audience = select(
            campaign,
            ctx.tables,
            decisions,
            ctx.today,
            settings.rules.min_days_between_emails,
            not mail_capabilities(settings).delivers,
            source,
        )
        drafts, faults = _drafts(campaign, ctx, decisions, audience.due, source)
        proposals = ctx.session.journal.proposals()
        drafts, waiting = _not_proposed_elsewhere(drafts, proposals, campaign.name)
        return CampaignPlanned(
            decisions,
            drafts,
            lambda p: p.campaign == campaign.name,
            f"campaign {campaign.name}",
            campaign.limit,
            writes_health=False,
            faults=faults,
            warnings=waiting,
            campaign=campaign,
            audience=audience,
        )

    return plan
