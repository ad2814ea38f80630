"""`partners digest`: each owner's weekly summary (EMAIL.md, the digest), nothing else."""

from __future__ import annotations

from automations.core.mail.owner import digest_drafts
from automations.core.review import waiting_lines
from automations.core.vocabulary import Kind
from automations.jobs.plans.nurture import due_now, handled_keys, planned
from automations.jobs.plans.planned import PlanContext, Planned
from automations.jobs.wiring import decide_options, letterhead


def plan(ctx: PlanContext) -> Planned:
    """One digest per owner, from today's decisions and what waits for approval."""
    from automations.adapters.chart import referrals_chart  # matplotlib: only when drawn

    due = due_now(ctx)
    drafts = digest_drafts(
        ctx.tables,
        due.decisions,
        letterhead(ctx.settings),
        ctx.today,
        handled_keys(ctx),
        ctx.settings.rules,
        decide_options(ctx.settings).count_written,
        referrals_chart,
        waiting_lines(ctx.session.journal.proposals(), ctx.today),
    )
    return planned(due, drafts, "digest", (Kind.DIGEST,))
