"""Due emails -> drafts: who gets which template, with which keys and template context.

Pure: takes the tables, the decisions and a `Letterhead` (who writes, the survey form,
the unsubscribe link: built once from the config by the wiring), returns plain dataclasses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from automations.core import keys as idempotency
from automations.core import statement_mail
from automations.core.engine.decisions import Decisions, DueEmail
from automations.core.engine.rules import Rules
from automations.core.keys import quarter_label
from automations.core.survey import form_link, previous_quarter, previous_quarters
from automations.core.tables import Tables
from automations.core.vocabulary import INTERNAL_KINDS, PARTNER_KINDS
from automations.core.wording import (
    exchange,
    greeting_name,
    history,
    introductions,
    month_of,
    on_day,
    quarter_name,
    when,
)


@dataclass(frozen=True)
class Sender:
    """Who the email is from (`[sender]`)."""

    name: str
    email: str
    reply_to: str = ""
    signature: str = ""
    currency: str = "USD"  # how amounts are written ("$1,200"); `[sender] currency`
    pitch: str = ""  # one sentence on what the sender does (the outreach says it)


@dataclass(frozen=True)
class SurveyForm:
    """The survey form and the ids of its pre-filled fields (`[survey]`)."""

    url: str = ""
    email_field: str = ""
    respondent_field: str = ""


@dataclass(frozen=True)
class Letterhead:
    """What every email carries besides its own facts: sender, survey form, opt-out link."""

    sender: Sender
    form: SurveyForm = SurveyForm()
    unsubscribe_url: str = ""  # may hold {email} and {token}
    unsubscribe_secret: str = field(default="", repr=False)  # PARTNERS_UNSUBSCRIBE_SECRET

    @property
    def unsubscribe(self) -> dict[str, str]:
        """The unsubscribe address (no URL: a URL is only ever one recipient's own)."""
        address = self.sender.reply_to or self.sender.email
        return {"address": address, "mailto": f"mailto:{address}?subject=unsubscribe", "url": ""}

    def unsubscribe_for(self, email: str) -> dict[str, str]:
        """The opt-out details of one recipient: the one-click URL only when it identifies
        them (`{email}`, and `{token}` with a secret to sign it; EMAIL.md)."""
        url = self.unsubscribe_url
        if "{email}" not in url or ("{token}" in url and not self.unsubscribe_secret):
            return self.unsubscribe
        token = hmac.new(
            self.unsubscribe_secret.encode(), email.lower().encode(), hashlib.sha256
        ).hexdigest()[:32]
        personal = url.replace("{email}", quote(email.lower(), safe="@")).replace("{token}", token)
        return {**self.unsubscribe, "url": personal}

    def owner_name(self, owner: str) -> str:
        """The sender's name when the owner is the sender, else nothing known."""
        return self.sender.name if owner == self.sender.email.lower() else ""


@dataclass(frozen=True)
class Draft:
    """One email to send: recipient, template, idempotency keys and what the template sees."""

    kind: str
    template: str
    to_email: str
    to_name: str
    keys: tuple[str, ...]
    key_partners: tuple[str, ...]  # the partner each key is about (Log `partner_email`)
    context: Mapping[str, Any]
    priority: int = 9
    score: float = 0.0
    why: str = ""
    partner_row: int | None = None  # Partners row (as the user sees it) of the addressee
    thread_message_id: str = ""
    thread_subject: str = ""
    subject: str = ""  # overrides the template's subject (campaign files)
    inline: tuple[tuple[str, bytes], ...] = ()  # (Content-ID, PNG) images the HTML shows
    cc: tuple[tuple[str, str], ...] = ()  # (name, email) in the Cc header ([mail] cc_owner)
    bcc: tuple[str, ...] = ()  # recipients no header names ([mail] bcc)
    # A Message-ID made elsewhere (the review email's random one), never shown in the Log.
    message_id: str = ""

    @property
    def internal(self) -> bool:
        """Escalations and digests go to owners, not partners."""
        return self.kind in INTERNAL_KINDS

    @property
    def partner_email(self) -> str:
        """The partner this email is about (the first, for an owner's escalations)."""
        return self.key_partners[0] if self.key_partners else self.to_email


def cell(value: Any) -> Any:
    """A table cell as templates see it: blanks are "", dates are dates, 12.0 is 12."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, np.datetime64):  # from a column array
        return "" if np.isnat(value) else pd.Timestamp(value).date()
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return int(value) if value.is_integer() else value
    if hasattr(value, "item"):  # numpy scalars
        return cell(value.item())
    return value


def record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A table row as a template context dict (without the sheet row number)."""
    return {str(k): cell(v) for k, v in row.items() if k != "row"}


class Records(Mapping[Any, dict[str, Any]]):
    """A table's rows as template records, by key, each converted on first use: a run
    emails a few partners, and converting 100,000 rows up front would cost seconds."""

    def __init__(self, frame: pd.DataFrame, keys: pd.Index) -> None:
        # Column arrays, not rows: reading one cell of an array is cheap, a pandas row is not.
        self._columns = {str(c): frame[c].to_numpy() for c in frame.columns if c != "row"}
        self._keys = keys
        self._made: dict[Any, dict[str, Any]] = {}

    def __getitem__(self, key: Any) -> dict[str, Any]:
        if key not in self._made:
            where = self._keys.get_loc(key)  # KeyError when absent, as a mapping should
            if not isinstance(where, int):
                raise KeyError(key)
            self._made[key] = {c: cell(values[where]) for c, values in self._columns.items()}
        return self._made[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class Lookup:
    """Partners, Health rows and referrals for drafting, by partner email (referrals by position)."""

    partners: Records
    rows: Mapping[str, int]
    health: Records
    referrals: Records

    @classmethod
    def build(cls, tables: Tables, health: pd.DataFrame) -> Lookup:
        """Index partners, Health rows and referrals for drafting."""
        partners = tables.partners
        return cls(
            partners=Records(partners, pd.Index(partners["email"])),
            rows=dict(zip(partners["email"], partners["row"].astype(int), strict=True)),
            health=Records(health, pd.Index(health["email"])),
            referrals=Records(tables.referrals, pd.RangeIndex(len(tables.referrals))),
        )


def base_context(letterhead: Letterhead, today: dt.date) -> dict[str, Any]:
    """What every template sees: sender, today and the unsubscribe details."""
    sender = letterhead.sender
    return {
        "sender": {
            "name": sender.name,
            "email": sender.email,
            "reply_to": sender.reply_to,
            "signature": sender.signature,
            "currency": sender.currency,
            "pitch": sender.pitch,
        },
        "today": today,
        "unsubscribe": letterhead.unsubscribe,
    }


def owner_of(partner: Mapping[str, Any], letterhead: Letterhead) -> dict[str, str]:
    """The partner's owner on our side (the sender when the Owner cell is blank)."""
    email = str(partner.get("owner") or letterhead.sender.email).lower()
    return {"email": email, "name": letterhead.owner_name(email)}


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


def drafts(
    tables: Tables, decisions: Decisions, letterhead: Letterhead, today: dt.date
) -> list[Draft]:
    """One draft per due email, in sending order; an owner's escalations in one email."""
    look = Lookup.build(tables, decisions.health)
    out: list[Draft] = []
    escalations: dict[str, list[DueEmail]] = {}
    surveyed = [d.partner_email for d in decisions.due if d.kind == "survey"]
    quarters = previous_quarters(tables.referrals, surveyed, today) if surveyed else {}
    ledgers = statement_mail.for_due(tables, decisions, look, today, letterhead.sender.currency)
    for due in decisions.due:
        if due.kind == "escalation":
            escalations.setdefault(due.to, []).append(due)
            continue
        email = due.partner_email
        context = partner_context(email, look, letterhead, today, due.referral_rows)
        if due.kind == "survey":
            with_quarter(context, quarters[email], today)
        context |= {"statement": ledgers[email]} if due.kind == "statement" else {}
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
        kind="escalation",
        template="escalation",
        to_email=owner,
        to_name=owner_name,
        keys=tuple(keys),
        key_partners=tuple(key_partners),
        context=context,
        priority=0,
        score=max(d.score for d in items),
        why="; ".join(f"{e['partner'].get('name', '')}: {e['reason']}" for e in entries),
    )


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
    if template in ("digest", "survey_owner"):  # the owner's email that covers this partner
        owner = owner_of(look.partners[email], letterhead)["email"]
        made = (
            digest_drafts(tables, decisions, letterhead, today, set(), rules, True)
            if template == "digest"
            else owner_survey_drafts(tables, decisions, letterhead, today, set())
        )
        return next((d for d in made if d.to_email == owner), None)
    referrals = tables.referrals.reset_index(drop=True)
    mine = referrals.index[
        (referrals["partner_email"] == email).to_numpy()
        & (referrals["direction"] == "received").to_numpy()
    ].tolist()[-1:]
    key = f"preview:{template}:{email}"
    if template == "escalation":
        owner = owner_of(look.partners[email], letterhead)["email"]
        due = DueEmail("escalation", email, owner, (key,), tuple(mine))
        return escalation_draft(owner, [due], look, letterhead, today)
    context = partner_context(email, look, letterhead, today, mine)
    with_quarter(context, previous_quarter(tables.referrals, email, today), today)
    return Draft(
        kind=template if template in PARTNER_KINDS else "outreach",
        template=template,
        to_email=email,
        to_name=str(look.partners[email].get("name", "")),
        keys=(key,),
        key_partners=(email,),
        context=context,
        why="preview (not due now)",
        partner_row=look.rows.get(email),
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
                kind="survey_owner",
                template="survey_owner",
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
                kind="digest",
                template="digest",
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
