"""One plain sentence per partner with the facts behind its action.

The facts are computed whole-table in `rules`; here each sentence is only
formatted, for the partners whose action needs it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automations.core.engine import facts as f
from automations.core.engine.rules import Rules


def _first_per_partner(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row index into Referrals of each partner's earliest item, count) aligned to partners."""
    first = np.full(n, -1, dtype="int64")
    count = np.zeros(n, dtype="int64")
    if not frame.empty:
        head = frame.sort_values(["code", "day"], kind="stable").drop_duplicates("code")
        first[head["code"].to_numpy()] = head["idx"].to_numpy()
        count = np.bincount(frame["code"].to_numpy(), minlength=n)
    return first, count


def _n(x: float) -> int:
    return int(x)


class _Referrals:
    """Referral cells looked up by row index, formatted for a sentence."""

    def __init__(self, R: pd.DataFrame) -> None:
        self.date = f.iso_dates(f.day_numbers(R["date"]))
        self.closed = f.iso_dates(f.day_numbers(R["closed_on"]))
        self.client = R["client"].to_numpy(dtype=object)
        self.status = R["status"].to_numpy(dtype=object)
        self.direction = R["direction"].to_numpy(dtype=object)
        self.day = f.day_numbers(R["date"])

    def label(self, i: int) -> str:
        """`(2026-11-02, Acme)`, or `(2026-11-02)` when the client is blank."""
        client = self.client[i]
        return f"({self.date[i]}, {client})" if client else f"({self.date[i]})"


def explain(
    P: pd.DataFrame,
    F: dict[str, np.ndarray],
    action: np.ndarray,
    partner_action: np.ndarray,
    R: pd.DataFrame,
    thanks: pd.DataFrame,
    outcomes: pd.DataFrame,
    escalations: pd.DataFrame,
    do_not_email: np.ndarray,
    refused: np.ndarray,
    blocked_rows: dict[str, str],
    rules: Rules,
) -> np.ndarray:
    """The reason column of Health."""
    n = len(P)
    T = int(F["T"][0]) if n else 0
    name = P["name"].to_numpy(dtype=object)
    email = P["email"].to_numpy(dtype=object)
    status = P["status"].to_numpy(dtype=object)
    explicit = ~np.isnan(P["cadence_days"].to_numpy(dtype="float64"))
    ref = _Referrals(R)
    out = np.full(n, "", dtype=object)

    def where(kind: str, actions: np.ndarray = partner_action) -> list[int]:
        return np.flatnonzero(actions == kind).tolist()

    first, count = _first_per_partner(thanks, n)
    for i in where("thank"):
        j = first[i]
        out[i] = (
            f"referral from {name[i]} {ref.label(j)} not thanked yet"
            if count[i] == 1
            else f"{count[i]} referrals from {name[i]} since {ref.date[j]} not thanked yet"
        )

    first, count = _first_per_partner(outcomes, n)
    for i in where("outcome"):
        j = first[i]
        out[i] = (
            f"referral {ref.label(j)} {ref.status[j]} on {ref.closed[j]}: outcome not shared yet"
            if count[i] == 1
            else f"{count[i]} referral outcomes not shared yet"
        )

    outreach = f.iso_dates(F["outreach_day"])
    for i in where("follow_up"):
        out[i] = (
            f"outreach on {outreach[i]} unanswered for {_n(T - F['outreach_day'][i])} days "
            f"(follow-up {_n(F['fu_n'][i]) + 1} of {rules.max_follow_ups})"
        )

    for i in where("fade"):
        quiet = (
            "no referrals either way yet"
            if np.isnan(F["last_referral"][i])
            else f"no referrals either way in {_n((T - F['last_referral'][i]) // 30.44)} months"
        )
        out[i] = f"{quiet}; {_n(F['unanswered'][i])} check-ins unanswered: set status to faded"

    for i in where("survey"):
        out[i] = f"active partner for {_n(F['age'][i])} days; no survey yet this quarter"

    base = F["nurture_base"]
    for i in where("nurture"):
        cadence = _n(F["cadence"][i])
        every = (
            f"(check-in every {cadence} days, set on the partner)"
            if explicit[i]
            else f"(tier {F['tier'][i]} check-in every {cadence})"
        )
        out[i] = (
            f"never checked in with {every}"
            if np.isnan(base[i])
            else f"no touch in {_n(T - base[i])} days {every}"
        )

    last_email = f.iso_dates(F["last_email"])
    next_due = f.iso_dates(F["next_due"])
    last_inbound = f.iso_dates(F["last_inbound"])
    for i in where("none"):
        if F["waiting"][i]:
            out[i] = (
                f"{F['waiting'][i]} waits: last email on {last_email[i]}; due {next_due[i]} "
                f"({rules.min_days_between_emails} days between emails)"
            )
        elif F["replied"][i]:
            out[i] = f"replied on {last_inbound[i]}: set status to active to start check-ins"
        elif F["next_kind"][i]:
            out[i] = f"next {F['next_kind'][i]} due {next_due[i]}"
        elif status[i] == "prospect":
            out[i] = "nothing due (prospects are emailed only by a campaign)"
        else:
            out[i] = "nothing due"

    refusal_day = f.iso_dates(F["blocked_day"])
    refusal_words = {"bounce": "address bounced on", "unsubscribe": "unsubscribed on"}
    for i in where("blocked"):
        if email[i] in blocked_rows:
            out[i] = blocked_rows[email[i]]
        elif do_not_email[i]:
            out[i] = "do_not_email is set: no email to this partner"
        elif refused[i]:
            words = refusal_words.get(
                F["blocked_status"][i], "address refused by the mail server on"
            )
            out[i] = f"{words} {refusal_day[i]}"
        else:
            out[i] = f"status is {status[i]}: no check-ins or surveys"

    first, count = _first_per_partner(escalations, n)
    survey_day = f.iso_dates(F["survey_day"])
    for i in where("escalate", action):
        parts = []
        j = first[i]
        if count[i]:
            word = "from" if ref.direction[j] == "received" else "to"
            more = f" (and {count[i] - 1} more)" if count[i] > 1 else ""
            parts.append(
                f"referral {word} {name[i]} {ref.label(j)} still {ref.status[j]} after "
                f"{_n(T - ref.day[j])} days{more}"
            )
        if F["esc_survey"][i]:
            parts.append(
                f"survey of {survey_day[i]} rated the partnership low "
                f"(lowest {F['survey_low'][i]:g}, average {F['survey_avg'][i]:.1f})"
            )
        also = partner_action[i]
        if also in ("thank", "outcome", "follow_up", "survey", "nurture"):
            parts.append(f"also {also}: {out[i]}")
        out[i] = "; ".join(parts)
    return out
