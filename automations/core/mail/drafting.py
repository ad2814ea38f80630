"""Due emails -> drafts: who gets which template, with which keys and template context;
and the draft `partners preview` shows (EMAIL.md).

Pure: takes the tables, the decisions and a `Letterhead`, returns plain dataclasses.
"""

from __future__ import annotations

import datetime as dt

from automations.core import statement_mail
from automations.core.engine.decisions import Decisions, DueEmail
from automations.core.engine.rules import Rules
from automations.core.mail.draft import Draft, Lookup
from automations.core.mail.letterhead import Letterhead, owner_of
from automations.core.mail.owner import digest_drafts, escalation_draft, owner_survey_drafts
from automations.core.mail.partner import partner_context, with_quarter
from automations.core.survey import previous_quarter, previous_quarters
from automations.core.tables import Tables
from automations.core.vocabulary import PARTNER_KINDS, Kind


def drafts(
    tables: Tables, decisions: Decisions, letterhead: Letterhead, today: dt.date
) -> list[Draft]:
    """One draft per due email, in sending order; an owner's escalations in one email."""
    if not decisions.due:  # a rerun: nothing due, nothing to look up
        return []
    look = Lookup.build(tables, decisions.health)
    out: list[Draft] = []
    escalations: dict[str, list[DueEmail]] = {}
    surveyed = [d.partner_email for d in decisions.due if d.kind == Kind.SURVEY]
    quarters = previous_quarters(tables.referrals, surveyed, today) if surveyed else {}
    ledgers = statement_mail.for_due(tables, decisions, look, today, letterhead.sender.currency)
    for due in decisions.due:
        if due.kind == Kind.ESCALATION:
            escalations.setdefault(due.to, []).append(due)
            continue
        email = due.partner_email
        context = partner_context(email, look, letterhead, today, due.referral_rows)
        if due.kind == Kind.SURVEY:
            with_quarter(context, quarters[email], today)
        context |= {"statement": ledgers[email]} if due.kind == Kind.STATEMENT else {}
        out.append(
            Draft(
                kind=due.kind,
                template=due.kind,
                to_email=email,
                to_name=str(look.partners[email].get("name", "")),
                keys=due.keys,
                key_partners=tuple(email for _ in due.keys),
                context=context,
                priority=due.priority,
                score=due.score,
                why=str(look.health.get(email, {}).get("partner_reason", "")),
                partner_row=look.rows.get(email),
                thread_message_id=due.thread_message_id,
                thread_subject=due.thread_subject,
            )
        )
    grouped = [
        escalation_draft(owner, items, look, letterhead, today)
        for owner, items in escalations.items()
    ]
    return sorted(grouped, key=lambda d: d.to_email) + out


def preview_draft(
    template: str,
    email: str,
    tables: Tables,
    decisions: Decisions,
    letterhead: Letterhead,
    today: dt.date,
    rules: Rules,
) -> Draft | None:
    """The draft for `email` with `template`: the due one if any, else one made up for a look.

    None when the partner is not in the Partners tab.
    """
    email = email.strip().lower()
    for draft in drafts(tables, decisions, letterhead, today):
        if draft.template == template and email in draft.key_partners:
            return draft
    look = Lookup.build(tables, decisions.health)
    if email not in look.partners:
        return None
    if template in (Kind.DIGEST, Kind.SURVEY_OWNER):  # the owner's email that covers this partner
        owner = owner_of(look.partners[email], letterhead)["email"]
        made = (
            digest_drafts(tables, decisions, letterhead, today, set(), rules, True)
            if template == Kind.DIGEST
            else owner_survey_drafts(tables, decisions, letterhead, today, set())
        )
        return next((d for d in made if d.to_email == owner), None)
    referrals = tables.referrals.reset_index(drop=True)
    mine = referrals.index[
        (referrals["partner_email"] == email).to_numpy()
        & (referrals["direction"] == "received").to_numpy()
    ].tolist()[-1:]
    key = f"preview:{template}:{email}"
    if template == Kind.ESCALATION:
        owner = owner_of(look.partners[email], letterhead)["email"]
        due = DueEmail(Kind.ESCALATION, email, owner, (key,), tuple(mine))
        return escalation_draft(owner, [due], look, letterhead, today)
    context = partner_context(email, look, letterhead, today, mine)
    with_quarter(context, previous_quarter(tables.referrals, email, today), today)
    return Draft(
        kind=Kind(template) if template in PARTNER_KINDS else Kind.OUTREACH,
        template=template,
        to_email=email,
        to_name=str(look.partners[email].get("name", "")),
        keys=(key,),
        key_partners=(email,),
        context=context,
        why="preview (not due now)",
        partner_row=look.rows.get(email),
    )
