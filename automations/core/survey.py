"""The partnership survey: pre-filled form links, last quarter's facts, and the report.

Pure: tables and `today` in; links, facts and a report table out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from automations.core.engine import arrays
from automations.core.keys import quarter_label
from automations.core.schema import SURVEY_ITEMS
from automations.core.statements import states
from automations.core.tables import Tables

GAP = 3  # points between the partner's view and the owner's that the report points out


def form_link(
    form_url: str, email_field: str, respondent_field: str, partner: str, respondent: str = ""
) -> str:
    """The form's URL with the partnership (and, for a self-assessment, the respondent) filled in."""
    if not form_url:
        return ""
    fields = {"usp": "pp_url"}
    if email_field:
        fields[email_field] = partner
    if respondent and respondent_field:
        fields[respondent_field] = respondent
    if len(fields) == 1:
        return form_url
    joiner = "&" if "?" in form_url else "?"
    return f"{form_url}{joiner}{urlencode(fields)}"


def previous_quarters(
    referrals: pd.DataFrame, emails: list[str], today: dt.date
) -> dict[str, dict[str, Any]]:
    """What each partner and we exchanged in the last full quarter: counts each way and
    outcomes. One pass over the referrals for all partners (a run may survey thousands)."""
    end = arrays.quarter_start(today)
    start = arrays.quarter_start(end - dt.timedelta(days=1))
    label = quarter_label(start)
    known = pd.Index(list(dict.fromkeys(emails)))
    day = referrals["date"]  # midnights: as the dates compare, so do the datetimes
    inside = referrals[
        referrals["partner_email"].isin(known)
        & (day >= pd.Timestamp(start))
        & (day < pd.Timestamp(end))
    ]
    code = known.get_indexer(pd.Index(inside["partner_email"]))
    direction = inside["direction"].to_numpy(dtype=object)
    status = inside["status"].to_numpy(dtype=object)
    flags = {
        "received": direction == "received",
        "given": direction == "given",
        "won": status == "won",
        "lost": status == "lost",
        "open": np.isin(status, ["new", "contacted", "qualified"]),
    }
    # Counted per partner with numpy: a groupby costs more than the handful of rows it sums.
    counts = {k: np.bincount(code, weights=f, minlength=len(known)) for k, f in flags.items()}
    client = inside["client"].to_numpy(dtype=object)
    named = flags["received"] & (client != "")
    clients: dict[str, list[str]] = {}
    for email, name in zip(known[code[named]], client[named], strict=True):
        clients.setdefault(email, []).append(str(name))
    at = {email: i for i, email in enumerate(known)}
    return {
        email: {
            "label": label,
            **{k: int(c[at[email]]) for k, c in counts.items()},
            "clients": list(clients.get(email, [])),
        }
        for email in emails
    }


def previous_quarter(referrals: pd.DataFrame, email: str, today: dt.date) -> dict[str, Any]:
    """The last full quarter's exchange with one partner."""
    return previous_quarters(referrals, [email], today)[email]


REPORT_COLUMNS = (
    "name",
    "email",
    "owner",
    "partner_answered",
    "partner_avg",
    "self_answered",
    "self_avg",
    "differ",
    "statement",  # where the referral statement stands, as on Health (RULES.md, Statements)
)


def report(
    tables: Tables, today: dt.date, sender_email: str, count_written: bool = True
) -> pd.DataFrame:
    """Per partner with an answer: the latest partner view, the owner's beside it, the gaps,
    and the statement's state (`count_written`: the outbox's `written` counts as sent)."""
    partners = tables.partners.reset_index(drop=True)
    emails = pd.Index(partners["email"])
    owners = np.where(partners["owner"] == "", sender_email.lower(), partners["owner"]).astype(
        object
    )
    theirs, ours = arrays.survey_table(
        tables.survey, emails, owners, sender_email.lower(), arrays.day_number(today)
    )
    latest_theirs = arrays.latest_per_partner(theirs, "moment")
    latest_ours = arrays.latest_per_partner(ours, "moment")
    stated = states(tables.log, tables.touches, emails, count_written)
    rows = []
    for code in sorted(set(latest_theirs.index) | set(latest_ours.index)):
        p = latest_theirs.loc[code] if code in latest_theirs.index else None
        s = latest_ours.loc[code] if code in latest_ours.index else None
        row: dict[str, Any] = {
            "name": partners.at[code, "name"],
            "email": partners.at[code, "email"],
            "owner": owners[code],
            "partner_answered": _day(p),
            "partner_avg": round(float(p["avg"]), 2) if p is not None else None,
            "self_answered": _day(s),
            "self_avg": round(float(s["avg"]), 2) if s is not None else None,
        }
        gaps = []
        for item in SURVEY_ITEMS:
            theirs_v = float(p[item]) if p is not None else np.nan
            ours_v = float(s[item]) if s is not None else np.nan
            row[f"partner_{item}"] = None if np.isnan(theirs_v) else int(theirs_v)
            row[f"self_{item}"] = None if np.isnan(ours_v) else int(ours_v)
            if not np.isnan(theirs_v) and not np.isnan(ours_v) and abs(theirs_v - ours_v) >= GAP:
                gaps.append(f"{item} (partner {theirs_v:g}, you {ours_v:g})")
        row["differ"] = "; ".join(gaps)
        row["statement"] = stated[code]
        rows.append(row)
    columns = [*REPORT_COLUMNS, *(f"{w}_{i}" for i in SURVEY_ITEMS for w in ("partner", "self"))]
    return pd.DataFrame(rows, columns=columns)


def _day(response: pd.Series | None) -> str | None:
    if response is None:
        return None
    return pd.Timestamp(response["moment"]).date().isoformat()
