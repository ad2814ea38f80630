"""Columns as numpy arrays: day numbers, per-partner group max/min/sum, the log view, keys.

Every fact is a numpy array aligned with the Partners table. Days are whole
day numbers (days since 1970-01-01) as floats, NaN where there is none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automations.core.schema import LAST_DAY, SURVEY_ITEMS
from automations.core.vocabulary import SEND_OUTCOMES, Status, delivered

NAT = np.iinfo("int64").min


def day_numbers(s: pd.Series) -> np.ndarray:
    """A datetime Series as float day numbers (NaN for blank)."""
    ints = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").view("int64")
    out = ints.astype("float64")
    out[ints == NAT] = np.nan
    return out


def day_number(day: dt.date) -> int:
    """A date as a day number."""
    return (day - dt.date(1970, 1, 1)).days


def iso_dates(days: np.ndarray) -> np.ndarray:
    """Day numbers as ISO date strings (empty string for NaN)."""
    out = np.full(len(days), "", dtype=object)
    ok = ~np.isnan(days)
    if ok.any():
        # Few distinct days in many rows: format each distinct day once.
        unique, inverse = np.unique(days[ok].astype("int64"), return_inverse=True)
        text = np.datetime_as_string(unique.astype("datetime64[D]"), unit="D").astype(object)
        out[ok] = text[inverse]
    return out


def snoozed(days: np.ndarray) -> np.ndarray:
    """`snoozed until 2027-01-10`, or `snoozed indefinitely` for the farthest day the tables
    hold (`never`, or a day after it, in snooze_until) (RULES.md, Snooze)."""
    forever = days >= day_number(LAST_DAY)
    return np.where(forever, "snoozed indefinitely", "snoozed until " + iso_dates(days))


def group_max(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-partner maximum of `values` (NaN where a partner has none)."""
    out = np.full(n, -np.inf)
    ok = ~np.isnan(values)
    np.maximum.at(out, codes[ok], values[ok])
    out[np.isneginf(out)] = np.nan
    return out


def group_min(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-partner minimum of `values` (NaN where a partner has none)."""
    out = np.full(n, np.inf)
    ok = ~np.isnan(values)
    np.minimum.at(out, codes[ok], values[ok])
    out[np.isposinf(out)] = np.nan
    return out


def group_sum(codes: np.ndarray, weights: np.ndarray | None, n: int) -> np.ndarray:
    """Per-partner sum (or count when `weights` is None)."""
    return np.bincount(codes, weights=weights, minlength=n).astype("float64")


def nanmax(*arrays: np.ndarray) -> np.ndarray:
    """Element-wise maximum ignoring NaN (NaN only where all are NaN)."""
    stacked = np.vstack(arrays)
    out = np.full(stacked.shape[1], np.nan)
    ok = ~np.all(np.isnan(stacked), axis=0)
    out[ok] = np.nanmax(stacked[:, ok], axis=0)
    return out


def nanmin(*arrays: np.ndarray) -> np.ndarray:
    """Element-wise minimum ignoring NaN (NaN only where all are NaN)."""
    stacked = np.vstack(arrays)
    out = np.full(stacked.shape[1], np.nan)
    ok = ~np.all(np.isnan(stacked), axis=0)
    out[ok] = np.nanmin(stacked[:, ok], axis=0)
    return out


@dataclass
class LogView:
    """The log, reduced to what decisions need, with partner codes."""

    code: np.ndarray
    day: np.ndarray
    action: np.ndarray
    status: np.ndarray
    key: pd.Series
    message_id: np.ndarray
    subject: np.ndarray
    detail: np.ndarray
    handled_keys: pd.Index
    sent_mask: np.ndarray  # emails the partner received (or may have)
    handled_mask: np.ndarray


def at_codes(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """values[code] for each row's partner code; NaN where the row has no partner (-1),
    also when there are no partners at all (an empty Partners tab beside a Log)."""
    out = np.full(len(codes), np.nan)
    ok = codes >= 0
    out[ok] = values[codes[ok]]
    return out


def log_view(log: pd.DataFrame, emails: pd.Index, count_written: bool) -> LogView:
    """Index the log by partner and work out which keys are handled."""
    sent_statuses = list(delivered(count_written))
    handled_statuses = [*sent_statuses, Status.SKIPPED, Status.WITHDRAWN]
    status = log["status"].to_numpy(dtype=object)
    keys = log["key"].astype(object)
    # The latest outcome of a key is its state: `partners resolve KEY --retry` appends a
    # `failed` row after the `uncertain` one, and an smtp `sent` follows an outbox `written`.
    outcome = np.isin(status, SEND_OUTCOMES) & (keys.to_numpy(dtype=object) != "")
    superseded = np.zeros(len(status), dtype=bool)
    if outcome.any():
        later = pd.Series(keys[outcome].to_numpy(dtype=object)).duplicated(keep="last")
        superseded[np.flatnonzero(outcome)[later.to_numpy()]] = True
    sent = np.isin(status, sent_statuses) & ~superseded
    handled = np.isin(status, handled_statuses) & ~superseded
    return LogView(
        code=emails.get_indexer(pd.Index(log["partner_email"])),
        day=day_numbers(log["timestamp"]),
        action=log["action"].to_numpy(dtype=object),
        status=status,
        key=keys,
        message_id=log["message_id"].to_numpy(dtype=object),
        subject=log["subject"].to_numpy(dtype=object),
        detail=log["detail"].to_numpy(dtype=object),
        handled_keys=pd.Index(keys[handled].unique()),
        sent_mask=sent,
        handled_mask=handled,
    )


def survey_table(
    survey: pd.DataFrame, emails: pd.Index, owners: np.ndarray, sender_email: str, today: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The partner's view and the self-assessments, with average, minimum and age per response."""
    code = emails.get_indexer(pd.Index(survey["partner_email"]))
    items = survey[list(SURVEY_ITEMS)].to_numpy(dtype="float64")
    answered = ~np.isnan(items).all(axis=1)
    with np.errstate(all="ignore"):
        avg = np.where(answered, np.nanmean(np.where(answered[:, None], items, 0), axis=1), np.nan)
        low = np.where(answered, np.nanmin(np.where(answered[:, None], items, 0), axis=1), np.nan)
    respondent = survey["respondent"].to_numpy(dtype=object)
    owner_of_row = owners[code] if len(code) else np.array([], dtype=object)
    is_self = (respondent != "") & ((respondent == owner_of_row) | (respondent == sender_email))
    day = day_numbers(survey["timestamp"])
    lowest = np.nanargmin(np.where(np.isnan(items), np.inf, items), axis=1) if len(items) else []
    # One frame built whole (each added column would copy it again).
    frame = pd.DataFrame(
        {
            "code": code,
            "day": day,
            "moment": survey["timestamp"].to_numpy(),
            "avg": avg,
            "low": low,
            "answered": answered,
            "self": is_self,
            "age": today - day,
            **{item: items[:, i].copy() for i, item in enumerate(SURVEY_ITEMS)},
            "low_item": np.array(SURVEY_ITEMS, dtype=object)[lowest] if len(items) else [],
        }
    )
    frame = frame[frame["answered"] & (frame["code"] >= 0)]
    return frame[~frame["self"]], frame[frame["self"]]


def latest_per_partner(frame: pd.DataFrame, order_by: str) -> pd.DataFrame:
    """The last row of each partner by `order_by`, indexed by partner code."""
    if frame.empty:
        return frame.set_index("code")
    ordered = frame.sort_values(["code", order_by], kind="stable")
    return ordered.drop_duplicates("code", keep="last").set_index("code")


def quarter_start(day: dt.date) -> dt.date:
    """The first day of `day`'s calendar quarter."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_starts(days: np.ndarray) -> np.ndarray:
    """The first day (a day number) of each day's calendar quarter; NaN stays NaN."""
    out = np.full(len(days), np.nan)
    ok = ~np.isnan(days)
    months = days[ok].astype("int64").astype("datetime64[D]").astype("datetime64[M]")
    number = months.astype("int64")
    first = (number - number % 3).astype("datetime64[M]").astype("datetime64[D]")
    out[ok] = first.astype("int64")
    return out


def next_quarter_start(day: dt.date) -> dt.date:
    """The first day of the calendar quarter after `day`'s."""
    q = (day.month - 1) // 3
    return dt.date(day.year + 1, 1, 1) if q == 3 else dt.date(day.year, 3 * (q + 1) + 1, 1)


def uncertain_keys(log: pd.DataFrame) -> list[str]:
    """Keys whose latest outcome in the log is `uncertain` (waiting for `partners resolve`)."""
    outcome = log[log["status"].isin(SEND_OUTCOMES) & (log["key"] != "")]
    latest = outcome.drop_duplicates("key", keep="last")
    return latest.loc[latest["status"] == Status.UNCERTAIN, "key"].tolist()


def date_of(day: float) -> dt.date:
    """One day number as a date."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def dates_of(days: np.ndarray) -> np.ndarray:
    """Day numbers as datetime64[ns] values (NaT for NaN)."""
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(days)
    out[ok] = days[ok].astype("int64").astype("datetime64[D]").astype("datetime64[ns]")
    return out
