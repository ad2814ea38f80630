"""The Log in time order: a key's state is its row latest in time, never its last row, so a
user who sorts the Log (newest first, by partner) changes no decision (ARCHITECTURE.md, "The
second step": nothing depends on the order of the user's Log rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from automations.core import values as v
from automations.core.vocabulary import Status
from automations.errors import ValueProblem

# Two rows of one key in the same second (the Log keeps seconds): the one a key moves to
# later in its life comes after (EMAIL.md, at most once: proposed, then a try, then its end).
_LATER_IN_LIFE = {
    Status.PROPOSED: 1,
    Status.PENDING: 2,
    Status.WRITTEN: 3,
    Status.UNCERTAIN: 4,
    Status.FAILED: 5,
    Status.SENT: 6,
    Status.SKIPPED: 6,
    Status.WITHDRAWN: 6,
}


def in_time_order(
    log: pd.DataFrame,
    tabs: Mapping[str, Sequence[Sequence[Any]] | None],
    titles: Mapping[str, str],
    order: str,
    zone: dt.tzinfo | None,
) -> pd.DataFrame:
    """`log` (the typed Log, one `row` per row of the Log in `tabs`) sorted by the moment each row's
    timestamp names, to the second, then by the status a key reaches later (SHEET.md, Log)."""
    rows = tabs.get(titles.get("log", ""))
    if log.empty or not rows:
        return log
    header = [str(h).strip().lower() for h in rows[0]]
    at = header.index("timestamp") if "timestamp" in header else 0
    moments = _moments(rows, log["row"].tolist(), at, order, zone)
    keys = pd.DataFrame(
        {
            "moment": pd.Series(moments, index=log.index, dtype="datetime64[ns]"),
            "later": log["status"].map(_LATER_IN_LIFE).fillna(0).to_numpy(),
            "row": log["row"].to_numpy(),
        },
        index=log.index,
    )
    keys["moment"] = keys["moment"].fillna(log["timestamp"])
    if _in_order(keys):  # the usual Log, appended as time went: the sort would keep it
        return log
    ordered = keys.sort_values(["moment", "later", "row"], kind="stable").index
    if ordered.equals(log.index):
        return log
    return log.loc[ordered].reset_index(drop=True)


def _moments(
    rows: Sequence[Sequence[Any]], numbers: list[int], at: int, order: str, zone: dt.tzinfo | None
) -> list[dt.datetime | None]:
    """The moment each sheet row in `numbers` names (naive, in `zone`), None where it names
    none; each distinct cell parsed once (a run's rows often share their second)."""
    parsed: dict[tuple[type, Any], dt.datetime | None] = {}
    out: list[dt.datetime | None] = []
    for n in numbers:
        row = rows[n - 1] if 0 < n <= len(rows) else ()
        cell = row[at] if at < len(row) else None
        key = (type(cell), cell)  # 1, 1.0 and True are equal in Python, not in a cell
        if key not in parsed:
            parsed[key] = _moment(cell, order, zone)
        out.append(parsed[key])
    return out


def _moment(cell: Any, order: str, zone: dt.tzinfo | None) -> dt.datetime | None:
    """The moment a Log cell names, or None when it names none."""
    try:
        return v.parse_timestamp(cell, order, zone)
    except ValueProblem:
        return None


def _in_order(keys: pd.DataFrame) -> bool:
    """Whether the rows already stand sorted by moment, then `later`, then row (each row
    no earlier than the one above it); False when a moment is missing (pandas places it)."""
    moment = keys["moment"].to_numpy(dtype="datetime64[ns]")
    if np.isnat(moment).any():
        return False
    m, later, row = moment.view("int64"), keys["later"].to_numpy(), keys["row"].to_numpy()
    m0, m1, l0, l1 = m[:-1], m[1:], later[:-1], later[1:]
    after = (m0 < m1) | ((m0 == m1) & ((l0 < l1) | ((l0 == l1) & (row[:-1] <= row[1:]))))
    return bool(after.all())
