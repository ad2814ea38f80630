"""What `decide` returns: the Health columns, the action order, the score formula."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ACTION_ORDER = (
    "escalate",
    "thank",
    "outcome",
    "follow_up",
    "fade",
    "survey",
    "nurture",
    "none",
    "blocked",
)
HEALTH_COLUMNS = (
    "name",
    "email",
    "company",
    "type",
    "status",
    "owner",
    "tier",
    "score",
    "received_12m",
    "given_12m",
    "won_value_12m",
    "last_touch",
    "days_since_touch",
    "survey_avg",
    "action",
    "reason",
    "next_due",
    "fee_owed",
)


@dataclass(frozen=True)
class DecideOptions:
    """What the decision needs to know beyond the sheet and the rules."""

    sender_email: str = ""
    survey_enabled: bool = False
    count_written: bool = True  # outbox backend: `written` stops a rewrite and spaces emails


@dataclass
class Decisions:
    """One Health row per valid partner (sorted) and the emails that are due now."""

    health: pd.DataFrame
    emails: pd.DataFrame


def score_parts(
    r: np.ndarray, g: np.ndarray, inbound_age: np.ndarray, survey_avg: np.ndarray
) -> np.ndarray:
    """The score of RULES.md from weighted referral sums, inbound age and survey average."""
    big_r = 1 - np.exp(-r / 3)
    big_g = 1 - np.exp(-g / 3)
    total = r + g
    with np.errstate(all="ignore"):
        balance = np.where(total > 0, 1 - np.abs(r - g) / total, 0.0)
    engagement = np.where(np.isnan(inbound_age), 0.0, 0.5 ** (inbound_age / 90))
    survey = np.where(np.isnan(survey_avg), 0.5, (survey_avg - 1) / 8)
    raw = 100 * (0.45 * big_r + 0.15 * big_g + 0.15 * balance + 0.15 * engagement + 0.10 * survey)
    return np.round(raw, 1)
