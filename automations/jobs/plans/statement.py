"""`partners statement`: the quarterly referral statements due today (RULES.md,
Statements), from the same decisions as nurture."""

from __future__ import annotations

from automations.core.vocabulary import Kind
from automations.jobs.plans.nurture import due_now, planned
from automations.jobs.plans.planned import PlanContext, Planned


def plan(ctx: PlanContext) -> Planned:
    """The statement emails due today (RULES.md, Statements)."""
    due = due_now(ctx)
    drafts = [d for d in due.drafts if d.kind == Kind.STATEMENT]
    return planned(due, drafts, "statement", (Kind.STATEMENT,))
