"""Cells to typed columns: header names, one parser per column kind, typed frames.

Value normalisation follows SHEET.md; each distinct value of a column is parsed once.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from automations.core import values as v
from automations.core.schema import (
    DAY_ZERO,
    FIRST_DAY,
    FOREVER_WORDS,
    LAST_DAY,
    SCHEMAS,
    Column,
)
from automations.errors import ValueProblem


def normalise_header(text: object) -> str:
    """`Partner Email` -> `partner_email`, `Referral fee %` -> `referral_fee_pct` (SHEET.md)."""
    s = v.parse_text(text).lower().replace("%", " pct")
    return re.sub(r"[\s\-_]+", "_", s).strip("_")


def column_parser(col: Column, order: str, zone: dt.tzinfo | None) -> Callable[[Any], Any]:
    """The parser of one cell of `col`, by its kind (SHEET.md, value normalisation)."""
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


def parse_column(
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


def blank_row(cells: Sequence[Any]) -> bool:
    """Whether every cell of a row is blank (one call per row, not per cell)."""
    for cell in cells:
        if cell is None or cell == "":
            continue
        if not v.is_blank(cell):
            return False
    return True


def ordinals_to_datetimes(ords: Sequence[int | None]) -> pd.Series:
    """Date ordinals (None for blank) as a datetime64 Series."""
    return pd.Series(_days(ords))


def _days(ords: Sequence[int | None]) -> np.ndarray:
    """Date ordinals (None for blank) as a datetime64[ns] array (NaT for blank)."""
    arr = np.array([np.nan if o is None else o for o in ords], dtype="float64")
    days = arr - dt.date(1970, 1, 1).toordinal()
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(days)
    out[ok] = (DAY_ZERO + days[ok].astype("int64")).astype("datetime64[ns]")
    return out


_KINDS = {tab: {c.name: c.kind for c in columns} for tab, columns in SCHEMAS.items()}


def empty_table(tab: str) -> pd.DataFrame:
    """A typed table of `tab` with no rows."""
    return _empty(tab).copy()  # a copy: a caller may add columns to its own


@functools.cache
def _empty(tab: str) -> pd.DataFrame:
    return typed_frame(tab, {c.name: [] for c in SCHEMAS[tab]}, [])


def typed_frame(tab: str, data: dict[str, list[Any]], rows: list[int]) -> pd.DataFrame:
    """Parsed columns of `tab` as a table of their kinds' dtypes, with the sheet `row` first."""
    if "row" in data:  # as before: a sheet column headed `Row` clashes with the sheet row number
        raise ValueError("cannot insert row, already exists")
    kinds = _KINDS[tab]
    # Plain arrays where the dtype is known: one frame built, not a Series per column to
    # align. Text stays a Series of object dtype (an object array would become pandas' str),
    # on the frame's own index, which spares pandas aligning it.
    index = pd.RangeIndex(len(rows))
    cols: dict[str, Any] = {"row": np.array(rows, dtype="int64")}
    for name, values in data.items():
        kind = kinds.get(name, "text")
        if kind in ("date", "until", "logtime"):
            cols[name] = _days(values)
        elif kind == "timestamp":
            cols[name] = pd.Series(
                pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ns]"
            )
        elif kind in ("amount", "percent", "rating", "whole"):
            cols[name] = np.array(values, dtype="float64")
        elif kind == "bool":
            cols[name] = np.array(values, dtype="bool")
        else:
            text = ["" if x is None else x for x in values]
            cols[name] = pd.Series(text, dtype=object, index=index)
    return pd.DataFrame(cols, index=index)
