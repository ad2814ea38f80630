"""`partners preview` and the template check of `partners check`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd

from automations.config import Settings
from automations.core import statement_mail
from automations.core.engine.decide import decide
from automations.core.engine.decisions import Decisions
from automations.core.mail.draft import Draft, Lookup
from automations.core.mail.drafting import preview_draft
from automations.core.review import OPEN, Proposal, under_review
from automations.core.tables import Tables
from automations.core.vocabulary import Action, Kind
from automations.core.wording import on_day, when
from automations.errors import PreviewError
from automations.jobs.sending import (
    Prepared,
    prepare,
)
from automations.jobs.session import session
from automations.jobs.wiring import (
    decide_options,
    letterhead,
    load_templates,
    quote_outreach,
)


@dataclass(frozen=True)
class Preview:
    """The email as it would go, and whether it is due now or a sample made up for a look."""

    prepared: Prepared
    label: str


# What a made-up sample needs from the sheet, and how to say that it is missing.
NEEDS_A_REFERRAL: dict[str, str] = {Kind.THANK: "thank-you", Kind.OUTCOME: "outcome"}


# Emails to you about the runs themselves, never about one partner: a made-up partner look
# has none of their fields, so each is named for what it is instead of a template error.
ABOUT_RUNS: dict[str, str] = {
    Kind.ALERT: "after runs keep failing ([alerts] email_owner_after)",
    Kind.REVIEW: "listing the emails waiting for your approval ([mail] review)",
    "review_answer": "when a reply to the review email could not be acted on",
}


def run_preview(
    settings: Settings, today: dt.date, now: dt.datetime, template: str, email: str
) -> Preview:
    """One email exactly as it would be sent (the due one, else made up for a look; CLI.md)."""
    templates = load_templates(settings)
    if template not in templates.sources:
        names = ", ".join(sorted(templates.sources))
        raise PreviewError(f"templates/{template}.md: no such template; the templates are: {names}")
    if template in ABOUT_RUNS:
        raise PreviewError(
            f"templates/{template}.md is the email to you {ABOUT_RUNS[template]}, so there is "
            "nothing to preview for a partner; preview a partner email or digest instead"
        )
    with session(settings, today, now, writing=False) as s:  # the inbox, calendars read-only
        decisions = decide(s.tables, today, settings.rules, decide_options(settings))
        draft = preview_draft(
            template,
            email,
            s.tables,
            decisions,
            letterhead(settings),
            today,
            settings.rules,
        )
        if draft is None:
            raise PreviewError(_not_found(decisions.health, email))
        quote_outreach([draft], s.journal)
        sample = draft.keys[0].startswith("preview:")
        if sample and template == Kind.STATEMENT:
            draft = _with_ledger(draft, s.tables, decisions, settings, today)
        if sample and template in NEEDS_A_REFERRAL and not draft.context.get("referrals"):
            name = draft.to_name or email
            raise PreviewError(
                f"{name} has sent you no referral yet, so there is no "
                f"{NEEDS_A_REFERRAL[template]} to show: nothing to preview for {email}"
            )
        prepared = prepare([draft], templates, settings, now)
        if prepared.faults:
            raise PreviewError(prepared.faults[0])
        label = _label(draft, sample)
        if not sample:
            label = _review_label(draft, s.journal.proposals(), settings, today) or label
        return Preview(prepared.ready[0], label)


def _with_ledger(
    draft: Draft, tables: Tables, decisions: Decisions, settings: Settings, today: dt.date
) -> Draft:
    """A made-up statement shows last quarter's real ledger, or says there is none."""
    look = Lookup.build(tables, decisions.health)
    ledger = statement_mail.ledgers(
        tables.referrals,
        look.partners,
        look.health,
        [draft.to_email],
        today,
        settings.sender.currency,
    )[draft.to_email]
    if not ledger["rows"]:
        raise PreviewError(
            f"{draft.to_name or draft.to_email} and you exchanged no referral in "
            f"{ledger['period']}, so there is no statement to show for {draft.to_email}"
        )
    return replace(draft, context={**draft.context, "statement": ledger})


def _review_label(
    draft: Draft, proposals: list[Proposal], settings: Settings, today: dt.date
) -> str:
    """The first line for a due email under review: it waits for approval, since when, or
    it would (EMAIL.md, review; CLI.md: preview says when an email would wait); "" if not."""
    kind = draft.kind.replace("_", "-")
    held = next((p for p in proposals if p.status in OPEN and set(p.keys) & set(draft.keys)), None)
    if held is not None and held.status == "approved":
        return f"Approved: this {kind} email goes on the next `partners nurture --send`."
    if held is not None and held.status == "later":
        return (
            f"Waits for your approval: this {kind} email was proposed {when(held.proposed_day, today)}"
            f" and you asked to see it again {on_day(dt.date.fromisoformat(held.later_until), today)} (`partners review`)."
        )
    if held is not None:
        return (
            f"Waits for your approval since {when(held.proposed_day, today).removeprefix('on ')}: "
            f"this {kind} email goes once you approve it (`partners review`, the Review tab or "
            "a reply to the review email)."
        )
    if under_review(draft.kind, settings.mail.review):
        return (
            f"Due now: this {kind} email waits for your approval ([mail] review): the next "
            "`partners nurture --send` proposes it, and it goes once you approve it."
        )
    return ""


def _not_found(health: pd.DataFrame, email: str) -> str:
    """Why there is no email to show: the partner's row has a problem (RULES.md, "Rows with a
    problem"), or there is no such partner."""
    wanted = email.strip().lower()
    fixes = health[(health["action"] == Action.FIX_ROW) & (health["email"].str.lower() == wanted)]
    if len(fixes):
        fix = fixes.iloc[0]
        who = f"{fix['name']} ({email})" if fix["name"] else email
        return (
            f"{who}: the partner's row has a problem, so no email goes to them until it is "
            f"fixed: {fix['reason']}"
        )
    return f"no partner with email {email!r} in the Partners tab"


def _label(draft: Draft, sample: bool) -> str:
    """The first line `partners preview` prints: due now, or made up (and from what)."""
    if not sample:
        return f"Due now: this {draft.kind} email goes on the next `partners nurture --send`."
    referrals = draft.context.get("referrals") or []
    source = f"the Partners row {draft.partner_row}" if draft.partner_row else "the sheet"
    if referrals:
        latest = referrals[-1]
        source += f" and the latest referral ({latest.get('client') or 'no client'}, {latest.get('date')})"
    return f"Not due now: a sample made up for a look, from {source}."


def check_templates(settings: Settings, today: dt.date, now: dt.datetime) -> list[str]:
    """Compile every template; one line per template that cannot be used."""
    from automations.errors import TemplateFault

    templates = load_templates(settings)
    faults = []
    for name in sorted(templates.sources):
        try:
            templates.check(name)
        except TemplateFault as fault:
            faults.append(f"template error: {fault}")
    return faults
