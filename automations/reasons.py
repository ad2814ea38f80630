"""One plain sentence per partner with the facts behind its action (vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automations import facts as f
from automations.config import Rules


def _s(values: object) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object)).astype(str)


def _int(values: np.ndarray) -> pd.Series:
    return _s(np.where(np.isnan(values), 0, values).astype("int64"))


def _first_per_partner(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(row index into Referrals of each partner's earliest item, count) aligned to partners."""
    first = np.full(n, -1, dtype="int64")
    count = np.zeros(n)
    if not frame.empty:
        ordered = frame.sort_values(["code", "day"], kind="stable")
        head = ordered.drop_duplicates("code")
        first[head["code"].to_numpy()] = head["idx"].to_numpy()
        count = np.bincount(frame["code"].to_numpy(), minlength=n).astype("float64")
    return first, count


def _referral_text(R: pd.DataFrame, idx: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """`(2026-11-02, Acme)` and the referral's date for the chosen rows (blank where -1)."""
    n = len(idx)
    if len(R) == 0:
        return pd.Series([""] * n), pd.Series([""] * n)
    safe = np.where(idx >= 0, idx, 0)
    dates = _s(f.iso_dates(f.day_numbers(R["date"]))[safe])
    client = _s(R["client"].to_numpy(dtype=object)[safe])
    inside = dates.where(client == "", dates + ", " + client)
    return "(" + inside + ")", dates


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
    name = _s(P["name"].to_numpy(dtype=object))
    T = F["T"]
    out = pd.Series([""] * n, dtype=object)

    first, count = _first_per_partner(thanks, n)
    text, date = _referral_text(R, first)
    thank = ("referral from " + name + " " + text + " not thanked yet").where(
        count <= 1, _int(count) + " referrals from " + name + " since " + date + " not thanked yet"
    )

    first, count = _first_per_partner(outcomes, n)
    text, _ = _referral_text(R, first)
    safe = np.where(first >= 0, first, 0)
    r_status = _s(R["status"].to_numpy(dtype=object)[safe]) if len(R) else _s([""] * n)
    closed = _s(f.iso_dates(f.day_numbers(R["closed_on"]))[safe]) if len(R) else _s([""] * n)
    outcome = (
        "referral " + text + " " + r_status + " on " + closed + ": outcome not shared yet"
    ).where(count <= 1, _int(count) + " referral outcomes not shared yet")

    first, count = _first_per_partner(escalations, n)
    text, date = _referral_text(R, first)
    direction = (
        _s(
            R["direction"].to_numpy(dtype=object)[
                safe if len(R) == 0 else np.where(first >= 0, first, 0)
            ]
        )
        if len(R)
        else _s([""] * n)
    )
    r_status = (
        _s(R["status"].to_numpy(dtype=object)[np.where(first >= 0, first, 0)])
        if len(R)
        else _s([""] * n)
    )
    age = (
        _int(T - f.day_numbers(R["date"])[np.where(first >= 0, first, 0)])
        if len(R)
        else _s([""] * n)
    )
    word = direction.map({"received": "from", "given": "to"}).fillna("")
    more = _s(np.where(count > 1, " (and " + _int(count - 1) + " more)", ""))
    esc = (
        "referral "
        + word
        + " "
        + name
        + " "
        + text
        + " still "
        + r_status
        + " after "
        + age
        + " days"
        + more
    )
    survey_esc = (
        "survey of "
        + _s(f.iso_dates(F["survey_day"]))
        + " rated the partnership low (lowest "
        + _s(np.char.mod("%g", np.nan_to_num(F["survey_low"])))
        + ", average "
        + _s(np.char.mod("%.1f", np.nan_to_num(F["survey_avg"])))
        + ")"
    )
    esc = esc.where(count > 0, survey_esc).where(
        ~((count > 0) & F["esc_survey"]), esc + "; " + survey_esc
    )

    follow_up = (
        "outreach on "
        + _s(f.iso_dates(F["outreach_day"]))
        + " unanswered for "
        + _int(T - F["outreach_day"])
        + " days (follow-up "
        + _int(F["fu_n"] + 1)
        + " of "
        + str(rules.max_follow_ups)
        + ")"
    )
    months = _int(np.floor((T - F["last_referral"]) / 30.44))
    fade = (
        _s(
            np.where(
                np.isnan(F["last_referral"]),
                "no referrals either way yet",
                "no referrals either way in " + months + " months",
            )
        )
        + "; "
        + _int(F["unanswered"])
        + " check-ins unanswered: set status to faded"
    )
    survey = "active partner for " + _int(F["age"]) + " days; no survey yet this quarter"
    explicit = ~np.isnan(P["cadence_days"].to_numpy(dtype="float64"))
    cadence = _int(F["cadence"])
    every = _s(
        np.where(
            explicit,
            "(check-in every " + cadence + " days, set on the partner)",
            "(tier " + _s(F["tier"]) + " check-in every " + cadence + ")",
        )
    )
    since = F["nurture_base"]
    nurture = _s(
        np.where(
            np.isnan(since),
            "never checked in with " + every,
            "no touch in " + _int(T - since) + " days " + every,
        )
    )

    last_email = _s(f.iso_dates(F["last_email"]))
    next_due = _s(f.iso_dates(F["next_due"]))
    waiting = (
        _s(F["waiting"])
        + " waits: last email on "
        + last_email
        + "; due "
        + next_due
        + " ("
        + str(rules.min_days_between_emails)
        + " days between emails)"
    )
    replied = (
        "replied on "
        + _s(f.iso_dates(F["last_inbound"]))
        + ": set status to active to start check-ins"
    )
    upcoming = "next " + _s(F["next_kind"]) + " due " + next_due
    status = _s(P["status"].to_numpy(dtype=object))
    nothing = _s(
        np.where(
            status == "prospect",
            "nothing due (prospects are emailed only by a campaign)",
            "nothing due",
        )
    )
    none = _s(
        np.select(
            [F["waiting"] != "", F["replied"], F["next_kind"] != ""],
            [waiting, replied, upcoming],
            nothing,
        )
    )

    emails = P["email"].to_numpy(dtype=object)
    fix = _s([blocked_rows.get(e, "") for e in emails]) if blocked_rows else _s([""] * n)
    refusal = F["blocked_status"]
    refused_text = _s(
        np.select(
            [refusal == "bounce", refusal == "unsubscribe"],
            ["address bounced on ", "unsubscribed on "],
            "address refused by the mail server on ",
        )
    ) + _s(f.iso_dates(F["blocked_day"]))
    blocked = _s(
        np.select(
            [fix != "", do_not_email, refused],
            [fix, "do_not_email is set: no email to this partner", refused_text],
            "status is " + status + ": no check-ins or surveys",
        )
    )

    by_action = {
        "thank": thank,
        "outcome": outcome,
        "follow_up": follow_up,
        "fade": fade,
        "survey": survey,
        "nurture": nurture,
        "none": none,
        "blocked": blocked,
    }
    partner_reason = pd.Series(
        np.select([partner_action == a for a in by_action], list(by_action.values()), ""),
        dtype=object,
    )
    also = _s(
        np.where(
            np.isin(partner_action, ["thank", "outcome", "follow_up", "survey", "nurture"]),
            "; also " + _s(partner_action) + ": " + partner_reason,
            "",
        )
    )
    out = pd.Series(np.where(action == "escalate", esc + also, partner_reason), dtype=object)
    return out.to_numpy(dtype=object)
