"""One tab's rows to a typed table: match the headers, parse each column, skip the rows
with an error and say why (SHEET.md; RULES.md, "Rows with a problem")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from automations.core import values as v
from automations.core.schema import (
    LINKED_COLUMNS,
    NOT_BLANK,
    SCHEMAS,
    STOP_IF_MISSING,
    column_letter,
)
from automations.core.tab_values import (
    blank_row,
    column_parser,
    empty_table,
    normalise_header,
    parse_column,
    typed_frame,
)
from automations.errors import SheetStructureError

# Each row's problems while a tab is read: row index in the body -> (column, message).
RowErrors = dict[int, list[tuple[str, str]]]


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


@dataclass
class TabResult:
    """One tab as read: its typed rows, its problems, and the rows skipped for an error."""

    frame: pd.DataFrame
    problems: list[Problem]
    error_rows: dict[int, str | None]  # sheet row -> partner email of that row (if readable)
    aside: list[pd.DataFrame] = field(default_factory=list)  # Partners rows with an error


def with_problems(frame: pd.DataFrame, problems: Sequence[str] = ()) -> pd.DataFrame:
    """`frame` with a `problem` column: Health's `fix row` says what to fix (RULES.md)."""
    return frame.assign(problem=pd.Series(list(problems), index=frame.index, dtype=object))


def email_column(tab: str) -> str:
    """The column that names the partner of a row of `tab` (SHEET.md)."""
    return "email" if tab in ("partners", "unsubscribes") else "partner_email"


def read_tab(
    tab: str,
    title: str,
    rows: list[list[Any]] | None,
    order: str,
    zone: dt.tzinfo | None,
    renames: dict[str, str],
) -> TabResult:
    """The tab `tab` (titled `title` in the sheet) as a typed table (SHEET.md)."""
    if not rows or blank_row(rows[0]):
        return TabResult(empty_table(tab), [], {})
    headers = [renames.get(normalise_header(h), normalise_header(h)) for h in rows[0]]
    positions, doubles = _positions(title, rows[0], headers)
    missing = [c.name for c in SCHEMAS[tab] if c.required and c.name not in positions]
    if missing:
        return _without_required(tab, title, missing)
    unread = _set_aside_reserved(tab, title, rows[0], positions)
    body, sheet_rows = _body(rows, len(headers))
    columns = list(zip(*body, strict=True)) if body else [() for _ in range(len(headers))]
    data, row_errors = _parse(tab, positions, columns, len(body), order, zone)
    kept = _unsubscribes_kept(title, data, row_errors, sheet_rows) if tab == "unsubscribes" else []
    result = _skip_error_rows(tab, title, data, row_errors, sheet_rows)
    result.problems[:0] = doubles + unread + kept
    if row_errors and tab == "partners":
        raw_emails = columns[positions["email"]]
        result.aside.append(_set_aside(tab, data, raw_emails, sorted(row_errors), sheet_rows))
    return result


def _positions(
    title: str, header: list[Any], names: list[str]
) -> tuple[dict[str, int], list[Problem]]:
    """Each matched header name's column (the first of that name), and a warning for each
    later column of a name already taken: it is not read, so the user must hear of it."""
    positions: dict[str, int] = {}
    doubles = []
    for i, name in enumerate(names):
        if name and name in positions:
            first, typed = str(header[positions[name]]).strip(), str(header[i]).strip()
            doubles.append(
                Problem(
                    title,
                    None,
                    typed,
                    f"column {column_letter(i)} is not read: column {column_letter(positions[name])} "
                    f"({first!r}) has the same header once matched ({name!r}) and is read; "
                    "rename one of them, or merge them into one",
                    "warning",
                )
            )
        elif name:
            positions[name] = i
    return positions, doubles


# Columns the toolkit adds to every table itself: the sheet row's number, and Health's
# `fix row` problem. A column of the user's with one of these headers is not read.
RESERVED_COLUMNS = ("row", "problem")


def _set_aside_reserved(
    tab: str, title: str, header: list[Any], positions: dict[str, int]
) -> list[Problem]:
    """Drop from `positions` a user column whose header names a column the toolkit adds
    itself (`Row`, `Problem`), with a warning that says so; the rest of the tab is read."""
    known = {c.name for c in SCHEMAS[tab]}
    problems = []
    for name in RESERVED_COLUMNS:
        if name in positions and name not in known:
            typed = str(header[positions.pop(name)]).strip()
            problems.append(
                Problem(
                    title,
                    None,
                    typed,
                    f"column {typed!r} is not read: the toolkit keeps a {name!r} of its own; "
                    f"rename the column (for example {typed + ' note'!r}) to use it in templates",
                    "warning",
                )
            )
    return problems


def _without_required(tab: str, title: str, missing: list[str]) -> TabResult:
    """A tab without a required column: the run stops (Partners, Log) or the tab is set aside."""
    names = ", ".join(missing)
    message = f"required column {names} is missing (the header row is row 1)"
    if tab in STOP_IF_MISSING:
        raise SheetStructureError(f"{title}: {message}")
    return TabResult(
        empty_table(tab),
        [Problem(title, None, names, message + "; tab set aside", "warning")],
        {},
    )


def _body(rows: list[list[Any]], width: int) -> tuple[list[list[Any]], list[int]]:
    """The rows under the header that are not blank, each `width` cells long, and their
    sheet row numbers (a blank row in the middle is skipped, the numbers stay true)."""
    body: list[list[Any]] = []
    sheet_rows: list[int] = []
    for n, raw in enumerate(rows[1:], start=2):
        if blank_row(raw):
            continue
        body.append(raw if len(raw) == width else [*raw[:width], *[None] * (width - len(raw))])
        sheet_rows.append(n)
    return body, sheet_rows


def _parse(
    tab: str,
    positions: dict[str, int],
    columns: Sequence[Sequence[Any]],
    count: int,
    order: str,
    zone: dt.tzinfo | None,
) -> tuple[dict[str, list[Any]], RowErrors]:
    """Every column of the schema parsed (a missing optional one at its default), the other
    columns as text, and each row's problems."""
    schema = SCHEMAS[tab]
    row_errors: RowErrors = {}
    data: dict[str, list[Any]] = {}
    for col in schema:
        if col.name not in positions:
            data[col.name] = [None if col.kind != "enum" else col.default] * count
            if col.kind == "bool":
                data[col.name] = [False] * count
            continue
        parse = column_parser(col, order, zone)
        parsed, errors = parse_column(columns[positions[col.name]], parse)
        data[col.name] = parsed
        for i, msg in errors.items():
            row_errors.setdefault(i, []).append((col.name, msg))
    for name in NOT_BLANK[tab]:
        if name in positions:
            blank = [i for i, value in enumerate(data[name]) if value is None or value == ""]
            for i in blank:
                if not any(c == name for c, _ in row_errors.get(i, [])):
                    row_errors.setdefault(i, []).append((name, "is blank; it is required"))
    known = {c.name for c in schema}
    for name, pos in positions.items():
        if name not in known and not (tab == "partners" and name in LINKED_COLUMNS):
            data[name] = parse_column(columns[pos], v.parse_text)[0]
    return data, row_errors


def _unsubscribes_kept(
    title: str, data: dict[str, list[Any]], row_errors: RowErrors, sheet_rows: list[int]
) -> list[Problem]:
    """An unsubscribe whose only fault is its time still blocks its address, as one typed
    without a time does (SHEET.md, Unsubscribes): skipping it would email someone who asked
    not to be. Each such row is kept, its time blank, with a warning naming the cell."""
    warnings = []
    for i in sorted(row_errors):
        if all(column == "timestamp" for column, _ in row_errors[i]):
            for column, msg in row_errors.pop(i):
                warnings.append(
                    Problem(
                        title,
                        sheet_rows[i],
                        column,
                        f"{msg}; the address is blocked all the same, as of today",
                        "warning",
                        data["email"][i] or None,
                    )
                )
            data["timestamp"][i] = None
    return warnings


def _skip_error_rows(
    tab: str, title: str, data: dict[str, list[Any]], row_errors: RowErrors, sheet_rows: list[int]
) -> TabResult:
    """The table without the rows that have an error, each error a Problem naming its cell."""
    email_col = email_column(tab)
    problems: list[Problem] = []
    error_rows: dict[int, str | None] = {}
    for i in sorted(row_errors):
        email = data[email_col][i] if data[email_col][i] else None
        for column, msg in row_errors[i]:
            problems.append(Problem(title, sheet_rows[i], column, msg, "error", email))
        error_rows[sheet_rows[i]] = email
    if row_errors:
        keep = [i for i in range(len(sheet_rows)) if i not in row_errors]
        data = {name: [vals[i] for i in keep] for name, vals in data.items()}
        sheet_rows = [sheet_rows[i] for i in keep]
    return TabResult(typed_frame(tab, data, sheet_rows), problems, error_rows)


def _set_aside(
    tab: str, data: dict[str, list[Any]], raw_emails: Sequence[Any], bad: list[int], rows: list[int]
) -> pd.DataFrame:
    """The Partners rows with an error, as far as they can be read: a bad cell is blank,
    but an unreadable email stays as typed so that the user can tell the partner by it."""
    picked = {name: [values[i] for i in bad] for name, values in data.items()}
    picked["email"] = [picked["email"][n] or v.parse_text(raw_emails[i]) for n, i in enumerate(bad)]
    return typed_frame(tab, picked, [rows[i] for i in bad])
