"""`partners nurture`: every due email (RULES.md), or the kinds `--only` names. Survey and
digest start from the same decisions (`due_now`) and hold surveys the same way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from automations.core.engine import arrays
from automations.core.engine.decide import decide, decide_holding_surveys
from automations.core.engine.decisions import Decisions
from automations.core.mail import drafting
from automations.core.mail.draft import Draft
from automations.core.vocabulary import Kind
from automations.jobs.plans.planned import Plan, PlanContext, Planned, kinds_scope
from automations.jobs.wiring import decide_options, letterhead, mail_capabilities, quote_outreach

PLACEHOLDER_FORM = "EXAMPLE-FORM-ID"  # the form_url `partners init` writes
SURVEY_TEMPLATES = (Kind.SURVEY, Kind.SURVEY_OWNER)


@dataclass(frozen=True)
class Due:
    """What is due today, as every nurture-family plan starts from it."""

    decisions: Decisions
    drafts: list[Draft]
    held_surveys: int | None  # None: the survey form is real; else the surveys held back


def due_now(ctx: PlanContext) -> Due:
    """Decisions and drafts of every due email (RULES.md); with the sample's placeholder
    form, decided as if surveys were off, so a partner due both gets the check-in (RULES.md:
    the next action in line)."""
    settings = ctx.settings
    decided = decide_options(settings)
    held: int | None = None
    if mail_capabilities(settings).delivers and PLACEHOLDER_FORM in settings.survey.form_url:
        decisions, held = decide_holding_surveys(ctx.tables, ctx.today, settings.rules, decided)
    else:
        decisions = decide(ctx.tables, ctx.today, settings.rules, decided)
    drafts = drafting.drafts(ctx.tables, decisions, letterhead(settings), ctx.today)
    quote_outreach(drafts, ctx.session.journal)
    return Due(decisions, drafts, held)


def handled_keys(ctx: PlanContext) -> set[str]:
    """The keys the Log counts as done (owners' surveys and digests skip them)."""
    view = arrays.log_view(
        ctx.tables.log,
        pd.Index(ctx.tables.partners["email"]),
        decide_options(ctx.settings).count_written,
    )
    return set(view.handled_keys)


def planned(
    due: Due,
    drafts: list[Draft],
    job: str,
    kinds: Iterable[str],
    warnings: Iterable[str] = (),
) -> Planned:
    """The plan of a nurture-family command; surveys held while the form is the sample's."""
    faults: list[str] = []
    if due.held_surveys is not None:
        held = due.held_surveys + sum(1 for d in drafts if d.template == Kind.SURVEY_OWNER)
        drafts = [d for d in drafts if d.template not in SURVEY_TEMPLATES]
        if held:
            faults.append(
                f"{held} survey email(s) held back: [survey] form_url is still the sample's "
                "placeholder; set it to your form's address (docs/emails.md, The quarterly survey, shows how); "
                "check-ins and the other emails go"
            )
    return Planned(
        due.decisions, drafts, kinds_scope(kinds), job, faults=faults, warnings=[*warnings]
    )


def only(kinds: Iterable[str] = ()) -> Plan:
    """The nurture plan of the kinds asked for (`--only`; every kind when none)."""
    wanted = tuple(kinds)

    def plan(ctx: PlanContext) -> Planned:
        due = due_now(ctx)
        drafts = [d for d in due.drafts if not wanted or d.kind in wanted]
        return planned(due, drafts, "nurture", wanted)

    return plan


plan = only()
