"""What a partner-facing email says: the partner's rows and their facts as a person says
them, the fee owed, a survey's quarter (EMAIL.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from automations.core.mail.draft import Lookup, cell
from automations.core.mail.letterhead import Letterhead, base_context, owner_of
from automations.core.survey import form_link
from automations.core.wording import (
    exchange,
    greeting_name,
    history,
    introductions,
    month_of,
    on_day,
    when,
)


def partner_context(
    email: str, look: Lookup, letterhead: Letterhead, today: dt.date, referral_rows: Iterable[int]
) -> dict[str, Any]:
    """The context of one partner-facing email, with its facts ready to say (EMAIL.md)."""
    referrals = [look.referrals[i] for i in referral_rows]
    return partner_facts(
        look.partners[email], look.health.get(email, {}), referrals, letterhead, today
    )


def partner_facts(
    partner: Mapping[str, Any],
    health: Mapping[str, Any],
    referrals: list[dict[str, Any]],
    letterhead: Letterhead,
    today: dt.date,
) -> dict[str, Any]:
    """What a partner template sees: the rows, and their facts as a person says them."""
    email = str(partner.get("email", ""))
    engaged = health.get("last_inbound", "")
    outreach = health.get("outreach_day", "")
    return {
        **base_context(letterhead, today),
        "unsubscribe": letterhead.unsubscribe_for(email),
        "partner": partner,
        "first_name": greeting_name(partner),
        "health": health,
        "owner": owner_of(partner, letterhead),
        "referrals": referrals,
        "referral": referrals[-1] if referrals else {},
        "intro": introductions(referrals, today),
        "fee": referral_fee(partner, referrals),
        "engaged": {
            "last": engaged,
            "on": on_day(engaged, today),
            "month": month_of(engaged, today),
            "when": when(engaged, today),
        },
        "unanswered": int(health.get("unanswered") or 0),
        "history": history(health, today),
        "last_note": bool(health.get("last_note") or False),
        "outreach": {
            "date": outreach,
            "on": on_day(outreach, today),
            "when": when(outreach, today),
            "opening": "",  # the wiring quotes the first lines of what was sent
            "opening_lines": [],
        },
        "survey_url": form_link(
            letterhead.form.url,
            letterhead.form.email_field,
            letterhead.form.respondent_field,
            email,
        ),
    }


def referral_fee(partner: Mapping[str, Any], referrals: list[dict[str, Any]]) -> dict[str, Any]:
    """The fee owed on this email's won referrals when the partner has a referral_fee_pct
    (RULES.md, outcome: "states the fee when won"); blank amount when no value is known."""
    pct = partner.get("referral_fee_pct")
    if not isinstance(pct, int | float) or pct != pct or pct <= 0:
        return {"pct": "", "amount": "", "settled": False}
    won = [r for r in referrals if r.get("status") == "won"]
    values = [r.get("value") for r in won]
    known = [float(v) for v in values if isinstance(v, int | float) and v == v]
    paid = sum(float(r.get("fee_paid") or 0) for r in won)
    if not known or len(known) != len(won):
        return {"pct": cell(float(pct)), "amount": "", "settled": False}
    amount = sum(known) * pct / 100 - paid
    # Paid in full: the email says so rather than promising a payment already made.
    settled = paid > 0 and amount <= 0
    return {"pct": cell(float(pct)), "amount": amount if amount > 0 else "", "settled": settled}


def with_quarter(context: dict[str, Any], quarter: Mapping[str, Any], today: dt.date) -> None:
    """A survey's last quarter, with its name and one sentence (zeros left out)."""
    context["quarter"] = {**quarter, **exchange(quarter, today)}
