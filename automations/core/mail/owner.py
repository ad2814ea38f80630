"""The emails to an owner on our side: escalations, the quarter's self-assessment and
the weekly digest (EMAIL.md; RULES.md, "Owner self-assessment")."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping

from automations.core import keys as idempotency
from automations.core.engine.decisions import Decisions, DueEmail
from automations.core.engine.rules import Rules
from automations.core.keys import quarter_label
from automations.core.mail.draft import Draft, Lookup
from automations.core.mail.letterhead import Letterhead, base_context
from automations.core.survey import form_link
from automations.core.tables import Tables
from automations.core.vocabulary import Kind
from automations.core.wording import quarter_name


def escalation_draft(
    owner: str,
    items: list[DueEmail],
    look: Lookup,
    letterhead: Letterhead,
    today: dt.date,
) -> Draft:
    """All of one owner's escalations of this run, as one internal email."""
    entries = []
    keys: list[str] = []
    key_partners: list[str] = []
    for due in items:
        email = due.partner_email
        referrals = [look.referrals[i] for i in due.referral_rows]
        survey_keys = [k for k in due.keys if ":survey:" in k]
        entries.append(
            {
                "partner": look.partners[email],
                "health": look.health.get(email, {}),
                "referrals": referrals,
                "survey": bool(survey_keys),
                "survey_avg": look.health.get(email, {}).get("survey_avg", ""),
                "reason": look.health.get(email, {}).get("reason", ""),
                # The escalation alone, in words (not what this run's thank-you settles).
                "what": look.health.get(email, {}).get("escalation_reason", "")
                or look.health.get(email, {}).get("reason", ""),
            }
        )
        keys.extend(due.keys)
        key_partners.extend(email for _ in due.keys)
    first = entries[0]
    owner_name = letterhead.owner_name(owner)
    context = {
        **base_context(letterhead, today),
        "owner": {"email": owner, "name": owner_name},
        "items": entries,
        "partner": first["partner"],
        "referral": first["referrals"][-1] if first["referrals"] else {},
        "referrals": first["referrals"],
        "survey_url": "",
    }
    return Draft(
        kind=Kind.ESCALATION,
        template=Kind.ESCALATION,
        to_email=owner,
        to_name=owner_name,
        keys=tuple(keys),
        key_partners=tuple(key_partners),
        context=context,
        priority=0,
        score=max(d.score for d in items),
        why="; ".join(f"{e['partner'].get('name', '')}: {e['reason']}" for e in entries),
    )


def owner_survey_drafts(
    tables: Tables, decisions: Decisions, letterhead: Letterhead, today: dt.date, handled: set[str]
) -> list[Draft]:
    """Once a quarter, each owner rates their own active partnerships (self-assessment);
    only when the form has a respondent field, else the owner's own ratings would be stored
    as the partner's answers (RULES.md, "Owner self-assessment")."""
    if not letterhead.form.url or not letterhead.form.respondent_field:
        return []
    look = Lookup.build(tables, decisions.health)
    quarter = quarter_label(today)
    health = decisions.health
    active = health[(health["status"] == "active") & ~health["hard_blocked"].astype(bool)]
    out = []
    for owner, rows in active.groupby("owner", sort=True):
        key = idempotency.survey_owner(str(owner), today)
        if key in handled or idempotency.survey_owner_earlier(str(owner), today) in handled:
            continue
        form = letterhead.form
        items = [
            {
                "partner": look.partners[email],
                "survey_url": form_link(
                    form.url, form.email_field, form.respondent_field, email, str(owner)
                ),
            }
            for email in rows["email"]
        ]
        name = letterhead.owner_name(str(owner))
        out.append(
            Draft(
                kind=Kind.SURVEY_OWNER,
                template=Kind.SURVEY_OWNER,
                to_email=str(owner),
                to_name=name,
                keys=(key,),
                key_partners=(str(owner),),
                context={
                    **base_context(letterhead, today),
                    "owner": {"email": str(owner), "name": name},
                    "items": items,
                    "quarter_label": quarter,
                    "quarter_name": f"{quarter_name(quarter)} {today.year}",
                },
                priority=5,
                why=f"self-assessment of {len(items)} partnership(s) for {quarter}",
            )
        )
    return out


def digest_drafts(
    tables: Tables,
    decisions: Decisions,
    letterhead: Letterhead,
    today: dt.date,
    handled: set[str],
    rules: Rules,
    count_written: bool,
    chart: Callable[[list[tuple[str, int, int]]], bytes] | None = None,
    waiting: Mapping[str, list[tuple[str, str]]] | None = None,
) -> list[Draft]:
    """One digest per owner for this ISO week, with the chart inline when `chart` is given
    and what waits for the owner's approval (`waiting`, by owner)."""
    from automations.core.digest import digest_context, owner_partners

    out = []
    domain = letterhead.sender.email.rpartition("@")[2] or "localhost"
    for owner, emails in owner_partners(decisions.health).items():
        key = idempotency.digest(owner, today)
        if key in handled:
            continue
        mine = (waiting or {}).get(str(owner).lower(), [])
        summary = digest_context(
            owner,
            emails,
            tables,
            decisions.health,
            today,
            rules,
            count_written,
            {p for p, _ in mine},
        )
        summary["waiting"] = [line for _, line in mine]
        inline: tuple[tuple[str, bytes], ...] = ()
        if chart is not None:
            tag = hashlib.sha256(owner.encode()).hexdigest()[:10]
            cid = f"chart.{today:%Y%m%d}.{tag}@{domain}"
            summary["chart_cid"] = cid
            inline = ((cid, chart(summary["series"])),)
        name = letterhead.owner_name(str(owner))
        out.append(
            Draft(
                kind=Kind.DIGEST,
                template=Kind.DIGEST,
                to_email=owner,
                to_name=name,
                keys=(key,),
                key_partners=(owner,),
                context={
                    **base_context(letterhead, today),
                    "owner": {"email": owner, "name": name},
                    "digest": summary,
                },
                priority=8,
                why=f"weekly digest of {len(emails)} partner(s)",
                inline=inline,
            )
        )
    return out
