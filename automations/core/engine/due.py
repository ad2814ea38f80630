"""The emails due this run, as a table: kind, recipient, idempotency keys, priority."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automations.core.vocabulary import EMAIL_PRIORITY, Kind

if TYPE_CHECKING:
    from automations.core.engine.choose import Choice, Verdicts
    from automations.core.engine.facts import Facts


def _grouped(frame: pd.DataFrame) -> dict[int, tuple[tuple[str, ...], tuple[int, ...]]]:
    """Partner code -> (distinct keys by date, referral rows) for the due items in `frame`."""
    if frame.empty:
        return {}
    ordered = frame.sort_values(["code", "day"], kind="stable")
    codes = ordered["code"].to_numpy()
    keys = ordered["key"].tolist()
    rows = ordered["idx"].tolist()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    return {
        int(codes[a]): (tuple(dict.fromkeys(keys[a:b])), tuple(rows[a:b]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    }


COLUMNS = [
    "kind",
    "partner_email",
    "to",
    "keys",
    "referral_rows",
    "priority",
    "score",
    "thread_message_id",
    "thread_subject",
]


Part = dict[str, list[Any]]  # one kind's due emails, column by column


def _part(
    F: Facts,
    kind: Kind,
    codes: np.ndarray,
    to: np.ndarray,
    keys: list[tuple[str, ...]],
    rows: list[tuple[int, ...]],
) -> Part | None:
    """The due emails of one kind, for the partners `codes`, as columns (None for none:
    most kinds have none due on a run); `due_emails` makes one frame of them all."""
    n = len(codes)
    if not n:
        return None
    threaded = kind == Kind.FOLLOW_UP
    return {
        "kind": [kind] * n,
        "partner_email": list(F.email[codes]),
        "to": list(to),
        "keys": keys,
        "referral_rows": rows,
        "priority": [EMAIL_PRIORITY[kind]] * n,
        "score": list(F.score[codes]),
        "thread_message_id": list(F.thread_message_id[codes]) if threaded else [""] * n,
        "thread_subject": list(F.thread_subject[codes]) if threaded else [""] * n,
    }


def _for_referrals(F: Facts, choice: Choice, kind: Kind, items: pd.DataFrame) -> Part | None:
    """Thanks or outcomes: one email per partner covering all its referrals due."""
    grouped = _grouped(items)
    chosen = [c for c in grouped if choice.partner_action[c] == kind]
    codes = np.array(chosen, dtype="int64")
    keys = [grouped[c][0] for c in chosen]
    return _part(F, kind, codes, F.email[codes], keys, [grouped[c][1] for c in chosen])


def _escalations(F: Facts, v: Verdicts) -> Part | None:
    """Per partner, its stale referrals and low survey, to the owner."""
    esc = _grouped(v.escalation.items)
    s_codes = np.flatnonzero(v.survey_escalation.now)
    survey = {int(c): (str(v.survey_escalation.keys[c]),) for c in s_codes}
    codes_list = sorted(set(esc) | set(survey))
    keys = [esc.get(c, ((), ()))[0] + survey.get(c, ()) for c in codes_list]
    rows = [esc.get(c, ((), ()))[1] for c in codes_list]
    codes = np.array(codes_list, dtype="int64")
    return _part(F, Kind.ESCALATION, codes, F.owner[codes], keys, rows)


def due_emails(F: Facts, choice: Choice, v: Verdicts) -> pd.DataFrame:
    """The due emails: one partner-facing per partner at most, escalations to owners."""
    parts = [
        _for_referrals(F, choice, Kind.THANK, v.thank.items),
        _for_referrals(F, choice, Kind.OUTCOME, v.outcome.items),
        _escalations(F, v),
    ]
    periodic = (
        (Kind.FOLLOW_UP, v.follow_up),
        (Kind.STATEMENT, v.statement),
        (Kind.SURVEY, v.survey),
        (Kind.NURTURE, v.nurture),
    )
    for kind, verdict in periodic:
        codes = np.flatnonzero(choice.partner_action == kind)
        keys: list[tuple[str, ...]] = [(str(k),) for k in verdict.keys[codes]]
        parts.append(_part(F, kind, codes, F.email[codes], keys, [() for _ in codes]))
    due_parts = [p for p in parts if p is not None]
    if not due_parts:
        return pd.DataFrame(columns=COLUMNS)
    # One frame of every kind's columns (a frame per kind, then concat, cost more).
    due = pd.DataFrame({c: [value for p in due_parts for value in p[c]] for c in COLUMNS})
    due["score"] = due["score"].astype("float64")
    return due.sort_values(
        ["priority", "score", "partner_email"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
