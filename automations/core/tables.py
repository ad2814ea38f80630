"""From raw tabs (rows of cells) to typed tables and a list of row problems.

Header matching and value normalisation follow SHEET.md. A row with an error
is skipped and reported once as `Tab!row column: message`; the partner it
belongs to is blocked for the run with a reason that names the row, except
that a partner whose own Partners row has the error is set aside whole
(`Tables.fix_rows`): Health keeps it as `fix row` (RULES.md, "Rows with a problem").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from automations.core import values as v
from automations.core.log_order import in_time_order
from automations.core.schema import (
    DAY_ZERO,
    FIRST_DAY,
    FOREVER_WORDS,
    LAST_DAY,
    LINKED_COLUMNS,
    NOT_BLANK,
    NOT_IN_FUTURE,
    SCHEMAS,
    STOP_IF_MISSING,
    UNSUBSCRIBE_EMAIL_HEADERS,
    Column,
)
from automations.errors import SheetStructureError, ValueProblem


@dataclass(frozen=True)
class Problem:
    """A problem with one row (or a whole tab), as the user sees it in the sheet."""

    tab: str
    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error": row skipped; "warning": row kept or tab set aside
    partner_email: str | None = None
    kept: bool = False  # a Partners row kept in Health as `fix row` (never emailed)

    def __str__(self) -> str:
        where = self.tab if self.row is None else f"{self.tab}!{self.row}"
        return (
            f"{where} {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )

    @property
    def cell(self) -> str:
        """`Tab!row column`, as a block reason says it: "fix Touches!14 date"."""
        where = self.tab if self.row is None else f"{self.tab}!{self.row}"
        return f"{where} {self.column}" if self.column else where


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
    fix_rows: pd.DataFrame = field(default_factory=lambda: _with_problems(empty_table("partners")))


def normalise_header(text: object) -> str:
    """`Partner Email` -> `partner_email`, `Referral fee %` -> `referral_fee_pct`."""
    s = v.parse_text(text).lower().replace("%", " pct")
    return re.sub(r"[\s\-_]+", "_", s).strip("_")


def _parser(col: Column, order: str, zone: dt.tzinfo | None) -> Callable[[Any], Any]:
    kind = col.kind
    if kind == "text":
        return v.parse_text
    if kind == "email":
        return v.parse_email
    if kind in ("date", "logtime"):
        return lambda x: _ordinal(_held(v.parse_date(x, order, zone)))
    if kind == "until":
        return lambda x: _ordinal(_until(x, order, zone))
    if kind == "timestamp":
        return lambda x: _held_moment(v.parse_timestamp(x, order, zone))
    if kind == "amount":
        return v.parse_amount
    if kind == "percent":
        return v.parse_percent
    if kind == "bool":
        return v.parse_bool
    if kind == "rating":
        return v.parse_rating
    if kind == "whole":
        return v.parse_whole
    if kind == "enum":
        return lambda x: v.parse_enum(x, col.choices, col.default)
    raise AssertionError(kind)


def _ordinal(day: dt.date | None) -> int | None:
    return None if day is None else day.toordinal()


def _held(day: dt.date | None) -> dt.date | None:
    """`day`, or ValueProblem when the tables cannot hold it (it would wrap round)."""
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValueProblem(
            f"{day.isoformat()} is too far {'back' if day < FIRST_DAY else 'ahead'} (the toolkit "
            f"reads dates from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}); check the year"
        )
    return day


def _held_moment(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None:
        _held(moment.date())
    return moment


def _until(value: Any, order: str, zone: dt.tzinfo | None) -> dt.date | None:
    """snooze_until: a date, or indefinitely (`never`, or a day after LAST_DAY, as far
    as the tables can say: LAST_DAY) (SHEET.md, Partners)."""
    if isinstance(value, str) and value.strip().lower() in FOREVER_WORDS:
        return LAST_DAY
    day = v.parse_date(value, order, zone)
    return LAST_DAY if day is not None and day > LAST_DAY else _held(day)


def _parse_column(
    cells: Sequence[Any], parse: Callable[[Any], Any]
) -> tuple[list[Any], dict[int, str]]:
    """Parse each distinct value once (dates and statuses repeat a lot). A value is told
    apart by its type too: 1, 1.0 and True are equal in Python, not in a cell."""
    if parse is v.parse_text:  # text is mostly distinct (keys, ids): strip, skip the cache
        return [c.strip() if type(c) is str else v.parse_text(c) for c in cells], {}
    keys = list(zip(map(type, cells), cells, strict=True))
    parsed: dict[tuple[type, Any], Any] = {}
    failed: dict[tuple[type, Any], str] = {}
    for key in dict.fromkeys(keys):
        try:
            parsed[key] = parse(key[1])
        except ValueProblem as exc:
            parsed[key] = None
            failed[key] = str(exc)
    out = [parsed[k] for k in keys]
    errors = {i: failed[k] for i, k in enumerate(keys) if k in failed} if failed else {}
    return out, errors


def _blank_row(cells: Sequence[Any]) -> bool:
    """Whether every cell of a row is blank (one call per row, not per cell)."""
    for cell in cells:
        if cell is None or cell == "":
            continue
        if not v.is_blank(cell):
            return False
    return True


def ordinals_to_datetimes(ords: Sequence[int | None]) -> pd.Series:
    """Date ordinals (None for blank) as a datetime64 Series."""
    arr = np.array([np.nan if o is None else o for o in ords], dtype="float64")
    days = arr - dt.date(1970, 1, 1).toordinal()
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(days)
    out[ok] = (DAY_ZERO + days[ok].astype("int64")).astype("datetime64[ns]")
    return pd.Series(out)


def empty_table(tab: str) -> pd.DataFrame:
    """A typed table of `tab` with no rows."""
    return _typed_frame(tab, {c.name: [] for c in SCHEMAS[tab]}, [])


def _typed_frame(tab: str, data: dict[str, list[Any]], rows: list[int]) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    kinds = {c.name: c.kind for c in SCHEMAS[tab]}
    for name, values in data.items():
        kind = kinds.get(name, "text")
        if kind in ("date", "until", "logtime"):
            cols[name] = ordinals_to_datetimes(values)
        elif kind == "timestamp":
            cols[name] = pd.Series(
                pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ns]"
            )
        elif kind in ("amount", "percent", "rating", "whole"):
            cols[name] = pd.Series(values, dtype="float64")
        elif kind == "bool":
            cols[name] = pd.Series(values, dtype="bool")
        else:
            cols[name] = pd.Series(["" if x is None else x for x in values], dtype=object)
    frame = pd.DataFrame(cols)
    frame.insert(0, "row", pd.Series(rows, dtype="int64"))
    return frame


@dataclass
class _TabResult:
    frame: pd.DataFrame
    problems: list[Problem]
    error_rows: dict[int, str | None]  # sheet row -> partner email of that row (if readable)
    aside: list[pd.DataFrame] = field(default_factory=list)  # Partners rows with an error


def _with_problems(frame: pd.DataFrame, problems: Sequence[str] = ()) -> pd.DataFrame:
    return frame.assign(problem=pd.Series(list(problems), index=frame.index, dtype=object))


def _set_aside(
    tab: str, data: dict[str, list[Any]], raw_emails: Sequence[Any], bad: list[int], rows: list[int]
) -> pd.DataFrame:
    """The Partners rows with an error, as far as they can be read: a bad cell is blank,
    but an unreadable email stays as typed so that the user can tell the partner by it."""
    picked = {name: [values[i] for i in bad] for name, values in data.items()}
    picked["email"] = [picked["email"][n] or v.parse_text(raw_emails[i]) for n, i in enumerate(bad)]
    return _typed_frame(tab, picked, [rows[i] for i in bad])


def _read_tab(
    tab: str,
    title: str,
    rows: list[list[Any]] | None,
    order: str,
    zone: dt.tzinfo | None,
    renames: dict[str, str],
) -> _TabResult:
    schema = SCHEMAS[tab]
    if not rows or _blank_row(rows[0]):
        return _TabResult(empty_table(tab), [], {})
    headers = [renames.get(normalise_header(h), normalise_header(h)) for h in rows[0]]
    positions: dict[str, int] = {}
    for i, h in enumerate(headers):
        if h and h not in positions:
            positions[h] = i
    missing = [c.name for c in schema if c.required and c.name not in positions]
    if missing:
        names = ", ".join(missing)
        message = f"required column {names} is missing (the header row is row 1)"
        if tab in STOP_IF_MISSING:
            raise SheetStructureError(f"{title}: {message}")
        return _TabResult(
            empty_table(tab),
            [Problem(title, None, names, message + "; tab set aside", "warning")],
            {},
        )

    width = len(headers)
    body: list[list[Any]] = []
    sheet_rows: list[int] = []
    for n, raw in enumerate(rows[1:], start=2):
        if _blank_row(raw):
            continue
        body.append(raw if len(raw) == width else [*raw[:width], *[None] * (width - len(raw))])
        sheet_rows.append(n)
    columns = list(zip(*body, strict=True)) if body else [() for _ in range(width)]

    problems: list[Problem] = []
    row_errors: dict[int, list[tuple[str, str]]] = {}
    data: dict[str, list[Any]] = {}
    known = {c.name for c in schema}
    for col in schema:
        if col.name not in positions:
            data[col.name] = [None if col.kind != "enum" else col.default] * len(body)
            if col.kind == "bool":
                data[col.name] = [False] * len(body)
            continue
        parsed, errors = _parse_column(columns[positions[col.name]], _parser(col, order, zone))
        data[col.name] = parsed
        for i, msg in errors.items():
            row_errors.setdefault(i, []).append((col.name, msg))
    for name in NOT_BLANK[tab]:
        if name in positions:
            blank = [i for i, value in enumerate(data[name]) if value is None or value == ""]
            for i in blank:
                if not any(c == name for c, _ in row_errors.get(i, [])):
                    row_errors.setdefault(i, []).append((name, "is blank; it is required"))
    for name, pos in positions.items():
        if name not in known and not (tab == "partners" and name in LINKED_COLUMNS):
            data[name] = _parse_column(columns[pos], v.parse_text)[0]

    email_col = "email" if tab in ("partners", "unsubscribes") else "partner_email"
    error_rows: dict[int, str | None] = {}
    for i in sorted(row_errors):
        email = data[email_col][i] if data[email_col][i] else None
        for column, msg in row_errors[i]:
            problems.append(Problem(title, sheet_rows[i], column, msg, "error", email))
        error_rows[sheet_rows[i]] = email
    aside = []
    if row_errors:
        if tab == "partners":
            raw_emails = columns[positions["email"]]
            aside.append(_set_aside(tab, data, raw_emails, sorted(row_errors), sheet_rows))
        keep = [i for i in range(len(body)) if i not in row_errors]
        data = {name: [vals[i] for i in keep] for name, vals in data.items()}
        sheet_rows = [sheet_rows[i] for i in keep]
    frame = _typed_frame(tab, data, sheet_rows)
    return _TabResult(frame, problems, error_rows, aside)


def _drop(result: _TabResult, mask: pd.Series, problems: list[Problem], aside: bool) -> None:
    """Skip the rows in `mask`, recording each one's problem (and, with `aside`, the rows)."""
    for p in problems:
        result.problems.append(p)
        result.error_rows[p.row or 0] = p.partner_email
    if aside:
        result.aside.append(result.frame.loc[mask])
    result.frame = result.frame.loc[~mask].reset_index(drop=True)


def _records(frame: pd.DataFrame, mask: pd.Series, columns: list[str]) -> list[dict[str, Any]]:
    """The chosen rows as plain dicts (only rows with a problem: a handful)."""
    rows: list[dict[str, Any]] = frame.loc[mask, columns].to_dict("records")  # type: ignore[assignment]
    return rows


def _check_future(result: _TabResult, tab: str, title: str, today: dt.date) -> None:
    frame = result.frame
    limit = pd.Timestamp(today) + pd.Timedelta(days=1)
    email_col = "email" if tab in ("partners", "unsubscribes") else "partner_email"
    bad = pd.Series(False, index=frame.index)
    problems = []
    for name in NOT_IN_FUTURE.get(tab, ()):
        late = frame[name] >= limit
        for rec in _records(frame, late & ~bad, ["row", name, email_col]):
            when = rec[name].date().isoformat()
            message = f"{when} is in the future (today is {today.isoformat()})"
            problems.append(
                Problem(title, int(rec["row"]), name, message, "error", rec[email_col] or None)
            )
        bad |= late
    if problems:
        _drop(result, bad, problems, aside=tab == "partners")


def _check_partner_duplicates(result: _TabResult, title: str) -> None:
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


def _check_known_partner(
    result: _TabResult, title: str, known: pd.Index, skipped: set[str]
) -> None:
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


def _warn_closed_on(result: _TabResult, title: str) -> None:
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
    results: dict[str, _TabResult] = {}
    unsubscribe_headers = dict.fromkeys(UNSUBSCRIBE_EMAIL_HEADERS, "email")
    for tab in ("partners", "referrals", "touches", "survey", "unsubscribes", "log"):
        title = tab_titles.get(tab, "")
        rows = raw.tabs.get(title) if title else None
        tab_renames = {"survey": renames, "unsubscribes": unsubscribe_headers}.get(tab, {})
        results[tab] = _read_tab(tab, title, rows, order, zone, tab_renames)
        if tab != "log":
            _check_future(results[tab], tab, title, today)

    partners = results["partners"]
    _check_partner_duplicates(partners, tab_titles["partners"])
    known = pd.Index(partners.frame["email"])
    skipped = {e for e in partners.error_rows.values() if e} - set(known)
    for tab in ("referrals", "touches", "survey"):
        _check_known_partner(results[tab], tab_titles[tab], known, skipped)
    _warn_closed_on(results["referrals"], tab_titles["referrals"])

    names = set(known)
    fix_rows = _fix_rows(partners, names)
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


def _fix_rows(partners: _TabResult, known: set[str]) -> pd.DataFrame:
    """The Partners rows set aside, one per partner, each with its problems in one sentence;
    their problems are marked `kept`. A row whose email another (valid or earlier) row has
    is not a second partner: the other row stands for it, as with duplicates."""
    if not partners.aside:
        return _with_problems(empty_table("partners"))
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
    return _with_problems(aside, ["; ".join(said[r]) for r in aside["row"]])
