"""The Log in time order: a key's state is its row latest in time, never its last row, so a
user who sorts the Log (newest first, by partner) changes no decision (ARCHITECTURE.md, "The
second step": nothing depends on the order of the user's Log rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

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
    moments = [_moment(rows, int(n), at, order, zone) for n in log["row"]]
    keys = pd.DataFrame(
        {
            "moment": pd.Series(moments, index=log.index, dtype="datetime64[ns]"),
            "later": log["status"].map(_LATER_IN_LIFE).fillna(0).to_numpy(),
            "row": log["row"].to_numpy(),
        },
        index=log.index,
    )
    keys["moment"] = keys["moment"].fillna(log["timestamp"])
    ordered = keys.sort_values(["moment", "later", "row"], kind="stable").index
    if ordered.equals(log.index):
        return log
    return log.loc[ordered].reset_index(drop=True)


def _moment(
    rows: Sequence[Sequence[Any]], n: int, at: int, order: str, zone: dt.tzinfo | None
) -> dt.datetime | None:
    """The moment sheet row `n` names (naive, in `zone`), or None when it names none."""
    row = rows[n - 1] if 0 < n <= len(rows) else ()
    cell = row[at] if at < len(row) else None
    try:
        return v.parse_timestamp(cell, order, zone)
    except ValueProblem:
        return None
