"""The owner's weekly digest: what went out, what comes next, what needs them (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from automations.core.engine import arrays
from automations.core.engine.rules import Rules
from automations.core.keys import iso_week, quarter_label
from automations.core.render import long_date
from automations.core.statements import dispute_line, open_disputes
from automations.core.tables import Tables
from automations.core.vocabulary import PARTNER_KINDS, Action, Kind, delivered


def quarter_series(
    referrals: pd.DataFrame, partner_emails: list[str], today: dt.date, quarters: int = 4
) -> list[tuple[str, int, int]]:
    """(quarter, referrals received, referrals given) for the last `quarters` quarters,
    the current one included, oldest first, over the given partners."""
    starts = [arrays.quarter_start(today)]
    while len(starts) < quarters:
        starts.insert(0, arrays.quarter_start(starts[0] - dt.timedelta(days=1)))
    mine = referrals[referrals["partner_email"].isin(partner_emails)]
    days = mine["date"].dt.date
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else arrays.next_quarter_start(today)
        inside = mine[(days >= start) & (days < end)]
        out.append(
            (
                quarter_label(start),
                int((inside["direction"] == "received").sum()),
                int((inside["direction"] == "given").sum()),
            )
        )
    return out


def owner_partners(health: pd.DataFrame) -> dict[str, list[str]]:
    """owner email -> the emails of their partners (Health's owner column)."""
    return {
        str(o): [str(e) for e in rows["email"]] for o, rows in health.groupby("owner", sort=True)
    }


def stale_referrals(
    referrals: pd.DataFrame, names: dict[str, str], today: dt.date, stale_days: int
) -> list[str]:
    """Every referral of these partners still new or contacted more than `stale_days` on."""
    mine = referrals[referrals["partner_email"].isin(list(names))]
    age = (pd.Timestamp(today) - mine["date"]).dt.days
    open_ = mine[mine["status"].isin(["new", "contacted"]) & (age > stale_days)]
    lines = []
    for r in _records(open_.sort_values("date")):
        who = names[r["partner_email"]]
        way = f"from {who}" if r["direction"] == "received" else f"to {who}"
        client = f"{r['client']} " if r["client"] else ""
        days = (today - r["date"].date()).days
        lines.append(
            f"{client}({way}, {long_date(r['date'].date())}): still {r['status']} after {days} days"
        )
    return lines


# Each email kind in words (Health names the same words actions; `next_kind` has two more),
# for the digest's lists of what comes due and what went out.
ACTION_WORDS = {
    Kind.THANK: "thank-you to",
    Kind.OUTCOME: "outcome note to",
    Kind.FOLLOW_UP: "follow-up to",
    Kind.SURVEY: "survey to",
    Kind.NURTURE: "check-in with",
    "check-in": "check-in with",
    "follow-up": "follow-up to",
    Kind.ESCALATION: "escalation about",
    Kind.STATEMENT: "referral statement to",
}
WHY_IN_WORDS = {
    Kind.THANK: "a new referral from them",
    Kind.OUTCOME: "a referral of theirs has closed",
    Kind.FOLLOW_UP: "your first note has had no answer",
    "follow-up": "your first note has had no answer",
    Kind.STATEMENT: "referrals either way last quarter",
}
MONTHS_OF_QUARTER = (
    "January to March",
    "April to June",
    "July to September",
    "October to December",
)


def week_of(day: dt.date) -> str:
    """ "week of 30 November": the Monday of `day`'s week, as people say it."""
    monday = day - dt.timedelta(days=day.weekday())
    return f"week of {monday.day} {monday:%B}"


def quarter_name(label: str) -> str:
    """`2026Q3` -> "July to September 2026"."""
    year, q = label.split("Q")
    return f"{MONTHS_OF_QUARTER[int(q) - 1]} {year}"


def _day_of(moment: Any) -> str:
    day = moment.date() if hasattr(moment, "date") else moment
    return f"{day.day} {day:%B}" if isinstance(day, dt.date) else ""


def _when(day: dt.date, today: dt.date) -> str:
    if day <= today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return "tomorrow"
    return f"on {day.day} {day:%B}"


def _coming(h: pd.DataFrame, today: dt.date) -> list[str]:
    """What falls due in the next 7 days, each in words: "check-in with Dana Whitfield on
    9 December (last contact 2 September)"."""
    # Each day as a date, never `.dt.date`: on a column all empty (every row `fix row`)
    # pandas gives back datetimes, which refuse a comparison with a day.
    days = h["next_due"].map(lambda d: d.date() if not pd.isna(d) else None)
    soon = h[
        days.map(lambda d: d is not None and d <= today + dt.timedelta(days=7)).astype(bool)
        & ~h["action"].isin([Action.ESCALATE, Action.FADE, Action.BLOCKED])
    ]
    lines = []
    for r in _records(soon.sort_values(["next_due", "name"], kind="stable")):
        kind = r["action"] if r["action"] != Action.NONE else r.get("next_kind") or ""
        what = ACTION_WORDS.get(kind, "next step with")
        line = f"{what} {r['name']} {_when(r['next_due'].date(), today)}"
        if kind in (Action.NURTURE, "check-in") and not pd.isna(r["last_touch"]):
            line += f" (last contact {long_date(r['last_touch'].date())})"
        elif kind in WHY_IN_WORDS:
            line += f" ({WHY_IN_WORDS[kind]})"
        lines.append(line)
    return lines


def _done(
    log: pd.DataFrame, emails: list[str], names: dict[str, str], today: dt.date, count_written: bool
) -> list[str]:
    """What went out to these partners in the last 7 days, one line per message: "thank-you
    to Dana Whitfield on 2 December: “Thank you”"."""
    week_ago = arrays.day_number(today) - 7
    done_rows = log[
        log["partner_email"].isin(emails)
        & log["status"].isin(delivered(count_written))
        & log["action"].isin(PARTNER_KINDS)
        & (arrays.day_numbers(log["timestamp"]) > week_ago)
    ]
    return [
        f"{ACTION_WORDS.get(str(r['action']), 'email to')} "
        f"{names.get(r['partner_email'], r['partner_email'])} on {_day_of(r['timestamp'])}"
        + (f": “{r['subject']}”" if r["subject"] else "")
        for r in _records(done_rows.drop_duplicates("message_id"))
    ]


def digest_context(
    owner: str,
    emails: list[str],
    tables: Tables,
    health: pd.DataFrame,
    today: dt.date,
    rules: Rules,
    count_written: bool,
    waiting: set[str] | None = None,
) -> dict[str, Any]:
    """What the digest template shows for one owner (`count_written`: on the outbox a
    `written` row counts as done; on SMTP it never reached anyone)."""
    h = health[health["email"].isin(emails)]
    names = dict(zip(h["email"], h["name"], strict=True))
    log = tables.log
    done = _done(log, emails, names, today, count_written)
    due = _coming(h[~h["email"].isin(list(waiting or ()))], today)  # those wait for approval
    escalations = [
        f"{r['name']}: {r.get('escalation_reason') or r['reason']}"
        for r in _records(h[h["action"] == Action.ESCALATE])
    ]
    fades = [f"{r['name']}: {r['reason']}" for r in _records(h[h["action"] == Action.FADE])]
    owed = h[h["fee_owed"] > 0]
    scored = h[h["action"] != Action.FIX_ROW]  # a row that could not be read has no score
    top = scored.sort_values(["score", "email"], ascending=[False, True]).head(5)
    series = quarter_series(tables.referrals, emails, today)
    return {
        "week": week_of(today),
        "iso_week": iso_week(today),
        "owner": owner,
        "done": done,
        "due": due,
        "escalations": escalations,
        "stale": stale_referrals(tables.referrals, names, today, rules.stale_referral_days),
        "fades": fades,
        "waiting": [],  # what waits for the owner's approval, from the journal (review)
        "low_surveys": [
            f"{r['name']}: the latest survey averaged {r['survey_avg']:.1f} out of 9"
            for r in _records(h[h["survey_avg"] < rules.low_average])
        ],
        "fees_owed": round(float(np.nansum(owed["fee_owed"])), 2) if len(owed) else "",
        "fees": [(r["name"], r["fee_owed"]) for r in _records(owed)],
        "top": [
            f"{r['name']}, tier {r['tier']} (score {r['score']:.0f}): {r['received_12m']} "
            f"received and {r['given_12m']} given in the last 12 months"
            for r in _records(top)
        ],
        "series": series,
        "quarters": [{"name": quarter_name(q), "received": r, "given": g} for q, r, g in series],
        "chart_cid": "",
        # Open until a Touches row of kind `statement` records it settled (RULES.md).
        "disputes": [
            dispute_line(d)
            for d in open_disputes(log, tables.touches, tables.partners)
            if d.partner_email in names
        ],
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]
