"""Checks across rows and tabs once each tab is read: dates in the future, a partner on two
rows, rows of an unknown partner, a closed referral without its date, and the Partners
rows kept in Health as `fix row` (SHEET.md; RULES.md, "Rows with a problem")."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pandas as pd

from automations.core.schema import NOT_IN_FUTURE
from automations.core.tab_read import Problem, TabResult, email_column, with_problems
from automations.core.tab_values import empty_table


def _drop(result: TabResult, mask: pd.Series, problems: list[Problem], aside: bool) -> None:
    """Skip the rows in `mask`, recording each one's problem (and, with `aside`, the rows)."""
    for p in problems:
        result.problems.append(p)
        result.error_rows[p.row or 0] = p.partner_email
    if aside:
        result.aside.append(result.frame.loc[mask])
    result.frame = result.frame.loc[~mask].reset_index(drop=True)


def _records(frame: pd.DataFrame, mask: pd.Series, columns: list[str]) -> list[dict[str, Any]]:
    """The chosen rows as plain dicts (only rows with a problem: a handful, mostly none:
    then no frame is sliced)."""
    if not mask.any():
        return []
    rows: list[dict[str, Any]] = frame.loc[mask, columns].to_dict("records")  # type: ignore[assignment]
    return rows


def check_future(result: TabResult, tab: str, title: str, today: dt.date) -> None:
    """Skip the rows dated after `today` where a date cannot be in the future (SHEET.md)."""
    frame = result.frame
    limit = pd.Timestamp(today) + pd.Timedelta(days=1)
    names = NOT_IN_FUTURE.get(tab, ())
    ahead = limit.to_datetime64()  # as numpy first: a blank (NaT) is never ahead
    if not any((frame[name].to_numpy() >= ahead).any() for name in names):
        return  # the usual case: nothing dated ahead, nothing to slice
    lates = {name: frame[name] >= limit for name in names}
    email_col = email_column(tab)
    bad = pd.Series(False, index=frame.index)
    problems = []
    for name, late in lates.items():
        for rec in _records(frame, late & ~bad, ["row", name, email_col]):
            when = rec[name].date().isoformat()
            message = f"{when} is in the future (today is {today.isoformat()})"
            problems.append(
                Problem(title, int(rec["row"]), name, message, "error", rec[email_col] or None)
            )
        bad |= late
    if problems:
        _drop(result, bad, problems, aside=tab == "partners")


def check_partner_duplicates(result: TabResult, title: str) -> None:
    """Skip a second Partners row of the same email: the first row wins (SHEET.md)."""
    frame = result.frame
    dup = frame["email"].duplicated(keep="first")
    if not dup.any():
        return
    first_row = dict(zip(frame["email"][~dup], frame["row"][~dup], strict=True))
    # A `do_not_email` on any row of the address wins over the first row: the user asked
    # that this person get nothing, and never emailing is the safe reading of two rows.
    stop: set[str] = set()
    if "do_not_email" in frame.columns:
        stop = set(frame.loc[dup & frame["do_not_email"].fillna(False).astype(bool), "email"])
        frame.loc[~dup & frame["email"].isin(stop), "do_not_email"] = True
    problems = [
        Problem(
            title,
            int(rec["row"]),
            "email",
            f"{rec['email']} is already on row {int(first_row[rec['email']])} (the first row wins"
            + (
                "; this row's do_not_email is kept: no email to them"
                if rec["email"] in stop
                else ""
            )
            + ")",
            "error",
            None,  # the first row stands, so the partner is not blocked
        )
        for rec in _records(frame, dup, ["row", "email"])
    ]
    _drop(result, dup, problems, aside=False)  # the first row stands for the partner


def check_known_partner(result: TabResult, title: str, known: pd.Index, skipped: set[str]) -> None:
    """Skip the rows of a partner not on the Partners tab; silently for a partner whose own
    Partners row was skipped, which already says what to fix (SHEET.md)."""
    frame = result.frame
    unknown = ~frame["partner_email"].isin(known)
    if not unknown.any():
        return
    silent = unknown & frame["partner_email"].isin(list(skipped))
    problems = [
        Problem(
            title,
            int(rec["row"]),
            "partner_email",
            f"no partner with email {rec['partner_email']} on the Partners tab "
            "(add them there first)",
            "error",
            None,
        )
        for rec in _records(frame, unknown & ~silent, ["row", "partner_email"])
    ]
    _drop(result, unknown, problems, aside=False)


def warn_closed_on(result: TabResult, title: str) -> None:
    """Warn of a won or lost referral received without its closed_on date (RULES.md, outcome)."""
    frame = result.frame
    closed = (
        (frame["direction"] == "received")
        & frame["status"].isin(["won", "lost"])
        & frame["closed_on"].isna()
    )
    for rec in _records(frame, closed, ["row", "status", "partner_email"]):
        result.problems.append(
            Problem(
                title,
                int(rec["row"]),
                "closed_on",
                f"referral is {rec['status']} but closed_on is blank: add the date "
                "it closed so its outcome can be shared",
                "warning",
                rec["partner_email"],
            )
        )


def fix_rows(partners: TabResult, known: set[str]) -> pd.DataFrame:
    """The Partners rows set aside, one per partner, each with its problems in one sentence;
    their problems are marked `kept`. A row whose email another (valid or earlier) row has
    is not a second partner: the other row stands for it, as with duplicates."""
    if not partners.aside:
        return with_problems(empty_table("partners"))
    aside = pd.concat(partners.aside, ignore_index=True).sort_values("row", kind="stable")
    email = aside["email"].str.strip().str.lower()
    keep = ~email.isin(known) & ~(email.duplicated() & (email != ""))
    aside = aside.loc[keep].reset_index(drop=True)
    rows = set(aside["row"].tolist())
    said: dict[int, list[str]] = {}
    for n, p in enumerate(partners.problems):
        if p.severity == "error" and p.row is not None and p.row in rows:
            partners.problems[n] = replace(p, kept=True)
            said.setdefault(p.row, []).append(str(p))
    return with_problems(aside, ["; ".join(said[r]) for r in aside["row"]])
