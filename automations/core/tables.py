"""From raw tabs (rows of cells) to typed tables and a list of row problems.

Header matching and value normalisation follow SHEET.md. A row with an error
is skipped and reported once as `Tab!row column: message`; the partner it
belongs to is blocked for the run with a reason that names the row, except
that a partner whose own Partners row has the error is set aside whole
(`Tables.fix_rows`): Health keeps it as `fix row` (RULES.md, "Rows with a problem").

The steps live beside this module: `tab_values` (cells to typed columns), `tab_read`
(one tab, its row problems), `tab_checks` (checks across rows and tabs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from automations.core import tab_checks
from automations.core.log_order import in_time_order
from automations.core.schema import UNSUBSCRIBE_EMAIL_HEADERS
from automations.core.tab_read import Problem, TabResult, read_tab, with_problems
from automations.core.tab_values import empty_table, normalise_header, ordinals_to_datetimes
from automations.errors import SheetStructureError

__all__ = [
    "Problem",
    "RawSheet",
    "Tables",
    "build_tables",
    "empty_table",
    "normalise_header",
    "ordinals_to_datetimes",
]


@dataclass(frozen=True)
class RawSheet:
    """What a backend reads: each tab's rows of cells (None for a tab that is absent)."""

    tabs: dict[str, list[list[Any]] | None]
    date_order: str = ""


@dataclass
class Tables:
    """The sheet as typed tables, plus the problems found and the partners they block."""

    partners: pd.DataFrame
    referrals: pd.DataFrame
    touches: pd.DataFrame
    survey: pd.DataFrame
    log: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    unsubscribes: pd.DataFrame = field(default_factory=lambda: empty_table("unsubscribes"))
    # Partners rows with an error, what could be read of them and `problem`: Health's `fix row`.
    fix_rows: pd.DataFrame = field(default_factory=lambda: with_problems(empty_table("partners")))


def build_tables(
    raw: RawSheet,
    today: dt.date,
    tab_titles: dict[str, str],
    date_order: str = "",
    zone: dt.tzinfo | None = None,
    survey_columns: dict[str, str] | None = None,
) -> Tables:
    """Typed tables and problems from a raw sheet, as of `today`."""
    order = date_order or raw.date_order or "MDY"
    renames = {
        normalise_header(k): normalise_header(val) for k, val in (survey_columns or {}).items()
    }
    if raw.tabs.get(tab_titles["partners"]) is None:
        raise SheetStructureError(f"tab {tab_titles['partners']!r} not found in the sheet")
    results: dict[str, TabResult] = {}
    unsubscribe_headers = dict.fromkeys(UNSUBSCRIBE_EMAIL_HEADERS, "email")
    for tab in ("partners", "referrals", "touches", "survey", "unsubscribes", "log"):
        title = tab_titles.get(tab, "")
        rows = raw.tabs.get(title) if title else None
        tab_renames = {"survey": renames, "unsubscribes": unsubscribe_headers}.get(tab, {})
        results[tab] = read_tab(tab, title, rows, order, zone, tab_renames)
        if tab != "log":
            tab_checks.check_future(results[tab], tab, title, today)

    partners = results["partners"]
    tab_checks.check_partner_duplicates(partners, tab_titles["partners"])
    known = pd.Index(partners.frame["email"])
    skipped = {e for e in partners.error_rows.values() if e} - set(known)
    for tab in ("referrals", "touches", "survey"):
        tab_checks.check_known_partner(results[tab], tab_titles[tab], known, skipped)
    tab_checks.warn_closed_on(results["referrals"], tab_titles["referrals"])

    names = set(known)
    fix_rows = tab_checks.fix_rows(partners, names)  # before the problems: it marks them `kept`
    problems, blocked = _problems_and_blocked(results)
    return Tables(
        partners=partners.frame,
        referrals=results["referrals"].frame,
        touches=results["touches"].frame,
        survey=results["survey"].frame,
        log=in_time_order(results["log"].frame, raw.tabs, tab_titles, order, zone),
        problems=problems,
        blocked={e: r for e, r in blocked.items() if e in names},
        unsubscribes=results["unsubscribes"].frame,
        fix_rows=fix_rows,
    )


def _problems_and_blocked(results: dict[str, TabResult]) -> tuple[list[Problem], dict[str, str]]:
    """Every tab's problems, and each partner blocked by a row error with the first cell to
    fix ("fix Touches!14 date (and 2 more)"); the Log and Unsubscribes block no partner."""
    problems: list[Problem] = []
    blocked: dict[str, str] = {}
    counts: dict[str, int] = {}
    for tab in ("partners", "referrals", "touches", "survey", "unsubscribes", "log"):
        for p in results[tab].problems:
            problems.append(p)
            if p.severity == "error" and p.partner_email and tab not in ("log", "unsubscribes"):
                counts[p.partner_email] = counts.get(p.partner_email, 0) + 1
                blocked.setdefault(p.partner_email, f"fix {p.cell}")
    for email, n in counts.items():
        if n > 1:
            blocked[email] += f" (and {n - 1} more)"
    return problems, blocked
