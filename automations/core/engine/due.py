"""The emails due this run, as a table: kind, recipient, idempotency keys, priority."""

from __future__ import annotations

import numpy as np
import pandas as pd

EMAIL_PRIORITY = {
    "escalation": 0,
    "thank": 1,
    "outcome": 2,
    "follow_up": 3,
    "survey": 5,
    "nurture": 6,
}


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


def due_emails(
    email_arr: np.ndarray,
    owners: np.ndarray,
    partner_action: np.ndarray,
    thanks: pd.DataFrame,
    outcomes: pd.DataFrame,
    esc_ref: pd.DataFrame,
    s_codes: np.ndarray,
    s_keys: np.ndarray,
    fu_keys: np.ndarray,
    survey_keys: np.ndarray,
    nurture_keys: np.ndarray,
    thread: pd.DataFrame,
    F: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The due emails: one partner-facing per partner at most, escalations to owners."""
    parts: list[pd.DataFrame] = []

    def add(
        kind: str,
        codes: np.ndarray,
        keys: list[tuple[str, ...]],
        to: np.ndarray,
        rows: list[tuple[int, ...]],
    ) -> None:
        if len(codes) == 0:
            return
        parts.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "partner_email": email_arr[codes],
                    "to": to,
                    "keys": keys,
                    "referral_rows": rows,
                    "priority": EMAIL_PRIORITY[kind],
                    "score": F["score"][codes],
                    "thread_message_id": "",
                    "thread_subject": "",
                }
            )
        )

    for kind, frame in (("thank", thanks), ("outcome", outcomes)):
        grouped = _grouped(frame)
        chosen = [c for c in grouped if partner_action[c] == kind]
        codes = np.array(chosen, dtype="int64")
        add(
            kind,
            codes,
            [grouped[c][0] for c in chosen],
            email_arr[codes],
            [grouped[c][1] for c in chosen],
        )

    esc = _grouped(esc_ref)
    survey_esc = {int(c): (str(k),) for c, k in zip(s_codes, s_keys, strict=True)}
    all_codes = sorted(set(esc) | set(survey_esc))
    if all_codes:
        keys = [esc.get(c, ((), ()))[0] + survey_esc.get(c, ()) for c in all_codes]
        rows = [esc.get(c, ((), ()))[1] for c in all_codes]
        codes = np.array(all_codes, dtype="int64")
        add("escalation", codes, keys, owners[codes], rows)

    for kind, keys_arr in (
        ("follow_up", fu_keys),
        ("survey", survey_keys),
        ("nurture", nurture_keys),
    ):
        codes = np.flatnonzero(partner_action == kind)
        add(kind, codes, [(k,) for k in keys_arr[codes]], email_arr[codes], [() for _ in codes])
        if kind == "follow_up" and len(codes):
            parts[-1]["thread_message_id"] = thread["m"].reindex(codes).fillna("").to_numpy()
            parts[-1]["thread_subject"] = thread["s"].reindex(codes).fillna("").to_numpy()

    if not parts:
        return pd.DataFrame(
            columns=[
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
        )
    due = pd.concat(parts, ignore_index=True)
    due["score"] = due["score"].astype("float64")
    return due.sort_values(
        ["priority", "score", "partner_email"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
