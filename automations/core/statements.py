"""Where each partner's referral statement stands (RULES.md, Statements), and the disputes
still open: from the Log's `statement` sends, its `confirmed` / `disputed` answers and the
Touches rows of kind `statement` with which the owner records a dispute settled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automations.core.engine import arrays as f
from automations.core.vocabulary import Kind, Status


@dataclass(frozen=True)
class Dispute:
    """A partner's correction of a statement not yet settled in Touches."""

    partner_email: str
    name: str
    day: str  # ISO
    words: str  # the partner's own words, quote stripped


def _latest(codes: np.ndarray, days: np.ndarray, n: int) -> np.ndarray:
    return f.group_max(codes, days, n) if len(codes) else np.full(n, np.nan)


def _settled(touches: pd.DataFrame, emails: pd.Index) -> np.ndarray:
    """The latest Touches row of kind `statement` per partner (the owner settled it)."""
    rows = touches[touches["kind"] == "statement"]
    codes = emails.get_indexer(pd.Index(rows["partner_email"]))
    days = f.day_numbers(rows["date"])
    return _latest(codes[codes >= 0], days[codes >= 0], len(emails))


def states(
    log: pd.DataFrame,
    touches: pd.DataFrame,
    emails: pd.Index,
    count_written: bool,
    view: f.LogView | None = None,
) -> np.ndarray:
    """Health's `statement` column (SHEET.md): `disputed 2026-10-07` while a dispute is
    open, else the latest of `sent …`, `confirmed …` and `settled …`; None (blank) for none.
    `view`: the Log already read as `log_view(log, emails, count_written)` (decide has it)."""
    n = len(emails)
    L = view if view is not None else f.log_view(log, emails, count_written)
    known = L.code >= 0
    sent = known & (L.action == Kind.STATEMENT) & L.sent_mask
    said = {
        status: _latest(
            L.code[known & (L.status == status)], L.day[known & (L.status == status)], n
        )
        for status in (Status.CONFIRMED, Status.DISPUTED)
    }
    events = {
        Status.SENT: _latest(L.code[sent], L.day[sent], n),
        Status.CONFIRMED: said[Status.CONFIRMED],
        "settled": _settled(touches, emails),
    }
    out = np.full(n, None, dtype=object)
    best = np.full(n, -np.inf)
    for word, days in events.items():
        text = word + " " + f.iso_dates(days)
        newer = ~np.isnan(days) & (days >= best)
        out = np.where(newer, text, out)
        best = np.where(newer, days, best)
    disputed = said[Status.DISPUTED]
    open_ = ~np.isnan(disputed) & ~(events["settled"] >= disputed)
    return np.where(open_, "disputed " + f.iso_dates(disputed), out).astype(object)


def open_disputes(
    log: pd.DataFrame, touches: pd.DataFrame, partners: pd.DataFrame
) -> list[Dispute]:
    """Every dispute no Touches row of kind `statement` on or after it has settled, oldest
    first, with the partner's own words (RULES.md, Statements)."""
    emails = pd.Index(partners["email"])
    rows = log[log["status"] == Status.DISPUTED]
    if rows.empty:
        return []
    codes = emails.get_indexer(pd.Index(rows["partner_email"]))
    days = f.day_numbers(rows["timestamp"])
    settled = f.at_codes(_settled(touches, emails), codes)
    keep = (codes >= 0) & ~(settled >= days)
    names = partners["name"].to_numpy(dtype=object)
    iso = f.iso_dates(days)
    found = [
        Dispute(
            str(rows["partner_email"].iloc[i]), str(names[codes[i]]), iso[i], _words(rows, int(i))
        )
        for i in np.flatnonzero(keep)
    ]
    return sorted(found, key=lambda d: (d.day, d.partner_email))


def _words(rows: pd.DataFrame, i: int) -> str:
    return " ".join(str(rows["detail"].iloc[i]).split())


def dispute_line(d: Dispute) -> str:
    """One dispute for the digest and the Status tab."""
    return f'{d.name} ({d.partner_email}) on {d.day}: "{d.words}"'
