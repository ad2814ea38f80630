"""`partners survey`: the partners' quarterly surveys due and the owners' self-assessment
invitations (RULES.md, "Owner self-assessment")."""

from __future__ import annotations

from automations.core.mail.owner import owner_survey_drafts
from automations.core.vocabulary import Kind
from automations.jobs.plans.nurture import due_now, handled_keys, planned
from automations.jobs.plans.planned import PlanContext, Planned
from automations.jobs.wiring import letterhead

NO_RESPONDENT_FIELD = (
    "no self-assessment invitation went to the owners: [survey] respondent_field is empty, so "
    "an owner's own ratings would be recorded as the partner's answers; set it to the form's "
    "field id for the respondent (docs/emails.md, The quarterly survey, shows how to find it)"
)


def plan(ctx: PlanContext) -> Planned:
    """The survey emails due, then the owners' own (RULES.md, surveys)."""
    due = due_now(ctx)
    drafts = [d for d in due.drafts if d.kind == Kind.SURVEY]
    warnings = [] if ctx.settings.survey.respondent_field else [NO_RESPONDENT_FIELD]
    drafts += owner_survey_drafts(
        ctx.tables, due.decisions, letterhead(ctx.settings), ctx.today, handled_keys(ctx)
    )
    return planned(due, drafts, "survey", (Kind.SURVEY, Kind.SURVEY_OWNER), warnings)
