"""The Log rows a run adds to what it read (SHEET.md, Log): the journal's rows the Log
lacks, merged in so decisions count them, `pending` read as `uncertain`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from automations.adapters.state import Entry
from automations.core.schema import LOG_COLUMNS
from automations.core.tables import RawSheet, normalise_header
from automations.core.vocabulary import Status

UNCERTAIN_DETAIL = (
    "the run sending this stopped before the server's answer was recorded; look in your Sent "
    "folder or ask the partner, then run `partners resolve KEY --sent` or `--retry`"
)


def logged_pairs(raw: RawSheet, log_title: str) -> set[tuple[str, str]]:
    """(key, status) of every row already in the Log tab."""
    rows = raw.tabs.get(log_title) or []
    if not rows:
        return set()
    header = [normalise_header(h) for h in rows[0]]
    if "key" not in header or "status" not in header:
        return set()
    k, s = header.index("key"), header.index("status")
    return {
        (str(r[k]).strip(), str(r[s]).strip().lower())
        for r in rows[1:]
        if len(r) > max(k, s) and r[k] is not None and r[s] is not None
    }


def unlogged(entries: Iterable[Entry], raw: RawSheet, log_title: str) -> list[Entry]:
    """Journal entries the Log tab lacks (a run that stopped before writing it)."""
    pairs = logged_pairs(raw, log_title)
    return [e for e in entries if (e.key, e.status) not in pairs]


def with_log_rows(raw: RawSheet, log_title: str, entries: Sequence[Entry]) -> RawSheet:
    """`raw` with `entries` appended to its Log tab, so decisions count them."""
    if not entries:
        return raw
    rows = [list(r) for r in (raw.tabs.get(log_title) or [])]
    if not rows:
        rows = [list(LOG_COLUMNS)]
    header = [normalise_header(h) for h in rows[0]]
    for column in LOG_COLUMNS:
        if column not in header:
            header.append(column)
            rows[0].append(column)
    # Each header's place in an entry's row (None: not a toolkit column), found once.
    where = [LOG_COLUMNS.index(h) if h in LOG_COLUMNS else None for h in header]
    for e in entries:
        values = e.as_row()
        rows.append([values[i] if i is not None else None for i in where])
    tabs = dict(raw.tabs)
    tabs[log_title] = rows
    return RawSheet(tabs, raw.date_order)


def as_logged(entries: Iterable[Entry]) -> list[Entry]:
    """Journal entries as the Log must read them: a `pending` key is `uncertain`."""
    return [
        e.moved(Status.UNCERTAIN, UNCERTAIN_DETAIL, e.timestamp)
        if e.status == Status.PENDING
        else e
        for e in entries
    ]
