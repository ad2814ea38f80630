"""What a referral statement says (EMAIL.md, Statements): last quarter's referrals each way
with where each stands, and the fee when one is agreed, as words and as table rows.

Pure: every number comes from the Referrals tab as read, the fee from the same sum as
Health's `fee_owed` (RULES.md, Fees), so the statement and the sheet never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from automations.core.engine import arrays as f
from automations.core.keys import quarter_label
from automations.core.render import money
from automations.core.vocabulary import Kind
from automations.core.wording import count_of, names, on_day, quarter_name

if TYPE_CHECKING:
    from automations.core.engine.decisions import Decisions
    from automations.core.mail.draft import Lookup
    from automations.core.tables import Tables

# Where a referral stands, as the partner would hear it, by direction and status.
FROM_YOU = {
    "new": "new, I haven't reached them yet",
    "contacted": "we're in touch",
    "qualified": "we're talking it through",
    "won": "won",
    "lost": "didn't go ahead",
}
TO_YOU = {
    "new": "passed on to you",
    "contacted": "in touch with you",
    "qualified": "talking with you",
    "won": "you won it",
    "lost": "didn't go ahead",
}
FIRST = (
    "Something new from me: after each quarter I'll send a short note of the referrals "
    "between us, so we're both looking at the same numbers."
)
OPENINGS = (
    "Once a quarter I like to put our referrals side by side, so we're both looking at the "
    "same numbers.",
    "Here's my note of the referrals between us, so we both keep the same record.",
    "A quick look at the referrals that went between us, so our notes match.",
)


def period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The quarter a statement sent on `today` covers: [first day, first day after)."""
    end = f.quarter_start(today)
    return f.quarter_start(end - dt.timedelta(days=1)), end


def for_due(
    tables: Tables, decisions: Decisions, look: Lookup, today: dt.date, currency: str
) -> dict[str, dict[str, Any]]:
    """The statement of every partner due one in `decisions` (EMAIL.md, Statements)."""
    due = [d.partner_email for d in decisions.due if d.kind == Kind.STATEMENT]
    return ledgers(tables.referrals, look.partners, look.health, due, today, currency)


def ledgers(
    referrals: pd.DataFrame,
    partners: Mapping[str, Mapping[str, Any]],
    health: Mapping[str, Mapping[str, Any]],
    emails: list[str],
    today: dt.date,
    currency: str,
) -> dict[str, dict[str, Any]]:
    """Each partner's statement: the referrals dated or closed last quarter, both ways."""
    if not emails:  # most runs: no statement due, nothing to select
        return {}
    first, end = (f.day_number(d) for d in period(today))
    dated = f.day_numbers(referrals["date"])
    closed = f.day_numbers(referrals["closed_on"])
    inside = ((dated >= first) & (dated < end)) | ((closed >= first) & (closed < end))
    mine = referrals[inside & referrals["partner_email"].isin(emails)].sort_values(
        ["date", "direction"], kind="stable"
    )
    by_partner = {str(k): g for k, g in mine.groupby("partner_email", sort=False)}
    won = referrals[(referrals["direction"] == "received") & (referrals["status"] == "won")]
    return {
        email: ledger(
            by_partner.get(email, mine.iloc[0:0]),
            won[won["partner_email"] == email],
            partners[email],
            health.get(email, {}),
            today,
            currency,
        )
        for email in emails
    }


def ledger(
    rows: pd.DataFrame,
    won_ever: pd.DataFrame,
    partner: Mapping[str, Any],
    health: Mapping[str, Any],
    today: dt.date,
    currency: str,
) -> dict[str, Any]:
    """One partner's statement as the template says it (see the module docstring)."""
    start, _ = period(today)
    label = quarter_label(start)
    pct = _pct(partner)
    table = [_row(n, r, today, currency, pct) for n, r in enumerate(_records(rows), start=1)]
    # Referrals dated before the quarter are in the table because they closed in it; the
    # sentence counts only what was sent in the quarter, and says the older ones closed.
    sent = [t for t in table if t["way"] == "received" and t["inside"]]
    given = [t for t in table if t["way"] == "given" and t["inside"]]
    earlier = [t for t in table if not t["inside"]]
    fee = _fee(pct, won_ever, health, currency)
    return {
        "label": label,
        "period": quarter_name(label, today),
        # The first statement says what it is; later ones vary by quarter (no repeats).
        "opening": OPENINGS[(start.year * 4 + start.month // 3) % len(OPENINGS)]
        if health.get("statement")
        else FIRST,
        "rows": table,
        "said": _both(
            _sentence(sent, "you sent me", "a client"), _sentence(given, "I sent you", "a client")
        ),
        "closed_earlier": " ".join(_closed(t) for t in earlier),
        "sent": len(sent),
        "given": len(given),
        "fee": fee,
        "fee_column": bool(fee) and any(t["fee"] for t in table),
    }


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "date": r["date"].date(),
            "direction": r["direction"],
            "client": str(r["client"] or "").strip(),
            "status": r["status"],
            "closed": None if pd.isna(r["closed_on"]) else r["closed_on"].date(),
            "value": None if pd.isna(r["value"]) else float(r["value"]),
            "fee_paid": 0.0 if pd.isna(r["fee_paid"]) else float(r["fee_paid"]),
        }
        for _, r in rows.iterrows()
    ]


def _pct(partner: Mapping[str, Any]) -> float | None:
    pct = partner.get("referral_fee_pct")
    return float(pct) if isinstance(pct, int | float) and pct == pct and pct > 0 else None


def _row(
    n: int, r: Mapping[str, Any], today: dt.date, currency: str, pct: float | None
) -> dict[str, Any]:
    """One table row: number (the partner can answer "#2 …"), way, client, date, standing."""
    received = r["direction"] == "received"
    standing = (FROM_YOU if received else TO_YOU).get(str(r["status"]), str(r["status"]))
    if r["status"] in ("won", "lost") and r["closed"]:
        standing += " " + on_day(r["closed"], today)
    if r["status"] == "won" and r["value"]:
        standing += f" ({money(r['value'], currency)})"
    fee = ""
    if received and pct and r["status"] == "won" and r["value"]:
        due = r["value"] * pct / 100
        fee = money(due, currency)
        if r["fee_paid"]:
            fee += ", paid" if r["fee_paid"] >= due else f", {money(r['fee_paid'], currency)} paid"
    return {
        "inside": r["date"] >= period(today)[0],
        "closed_on": on_day(r["closed"], today),
        "status": r["status"],
        "n": n,
        "way": "received" if received else "given",
        "from": "from\u00a0you" if received else "to\u00a0you",  # no break inside a cell
        "client": r["client"] or "(no name in my sheet)",
        "named": bool(r["client"]),
        "on": on_day(r["date"], today),
        "date": on_day(r["date"], today).removeprefix("on ").replace(" ", "\u00a0"),
        "standing": standing,
        "fee": fee,
    }


def _sentence(rows: list[dict[str, Any]], lead: str, unnamed: str) -> str:
    """ "you sent me Harbor Bakery on 15 September", "I sent you three clients (A, B and C)";
    "" for none (a count of zero is left out, EMAIL.md)."""
    if not rows:
        return ""
    if len(rows) == 1:
        one = rows[0]
        return f"{lead} {one['client'] if one['named'] else unnamed} {one['on']}"
    listed = names(t["client"] for t in rows if t["named"])
    plural = count_of(len(rows), "client", "clients")
    named_all = all(t["named"] for t in rows)
    return f"{lead} {plural} ({listed})" if named_all else f"{lead} {plural}"


def _closed(t: Mapping[str, Any]) -> str:
    """ "Delta Freight, which you sent me on 12 June, was won on 12 July." """
    who = "which you sent me" if t["way"] == "received" else "which I sent you"
    ended = "was won" if t["status"] == "won" else "didn't go ahead"
    when = f" {t['closed_on']}" if t["closed_on"] else ""
    return f"{t['client']}, {who} {t['on']}, {ended}{when}."


def _both(mine: str, yours: str) -> str:
    """The two directions as one sentence, capitalised and closed."""
    said = f"{mine}, and {yours}" if mine and yours else mine or yours
    return said[:1].upper() + said[1:] + "." if said else ""


def _fee(
    pct: float | None, won: pd.DataFrame, health: Mapping[str, Any], currency: str
) -> dict[str, Any]:
    """The agreed fee on every won referral from the partner, what was paid, and what is
    owed (Health's `fee_owed`); empty without an agreed fee or a won referral with a value."""
    values = won["value"].dropna()
    if pct is None or values.empty:
        return {}
    earned = float(values.sum()) * pct / 100
    paid = float(won["fee_paid"].fillna(0).sum())
    owed = float(health.get("fee_owed") or 0)
    share = f"{pct:g}%"
    if owed > 0 and paid > 0:
        said = (
            f"On the {share} we agreed, the referrals of yours that came through so far add up to "
            f"{money(earned, currency)} in fees; I've paid {money(paid, currency)}, so I still "
            f"owe you {money(owed, currency)}."
        )
    elif owed > 0:
        said = (
            f"On the {share} we agreed, I owe you {money(owed, currency)} for the referrals of "
            "yours that came through so far."
        )
    else:
        said = (
            f"On the {share} we agreed, the fees for your referrals that came through so far come to "
            f"{money(earned, currency)}, and that's all paid."
        )
    return {"pct": pct, "earned": earned, "paid": paid, "owed": owed, "sentence": said}
